// `switchyard generate --backend`: an unknown backend is refused; without a
// GPU, cuda is refused with the reason.
// UNSUPPORTED: cuda
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 2 --backend tpu 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not switchyard generate %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu --input %switchyard_src_root/test/HF/data/switch-e8-nodrop-step2-gelu/inputs.safetensors --max-new-tokens 2 --backend cuda 2>&1 | FileCheck %s --check-prefix=NOGPU
// UNKNOWN: --backend must be cpu or cuda, got 'tpu'
// NOGPU: --backend cuda: {{no CUDA device|switchyard was built without CUDA}}
