"""Property-based fuzzing (hypothesis) of every form of softsign against F.softsign in
float64: dtypes, ranks 0-6, sizes with 0 and 1, permuted dimensions, slicing steps,
storage offsets and special values.

SOFTSIGN_EXT_FUZZ_EXAMPLES sets the examples per test (default 150; the GPU check runs
more). The number that ran is printed at the end of the pytest run.
"""

import math
import os

import pytest
import torch
from _helpers import (
    DEVICES,
    FLOAT_DTYPES,
    assert_same_values,
    bits,
    random_input,
    softsign_grad_reference,
    softsign_reference,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import softsign_ext

EXAMPLES = int(os.environ.get("SOFTSIGN_EXT_FUZZ_EXAMPLES", "150"))
# Elements of the strided storage a case may use, to keep each case fast.
MAX_STORAGE = 1 << 14

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

def fuzz_test(test):
    """A fuzz test over every float dtype and device; hypothesis supplies `data`."""
    test = FUZZ_SETTINGS(given(data=st.data())(test))
    return pytest.mark.parametrize("device", DEVICES)(pytest.mark.parametrize("dtype", FLOAT_DTYPES)(test))


# How many examples each fuzz test ran, reported by conftest.py.
cases_run: dict[str, int] = {}


def _count(name: str) -> None:
    cases_run[name] = cases_run.get(name, 0) + 1


@st.composite
def strided_views(draw, dtype: torch.dtype, device: str, sizes=None):
    """A view of a random storage: random sizes (0 and 1 included) unless given, slicing
    steps, dimension order and storage offset; values over many magnitudes with special
    values sprinkled in."""
    if sizes is None:
        rank = draw(st.integers(0, 6))
        sizes = draw(st.lists(st.sampled_from([0, 1, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 1031]), min_size=rank, max_size=rank))
        # Halve the largest until the storage is small enough (a size-0 dim still lays out the others).
        while math.prod(max(size, 1) for size in sizes) > MAX_STORAGE:
            largest = sizes.index(max(sizes))
            sizes[largest] //= 2
    rank = len(sizes)
    steps = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    order = draw(st.permutations(range(rank)))
    offset = draw(st.integers(0, 9))
    full = [max(size * step, 1) for size, step in zip(sizes, steps)]
    storage = offset + math.prod(full)
    if storage > MAX_STORAGE + offset:  # too big to slice: dense, still permuted
        steps = [1] * rank
        full = [max(size, 1) for size in sizes]
        storage = offset + math.prod(full)
    base = random_input((storage,), dtype, device)
    # Lay the dimensions out in `order` (outermost first), then view them in natural order.
    laid_out = base[offset:].view([full[d] for d in order])
    natural = laid_out.permute([order.index(d) for d in range(rank)])
    view = natural[tuple(slice(0, size * step, step) for size, step in zip(sizes, steps))]
    return base, view


@fuzz_test
def test_fuzz_forward(data, dtype, device):
    _, x = data.draw(strided_views(dtype, device))
    assert_same_values(softsign_ext.softsign(x), softsign_reference(x))
    _count("forward")


@fuzz_test
def test_fuzz_out_and_inplace(data, dtype, device):
    base, x = data.draw(strided_views(dtype, device))
    expected = softsign_reference(x)
    _, out = data.draw(strided_views(dtype, device, sizes=list(x.shape)))
    assert softsign_ext.softsign(x, out=out) is out
    assert_same_values(out, expected)
    # In place on the view: the view takes the result, the rest of its storage is untouched.
    before = base.clone()
    mask = torch.zeros_like(base, dtype=torch.bool)
    x_mask = mask.as_strided(x.shape, x.stride(), x.storage_offset())
    x_mask.fill_(True)
    assert softsign_ext.softsign_(x) is x
    assert_same_values(x, expected)
    assert torch.equal(bits(base[~mask]), bits(before[~mask]))
    _count("out= and in-place")


@fuzz_test
def test_fuzz_backward(data, dtype, device):
    _, x = data.draw(strided_views(dtype, device))
    _, grad = data.draw(strided_views(dtype, device, sizes=list(x.shape)))
    assert_same_values(softsign_ext.softsign_backward(grad, x), softsign_grad_reference(grad, x))
    _count("backward")
