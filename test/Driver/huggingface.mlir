// Hugging Face models through the driver: compile a config directory for a
// mesh and run it with its checkpoint, generate greedily, and reject bad
// configs with a clear error.
// RUN: switchyard compile %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --batch 4 --length 12 --target-length 6 --labels --mesh b:2,e:2 --layout 'batch:b;experts:e' -o %t.syx
// RUN: switchyard run %t.syx --weights %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors | FileCheck %s --check-prefix=RAN
// RUN: switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 6 --timing | FileCheck %s --check-prefixes=GEN,TIMING
// Sampling from the top token alone is greedy; sampling options need
// --do-sample and valid values.
// RUN: switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 6 --do-sample --top-k 1 --temperature 5 --seed 9 | FileCheck %s --check-prefix=GEN
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --top-p 0.5 2>&1 | FileCheck %s --check-prefix=NOSAMPLE
// Beam search: transformers' beam4_lp05_never_ids; its options' errors.
// RUN: switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 6 --num-beams 4 --length-penalty 0.5 --early-stopping never --mesh b:2 --layout 'batch:b' | FileCheck %s --check-prefix=BEAM
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --num-beams 2 --do-sample 2>&1 | FileCheck %s --check-prefix=BEAMSAMPLE
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --length-penalty 2 2>&1 | FileCheck %s --check-prefix=NOBEAMS
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --num-beams 2 --early-stopping maybe 2>&1 | FileCheck %s --check-prefix=STOPPING
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --num-beams 0 2>&1 | FileCheck %s --check-prefix=NOBEAM
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --do-sample --top-p 0 2>&1 | FileCheck %s --check-prefix=TOPP
// The two programs of cached generation, one as switchyard generate builds
// them, and a bad --program.
// RUN: switchyard compile %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --program encoder --batch 4 --length 12 -o %t.encoder.syx --print-ir - | FileCheck %s --check-prefix=ENCODER
// RUN: switchyard compile %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --program decoder-step --batch 4 --length 12 --target-length 6 --mesh b:2 --layout 'batch:b' -o %t.step.syx --print-ir - | FileCheck %s --check-prefix=STEP
// RUN: not switchyard compile %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --program decoder 2>&1 | FileCheck %s --check-prefix=PROGRAM
// RUN: not switchyard compile %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --program encoder --labels 2>&1 | FileCheck %s --check-prefix=LABELSPROGRAM
// RUN: not switchyard compile %s --labels 2>&1 | FileCheck %s --check-prefix=LABELSMLIR
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 0 2>&1 | FileCheck %s --check-prefix=NONEW
// RUN: echo '{"model_type": "bert", "vocab_size": 8}' > %t.bert.json
// RUN: not switchyard compile %t.bert.json 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: echo '{"model_type": "t5", "vocab_size": 8, "d_model": 4}' > %t.short.json
// RUN: not switchyard compile %t.short.json 2>&1 | FileCheck %s --check-prefix=FIELD
// RUN: echo '{"model_type": "switch_transformers", "vocab_size": 8, "d_model": 4, "d_kv": 2, "d_ff": 8, "num_heads": 2, "num_layers": 1, "dense_act_fn": "mish"}' > %t.act.json
// RUN: not switchyard compile %t.act.json 2>&1 | FileCheck %s --check-prefix=ACT
// RUN: echo '{"model_type": "t5", "vocab_size": 8, "d_model": 4, "d_kv": 2, "d_ff": 8, "num_heads": 2, "num_layers": 1, "relative_attention_num_buckets": 2}' > %t.buckets.json
// RUN: not switchyard compile %t.buckets.json 2>&1 | FileCheck %s --check-prefix=BUCKETS
// RUN: echo '{"model_type": "t5", "vocab_size": 8, "d_model": 4, "d_kv": 2, "d_ff": 8, "num_heads": 2, "num_layers": 1, "relative_attention_max_distance": 16}' > %t.distance.json
// RUN: not switchyard compile %t.distance.json 2>&1 | FileCheck %s --check-prefix=DISTANCE
// RUN: echo '{"model_type": "switch_transformers", "vocab_size": 8, "d_model": 4, "d_kv": 2, "d_ff": 8, "num_heads": 2, "num_layers": 1, "num_experts": 0}' > %t.experts.json
// RUN: not switchyard compile %t.experts.json 2>&1 | FileCheck %s --check-prefix=EXPERTS
// RUN: echo '{"model_type": "t5", "vocab_size": 8, "d_model": 4, "d_kv": 2, "d_ff": 8, "num_heads": 2, "num_layers": 1, "num_decoder_layers": 444442}' > %t.depth.json
// RUN: not switchyard compile %t.depth.json 2>&1 | FileCheck %s --check-prefix=DEPTH
// RUN: echo '{"model_type": "t5", "vocab_size": 8, "d_model": 4, "d_kv": 8, "d_ff": 8, "num_heads": 4777777777777777777, "num_layers": 1}' > %t.heads.json
// RUN: not switchyard compile %t.heads.json 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: echo '{"model_type": "t5", "vocab_size": 8, "d_model": 4, "d_kv": 32, "d_ff": 8, "num_heads": 100000000000000000, "num_layers": 1}' > %t.huge.json
// RUN: not switchyard compile %t.huge.json --batch 2 --length 4 2>&1 | FileCheck %s --check-prefix=HUGE
// RUN: echo '{"model_type": "switch_transformers", "vocab_size": 8, "d_model": 4, "d_kv": 2, "d_ff": 8, "num_heads": 2, "num_layers": 1, "router_z_loss_coef": "high"}' > %t.coef.json
// RUN: not switchyard compile %t.coef.json 2>&1 | FileCheck %s --check-prefix=COEF
// RUN: switchyard compile %switchyard_src_root/test/HF/data/t5-dense --batch 4 --length 12 --target-length 6 --labels -o %t.labels.syx --print-ir - | FileCheck %s --check-prefix=LABELSIR
// RUN: echo '{"model_type": ' > %t.broken.json
// RUN: not switchyard compile %t.broken.json 2>&1 | FileCheck %s --check-prefix=JSON
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/t5-dense --max-new-tokens 4 2>&1 | FileCheck %s --check-prefix=NOIDS

