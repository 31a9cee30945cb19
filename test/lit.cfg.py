# lit configuration for Switchyard's compiler tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Switchyard"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["Runtime", "models", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.switchyard_obj_root, "test")

config.substitutions.append(("%switchyard_src_root", config.switchyard_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.switchyard_tools_dir, config.llvm_tools_dir]
tools = ["switchyard-opt", "switchyard"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
