"""Builds softsign_ext's two compiled libraries: the operator library
softsign_ext/lib/libsoftsign_ext.so (schemas, kernels, autograd; no Python, so that
C++ programs and torch.ops.load_library can load it) and the Python module
softsign_ext._C, a thin layer linked to it. The CPU kernels are built always, the
CUDA kernels whenever the installed torch has CUDA and a matching nvcc is found (a
GPU need not be visible). Build with `pip install --no-build-isolation .`: the
libraries must be compiled against the torch that will load them.

Where executorch is installed, a third library, softsign_ext/lib/libsoftsign_ext_executorch.so,
holds the operator's kernel for ExecuTorch's runtime (no torch: executorch's headers and
libexecutorch.so).

Environment:
  SOFTSIGN_EXT_CUDA=1 / =0   force the CUDA kernels on (error if impossible) or off.
  SOFTSIGN_EXT_TARGET_TORCH, SOFTSIGN_EXT_TARGET_CUDA
                             a cross build (CXX a cross compiler): the torch package, and the
                             folder of the CUDA runtime, of the machine built for
                             (.ci/aarch64_build).
  SOFTSIGN_EXT_EXECUTORCH=1 / =0
                             force the ExecuTorch kernel on (error if impossible) or off.
  TORCH_CUDA_ARCH_LIST       GPU architectures; when unset, the visible GPUs', or
                             DEFAULT_CUDA_ARCH_LIST below when none is visible.
  MAX_JOBS                   parallel compile jobs (torch.utils.cpp_extension).

What was built is written to softsign_ext/_build_info.py (softsign_ext.build_info).
"""

import glob
import hashlib
import importlib.metadata
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
    TORCH_LIB_PATH as TORCH_LIBRARY_FOLDER,
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
# The operator library's extension name (its file is library_file's), the Python module's and
# the ExecuTorch kernel library's.
OPERATOR_LIBRARY = "softsign_ext.lib.softsign_ext"
BINDING_MODULE = "softsign_ext._C"
EXECUTORCH_LIBRARY = "softsign_ext.lib.softsign_ext_executorch"
EXECUTORCH_FOLDER = "executorch"
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
    elif machine.lower() in ("aarch64", "arm64") and platform_name.startswith("linux"):
        # torch's aarch64 levels besides the baseline (NEON): SVE at a fixed vector length of
        # 128 bits (Neoverse V2: NVIDIA Grace, Graviton4) and 256 bits (Neoverse V1:
        # Graviton3), at::vec's SVE classes (CPU_CAPABILITY_SVE) at that length.
        for bits in (128, 256):
            levels[f"SVE{bits}"] = ["-march=armv8.2-a+sve", f"-msve-vector-bits={bits}", "-DCPU_CAPABILITY_SVE"]
    return levels


