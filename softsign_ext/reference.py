"""What softsign_ext is checked against: softsign and its gradient in float64, and the
KernelBench problem's reference model. The tests and the benchmark both use these."""

import torch
import torch.nn.functional as F
from torch import nn


def softsign_reference(x: torch.Tensor) -> torch.Tensor:
    """F.softsign computed in float64 (complex128 for complex x), cast back to x's dtype.
    Where |x| of a complex128 x overflows, F.softsign's is 0; the value is x / |x|. Complex
    values are computed on the CPU, so that the reference is the same on every device (on
    CUDA it disagreed with F.softsign's own CUDA result where a part is the largest double)."""
    if not x.is_complex():
        return F.softsign(x.double()).to(x.dtype)
    z = x.to("cpu", torch.complex128)
    overflowing = z.abs().isinf() & z.isfinite()
    return torch.where(overflowing, (z / 2) / (z / 2).abs(), F.softsign(z)).to(x.device, x.dtype)


def softsign_grad_reference(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad / (1 + |x|)**2 computed in float64, cast back to x's dtype. Divided twice: for
    float64 inputs near the largest finite value the square would overflow, turning an
    infinite gradient into inf / inf = nan. For complex x, F.softsign's own gradient
    (autograd's conjugate Wirtinger derivative) in complex128."""
    if x.is_complex():
        x128 = x.detach().to(torch.complex128).requires_grad_()
        with torch.enable_grad():
            (gradient,) = torch.autograd.grad(F.softsign(x128), x128, grad.to(torch.complex128))
        return gradient.to(x.dtype)
    denominator = 1 + x.double().abs()
    return (grad.double() / denominator / denominator).to(x.dtype)


class KernelBenchModel(nn.Module):
    """KernelBench level 1 problem 30's reference model, as the problem defines it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / (1 + torch.abs(x))
