"""Shared test helpers: devices, dtypes, random inputs with special values, comparisons.
The float64 references live in softsign_ext.reference, shared with the benchmark."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import softsign_ext
from softsign_ext.reference import softsign_grad_reference, softsign_reference  # noqa: F401  (re-exported)

# CUDA tests need a GPU and a build that holds the CUDA kernels (a CPU-only build on a GPU
# machine runs only its CPU tests, and tests/test_build.py's check of the refusal).
HAS_CUDA = torch.cuda.is_available() and softsign_ext.cuda_built()
needs_cuda = pytest.mark.skipif(
    not HAS_CUDA, reason="needs a CUDA GPU" if not torch.cuda.is_available() else "a CPU-only build (no CUDA kernels)")

DEVICES = [pytest.param("cpu"), pytest.param("cuda", marks=needs_cuda)]
FLOAT_DTYPES = [dtype for dtype in softsign_ext.SUPPORTED_DTYPES if dtype.is_floating_point]
HALF_DTYPES = [dtype for dtype in FLOAT_DTYPES if dtype.itemsize == 2]
COMPLEX_DTYPES = [dtype for dtype in softsign_ext.SUPPORTED_DTYPES if dtype.is_complex]


def special_values(dtype: torch.dtype) -> torch.Tensor:
    """inf, -inf, nan, the largest finite values, subnormals, signed zeros, and neighbours."""
    info = torch.finfo(dtype)
    tiny_subnormal = info.smallest_normal * info.eps  # the smallest positive subnormal
    values = [
        float("inf"), float("-inf"), float("nan"),
        info.max, -info.max, info.smallest_normal, -info.smallest_normal,
        tiny_subnormal, -tiny_subnormal, info.smallest_normal / 2,
        0.0, -0.0, 1.0, -1.0, info.eps, 1 / info.eps,
    ]
    return torch.tensor(values, dtype=torch.float64).to(dtype)


def random_input(shape, dtype, device="cpu", with_specials=True) -> torch.Tensor:
    """Random values over many magnitudes (log-normal), never all zeros; special
    values sprinkled in when the tensor is big enough to hold them."""
    n = 1
    for s in shape:
        n *= s
    magnitudes = torch.exp(torch.randn(n, dtype=torch.float64) * 3)
    values = torch.randn(n, dtype=torch.float64).sign() * magnitudes
    specials = special_values(dtype).double()
    if with_specials and n >= 4 * len(specials):
        positions = torch.randperm(n)[: len(specials)]
        values[positions] = specials
    return values.to(dtype).reshape(shape).to(device)


def special_value_pairs(real_dtype: torch.dtype) -> torch.Tensor:
    """Every complex number whose parts are two of special_values(real_dtype)."""
    specials = special_values(real_dtype)
    return torch.complex(specials.repeat_interleave(len(specials)), specials.repeat(len(specials)))


def random_complex_input(shape, dtype, device="cpu", with_specials=True) -> torch.Tensor:
    """Complex values whose parts are random_input's, independent; where the tensor is big
    enough, every pair of special values (one the real part, one the imaginary) appears."""
    real_dtype = dtype.to_real()
    real = random_input(shape, real_dtype, with_specials=False)
    imag = random_input(shape, real_dtype, with_specials=False)
    x = torch.complex(real, imag).flatten()
    pairs = special_value_pairs(real_dtype)
    if with_specials and x.numel() >= 4 * len(pairs):
        x[torch.randperm(x.numel())[: len(pairs)]] = pairs
    return x.reshape(shape).to(device)


def away_from_zero(shape, device) -> torch.Tensor:
    """float64 values with |x| in [0.1, 4]: gradcheck's finite differences must not
    straddle the kink of |x| at 0."""
    magnitude = torch.rand(shape, dtype=torch.float64, device=device) * 3.9 + 0.1
    return magnitude * (torch.randint(0, 2, shape, device=device) * 2 - 1)


def poison_allocator(nbytes: int, device) -> None:
    """Fills a block with 0xFF bytes (NaN in every float dtype) and frees it, so the
    caching allocator hands the same memory to the next allocation of that size:
    an output element the kernel fails to write then shows up as NaN."""
    torch.empty(max(nbytes, 1), dtype=torch.uint8, device=device).fill_(0xFF)


class RecordingDispatchMode(TorchDispatchMode):
    """Records, in .funcs, the operators that reach the dispatcher's Python key."""

    def __init__(self):
        super().__init__()
        self.funcs = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.funcs.append(func)
        return func(*args, **(kwargs or {}))


def grad_as_the_kernels_compute_it(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The kernels' gradient math (csrc/softsign_math.h's softsign_grad) in the inputs' dtype:
    grad * r * r with r = 1 / (1 + |x|)."""
    reciprocal = 1 / (1 + x.abs())
    return grad * reciprocal * reciprocal


def assert_same_values(actual: torch.Tensor, expected: torch.Tensor, **tolerances) -> None:
    """assert_close at the dtype's tolerance, NaNs in the same places, and the
    sign bit of every zero the same (softsign(-0.0) is -0.0)."""
    torch.testing.assert_close(actual, expected, equal_nan=True, **tolerances)
    zeros = expected == 0
    assert torch.equal(torch.signbit(actual[zeros]), torch.signbit(expected[zeros])), "sign of zero differs"


def is_dense(t: torch.Tensor) -> bool:
    """Non-overlapping and dense: some permutation of the dims is contiguous."""
    expected = 1
    for stride, size in sorted((st, s) for s, st in zip(t.shape, t.stride()) if s != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def bits(t: torch.Tensor) -> torch.Tensor:
    """The tensor's raw bit patterns, for exact comparisons that see NaNs and -0.0."""
    return t.view({1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


def softsign_checked(x: torch.Tensor) -> torch.Tensor:
    """softsign_ext.softsign(x) with the allocator poisoned first."""
    poison_allocator(x.numel() * x.element_size(), x.device)
    return softsign_ext.softsign(x)


def exported(model, x: torch.Tensor, strict: bool = False):
    """torch.export of model(x) with a dynamic batch (first) dimension."""
    batch = torch.export.Dim("batch", min=2, max=1024)
    return torch.export.export(model, (x,), dynamic_shapes=({0: batch},), strict=strict)


def aoti_package(model, x: torch.Tensor, fusion: bool, path) -> str:
    """An AOTInductor package of model(x) (dynamic batch) at `path`, with softsign fused or
    calling softsign_ext's kernel; returns its path."""
    with torch.no_grad(), softsign_ext.inductor.fusion(fusion):
        return torch._inductor.aoti_compile_and_package(exported(model, x), package_path=str(path))


def cmake_program(source: str, build, program: str, **cache: str):
    """The path of `program`, configured from the CMake project in `source` with the `cache`
    entries (-DNAME=VALUE) and built in `build`, as a user would; skips without cmake."""
    import shutil
    import subprocess
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("no cmake on PATH (the test extra installs it: pip install cmake)")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    for command in ([cmake, "-S", source, "-B", str(build), *generator, "-DCMAKE_BUILD_TYPE=Release",
                     *(f"-D{name}={value}" for name, value in cache.items())],
                    [cmake, "--build", str(build)]):
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return build / program
