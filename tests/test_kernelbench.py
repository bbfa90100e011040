"""benchmarks/kernelbench/: the submissions in KernelBench's format (the package's
model_new.py, and the self-contained ones softsign_ext.kernelbench generates), KernelBench's
published static rules for submissions (checked here by our own reading of them), and the
results against KernelBench's reference model at its tolerances."""

import ast
import importlib.util
import re
from pathlib import Path

import pytest
import torch
from _helpers import DEVICES, bits, needs_cuda

import softsign_ext
from softsign_ext.kernelbench import submission as kernelbench
from softsign_ext.bench.kernelbench_timing import KERNELBENCH_TOLERANCE, load_model_new
from softsign_ext.reference import KernelBenchModel

FOLDER = Path(__file__).parents[1] / "benchmarks" / "kernelbench"
MODEL_NEW = FOLDER / "model_new.py"
GENERATED = {backend: FOLDER / f"model_new_{backend}.py" for backend in kernelbench.BACKENDS}
HAS_TRITON = importlib.util.find_spec("triton") is not None


# ------------------------------------------------------------------ the format --


@pytest.mark.parametrize("path", [MODEL_NEW, *GENERATED.values()], ids=lambda p: p.name)
def test_file_has_the_prompts_format(path):
    """Imports, then the kernel (statements and functions), then class ModelNew and nothing
    after it; no get_inputs or __main__ block."""
    body = ast.parse(path.read_text()).body
    kinds = [type(node) for node in body]
    first_other = next(i for i, kind in enumerate(kinds) if kind not in (ast.Import, ast.ImportFrom))
    assert all(kind not in (ast.Import, ast.ImportFrom) for kind in kinds[first_other:]), "imports come first"
    assert [node.name for node in body if isinstance(node, ast.ClassDef)] == ["ModelNew"]
    assert isinstance(body[-1], ast.ClassDef), "the model comes last"
    model = body[-1]
    init = next(node for node in model.body if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    forward = next(node for node in model.body if isinstance(node, ast.FunctionDef) and node.name == "forward")
    assert [a.arg for a in init.args.args] == ["self"] and [a.arg for a in forward.args.args] == ["self", "x"]
    assert "get_inputs" not in path.read_text() and "__main__" not in path.read_text()


@pytest.mark.parametrize("backend", kernelbench.BACKENDS)
def test_generated_files_are_up_to_date(backend):
    assert GENERATED[backend].read_text() == kernelbench.generate(backend), (
        f"{GENERATED[backend]} is stale: python -m softsign_ext.kernelbench --backend {backend} -o {GENERATED[backend]}")


def test_cuda_submission_inlines_the_package_sources():
    """The kernel text is the package's own: every line of the launcher, the functors and
    the math is in the submission, and no local include is left to resolve."""
    text = GENERATED["cuda"].read_text()
    for name in ("softsign_math.h", "elementwise/cuda_loops.cuh", "elementwise/layout.h", "cuda/softsign_functors.cuh"):
        for line in (kernelbench.source_dir() / name).read_text().splitlines():
            if line.strip() and line.strip() != "#pragma once" and not line.startswith('#include "'):
                assert line in text, f"{name}: {line!r} is not in the submission"
    assert not re.search(r'#include "', text)


# --------------------------------------------- KernelBench's static rules, our reading --


def code_of(text: str) -> str:
    """The text the rules read: each line cut at its first '#' or '//' (comments in Python
    and C++, and preprocessor lines); docstrings and strings are read."""
    return "\n".join(re.split(r"#|//", line, maxsplit=1)[0] for line in text.splitlines())


REQUIRED = {
    "cuda": {
        "a __global__ kernel": r"__global__",
        "compiled with load_inline or cpp_extension": r"load_inline|cpp_extension",
        "CUDA thread indexing": r"\b(threadIdx|blockIdx|blockDim|gridDim)\.",
    },
    "triton": {
        "a @triton.jit or @triton.autotune kernel": r"@triton\.(jit|autotune)",
        "tl.load or tl.store": r"\btl\.(load|store)\s*\(",
        "program indexing": r"\btl\.(program_id|num_programs|arange|cdiv)\s*\(",
    },
}
# Containers, parameters and init are the torch.nn names a submission may use.
NN_ALLOWED = r"(Module|Parameter|ParameterList|ParameterDict|ModuleList|ModuleDict|init|parameter)\b"
PROHIBITED = {
    "try/except": r"\btry\s*:|\bexcept\b",
    "pass": r"\bpass\b",
    "a torch.nn compute layer or function": rf"\btorch\.nn\.(?!{NN_ALLOWED})|\bnn\.(?!{NN_ALLOWED})\w+|\bF\.\w+",
    # Of torch's functions the submissions may call only allocation (the output).
    "a torch computation op": r"\btorch\.(?!(empty|empty_like|Tensor|float32|bfloat16|float16)\b)\w+\s*\(",
    "CUDA streams": r"\bStream\s*\(|cuda\.stream\b|\.(wait|record)_stream\s*\(",
    "threads or processes": r"\bthreading\b|\bmultiprocessing\b|concurrent\.futures|PoolExecutor",
    "a tensor subclass": r"_make_subclass|class\s+\w+\s*\(\s*(torch\.)?Tensor\s*\)|Tensor\.__new__",
    "a patched timer": r"\b(record|elapsed_time|synchronize|Event|perf_counter|time)\s*=[^=]",
    "a float32 to float16 downgrade": r"__float2half|\(\s*__half\s*\)|static_cast\s*<\s*(__half|half)\s*>|"
                                      r"\.half\s*\(|\.to\s*\(\s*(dtype\s*=\s*)?torch\.(float16|half)\b|tl\.astype",
}


def rule_violations(text: str, backend: str) -> list[str]:
    code = code_of(text)
    missing = [f"missing {what}" for what, pattern in REQUIRED[backend].items() if not re.search(pattern, code)]
    found = [f"has {what}: {m.group(0)!r}" for what, pattern in PROHIBITED.items()
             for m in [re.search(pattern, code)] if m]
    return missing + found


@pytest.mark.parametrize("backend", kernelbench.BACKENDS)
def test_generated_files_follow_the_static_rules(backend):
    assert rule_violations(GENERATED[backend].read_text(), backend) == []


# Each rule, broken on purpose: the checks above could fail.
BREAKS = {
    "try/except": "try:\n    y = 1\nexcept ValueError:\n    y = 2\n",
    "pass": "def f():\n    pass\n",
    "a torch.nn compute layer or function": "act = torch.nn.Softsign()\n",
    "a torch computation op": "y = torch.softsign(torch.ones(1))\n",
    "CUDA streams": "s = torch.cuda.Stream()\n",
    "threads or processes": "import threading\n",
    "a tensor subclass": "class Lazy(torch.Tensor):\n    x = 1\n",
    "a patched timer": "torch.cuda.synchronize = print\n",
    "a float32 to float16 downgrade": "y = x.half()\n",
}


@pytest.mark.parametrize("rule", PROHIBITED)
@pytest.mark.parametrize("backend", kernelbench.BACKENDS)
def test_each_rule_catches_its_pattern(backend, rule):
    broken = GENERATED[backend].read_text() + "\n" + BREAKS[rule]
    assert any(v.startswith(f"has {rule}") for v in rule_violations(broken, backend))


@pytest.mark.parametrize("backend", kernelbench.BACKENDS)
def test_each_requirement_is_checked(backend):
    text = GENERATED[backend].read_text()
    for what, pattern in REQUIRED[backend].items():
        assert f"missing {what}" in rule_violations(re.sub(pattern, "_", code_of(text)), backend)


def test_comments_are_not_read_but_docstrings_are():
    assert rule_violations('import triton\n# try: pass\n"""one pass"""\n@triton.jit\n'
                           'def k(p):\n    tl.store(p + tl.arange(0, 4), 1)\n', "triton") == ["has pass: 'pass'"]


# ----------------------------------------------------------------------- results --


@pytest.mark.parametrize("device", DEVICES)
def test_package_model_new_matches_kernelbench_reference(device):
    model_new = load_model_new(MODEL_NEW)()  # KernelBench constructs it with get_init_inputs() == []
    reference = KernelBenchModel()
    # The problem's row length; fewer rows than its 4096 to keep the test quick.
    rows = 64 if device == "cuda" else 4
    for trial in range(5):
        torch.manual_seed(trial)
        x = torch.rand(rows, 393216, device=device)
        torch.testing.assert_close(model_new(x), reference(x), atol=KERNELBENCH_TOLERANCE[torch.float32],
                                   rtol=KERNELBENCH_TOLERANCE[torch.float32])


def _check_submission(model_new, dtype, exact):
    """KernelBench's trials: torch.rand inputs at its tolerance; with `exact`, also the
    package's bits (the same kernels). Odd sizes too, for the tails, and an input that
    starts one element past a 16-byte boundary, before and after an aligned one of its size."""
    inputs = [torch.rand(shape, device="cuda", dtype=dtype) for shape in [(64, 393216), (3, 1001), (1,), (4097,)]]
    inputs += [torch.rand(4098, device="cuda", dtype=dtype)[1:], inputs[-1]]
    for x in inputs:
        y = model_new(x)
        torch.testing.assert_close(y, KernelBenchModel()(x.double()).to(dtype), atol=KERNELBENCH_TOLERANCE[dtype],
                                   rtol=KERNELBENCH_TOLERANCE[dtype])
        if exact:
            assert torch.equal(bits(y), bits(softsign_ext.softsign(x)))


@needs_cuda
@pytest.mark.parametrize("dtype", list(KERNELBENCH_TOLERANCE), ids=str)
def test_cuda_submission_gives_the_package_bits(dtype):
    _check_submission(load_model_new(GENERATED["cuda"])(), dtype, exact=True)


@needs_cuda
@pytest.mark.skipif(not HAS_TRITON, reason="needs Triton")
@pytest.mark.parametrize("dtype", list(KERNELBENCH_TOLERANCE), ids=str)
def test_triton_submission_matches_kernelbench_reference(dtype):
    _check_submission(load_model_new(GENERATED["triton"])(), dtype, exact=False)


@needs_cuda
def test_cuda_submission_refuses_what_is_not_a_cuda_tensor():
    model_new = load_model_new(GENERATED["cuda"])()
    with pytest.raises(RuntimeError, match="ModelNew runs on CUDA tensors, not cpu"):
        model_new(torch.rand(3))
    with pytest.raises(TypeError, match="ModelNew takes a tensor, not int"):
        model_new(3)


@pytest.mark.skipif(torch.cuda.device_count() < 2 or not HAS_TRITON, reason="needs 2 CUDA GPUs and Triton")
def test_triton_kernel_runs_on_the_current_device_only():
    from softsign_ext.kernelbench.triton_kernel import triton_softsign
    x = torch.rand(4097, device="cuda:1")
    with pytest.raises(ValueError, match=r"x is on cuda:1: call it inside `with torch.cuda.device\(x.device\):`"):
        triton_softsign(x)
    with torch.cuda.device(1):
        y = triton_softsign(x)
    torch.testing.assert_close(y, KernelBenchModel()(x.double()).float(), atol=1e-6, rtol=1e-6)
