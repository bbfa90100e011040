"""torch.library.opcheck: schema, autograd registration, FakeTensor/Meta and AOT dispatch."""

import pytest
import torch
from _helpers import DEVICES, random_input

import softsign_ext  # noqa: F401

ops = torch.ops.softsign_ext


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("shape", [(), (17,), (4, 33)], ids=str)
def test_opcheck_softsign(shape, dtype, requires_grad, device):
    x = random_input(shape, dtype, device, with_specials=False).requires_grad_(requires_grad)
    torch.library.opcheck(ops.softsign.default, (x,))


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck_softsign_channels_last(device):
    x = random_input((2, 3, 4, 5), torch.float32, device, with_specials=False).to(memory_format=torch.channels_last)
    torch.library.opcheck(ops.softsign.default, (x.requires_grad_(),))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("grad_requires_grad,x_requires_grad", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("shape", [(), (17,), (4, 33)], ids=str)
def test_opcheck_softsign_backward(shape, grad_requires_grad, x_requires_grad, device):
    grad = random_input(shape, torch.float32, device, with_specials=False).requires_grad_(grad_requires_grad)
    x = random_input(shape, torch.float32, device, with_specials=False).requires_grad_(x_requires_grad)
    torch.library.opcheck(ops.softsign_backward.default, (grad, x))


def test_softsign_is_tagged_pointwise():
    assert torch.Tag.pointwise in ops.softsign.default.tags
    assert torch.Tag.pointwise in ops.softsign_backward.default.tags


def test_meta_kernel_gives_shape_dtype_and_strides():
    x = torch.empty(2, 3, 4, 5, device="meta").to(memory_format=torch.channels_last)
    y = ops.softsign(x)
    assert y.device.type == "meta" and y.shape == x.shape and y.stride() == x.stride()
    assert ops.softsign(torch.empty(3, dtype=torch.int32, device="meta")).dtype == torch.get_default_dtype()
    assert ops.softsign_backward(torch.empty_like(x), x).stride() == x.stride()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(), (17,), (4, 33)], ids=str)
def test_opcheck_mutating_forms(shape, device):
    x = random_input(shape, torch.float32, device, with_specials=False)
    torch.library.opcheck(ops.softsign_.default, (x.clone(),))
    torch.library.opcheck(ops.softsign.out, (x,), {"out": torch.empty_like(x)})
    torch.library.opcheck(ops.softsign.out, (x,), {"out": torch.empty_like(x, dtype=torch.float64)})  # cast
    # On an input that requires grad, AOTAutograd returns a new tensor rather than the
    # mutated input for a custom op's in-place form, so the gradient with respect to that
    # very input is None where eager's is 1 (torch 2.15's opcheck compares them). The
    # gradient that reaches the leaf is right: test_compile.py checks it.
    torch.library.opcheck(ops.softsign_.default, (x.clone().requires_grad_() * 1,),
                          test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


def test_meta_kernels_of_mutating_forms():
    x = torch.empty(2, 3, device="meta")
    assert ops.softsign_(x) is x
    out = torch.empty(0, device="meta")
    assert ops.softsign.out(x, out=out) is out and out.shape == (2, 3)
    wider = torch.empty(0, dtype=torch.float64, device="meta")
    assert ops.softsign.out(x, out=wider) is wider and (wider.shape, wider.dtype) == ((2, 3), torch.float64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Int"):
        ops.softsign.out(x, out=torch.empty(2, 3, dtype=torch.int32, device="meta"))
    with pytest.raises(TypeError, match="softsign_"):
        ops.softsign_(torch.empty(3, dtype=torch.int32, device="meta"))
