"""softsign_ext.softsign against F.softsign in float64: dtypes, shapes, special values, layouts."""

import pytest
import torch
import torch.nn.functional as F
from _helpers import (
    DEVICES,
    FLOAT_DTYPES,
    HALF_DTYPES,
    assert_same_values,
    bits,
    grad_as_the_kernels_compute_it,
    is_dense,
    needs_cuda,
    poison_allocator,
    random_input,
    softsign_checked,
    softsign_grad_reference,
    softsign_reference,
    special_values,
)

import softsign_ext

SHAPES = [
    (), (0,), (1,), (2,), (7,), (8,), (9,), (15,), (17,), (1023,), (4097,),
    (3, 5, 7), (2, 0, 3), (1, 1024), (16, 16384), (3, 333_333),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_reference(shape, dtype, device):
    x = random_input(shape, dtype, device)
    assert_same_values(softsign_checked(x), softsign_reference(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_special_values(dtype, device):
    x = special_values(dtype).to(device)
    assert_same_values(softsign_checked(x), softsign_reference(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_half_types_compute_in_float_and_round_once(dtype, device):
    x = random_input((10_007,), dtype, device)
    xf = x.float()
    rounded_once = (xf / (1 + xf.abs())).to(dtype)
    assert_same_values(softsign_ext.softsign(x), rounded_once, rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_float32_equals_eager_bit_for_bit(device):
    x = random_input((100_003,), torch.float32, device)
    assert_same_values(softsign_ext.softsign(x), F.softsign(x), rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_every_half_value_rounds_once(dtype, device):
    x = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(dtype).to(device)
    xf = x.float()
    assert_same_values(softsign_ext.softsign(x), (xf / (1 + xf.abs())).to(dtype), rtol=0, atol=0)


@needs_cuda
@pytest.mark.large
def test_every_float32_value_equals_eager_bit_for_bit_cuda():
    """All 2^32 bit patterns: the CUDA kernels spell out the division's steps (softsign_math.h)."""
    chunk = 2**28
    for start in range(-(2**31), 2**31, chunk):
        x = torch.arange(start, start + chunk, dtype=torch.int32, device="cuda").view(torch.float32)
        poison_allocator(chunk * 4, "cuda")
        assert_same_values(softsign_ext.softsign(x), F.softsign(x), rtol=0, atol=0)


def _dense_layouts():
    yield "channels_last", lambda t: t.reshape(2, 3, 5, 7).to(memory_format=torch.channels_last)
    yield "channels_last_3d", lambda t: t.reshape(2, 3, 5, 7, 1).to(memory_format=torch.channels_last_3d)
    yield "permuted", lambda t: t.reshape(5, 6, 7).permute(2, 0, 1)
    yield "transposed", lambda t: t.reshape(15, 14).t()
    yield "size_one_dims", lambda t: t.reshape(210, 1).as_strided((210, 1), (1, 999))


def _non_dense_views():
    yield "step_slice", lambda t: t[::3]
    yield "column_slice", lambda t: t.reshape(21, 10)[:, 1:-2]
    yield "transposed_slice", lambda t: t.reshape(21, 10)[::2, 1:].t()
    yield "expanded", lambda t: t.reshape(210, 1)[:7].expand(7, 30)
    yield "diagonal", lambda t: t.reshape(14, 15).diagonal()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("name,layout", list(_dense_layouts()), ids=[n for n, _ in _dense_layouts()])
def test_dense_layouts_keep_strides(name, layout, dtype, device):
    x = layout(random_input((210,), dtype, device))
    y = softsign_checked(x)
    assert y.stride() == x.stride()
    assert_same_values(y, softsign_reference(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name,view", list(_non_dense_views()), ids=[n for n, _ in _non_dense_views()])
def test_non_dense_views(name, view, dtype, device):
    base = random_input((210,), dtype, device)
    x = view(base)
    before = base.clone()
    y = softsign_checked(x)
    assert_same_values(y, softsign_reference(x))
    assert is_dense(y)
    assert torch.equal(bits(base), bits(before)), "input was modified"


def _long_row_views():
    # Rows contiguous in memory but not in the tensor, long enough for the row-wise
    # vector loop on CUDA, starting at every alignment.
    yield "row_slice", lambda t: t.reshape(6, 2100)[:, 3:2051]
    yield "row_slice_unaligned_stride", lambda t: t[: 6 * 2099].reshape(6, 2099)[:, 1:1500]
    yield "chunk_of_last_dim", lambda t: t.reshape(3, 2, 2100).chunk(2, dim=-1)[1]
    yield "every_other_row", lambda t: t.reshape(12, 1050)[::2, 7:]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name,view", list(_long_row_views()), ids=[n for n, _ in _long_row_views()])
def test_long_contiguous_rows_of_non_dense_views(name, view, dtype, device):
    base = random_input((12600,), dtype, device)
    x = view(base)
    before = base.clone()
    assert_same_values(softsign_checked(x), softsign_reference(x))
    grad = random_input(x.shape, dtype, device)  # contiguous, unlike x
    assert_same_values(softsign_ext.softsign_backward(grad, x), softsign_grad_reference(grad, x))
    assert torch.equal(bits(base), bits(before)), "input was modified"
    out = view(torch.full_like(base, float("nan")))
    softsign_ext.softsign(x, out=out)
    assert_same_values(out, softsign_reference(x))
    softsign_ext.softsign_(x)
    assert_same_values(x, softsign_reference(view(before)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", [1, 9, 1000, 4099])
def test_misaligned_storage_offsets(n, dtype, device):
    base = random_input((n + 16,), dtype, device)
    for offset in range(1, 16 // dtype.itemsize + 1):
        x = base[offset : offset + n]
        assert_same_values(softsign_checked(x), softsign_reference(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8])
def test_integers_promote_like_f_softsign(dtype, device):
    x = torch.randint(-100 if dtype != torch.uint8 else 0, 100, (1001,), dtype=dtype, device=device)
    assert_same_values(softsign_ext.softsign(x), F.softsign(x))


def test_integers_promote_to_the_default_dtype():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x = torch.arange(-5, 6)
        assert_same_values(softsign_ext.softsign(x), F.softsign(x.double()))
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("device", DEVICES)
def test_result_is_a_new_tensor_and_input_is_untouched(device):
    x = random_input((4096,), torch.float32, device)
    before = x.clone()
    y = softsign_ext.softsign(x)
    assert y.data_ptr() != x.data_ptr()
    assert torch.equal(bits(x), bits(before))


def _assert_equal_in_chunks(actual: torch.Tensor, float32_math, *inputs: torch.Tensor, chunk: int = 1 << 26) -> None:
    """actual equals float32_math(inputs in float32) rounded once to actual's dtype,
    exactly what the half kernels compute; compared a chunk at a time to bound memory."""
    for start in range(0, actual.numel(), chunk):
        part = slice(start, start + chunk)
        expected = float32_math(*(t[part].float() for t in inputs)).to(actual.dtype)
        assert torch.equal(actual[part], expected), f"mismatch in chunk at {start}"


@pytest.mark.large
@pytest.mark.parametrize("device", DEVICES)
def test_more_than_2_31_elements(device):
    n = 2**31 + 11  # odd, so the tail path runs past the 2**31 boundary too
    x = torch.empty(n, dtype=torch.float16, device=device).uniform_(-8, 8)
    poison_allocator(n * 2, device)
    y = softsign_ext.softsign(x)
    _assert_equal_in_chunks(y, lambda xf: xf / (1 + xf.abs()), x)


@needs_cuda
@pytest.mark.large
def test_more_than_2_31_elements_backward_cuda():
    n = 2**31 + 11
    x = torch.empty(n, dtype=torch.float16, device="cuda").uniform_(-8, 8)
    g = torch.empty(n, dtype=torch.float16, device="cuda").uniform_(-1, 1)
    poison_allocator(n * 2, "cuda")
    out = softsign_ext.softsign_backward(g, x)
    _assert_equal_in_chunks(out, grad_as_the_kernels_compute_it, g, x)
