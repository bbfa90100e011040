"""softsign_backward and the C++ autograd: values, special values, layouts, gradcheck."""

import pytest
import torch
import torch.nn.functional as F
from _helpers import (
    DEVICES,
    away_from_zero,
    FLOAT_DTYPES,
    assert_same_values,
    poison_allocator,
    random_input,
    softsign_grad_reference,
    special_values,
)

import softsign_ext


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (9,), (4097,), (3, 5, 7), (16, 16384)], ids=str)
def test_backward_matches_reference(shape, dtype, device):
    x = random_input(shape, dtype, device)
    grad = random_input(shape, dtype, device, with_specials=False)
    poison_allocator(x.numel() * x.element_size(), device)
    assert_same_values(softsign_ext.softsign_backward(grad, x), softsign_grad_reference(grad, x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_backward_special_values(dtype, device):
    x = special_values(dtype).to(device)
    grad = torch.linspace(-2, 2, x.numel(), dtype=dtype, device=device)
    out = softsign_ext.softsign_backward(grad, x)
    assert_same_values(out, softsign_grad_reference(grad, x))
    # The limit at +-inf is exactly 0.
    assert torch.equal(out[:2].abs(), torch.zeros(2, dtype=dtype, device=device))
    # An infinite gradient at the largest finite x stays infinite (squaring first
    # would overflow to inf / inf = nan).
    big = special_values(dtype)[3:5].to(device)  # +-max
    infinite = torch.tensor([float("inf"), float("-inf")], dtype=dtype, device=device)
    assert torch.equal(softsign_ext.softsign_backward(infinite, big), infinite)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_autograd_matches_f_softsign(dtype, device):
    x = random_input((1000,), dtype, device, with_specials=False).requires_grad_()
    x_ref = x.detach().double().requires_grad_()
    grad = random_input((1000,), dtype, device, with_specials=False)
    y = softsign_ext.softsign(x)
    y.backward(grad)
    F.softsign(x_ref).backward(grad.double())
    torch.testing.assert_close(x.grad, x_ref.grad.to(dtype))


@pytest.mark.parametrize("device", DEVICES)
def test_no_graph_without_grad(device):
    x = random_input((100,), torch.float32, device).requires_grad_()
    with torch.no_grad():
        y = softsign_ext.softsign(x)
    assert not y.requires_grad and y.grad_fn is None
    with torch.inference_mode():
        z = softsign_ext.softsign(x.detach())
    assert z.is_inference()
    assert_same_values(y, z)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck(device):
    x = away_from_zero((7, 5), device).requires_grad_()
    torch.autograd.gradcheck(softsign_ext.softsign, (x,))
    torch.autograd.gradgradcheck(softsign_ext.softsign, (x,))


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_softsign_backward(device):
    x = away_from_zero((6, 4), device).requires_grad_()
    grad = torch.randn(6, 4, dtype=torch.float64, device=device, requires_grad=True)
    torch.autograd.gradcheck(softsign_ext.softsign_backward, (grad, x))
    torch.autograd.gradgradcheck(softsign_ext.softsign_backward, (grad, x))


@pytest.mark.parametrize("device", DEVICES)
def test_double_backward_values(device):
    x = away_from_zero((50,), device).requires_grad_()
    (dx,) = torch.autograd.grad(softsign_ext.softsign(x).sum(), x, create_graph=True)
    (ddx,) = torch.autograd.grad(dx.sum(), x)
    expected = -2 * x.detach().sign() / (1 + x.detach().abs()) ** 3
    torch.testing.assert_close(ddx, expected)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "x_layout,grad_layout",
    [
        ("channels_last", "contiguous"),
        ("contiguous", "channels_last"),
        ("channels_last", "channels_last"),
        ("sliced", "contiguous"),
        ("contiguous", "sliced"),
        ("misaligned", "contiguous"),
        ("misaligned", "misaligned"),
    ],
)
def test_backward_layouts(x_layout, grad_layout, device):
    shape, n = (2, 3, 8, 9), 2 * 3 * 8 * 9

    def make(layout):
        if layout == "sliced":  # not dense: every other column of a wider tensor
            return random_input((2, 3, 8, 18), torch.float32, device, with_specials=False)[..., ::2]
        base = random_input((n + 1,), torch.float32, device, with_specials=False)
        if layout == "misaligned":  # 4 bytes past a 16-byte boundary
            return base[1:].reshape(shape)
        t = base[:n].reshape(shape)
        return t.to(memory_format=torch.channels_last) if layout == "channels_last" else t

    x, grad = make(x_layout), make(grad_layout)
    out = softsign_ext.softsign_backward(grad, x)
    assert_same_values(out, softsign_grad_reference(grad, x))
    if x_layout != "sliced":
        assert out.stride() == x.stride()
