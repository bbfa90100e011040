"""Builds softsign_ext._C: the CPU kernels always, the CUDA kernels whenever
the installed torch has CUDA and nvcc is found (a GPU need not be visible).

Environment:
  SOFTSIGN_EXT_CUDA=1 / =0   force the CUDA kernels on (error if impossible) or off.
  TORCH_CUDA_ARCH_LIST       GPU architectures; when unset and no GPU is visible,
                             DEFAULT_CUDA_ARCH_LIST below is used.
  MAX_JOBS                   parallel compile jobs (torch.utils.cpp_extension).
"""

import glob
import os
import shlex
import subprocess
import sys
import sysconfig

import torch
from setuptools import setup
from torch.utils.cpp_extension import (
    CUDA_HOME,
    BuildExtension,
    CppExtension,
    CUDAExtension,
)

# sm_89 is the RTX 4090 the KernelBench problem targets, sm_90 the H100; the
# PTX lets newer GPUs JIT-compile the sm_90 code.
DEFAULT_CUDA_ARCH_LIST = "8.9;9.0+PTX"


def check_shared_libstdcxx() -> None:
    """Refuses a C++ compiler that would link libstdc++ statically.

    The extension must share the process's libstdc++ with torch: a private static
    copy brings its own locale machinery, and the first number formatted into an
    error message then crashes the process (seen with a gcc installed without
    its shared libstdc++ and named by CXX).
    """
    if not sys.platform.startswith("linux"):
        return
    compiler = shlex.split(os.environ.get("CXX") or sysconfig.get_config_var("CXX") or "c++")[0]
    try:
        found = subprocess.run(
            [compiler, "-print-file-name=libstdc++.so"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return  # not a gcc-style driver; let the build report its own errors
    if os.sep not in found:
        raise RuntimeError(
            f"the C++ compiler {compiler!r} has no shared libstdc++ (libstdc++.so) and would link it "
            "statically into the extension, which then crashes inside torch's process. "
            "Build with a compiler that links it dynamically, e.g. CXX=/usr/bin/g++ CC=/usr/bin/gcc."
        )


def build_cuda() -> bool:
    forced = os.environ.get("SOFTSIGN_EXT_CUDA")
    possible = torch.version.cuda is not None and CUDA_HOME is not None
    if forced == "0":
        return False
    if forced == "1" and not possible:
        raise RuntimeError(
            "SOFTSIGN_EXT_CUDA=1, but "
            + ("this torch is CPU-only" if torch.version.cuda is None else "nvcc was not found (set CUDA_HOME)")
        )
    if forced not in (None, "", "0", "1"):
        raise RuntimeError(f"SOFTSIGN_EXT_CUDA must be 0 or 1, not {forced!r}")
    return possible


def extension():
    check_shared_libstdcxx()
    sources = sorted(glob.glob("csrc/*.cpp"))
    # No fast math anywhere: IEEE division and no flush-to-zero keep special
    # values and subnormals equal to F.softsign's.
    # (-Wno-unknown-pragmas: ATen's CPU vector headers use "#pragma unroll".)
    compile_args = {"cxx": ["-O3", "-Wno-unknown-pragmas"]}
    link_args = []
    if sys.platform.startswith("linux"):
        # at::parallel_for is inline over "#pragma omp parallel": without
        # -fopenmp the CPU kernels would silently run on one thread. The
        # libgomp.so.1 that torch loads serves this library too.
        compile_args["cxx"].append("-fopenmp")
        link_args.append("-fopenmp")
    common = dict(
        name="softsign_ext._C",
        include_dirs=[os.path.abspath("csrc")],
        # Not the stable ABI (py_limited_api): the eager entry points in
        # csrc/python_module.cpp unwrap tensors with torch's Python C API,
        # which makes small calls cheaper than through torch.ops. The wheel is tied
        # to one CPython and one torch version anyway, as torch is.
    )
    if not build_cuda():
        print("softsign_ext: building the CPU kernels only")
        return CppExtension(
            sources=sources, extra_compile_args=compile_args, extra_link_args=link_args, **common
        )
    if not os.environ.get("TORCH_CUDA_ARCH_LIST") and not torch.cuda.is_available():
        os.environ["TORCH_CUDA_ARCH_LIST"] = DEFAULT_CUDA_ARCH_LIST
    print(
        "softsign_ext: building the CPU and CUDA kernels for "
        + os.environ.get("TORCH_CUDA_ARCH_LIST", "the visible GPUs")
    )
    compile_args["nvcc"] = ["-O3"]
    return CUDAExtension(
        sources=sources + sorted(glob.glob("csrc/*.cu")),
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        **common,
    )


setup(
    packages=["softsign_ext"],
    ext_modules=[extension()],
    cmdclass={"build_ext": BuildExtension},
)
