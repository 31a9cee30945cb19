// switchyard explore on a tiny Switch model: the table, JSON, the HTML
// report, memory marking, measurement, and bad arguments.
// RUN: switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 4 --top 3 | FileCheck %s --check-prefix=TABLE
// RUN: switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 4 --dims experts,batch --json > %t.json
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=MIRROR < %t.json
// RUN: switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 2 --dims batch,d_ff --html %t.html --top 0
// RUN: FileCheck %s --check-prefix=HTML < %t.html
// RUN: echo '{"name": "tiny", "peak_flops": 1e9, "memory_bandwidth": 1e9, "memory_bytes": 1000, "links": [{"name": "wire", "span": 64, "bandwidth": 1e9, "latency": 1e-6}]}' > %t.tiny.json
// RUN: switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 2 --dims batch --hardware %t.tiny.json | FileCheck %s --check-prefix=NOFIT
// RUN: switchyard explore %switchyard_src_root/examples/switch_moe_layer.mlir --devices 2 --measure 2 --repeat 1 --top 0 | FileCheck %s --check-prefix=MEASURE
// Switch-Base-8's 12+12 blocks are compiled as copies with one and two
// periods per stack and extrapolated; --exact compiles the whole model, to
// the same FLOPs.
// RUN: switchyard explore %switchyard_src_root/bench/explore/switch-base-8.json --devices 2 --dims batch --top 1 | FileCheck %s --check-prefix=REDUCED
// RUN: switchyard explore %switchyard_src_root/bench/explore/switch-base-8.json --devices 2 --dims batch --json | FileCheck %s --check-prefix=REDUCED-JSON
// RUN: switchyard explore %switchyard_src_root/bench/explore/switch-base-8.json --devices 2 --dims batch --json --exact | FileCheck %s --check-prefix=EXACT-JSON
// RUN: switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 4 --dims experts,batch --multi-axis batch --json | FileCheck %s --check-prefix=MULTI
// A rule that never applies (d_ff:x where every d_ff tensor has experts on
// x) costs nothing: such candidates are left out for the one without it.
// RUN: switchyard explore %switchyard_src_root/examples/switch_moe_layer.mlir --devices 2 --dims experts,d_ff,batch --top 10 | FileCheck %s --check-prefix=REDUNDANT
// RUN: switchyard explore %switchyard_src_root/examples/switch_moe_layer.mlir --devices 2 --dims experts,d_ff,batch --json | FileCheck %s --check-prefix=REDUNDANT-JSON
// RUN: switchyard explore %switchyard_src_root/examples/switch_moe_layer.mlir --devices 2 --dims experts,d_ff,batch --keep-redundant --top 10 | FileCheck %s --check-prefix=KEEP
// RUN: not switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 4 --hardware nosuch 2>&1 | FileCheck %s --check-prefix=PROFILE
// RUN: not switchyard explore %switchyard_src_root/test/HF/data/switch-e4-dense-step2 --devices 4 --tokens 10 2>&1 | FileCheck %s --check-prefix=TOKENS

// TABLE: explored 2 mesh shapes, {{[0-9]+}} rule sets: {{[0-9]+}} pruned, {{[0-9]+}} compiled ({{[0-9]+}} ok) in {{.*}} candidates/s
// TABLE-NEXT: {{[0-9]+}} left out: equal in cost to one with fewer rules; {{[0-9]+}} listed, {{[0-9]+}} fit in memory
// TABLE-NEXT: hardware: cpu-2core
// TABLE-NEXT: rank mesh rules time compute GFLOP all_reduce all_gather reduce_scatter all_to_all memory
// TABLE-NEXT: {{^}}1 {{.*}}x:
// TABLE-NEXT: {{^}}2 {{.*}}x:
// TABLE-NEXT: {{^}}3 {{.*}}x:

// The 2x2 mesh with experts on x and batch on y is one candidate; its
// mirror image (experts on y, batch on x) is pruned as equivalent.
// JSON: "candidates": [
// JSON: "all_to_all": {
// JSON-NEXT: "bytes": {{[1-9][0-9]*}}
// JSON: "fits": true
// JSON: "layout": "
// JSON: "peak_bytes": {{[1-9][0-9]*}}
// JSON: "predicted_seconds":
// JSON: "devices": 4
// JSON: "hardware": "cpu-2core"
// MIRROR-NOT: "layout": "experts:y;batch:x"
// MIRROR: "layout": "experts:x;batch:y"
// MIRROR-NOT: "layout": "experts:y;batch:x"

// HTML: <!DOCTYPE html>
// HTML: Layouts for <code>switch-e4-dense-step2</code> on 2 devices
// HTML: class="card"
// HTML: mesh <code>x:2</code>
// HTML: <svg class="mesh"
// HTML: <td>x</td><td>2</td><td>shared memory</td>
// HTML: </html>

// NOFIT: 1 {{.*}} batch:x {{.*}} DOES NOT FIT

// REDUNDANT: 7 compiled (7 ok)
// REDUNDANT-NEXT: 2 left out: equal in cost to one with fewer rules; 5 listed, 5 fit in memory
// REDUNDANT-NOT: experts:x;d_ff:x
// REDUNDANT: {{^}}1 x:2 experts:x {{[0-9]}}
// REDUNDANT-NOT: experts:x;d_ff:x
// REDUNDANT-JSON: "redundant": 2

// KEEP: 0 left out: equal in cost to one with fewer rules; 7 listed
// KEEP: experts:x;d_ff:x

// MEASURE: measured on the CPU mesh (median of 1 runs):
// MEASURE-NEXT: rank mesh rules predicted measured
// MEASURE-NEXT: {{^}}1 {{.*}}x:2
// MEASURE-NEXT: {{^}}2 {{.*}}x:2
// MEASURE-NEXT: rank correlation (Spearman) of predicted and measured:

// REDUCED: model: extrapolated from 2 copies with one and two block periods per stack (--exact compiles the whole model)
// REDUCED-NEXT: rank mesh
// REDUCED-NEXT: {{^}}1 x:2 batch:x {{.*}} 19.856
// REDUCED-JSON: "flops": 19855677008,
// REDUCED-JSON: "extrapolated": true,
// EXACT-JSON: "flops": 19855677008,
// EXACT-JSON: "extrapolated": false,

// --multi-axis lets batch take both axes of the 2x2 mesh, alone or beside
// experts.
// MULTI: "layout": "batch:x,y"
// MULTI: "layout": "experts:x;batch:x,y"

// ZERO: switchyard explore: --devices must be a positive number, not 0
// PROFILE: switchyard explore: unknown hardware profile 'nosuch'
// TOKENS: switchyard explore: --tokens 10 must be a positive multiple of --length 16
