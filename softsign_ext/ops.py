"""Functional API over the torch.ops.softsign_ext operators."""

import torch

_softsign = torch.ops.softsign_ext.softsign.default
_softsign_backward = torch.ops.softsign_ext.softsign_backward.default


def softsign(x: torch.Tensor) -> torch.Tensor:
    """Softsign, ``x / (1 + |x|)``, elementwise; a drop-in for ``torch.nn.functional.softsign``.

    Runs on CUDA and CPU for float32, float64, float16 and bfloat16 (half types
    compute in float32 and round once). Integer tensors are promoted to the
    default float dtype, as ``F.softsign`` does; bool and complex tensors raise.
    The result has the input's strides when the input is dense. Differentiable
    (twice and more) through a C++ autograd function.

    >>> softsign(torch.tensor([-3.0, 0.0, 1.0]))
    tensor([-0.7500,  0.0000,  0.5000])
    """
    return _softsign(x)


def softsign_backward(grad_output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The gradient of softsign at ``x``: ``grad_output / (1 + |x|)**2``, in one pass.

    ``grad_output`` and ``x`` must have the same shape, dtype and device.
    """
    return _softsign_backward(grad_output, x)
