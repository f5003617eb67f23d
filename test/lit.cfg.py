# -*- Python -*-

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DENSESHIFT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.denseshift_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%src_root", config.denseshift_src_root))
config.substitutions.append(("%obj_root", config.denseshift_obj_root))
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_runner_utils.so")))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_c_runner_utils.so")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.denseshift_tools_dir, config.llvm_tools_dir]
tools = [
    "denseshift-opt",
    "denseshift-translate",
    ToolSubst("mlir-runner", unresolved="ignore"),
    ToolSubst("llvm-objdump", unresolved="ignore"),
    ToolSubst("llvm-readelf", unresolved="ignore"),
    ToolSubst("clang", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
# Debian's interpreter, the one that sees python3-numpy (see DESIGN.md).
config.substitutions.append(("%python", "/usr/bin/python3"))
llvm_config.with_environment("PATH", config.denseshift_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Host and cross features, so integration tests skip cleanly where a target
# cannot run.
def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()

flags = _cpu_flags()
if "avx2" in flags and "fma" in flags:
    config.available_features.add("host-avx2")
if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
    config.available_features.add("host-avx512")
if shutil.which("qemu-aarch64") and shutil.which("aarch64-linux-gnu-gcc"):
    config.available_features.add("qemu-aarch64")
if config.sanitized:
    config.available_features.add("asan")
