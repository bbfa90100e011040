"""Builds softsign_ext._C: the CPU kernels always, the CUDA kernels whenever
the installed torch has CUDA and a matching nvcc is found (a GPU need not be
visible). Build with `pip install --no-build-isolation .`: the library must be
compiled against the torch that will import it.

Environment:
  SOFTSIGN_EXT_CUDA=1 / =0   force the CUDA kernels on (error if impossible) or off.
  TORCH_CUDA_ARCH_LIST       GPU architectures; when unset, the visible GPUs', or
                             DEFAULT_CUDA_ARCH_LIST below when none is visible.
  MAX_JOBS                   parallel compile jobs (torch.utils.cpp_extension).

What was built is written to softsign_ext/_build_info.py (softsign_ext.build_info).
"""

import glob
import hashlib
import importlib.util
import os
import platform
import re
import runpy
import shlex
import subprocess
import sys
import sysconfig
from typing import Optional


def package_metadata() -> dict:
    """The names in softsign_ext/_metadata.py (its version, how to build it), read without
    importing the package, which needs torch: from the checkout beside this file, else from
    an installed softsign_ext (the wheel check runs this file apart from the checkout)."""
    path = os.path.join(os.path.dirname(os.path.abspath(globals().get("__file__", "setup.py"))),
                        "softsign_ext", "_metadata.py")
    if not os.path.exists(path):
        spec = importlib.util.find_spec("softsign_ext")
        if spec is None or spec.origin is None:
            raise RuntimeError(f"no {path} and no installed softsign_ext to read its metadata from")
        path = os.path.join(os.path.dirname(spec.origin), "_metadata.py")
    return runpy.run_path(path)


try:
    import torch
except ModuleNotFoundError:
    raise SystemExit(
        "softsign_ext is compiled against the torch it will run with, and none is importable here "
        "(pip builds in an isolated environment unless told not to): install torch first (pip install torch). "
        + package_metadata()["HOW_TO_BUILD"]
    ) from None
import setuptools
from setuptools import setup
from setuptools.command.build_py import build_py
from torch.utils.cpp_extension import (
    CUDA_HOME,
    BuildExtension,
    CppExtension,
    CUDAExtension,
)

# Machine code for the GPUs users run, when no GPU is visible at build time:
# sm_80 (A100; its code also runs on sm_87 Orin), sm_86 (RTX 30xx, A10, A40;
# also sm_88), sm_89 (RTX 40xx, L4, L40; the KernelBench problem's RTX 4090),
# sm_90 (H100, H200), sm_100 (B200; also sm_103 B300) and sm_120 (RTX 50xx,
# RTX PRO 6000; also sm_121), the Blackwell parts CUDA 13 builds for, and PTX
# of the newest for GPUs after it. (CUDA 13 builds nothing older than sm_75.)
DEFAULT_CUDA_ARCH_LIST = "8.0;8.6;8.9;9.0;10.0;12.0+PTX"
# The torch releases this code is tested with (.ci/torch_version_check): older ones lack
# APIs it uses (torch 2.7 fails), newer ones build with a warning.
OLDEST_TORCH, NEWEST_TORCH = (2, 8), (2, 15)
# The CPU kernels' source, compiled once per instruction set (cpu_capabilities); every
# other source is compiled once, for the baseline.
CPU_KERNEL_SOURCE = "csrc/cpu/softsign_kernel.cpp"
# The operator library's sources (schemas, host logic, Meta, autograd, batching rules,
# kernels: no Python) and the Python binding layer over it, softsign_ext._C's own.
OPERATOR_FOLDERS = ("operator", "cpu", "cuda")
BINDING_FOLDER = "python"
BUILD_INFO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "softsign_ext", "_build_info.py")


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


def major_minor(version: str) -> tuple[int, int]:
    """(2, 11) of "2.11.0+cu130"."""
    return tuple(int(part) for part in re.match(r"(\d+)\.(\d+)", version).groups())


def torch_version_note(version: str) -> Optional[str]:
    """Raises for a torch older than OLDEST_TORCH; a warning for one newer than NEWEST_TORCH."""
    release = major_minor(version)
    supported = f"{OLDEST_TORCH[0]}.{OLDEST_TORCH[1]} to {NEWEST_TORCH[0]}.{NEWEST_TORCH[1]}"
    if release < OLDEST_TORCH:
        raise RuntimeError(f"softsign_ext needs torch {supported}; this is torch {version}: pip install -U torch")
    if release > NEWEST_TORCH:
        return f"warning: torch {version} is newer than the releases softsign_ext is tested with ({supported})"
    return None