// RAN: ran on 4 CPU devices
// RAN: logits [4, 6, 64] f32
// RAN: encoder_expert_index.1 [4, 12] i32
// RAN: loss [] f32  mean 11.1426
// RAN-NEXT: cross_entropy [] f32  mean 10.9972

// GEN: [0, 43, 63, 0, 19, 19, 17]
// GEN-NEXT: [0, 1, 0, 0, 0, 0, 0]
// TIMING: compile (encoder, decoder step): {{[0-9.]+}} ms
// TIMING-NEXT: encoder: {{[0-9.]+}} ms
// TIMING-NEXT: decoder steps: 6 x, {{[0-9.]+}} ms each

// ENCODER-LABEL: func.func @main(
// ENCODER-SAME: mtf.name = "input_ids"
// ENCODER-SAME: mtf.name = "attention_mask"
// ENCODER-SAME: -> (!mtf.tensor<[batch:4, length:12, d_model:32], f32> {{.*}}mtf.name = "encoder_last_hidden_state"
// ENCODER-SAME: mtf.name = "cross_attention_key.0"
// ENCODER-SAME: !mtf.tensor<[batch:4, heads:4, memory_length:12, d_kv:12], f32> {{.*}}mtf.name = "cross_attention_value.1"
// ENCODER-NOT: decoder_input_ids

// A token per row at a scalar position; a cache of 6 positions per block;
// the step's one token per sequence needs a single expert slot.
// STEP-LABEL: func.func @main(
// STEP-SAME: mtf.global = !mtf.tensor<[batch:4{b}, target_length:1], i32>, mtf.name = "decoder_input_ids"
// STEP-SAME: mtf.global = !mtf.tensor<[], i32>, mtf.name = "decoder_position"
// STEP-SAME: mtf.global = !mtf.tensor<[batch:4{b}, heads:4, target_memory_length:6, d_kv:12], f32>, mtf.name = "past_key.0"
// STEP-SAME: mtf.name = "cross_attention_key.0"
// STEP-SAME: mtf.name = "past_value.1"
// STEP-SAME: -> ({{.*}}mtf.name = "logits"
// STEP-SAME: mtf.name = "present_key.0"
// STEP-SAME: mtf.name = "present_value.1"
// STEP: moe.route {{.*}} capacity(1)

// PROGRAM: switchyard compile: unknown --program 'decoder'; expected forward, encoder or decoder-step
// LABELSPROGRAM: switchyard compile: --labels needs the forward program
// LABELSMLIR: switchyard compile: --labels applies to Hugging Face models, not to
// NONEW: --max-new-tokens must be at least 1, got 0
// NOSAMPLE: switchyard generate: INVALID_ARGUMENT: --top-p needs --do-sample
// BEAM: [0, 19, 25, 26, 54, 61, 48]
// BEAM-NEXT: [0, 1, 1, 1, 1, 1, 1]
// BEAM-NEXT: [0, 26, 26, 26, 26, 26, 26]
// BEAM-NEXT: [0, 43, 63, 25, 0, 1, 1]
// BEAMSAMPLE: --num-beams and --do-sample together (beam sampling) are not supported
// NOBEAMS: --length-penalty needs --num-beams above 1
// STOPPING: --early-stopping takes false, true or never, got 'maybe'
// NOBEAM: --num-beams must be at least 1, got 0
// TOPP: switchyard generate: INVALID_ARGUMENT: top-p must be in (0, 1], got 0

// TYPE: error: config.json: model_type 'bert' is not supported; expected 'switch_transformers' or 't5'
// FIELD: error: config.json: has no integer 'd_kv'
// ACT: error: config.json: activation 'mish' is not supported
// BUCKETS: error: config.json: 'relative_attention_num_buckets' must be at least 4, got 2
// DISTANCE: error: config.json: 'relative_attention_max_distance' (16) must exceed half of 'relative_attention_num_buckets' (32)
// EXPERTS: error: config.json: 'num_experts' must be positive
// DEPTH: error: config.json: 'num_decoder_layers' must be at most 256, got 444442
// HEADS: error: config.json: 'num_heads' x 'd_kv' (4777777777777777777 x 8) does not fit in 64 bits
// HUGE: error: config.json: tensor [buckets:32, heads:100000000000000000] is too large to address with 64-bit byte offsets
// HUGE-NOT: error
// COEF: error: config.json: 'router_z_loss_coef' must be a finite number
// JSON: error: invalid JSON

// LABELSIR-LABEL: func.func @main(
// LABELSIR-SAME: mtf.ignored_index = -100 : i32, mtf.name = "labels"}
// LABELSIR-SAME: mtf.name = "loss"
// LABELSIR-SAME: mtf.name = "cross_entropy"
// LABELSIR: mtf.one_hot
// NOIDS: give --input input_ids=FILE.npy with a [batch, length] array
