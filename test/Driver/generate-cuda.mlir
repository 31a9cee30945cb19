// On a GPU, `switchyard generate --backend cuda` (the mesh as virtual
// devices on it) generates what the cpu backend does
// (test/Driver/huggingface.mlir).
// REQUIRES: cuda
// RUN: switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 6 --mesh b:2,e:2 --layout 'batch:b;experts:e' --backend cuda | FileCheck %s
// CHECK: [0, 43, 63, 0, 19, 19, 17]
// CHECK-NEXT: [0, 1, 0, 0, 0, 0, 0]