def target_machine() -> str:
    """The architecture the C++ compiler builds for ("x86_64", "aarch64"): this machine's,
    or another where CXX names a cross compiler (aarch64-linux-gnu-g++)."""
    compiler = shlex.split(os.environ.get("CXX") or sysconfig.get_config_var("CXX") or "c++")[0]
    try:
        triple = subprocess.run([compiler, "-dumpmachine"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.machine()
    return triple.strip().split("-")[0] or platform.machine()


def retarget(extension, host_torch: str, target_torch: str, target_cuda: Optional[str]) -> None:
    """For a cross build: the extension's include and library folders and link arguments name
    the target's torch (SOFTSIGN_EXT_TARGET_TORCH, the torch package of the machine the build
    is for, same release as this one) where they named this machine's, and its CUDA runtime
    (SOFTSIGN_EXT_TARGET_CUDA, a folder with lib/libcudart.so*) where they named CUDA_HOME's
    libraries. Headers that torch or CUDA install are the same on every machine but for the
    libraries' paths."""
    def moved(path: str) -> str:
        path = path.replace(host_torch, target_torch)
        if target_cuda and CUDA_HOME and path.startswith(os.path.join(CUDA_HOME, "lib")):
            path = os.path.join(target_cuda, "lib")
        return path
    extension.include_dirs = [moved(p) if p.startswith(host_torch) else p for p in extension.include_dirs]
    cccl = os.path.join(CUDA_HOME or "", "include", "cccl")
    if any(source.endswith(".cu") for source in extension.sources) and os.path.isdir(cccl):
        # (nvcc adds its own CCCL headers, Thrust's among them, for its own machine only.)
        extension.include_dirs.append(cccl)
    extension.library_dirs = [moved(p) for p in extension.library_dirs]
    extension.extra_link_args = [moved(arg) for arg in extension.extra_link_args]
    # The target's libraries need theirs (libgomp, CUDA's) only when the program runs.
    extension.extra_link_args += [f"-Wl,-rpath-link,{os.path.join(target_torch, 'lib')}",
                                  "-Wl,--allow-shlib-undefined"]


def library_file(name: str, platform_name: str) -> str:
    """A library extension's file name: a plain shared library (libsoftsign_ext.so for
    OPERATOR_LIBRARY), not a Python module's name, as C++ linkers look for it."""
    return "lib" + name.rpartition(".")[2] + (".dylib" if platform_name == "darwin" else ".so")


def operator_library_file(platform_name: str) -> str:
    return library_file(OPERATOR_LIBRARY, platform_name)


def executorch_plan(forced: Optional[str]) -> tuple[Optional[dict], str]:
    """Where the installed executorch keeps its headers and libraries ({"root", "version",
    "threadpool"}; None when the ExecuTorch kernel is not built), and why. Reads the package's
    files without importing it. Raises where SOFTSIGN_EXT_EXECUTORCH=1 asks for what cannot be
    built."""
    if forced not in (None, "", "0", "1"):
        raise RuntimeError(f"SOFTSIGN_EXT_EXECUTORCH must be 0 or 1, not {forced!r}")
    if forced == "0":
        return None, "SOFTSIGN_EXT_EXECUTORCH=0: no ExecuTorch kernel"
    spec = importlib.util.find_spec("executorch")
    root = next(iter(spec.submodule_search_locations), None) if spec and spec.submodule_search_locations else None
    if root is None:
        reason = "executorch is not installed"
    elif not (os.path.exists(os.path.join(root, "include", "executorch", "runtime", "kernel", "operator_registry.h"))
              and os.path.exists(os.path.join(root, "lib", "libexecutorch.so"))):
        reason = f"the executorch at {root} ships no C++ headers or libexecutorch.so (a wheel of 1.5 or newer does)"
    else:
        version = importlib.metadata.version("executorch")
        threadpool = os.path.exists(os.path.join(root, "lib", "libexecutorch_threadpool.so"))
        return {"root": root, "version": version, "threadpool": threadpool}, f"executorch {version}"
    if forced == "1":
        raise RuntimeError(f"SOFTSIGN_EXT_EXECUTORCH=1, but {reason}")
    return None, (f"{reason}: no ExecuTorch kernel (install executorch and rebuild for it; "
                  "SOFTSIGN_EXT_EXECUTORCH=1 makes this an error)")


def executorch_library(executorch: dict) -> setuptools.Extension:
    """The ExecuTorch kernel library: csrc/executorch/ and the math, compiled against the
    installed executorch's headers and its vendored c10 (not torch's), linked to its runtime,
    which holds the kernel registry (and its thread pool where it ships one)."""
    root = executorch["root"]
    include = os.path.join(root, "include")
    defines = ["-DC10_USING_CUSTOM_GENERATED_MACROS"] + (["-DET_USE_THREADPOOL"] if executorch["threadpool"] else [])
    link_args = ["-Wl,--no-undefined", f"-Wl,-soname,{library_file(EXECUTORCH_LIBRARY, sys.platform)}",
                 f"-Wl,-rpath,{os.path.join(root, 'lib')}",
                 origin_rpath(sys.platform, os.path.join("..", "..", "executorch", "lib"))]
    return setuptools.Extension(
        EXECUTORCH_LIBRARY, sources_in([EXECUTORCH_FOLDER], "cpp"),
        include_dirs=[include, os.path.join(include, "executorch", "runtime", "core", "portable_type", "c10"),
                      os.path.abspath("csrc")],
        library_dirs=[os.path.join(root, "lib")],
        libraries=["executorch"] + (["executorch_threadpool"] if executorch["threadpool"] else []),
        extra_compile_args={"cxx": ["-O3", *defines]}, extra_link_args=link_args, language="c++")


def origin_rpath(platform_name: str, folder: str) -> str:
    """The link flag that lets a library find the ones in `folder` beside it."""
    return f"-Wl,-rpath,{'@loader_path' if platform_name == 'darwin' else '$ORIGIN'}/{folder}"


class BuildLibraries(BuildExtension):
    """torch's BuildExtension for the two libraries: the operator library first (its CPU
    kernel source compiled once per instruction set, as setuptools gives every source of
    an extension the same flags; named as a shared library), then the Python module,
    linked to it."""

    # (setuptools asks for a file name with the extension's full name, and for a path with
    # its last part: the libraries answer both.)
    def get_ext_filename(self, fullname: str) -> str:
        if fullname in (OPERATOR_LIBRARY, EXECUTORCH_LIBRARY):
            return os.path.join(*fullname.split(".")[:-1], library_file(fullname, sys.platform))
        return super().get_ext_filename(fullname)

    def get_ext_fullpath(self, ext_name: str) -> str:
        path = super().get_ext_fullpath(ext_name)
        fullname = self.get_ext_fullname(ext_name)
        if fullname in (OPERATOR_LIBRARY, EXECUTORCH_LIBRARY):
            return os.path.join(os.path.dirname(path), library_file(fullname, sys.platform))
        return path

    def copy_extensions_to_source(self) -> None:
        # (An in-place build: setuptools creates package folders only, and lib/ is none.)
        build_py = self.get_finalized_command("build_py")
        self.mkpath(build_py.get_package_dir(OPERATOR_LIBRARY.rpartition(".")[0]))
        super().copy_extensions_to_source()

    def build_extension(self, ext) -> None:
        if ext.name == OPERATOR_LIBRARY:
            self.add_cpu_kernel_objects(ext)
        elif ext.name == BINDING_MODULE:
            ext.extra_objects = [*ext.extra_objects, self.get_ext_fullpath(OPERATOR_LIBRARY)]
        super().build_extension(ext)

    def add_cpu_kernel_objects(self, ext) -> None:
        objects = []
        # The baseline's objects come first on the link line, after the other sources': an
        # inline function compiled in several of them (a torch header's) is linked from a
        # baseline object, so no code of a wider instruction set runs outside its kernels.
        for level, flags in cpu_capabilities(target_machine(), sys.platform).items():
            compile_args = dict(ext.extra_compile_args)
            compile_args["cxx"] = [*compile_args["cxx"], f"-DCPU_CAPABILITY={level}", f"-DCPU_CAPABILITY_{level}",
                                   *flags]
            objects += self.compiler.compile(
                [CPU_KERNEL_SOURCE], output_dir=os.path.join(self.build_temp, level.lower()),
                macros=ext.define_macros, include_dirs=ext.include_dirs, extra_postargs=compile_args,
                depends=ext.depends)
        ext.extra_objects = [*ext.extra_objects, *objects]


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
                     cpu_levels: list[str], executorch: Optional[dict], executorch_why: str) -> None:
    """What this build is, for softsign_ext.build_info, the torch check at import, the
    error a CPU-only build gives CUDA tensors, torch.compile's cache key and
    softsign_ext.executorch."""
    executorch_library_path = "lib/" + library_file(EXECUTORCH_LIBRARY, sys.platform) if executorch else None
    with open(path, "w") as f:
        f.write(
            "# Written by setup.py when softsign_ext._C was built; not tracked by git.\n"
            f"TORCH_VERSION = {torch.__version__!r}\n"
            f"CUDA_VERSION = {cuda_version!r}\n"
            f"CUDA_ARCH_LIST = {arch_list!r}\n"
            f"CUDA_PLAN = {cuda_plan!r}\n"
            f"MACHINE = {target_machine()!r}\n"
            f"CPU_CAPABILITIES = {tuple(cpu_levels)!r}\n"
            f"SOURCE_HASH = {source_hash()!r}\n"
            f"OPERATOR_LIBRARY = {'lib/' + operator_library_file(sys.platform)!r}\n"
            f"EXECUTORCH_VERSION = {executorch['version'] if executorch else None!r}\n"
            f"EXECUTORCH_PLAN = {executorch_why!r}\n"
            f"EXECUTORCH_LIBRARY = {executorch_library_path!r}\n"
        )


def sources_in(folders, extension: str) -> list[str]:
    """The csrc/<folder>/*.<extension> files of the folders, sorted."""
    return sorted(path for folder in folders for path in glob.glob(f"csrc/{folder}/*.{extension}"))


def extensions() -> list:
    """The operator library, then the Python module over it."""
    note = torch_version_note(torch.__version__)
    if note:
        print(f"softsign_ext: {note}")
    check_shared_libstdcxx()
    # No fast math anywhere: IEEE division and no flush-to-zero keep special
    # values and subnormals equal to F.softsign's.
    # (-Wno-unknown-pragmas: ATen's CPU vector headers use "#pragma unroll".)
    compile_args = {"cxx": ["-O3", "-Wno-unknown-pragmas"]}
    # After the system's headers, so that a real nlohmann/json.hpp wins over the stand-in there.
    compile_args["cxx"] += ["-idirafter", os.path.abspath("csrc/compat")]
    cpu_levels = list(cpu_capabilities(target_machine(), sys.platform))
    library_link_args = []
    if sys.platform.startswith("linux"):
        # at::parallel_for is inline over "#pragma omp parallel": without
        # -fopenmp the CPU kernels would silently run on one thread. The
        # libgomp.so.1 that torch loads serves this library too.
        compile_args["cxx"].append("-fopenmp")
        # --no-undefined: every symbol the operator library uses is in torch's C++
        # libraries, so it loads in a process without Python (a Python symbol fails the link).
        library_link_args += ["-fopenmp", "-Wl,--no-undefined", f"-Wl,-soname,{operator_library_file(sys.platform)}"]
    elif sys.platform == "darwin":
        library_link_args.append(f"-Wl,-install_name,@rpath/{operator_library_file(sys.platform)}")
    # A C++ program finds torch's libraries, which this one needs, where they were at build
    # time or beside softsign_ext in site-packages (an installed wheel).
    library_link_args += [f"-Wl,-rpath,{TORCH_LIBRARY_FOLDER}",
                          origin_rpath(sys.platform, os.path.join("..", "..", "torch", "lib"))]
    include_dirs = [os.path.abspath("csrc")]
    nvcc = nvcc_version(CUDA_HOME)
    with_cuda, why = cuda_plan(os.environ.get("SOFTSIGN_EXT_CUDA"), torch.version.cuda, CUDA_HOME, nvcc)
    print(f"softsign_ext: {why}")
    executorch, executorch_why = executorch_plan(os.environ.get("SOFTSIGN_EXT_EXECUTORCH"))
    print(f"softsign_ext: ExecuTorch kernel: {executorch_why}")
    operator_sources = [path for path in sources_in(OPERATOR_FOLDERS, "cpp") if path != CPU_KERNEL_SOURCE]
    if with_cuda:
        os.environ["TORCH_CUDA_ARCH_LIST"] = arch_list = cuda_arch_list()
        print(f"softsign_ext: building the CPU and CUDA kernels for {arch_list}")
        write_build_info(BUILD_INFO, nvcc, arch_list, why, cpu_levels, executorch, executorch_why)
        library = CUDAExtension(
            OPERATOR_LIBRARY, operator_sources + sources_in(OPERATOR_FOLDERS, "cu"), include_dirs=include_dirs,
            extra_compile_args={**compile_args, "nvcc": ["-O3"]}, extra_link_args=library_link_args)
    else:
        write_build_info(BUILD_INFO, None, None, why, cpu_levels, executorch, executorch_why)
        library = CppExtension(OPERATOR_LIBRARY, operator_sources, include_dirs=include_dirs,
                               extra_compile_args=compile_args, extra_link_args=library_link_args)
    library.libraries.remove("torch_python")
    # Not the stable ABI (py_limited_api): the eager entry points in
    # csrc/python/module.cpp unwrap tensors with torch's Python C API,
    # which makes small calls cheaper than through torch.ops. The wheel is tied
    # to one CPython and one torch version anyway, as torch is.
    binding = CppExtension(BINDING_MODULE, sources_in([BINDING_FOLDER], "cpp"), include_dirs=include_dirs,
                           extra_compile_args=compile_args, extra_link_args=[origin_rpath(sys.platform, "lib")])
    extensions = [library, binding] + ([executorch_library(executorch)] if executorch else [])
    target_torch = os.environ.get("SOFTSIGN_EXT_TARGET_TORCH")
    if target_torch:
        print(f"softsign_ext: cross build for {target_machine()} against the torch in {target_torch}")
        for extension in extensions:
            retarget(extension, os.path.dirname(torch.__file__), os.path.abspath(target_torch),
                     os.environ.get("SOFTSIGN_EXT_TARGET_CUDA"))
    return extensions


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
        ext_modules=extensions(),
        cmdclass={"build_ext": BuildLibraries, "build_py": BuildPyWithKernelSources},
    )
