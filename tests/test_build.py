"""How softsign_ext was built and loads: the build's decisions (setup.py), the compiled
library, the CUDA kernels, the torch it was built against, the supported dtypes."""

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.cpp_extension import CUDA_HOME

import softsign_ext
from softsign_ext import _library

SETUP_PY = Path(__file__).parents[1] / "setup.py"


@pytest.fixture(scope="module")
def setup_py():
    """setup.py as a module: its decisions without running setup()."""
    spec = importlib.util.spec_from_file_location("softsign_ext_setup", SETUP_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compiled_cuda_kernel(op: str) -> bool:
    """Whether the operator's CUDA kernel is one compiled from csrc/*.cu (a CPU-only build
    registers a Python kernel there that only raises)."""
    dump = torch._C._dispatch_dump(f"softsign_ext::{op}")
    return re.search(r"^CUDA: registered at \S+\.cu:\d+", dump, re.MULTILINE) is not None


def test_missing_library_says_how_to_build():
    with pytest.raises(ImportError, match="pip install --no-build-isolation") as info:
        _library.load("softsign_ext._not_built")
    assert "softsign_ext._not_built" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


def test_another_torch_is_refused_before_loading():
    with pytest.raises(ImportError, match=r"built against torch 2\.10\.0, but torch 2\.11\.0 is importing it"):
        _library.check_torch_version("2.10.0", "2.11.0")
    with pytest.raises(ImportError, match="(?s)has not been built.*--no-build-isolation"):
        _library.check_torch_version(None, "2.11.0")


def test_build_info_describes_this_build(setup_py):
    assert softsign_ext.build_info["torch"] == torch.__version__
    has_cuda_kernels = _compiled_cuda_kernel("softsign")
    assert softsign_ext.cuda_built() == has_cuda_kernels
    assert (softsign_ext.build_info["cuda_arch_list"] is not None) == has_cuda_kernels
    # The reason says which way the build went (setup.py's cuda_plan words both ways).
    assert ("building the CPU kernels only" not in softsign_ext.build_info["cuda_reason"]) == has_cuda_kernels


@pytest.mark.parametrize("machine, platform_name, levels", [
    ("x86_64", "linux", ["DEFAULT", "AVX2", "AVX512"]),
    ("AMD64", "linux", ["DEFAULT", "AVX2", "AVX512"]),
    ("x86_64", "darwin", ["DEFAULT", "AVX2", "AVX512"]),
    ("AMD64", "win32", ["DEFAULT"]),  # MSVC takes other flags: the baseline only
    ("aarch64", "linux", ["DEFAULT", "SVE128", "SVE256"]),
    ("arm64", "darwin", ["DEFAULT"]),
    ("ppc64le", "linux", ["DEFAULT"]),
])
def test_cpu_capabilities_per_architecture(setup_py, machine, platform_name, levels):
    flags = setup_py.cpu_capabilities(machine, platform_name)
    assert list(flags) == levels
    assert flags["DEFAULT"] == []  # the compiler's defaults: never an x86 flag elsewhere
    if "AVX2" in flags:
        assert {"-mavx2", "-mfma", "-mf16c"} <= set(flags["AVX2"])
        assert {"-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq"} <= set(flags["AVX512"])
        # AVX512_BF16's conversion flushes subnormals (setup.py's cpu_capabilities).
        assert "-mavx512bf16" not in flags["AVX512"]
    for bits in (128, 256):
        if f"SVE{bits}" in flags:  # at::vec's SVE classes at torch's fixed vector length
            assert {"-march=armv8.2-a+sve", f"-msve-vector-bits={bits}", "-DCPU_CAPABILITY_SVE"} \
                == set(flags[f"SVE{bits}"])


def test_target_machine_is_the_compilers(setup_py, monkeypatch):
    # A cross compiler names another machine than this one: its kernels' levels follow it.
    cross = shutil.which("aarch64-linux-gnu-g++")
    if cross is None:
        pytest.skip("no aarch64 cross compiler here (Debian: apt-get install g++-aarch64-linux-gnu)")
    monkeypatch.setenv("CXX", cross)
    assert setup_py.target_machine() == "aarch64"
    monkeypatch.setenv("CXX", "/usr/bin/g++")
    assert setup_py.target_machine() == platform.machine()


def test_a_cross_build_links_the_target_torch(setup_py, tmp_path):
    host = os.path.dirname(torch.__file__)
    extension = setup_py.setuptools.Extension(
        "x", ["a.cpp"], include_dirs=["csrc", f"{host}/include"], library_dirs=[f"{host}/lib"],
        extra_link_args=[f"-Wl,-rpath,{host}/lib", "-Wl,-rpath,$ORIGIN/../../torch/lib"])
    setup_py.retarget(extension, host, str(tmp_path / "torch"), None)
    assert extension.include_dirs == ["csrc", f"{tmp_path}/torch/include"]
    assert extension.library_dirs == [f"{tmp_path}/torch/lib"]
    assert extension.extra_link_args[:2] == [f"-Wl,-rpath,{tmp_path}/torch/lib", "-Wl,-rpath,$ORIGIN/../../torch/lib"]
    assert not any(host in arg for arg in extension.extra_link_args)


def test_build_info_lists_the_cpu_builds_and_one_is_in_use(setup_py):
    import platform
    assert list(softsign_ext.build_info["cpu_capabilities"]) == list(
        setup_py.cpu_capabilities(platform.machine(), sys.platform))
    assert softsign_ext.cpu_capability() in softsign_ext.build_info["cpu_capabilities"]


def test_cuda_kernels_are_built_when_possible(setup_py):
    """CI has nvcc and a CUDA torch but no GPU: the CUDA kernels must still be compiled in."""
    wanted, _ = setup_py.cuda_plan(os.environ.get("SOFTSIGN_EXT_CUDA"), torch.version.cuda, CUDA_HOME,
                                   setup_py.nvcc_version(CUDA_HOME))
    for op in ("softsign", "softsign_backward"):
        assert _compiled_cuda_kernel(op) == wanted


@pytest.mark.parametrize(
    "forced,torch_cuda,cuda_home,nvcc,builds,reason",
    [
        (None, "13.0", "/cuda", "13.0", True, "nvcc 13.0, torch built with CUDA 13.0"),
        ("", "12.8", "/cuda", "12.4", True, "nvcc 12.4"),
        ("0", "13.0", "/cuda", "13.0", False, "SOFTSIGN_EXT_CUDA=0"),
        (None, None, "/cuda", "13.0", False, "this torch is CPU-only"),
        (None, "13.0", None, None, False, "no CUDA toolkit was found"),
        (None, "13.0", "/usr/local/cuda", None, False, "CUDA_HOME=/usr/local/cuda has no working bin/nvcc"),
        (None, "12.8", "/cuda", "13.0", False, "nvcc 13.0 cannot build for this torch, which was built with CUDA 12.8"),
    ],
)
def test_cuda_plan(setup_py, forced, torch_cuda, cuda_home, nvcc, builds, reason):
    plan, why = setup_py.cuda_plan(forced, torch_cuda, cuda_home, nvcc)
    assert plan == builds and reason in why
    if not builds and forced != "0":
        assert "building the CPU kernels only (SOFTSIGN_EXT_CUDA=1 makes this an error)" in why
        with pytest.raises(RuntimeError, match=f"SOFTSIGN_EXT_CUDA=1, but {reason}"):
            setup_py.cuda_plan("1", torch_cuda, cuda_home, nvcc)


def test_cuda_plan_refuses_other_values(setup_py):
    with pytest.raises(RuntimeError, match="SOFTSIGN_EXT_CUDA must be 0 or 1, not 'yes'"):
        setup_py.cuda_plan("yes", "13.0", "/cuda", "13.0")


def test_nvcc_version(setup_py, tmp_path):
    assert setup_py.nvcc_version(None) is None
    assert setup_py.nvcc_version(str(tmp_path)) is None  # a CUDA_HOME without bin/nvcc
    nvcc = tmp_path / "bin" / "nvcc"
    nvcc.parent.mkdir()
    nvcc.write_text("#!/bin/sh\necho 'Cuda compilation tools, release 12.4, V12.4.131'\n")
    nvcc.chmod(0o755)
    assert setup_py.nvcc_version(str(tmp_path)) == "12.4"


def test_build_without_torch_says_to_disable_build_isolation():
    """What pip's isolated build environment (no torch in it) shows."""
    code = f"import sys; sys.modules['torch'] = None; exec(open({str(SETUP_PY)!r}).read())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "pip install --no-build-isolation" in result.stderr and "Traceback" not in result.stderr


def test_supported_dtypes_come_from_the_compiled_kernels():
    assert softsign_ext.SUPPORTED_DTYPES == (torch.float32, torch.float64, torch.float16, torch.bfloat16,
                                             torch.complex64, torch.complex128)
    for dtype in softsign_ext.SUPPORTED_DTYPES:  # each one has a kernel
        assert torch.equal(softsign_ext.softsign(torch.ones(3, dtype=dtype)), torch.full((3,), 0.5, dtype=dtype))


def _architectures(arch_list: str) -> tuple[set[str], set[str]]:
    """TORCH_CUDA_ARCH_LIST ("8.0;9.0+PTX") as the sm_ numbers of its machine code and PTX."""
    machine, ptx = set(), set()
    for entry in arch_list.replace(" ", ";").split(";"):
        number = entry.removesuffix("+PTX").replace(".", "")
        machine.add(number)
        if entry.endswith("+PTX"):
            ptx.add(number)
    return machine, ptx


def _cuobjdump():
    """The CUDA toolkit's cuobjdump, else the one Triton ships (a toolkit may lack it)."""
    candidates = [os.path.join(CUDA_HOME, "bin", "cuobjdump")] if CUDA_HOME else []
    candidates.append(shutil.which("cuobjdump"))
    triton = importlib.util.find_spec("triton")
    if triton is not None:
        candidates += [os.path.join(folder, "backends", "nvidia", "bin", "cuobjdump")
                       for folder in triton.submodule_search_locations]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.mark.skipif(not softsign_ext.cuda_built(), reason="a CPU-only build")
@pytest.mark.skipif(_cuobjdump() is None, reason="no cuobjdump (CUDA toolkit or Triton)")
def test_library_holds_code_for_the_recorded_architectures():
    cuobjdump = _cuobjdump()
    library = softsign_ext.library_path
    elf = subprocess.run([cuobjdump, "--list-elf", library], capture_output=True, text=True, check=True).stdout
    ptx = subprocess.run([cuobjdump, "--list-ptx", library], capture_output=True, text=True, check=True).stdout
    machine, with_ptx = _architectures(softsign_ext.build_info["cuda_arch_list"])
    assert set(re.findall(r"\.sm_(\d+[af]?)\.cubin", elf)) == machine
    assert set(re.findall(r"\.sm_(\d+[af]?)\.ptx", ptx)) == with_ptx


@pytest.mark.skipif(softsign_ext.cuda_built(), reason="a build with the CUDA kernels")
def test_cpu_only_build_tells_cuda_tensors_why():
    """The CUDA kernel a CPU-only build registers, called directly (no GPU needed)."""
    cuda = torch._C.DispatchKeySet(torch._C.DispatchKey.CUDA)
    with pytest.raises(RuntimeError, match="(?s)built without its CUDA kernels.*--no-build-isolation"):
        torch.ops.softsign_ext.softsign.default.redispatch(cuda, torch.ones(3))


def test_supported_torch_range(setup_py):
    assert setup_py.torch_version_note("2.8.0+cu128") is None
    assert setup_py.torch_version_note("2.15.0") is None
    assert "newer than the releases softsign_ext is tested with (2.8 to 2.15)" in setup_py.torch_version_note("2.16.0")
    with pytest.raises(RuntimeError, match=r"needs torch 2\.8 to 2\.15; this is torch 2\.7\.1"):
        setup_py.torch_version_note("2.7.1+cu126")


def test_source_hash_follows_every_source_file(setup_py, tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "a.cpp").write_text("int a;")
    (tmp_path / "b.h").write_text("int b;")
    first = setup_py.source_hash(str(tmp_path))
    (tmp_path / "ops" / "a.cpp").write_text("int a = 1;")
    assert setup_py.source_hash(str(tmp_path)) != first
    (tmp_path / "ops" / "a.cpp").write_text("int a;")
    assert setup_py.source_hash(str(tmp_path)) == first
    (tmp_path / "ops" / "a.cpp").rename(tmp_path / "a.cpp")  # same contents, another file
    assert setup_py.source_hash(str(tmp_path)) != first