def nvcc_version(cuda_home: Optional[str]) -> Optional[str]:
    """The release ("13.0") of CUDA_HOME/bin/nvcc, or None where it is missing or does not run."""
    if not cuda_home:
        return None
    nvcc = os.path.join(cuda_home, "bin", "nvcc")
    try:
        output = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"release (\d+\.\d+)", output)
    return match.group(1) if match else None


def cuda_plan(forced: Optional[str], torch_cuda: Optional[str], cuda_home: Optional[str],
              nvcc: Optional[str]) -> tuple[bool, str]:
    """Whether to build the CUDA kernels, and why, from SOFTSIGN_EXT_CUDA (`forced`),
    torch.version.cuda, CUDA_HOME and nvcc's release. Raises where SOFTSIGN_EXT_CUDA=1
    asks for what cannot be built."""
    if forced not in (None, "", "0", "1"):
        raise RuntimeError(f"SOFTSIGN_EXT_CUDA must be 0 or 1, not {forced!r}")
    if forced == "0":
        return False, "SOFTSIGN_EXT_CUDA=0: building the CPU kernels only"
    if torch_cuda is None:
        reason = "this torch is CPU-only"
    elif cuda_home is None:
        reason = "no CUDA toolkit was found (set CUDA_HOME to one whose bin/ holds nvcc)"
    elif nvcc is None:
        reason = f"CUDA_HOME={cuda_home} has no working bin/nvcc (a driver- or runtime-only install?)"
    elif nvcc.split(".")[0] != torch_cuda.split(".")[0]:
        reason = f"nvcc {nvcc} cannot build for this torch, which was built with CUDA {torch_cuda}"
    else:
        return True, f"nvcc {nvcc}, torch built with CUDA {torch_cuda}"
    if forced == "1":
        raise RuntimeError(f"SOFTSIGN_EXT_CUDA=1, but {reason}")
    return False, f"{reason}: building the CPU kernels only (SOFTSIGN_EXT_CUDA=1 makes this an error)"


def cuda_arch_list() -> str:
    """TORCH_CUDA_ARCH_LIST as set, else the visible GPUs', else DEFAULT_CUDA_ARCH_LIST."""
    if os.environ.get("TORCH_CUDA_ARCH_LIST"):
        return os.environ["TORCH_CUDA_ARCH_LIST"]
    if torch.cuda.is_available():
        capabilities = {torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())}
        return ";".join(f"{major}.{minor}" for major, minor in sorted(capabilities))
    return DEFAULT_CUDA_ARCH_LIST


def cpu_capabilities(machine: str, platform_name: str) -> dict[str, list[str]]:
    """The instruction sets CPU_KERNEL_SOURCE is compiled for, by torch's names for them
    (at::get_cpu_capability, which picks one at run time), with each one's compiler flags.
    Every machine gets the baseline, compiled with the compiler's defaults; x86-64 with GCC
    or Clang also gets AVX2 (with FMA and F16C's half conversions) and AVX-512 (F, BW, VL,
    DQ: torch's AVX512 level; its F has the 16-wide half conversions). Not AVX512_BF16:
    its float-to-bfloat16 instruction flushes subnormal results to zero, which a float32 to
    bfloat16 cast does not; at::vec rounds to nearest even with integer operations."""
    levels = {"DEFAULT": []}
    if machine.lower() in ("x86_64", "amd64") and platform_name != "win32":
        levels["AVX2"] = ["-mavx2", "-mfma", "-mf16c"]
        levels["AVX512"] = ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma", "-mf16c"]
    return levels


class BuildWithCpuCapabilities(BuildExtension):
    """torch's BuildExtension, which first compiles CPU_KERNEL_SOURCE once per instruction
    set (setuptools gives every source of an extension the same flags)."""

    def build_extension(self, ext) -> None:
        objects = []
        # The baseline's objects come first on the link line, after the other sources': an
        # inline function compiled in several of them (a torch header's) is linked from a
        # baseline object, so no code of a wider instruction set runs outside its kernels.
        for level, flags in cpu_capabilities(platform.machine(), sys.platform).items():
            compile_args = dict(ext.extra_compile_args)
            compile_args["cxx"] = [*compile_args["cxx"], f"-DCPU_CAPABILITY={level}", f"-DCPU_CAPABILITY_{level}",
                                   *flags]
            objects += self.compiler.compile(
                [CPU_KERNEL_SOURCE], output_dir=os.path.join(self.build_temp, level.lower()),
                macros=ext.define_macros, include_dirs=ext.include_dirs, extra_postargs=compile_args,
                depends=ext.depends)
        ext.extra_objects = [*ext.extra_objects, *objects]
        super().build_extension(ext)


