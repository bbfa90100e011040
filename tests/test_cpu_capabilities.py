"""The CPU kernels of every instruction set built (csrc/cpu/softsign_kernel.cpp compiled per
set, chosen like torch's own by at::get_cpu_capability): each level, forced with
ATEN_CPU_CAPABILITY in a subprocess, gives the same bits as every other and as the
kernels' definition (float32/float64: eager F.softsign's bits; half types: the float32
result rounded once), forward and backward, in-place and out=, on special values and
subnormals, odd sizes, misaligned starts and strided views; and all are within the
dtype's tolerance of the float64 reference."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from _helpers import (FLOAT_DTYPES, assert_same_values, bits, grad_as_the_kernels_compute_it, random_input,
                      softsign_grad_reference, softsign_reference)

import softsign_ext

# The levels built (setup.py's cpu_capabilities), lowest first, in torch's names, which
# ATEN_CPU_CAPABILITY takes in lower case.
LEVELS = list(softsign_ext.build_info["cpu_capabilities"])
# Odd sizes around the vector widths and the threads' grain, each also starting one element in.
SIZES = [1, 7, 31, 33, 1000, 4099, 70001]

RUN_LEVEL = """
import sys, torch, softsign_ext
inputs = torch.load(sys.argv[1])
results = {"capability": softsign_ext.cpu_capability(), "torch": torch.backends.cpu.get_cpu_capability()}
for key, (x, g) in inputs.items():
    out = torch.full_like(x, float("nan"))
    inplace = x.clone()
    softsign_ext.softsign_(inplace)
    results[key] = (softsign_ext.softsign(x), softsign_ext.softsign(x, out=out), inplace,
                    softsign_ext.softsign_backward(g, x))
torch.save(results, sys.argv[2])
"""


def _torch_level(name: str | None = None) -> str:
    """torch's CPU level (torch.backends.cpu.get_cpu_capability(), or `name`) in the names
    ATEN_CPU_CAPABILITY takes: torch 2.8 calls the baseline "NO AVX"."""
    name = name or torch.backends.cpu.get_cpu_capability()
    return "DEFAULT" if name == "NO AVX" else name


def _inputs():
    """(x, grad) per dtype, size and layout: misaligned (one element into a buffer) and
    strided (every other element) views included."""
    inputs = {}
    for dtype in FLOAT_DTYPES:
        for n in SIZES:
            x, g = random_input((2 * n + 2,), dtype), random_input((2 * n + 2,), dtype, with_specials=False)
            inputs[(dtype, n, "contiguous")] = (x[:n].clone(), g[:n].clone())
            inputs[(dtype, n, "misaligned")] = (x[1:n + 1], g[1:n + 1])
            inputs[(dtype, n, "strided")] = (x[::2][:n], g[::2][:n])
    return inputs


def _canonical_bits(t: torch.Tensor) -> torch.Tensor:
    """Bits with every NaN as one pattern: a NaN's sign and payload differ between
    at::vec's conversions and c10's scalar ones, as they do between torch's own CPU levels."""
    return torch.where(t.isnan(), torch.full_like(bits(t), -1), bits(t))


@pytest.fixture(scope="module")
def results_per_level(tmp_path_factory):
    folder = tmp_path_factory.mktemp("levels")
    inputs = _inputs()
    torch.save(inputs, folder / "inputs.pt")
    torch_level = _torch_level()
    if torch_level not in LEVELS[1:]:  # the baseline only (another architecture): nothing to compare
        return inputs, {}
    # Each level up to torch's own, as torch runs it when asked (a level this CPU lacks, as
    # 128-bit SVE on a CPU of 256-bit vectors, gives torch's baseline instead), by the level
    # torch ran.
    results = {}
    for level in LEVELS[: LEVELS.index(torch_level) + 1]:
        out = folder / f"{level}.pt"
        env = dict(os.environ, ATEN_CPU_CAPABILITY=level.lower())
        subprocess.run([sys.executable, "-c", RUN_LEVEL, str(folder / "inputs.pt"), str(out)], env=env, check=True,
                       cwd=Path(__file__).parent)
        result = torch.load(out)
        results[_torch_level(result["torch"])] = result
    return inputs, results


def test_each_level_runs_its_own_build(results_per_level):
    _, results = results_per_level
    if not results:
        pytest.skip("one level of CPU kernels here")
    # softsign_ext runs the build of the level torch runs, its own and the baseline at least.
    assert {"DEFAULT", _torch_level()} <= set(results)
    for level, result in results.items():
        assert result["capability"] == level


def _expected(x: torch.Tensor, g: torch.Tensor):
    """The kernels' definition: the float32 (float64) math of softsign_math.h, rounded once."""
    wide = torch.float64 if x.dtype == torch.float64 else torch.float32
    xw, gw = x.to(wide), g.to(wide)
    forward = F.softsign(xw).to(x.dtype)  # x / (1 + |x|), IEEE division
    return forward, grad_as_the_kernels_compute_it(gw, xw).to(x.dtype)


def test_every_level_gives_the_kernels_bits(results_per_level):
    inputs, results = results_per_level
    if not results:
        pytest.skip("one level of CPU kernels here")
    for level, result in results.items():
        for key, (x, g) in inputs.items():
            forward, backward = _expected(x, g)
            y, y_out, y_inplace, dx = result[key]
            for got, expected in ((y, forward), (y_out, forward), (y_inplace, forward), (dx, backward)):
                assert torch.equal(_canonical_bits(got), _canonical_bits(expected)), (level, key)
            if x.dtype in (torch.float32, torch.float64):
                assert torch.equal(bits(y), bits(F.softsign(x))), (level, key)  # eager's bits, NaNs included
            assert_same_values(y, softsign_reference(x))
            assert_same_values(dx, softsign_grad_reference(g, x))


def test_in_process_kernels_are_the_selected_level():
    assert softsign_ext.cpu_capability() == (_torch_level() if _torch_level() in LEVELS else "DEFAULT")
