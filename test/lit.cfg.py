# lit configuration for Switchyard's compiler tests.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Switchyard"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["Runtime", "models", "layers", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.switchyard_obj_root, "test")

config.substitutions.append(("%switchyard_src_root", config.switchyard_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.switchyard_tools_dir, config.switchyard_test_tools_dir,
             config.llvm_tools_dir]
tools = ["switchyard-opt", "switchyard", "compare-outputs"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Features: `nccl` where the build has the cuda backend's NCCL collectives;
# `cuda` where it has the cuda backend and this machine a GPU, `single-gpu`
# where exactly one, `multi-gpu` where at least four.
def gpu_count():
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                                text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listed.stdout.splitlines())

def enabled(value):
    return value.upper() in ("ON", "1", "TRUE", "YES")

if enabled(config.switchyard_enable_nccl):
    config.available_features.add("nccl")
if enabled(config.switchyard_enable_cuda):
    gpus = gpu_count()
    if gpus >= 1:
        config.available_features.add("cuda")
    if gpus == 1:
        config.available_features.add("single-gpu")
    if gpus >= 4:
        config.available_features.add("multi-gpu")