class BuildPyWithKernelSources(build_py):
    """Ships the headers of csrc/ inside the package (softsign_ext/csrc/, folders kept): the
    KernelBench generator (softsign_ext/kernelbench/) inlines them into its CUDA submission.
    An editable install reads the checkout's csrc/ instead."""

    def run(self) -> None:
        super().run()
        for path in sorted(glob.glob("csrc/**/*.h", recursive=True) + glob.glob("csrc/**/*.cuh", recursive=True)):
            target = os.path.join(self.build_lib, "softsign_ext", path)
            self.mkpath(os.path.dirname(target))
            self.copy_file(path, target)


def source_hash(root: str = "csrc") -> str:
    """A hash of every file under csrc/, names and contents: what the compiled operators do,
    their autograd formulas included. torch.compile's cache key holds it (softsign_ext.inductor),
    so that a rebuilt library is never served graphs traced through the old one."""
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
        if os.path.isfile(path):
            digest.update(os.path.relpath(path, root).encode())
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:16]


def write_build_info(path: str, cuda_version: Optional[str], arch_list: Optional[str], cuda_plan: str,
                     cpu_levels: list[str]) -> None:
    """What this build is, for softsign_ext.build_info, the torch check at import, the
    error a CPU-only build gives CUDA tensors and torch.compile's cache key."""
    with open(path, "w") as f:
        f.write(
            "# Written by setup.py when softsign_ext._C was built; not tracked by git.\n"
            f"TORCH_VERSION = {torch.__version__!r}\n"
            f"CUDA_VERSION = {cuda_version!r}\n"
            f"CUDA_ARCH_LIST = {arch_list!r}\n"
            f"CUDA_PLAN = {cuda_plan!r}\n"
            f"CPU_CAPABILITIES = {tuple(cpu_levels)!r}\n"
            f"SOURCE_HASH = {source_hash()!r}\n"
        )


def sources_in(folders, extension: str) -> list[str]:
    """The csrc/<folder>/*.<extension> files of the folders, sorted."""
    return sorted(path for folder in folders for path in glob.glob(f"csrc/{folder}/*.{extension}"))


def extension():
    note = torch_version_note(torch.__version__)
    if note:
        print(f"softsign_ext: {note}")
    check_shared_libstdcxx()
    sources = [path for path in sources_in([*OPERATOR_FOLDERS, BINDING_FOLDER], "cpp") if path != CPU_KERNEL_SOURCE]
    # No fast math anywhere: IEEE division and no flush-to-zero keep special
    # values and subnormals equal to F.softsign's.
    # (-Wno-unknown-pragmas: ATen's CPU vector headers use "#pragma unroll".)
    compile_args = {"cxx": ["-O3", "-Wno-unknown-pragmas"]}
    # After the system's headers, so that a real nlohmann/json.hpp wins over the stand-in there.
    compile_args["cxx"] += ["-idirafter", os.path.abspath("csrc/compat")]
    cpu_levels = list(cpu_capabilities(platform.machine(), sys.platform))
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
        # csrc/python/module.cpp unwrap tensors with torch's Python C API,
        # which makes small calls cheaper than through torch.ops. The wheel is tied
        # to one CPython and one torch version anyway, as torch is.
    )
    nvcc = nvcc_version(CUDA_HOME)
    with_cuda, why = cuda_plan(os.environ.get("SOFTSIGN_EXT_CUDA"), torch.version.cuda, CUDA_HOME, nvcc)
    print(f"softsign_ext: {why}")
    if not with_cuda:
        write_build_info(BUILD_INFO, None, None, why, cpu_levels)
        return CppExtension(
            sources=sources, extra_compile_args=compile_args, extra_link_args=link_args, **common
        )
    os.environ["TORCH_CUDA_ARCH_LIST"] = arch_list = cuda_arch_list()
    print(f"softsign_ext: building the CPU and CUDA kernels for {arch_list}")
    write_build_info(BUILD_INFO, nvcc, arch_list, why, cpu_levels)
    compile_args["nvcc"] = ["-O3"]
    return CUDAExtension(
        sources=sources + sources_in(OPERATOR_FOLDERS, "cu"),
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        **common,
    )


def torch_requirement() -> str:
    """The torch release this build runs with (its local label, e.g. +cu130, left out)."""
    return f"torch=={torch.__version__.split('+')[0]}"


if __name__ == "__main__":  # setuptools runs this file as __main__; the tests import it
    if major_minor(setuptools.__version__) < (77, 0):
        raise SystemExit(f"softsign_ext needs setuptools 77 or newer to build (this is {setuptools.__version__}): "
                         "pip install -U 'setuptools>=77'")
    setup(
        packages=["softsign_ext", "softsign_ext.bench", "softsign_ext.kernelbench"],
        install_requires=[torch_requirement()],
        ext_modules=[extension()],
        cmdclass={"build_ext": BuildWithCpuCapabilities, "build_py": BuildPyWithKernelSources},
    )
