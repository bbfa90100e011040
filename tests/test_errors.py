"""Clear errors for unsupported dtypes, mismatched shapes, dtypes and devices."""

import pytest
import torch
from _helpers import DEVICES, needs_cuda

import softsign_ext


@pytest.mark.parametrize(
    "dtype,name,device",
    [pytest.param(dtype, name, *device.values, marks=device.marks)
     for dtype, name in ((torch.float8_e4m3fn, "Float8_e4m3fn"), (torch.uint16, "UInt16")) for device in DEVICES]
    # (F.softsign takes these on CUDA, and so do we: tests/test_supported_inputs.py.)
    + [(torch.bool, "Bool", "cpu"), (torch.complex32, "ComplexHalf", "cpu")],
)
def test_unsupported_dtype_is_named(dtype, name, device):
    x = torch.ones(4, device=device).to(dtype)
    with pytest.raises(TypeError, match=f"dtype {name}.*supports float32, float64, float16, bfloat16, "
                                        "complex64 and complex128"):
        softsign_ext.softsign(x)


@pytest.mark.parametrize("device", DEVICES)
def test_backward_shape_mismatch(device):
    with pytest.raises(ValueError, match=r"grad_output has shape \[3, 4\] but x has shape \[4, 3\]"):
        softsign_ext.softsign_backward(torch.randn(3, 4, device=device), torch.randn(4, 3, device=device))


@pytest.mark.parametrize("device", DEVICES)
def test_backward_broadcasting_is_refused(device):
    with pytest.raises(ValueError, match="must match"):
        softsign_ext.softsign_backward(torch.randn(1, device=device), torch.randn(5, device=device))


@pytest.mark.parametrize("device", DEVICES)
def test_backward_dtype_mismatch(device):
    with pytest.raises(TypeError, match="grad_output has dtype Half but x has dtype Float"):
        softsign_ext.softsign_backward(torch.randn(3, device=device).half(), torch.randn(3, device=device))


@pytest.mark.parametrize("device", DEVICES)
def test_backward_of_integer_input(device):
    x = torch.arange(3, device=device)
    with pytest.raises(TypeError, match="x has dtype Long, which has no gradient"):
        softsign_ext.softsign_backward(x, x)


@needs_cuda
@pytest.mark.parametrize("grad_device,x_device", [("cpu", "cuda"), ("cuda", "cpu")])
def test_backward_device_mismatch(grad_device, x_device):
    with pytest.raises(RuntimeError, match=f"grad_output is on {grad_device}.* but x is on {x_device}"):
        softsign_ext.softsign_backward(torch.randn(3, device=grad_device), torch.randn(3, device=x_device))
