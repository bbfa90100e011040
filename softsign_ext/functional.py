"""Functional API over the torch.ops.softsign_ext operators."""

from typing import Optional

import torch
from torch.compiler import is_compiling

from ._library import _C
from .onnx import in_onnx_export, softsign_node

_softsign = torch.ops.softsign_ext.softsign.default
_softsign_out = torch.ops.softsign_ext.softsign.out
_softsign_ = torch.ops.softsign_ext.softsign_.default
_softsign_backward = torch.ops.softsign_ext.softsign_backward.default


def softsign(x: torch.Tensor, *, out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Softsign, ``x / (1 + |x|)``, elementwise; a drop-in for ``torch.nn.functional.softsign``.

    Runs on CUDA and CPU for the dtypes in ``softsign_ext.SUPPORTED_DTYPES`` (half
    types compute in float32 and round once; complex ones as ``z / (1 + |z|)``), for
    any strides and for nested tensors. Integer tensors are promoted to the default
    float dtype, as ``F.softsign`` does; what ``F.softsign`` rejects (bool, complex32,
    float8, sparse tensors) raises. The result has the input's strides when the input
    is dense. Differentiable to any order, in reverse and forward mode and under
    torch.func's transforms.

    ``out``, if given, receives the result and is returned: it must be on x's
    device and of a dtype the result can be cast to, as for PyTorch's unary
    float operators (a wider or narrower floating or complex dtype; an integer
    or bool ``out`` raises PyTorch's error); it is resized (with PyTorch's usual
    warning, at the caller's line, if it had elements) when its shape differs. ``out=x`` computes in place;
    an ``out`` that partly overlaps ``x`` raises, and non-dense views of one
    storage, which PyTorch cannot judge, go through a temporary. Errors leave
    ``out`` untouched. Like every PyTorch ``out=`` function it does not
    support autograd.

    >>> softsign(torch.tensor([-3.0, 0.0, 1.0]))
    tensor([-0.7500,  0.0000,  0.5000])
    """
    # Eager calls take the C++ entry points, which skip torch.ops' argument
    # parsing; torch.compile and torch.export trace the operator itself, and
    # ONNX export (torch.export-based) the ONNX operator (softsign_ext.onnx).
    if out is not None:
        return _softsign_out(x, out=out) if is_compiling() else _C.softsign_out(x, out)
    if not is_compiling():
        return _C.softsign(x)
    return softsign_node(x) if in_onnx_export() else _softsign(x)


def softsign_(x: torch.Tensor) -> torch.Tensor:
    """In-place softsign: overwrites ``x`` (a floating-point tensor) with ``x / (1 + |x|)`` and returns it.

    Follows PyTorch's in-place rules: raises on a leaf that requires grad and
    bumps ``x``'s version, so a backward that needed the old value raises.
    On a tensor that requires grad it records the gradient (keeping a copy of
    the original values, as PyTorch's own in-place ops do).
    """
    if not is_compiling():
        return _C.softsign_(x)
    return x.copy_(softsign_node(x)) if in_onnx_export() else _softsign_(x)


def softsign_backward(grad_output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The gradient of softsign at ``x``: ``grad_output / (1 + |x|)**2``, in one pass (for
    complex ``x``, the conjugate Wirtinger gradient that autograd gives ``F.softsign``).

    ``grad_output`` and ``x`` must have the same shape, dtype and device.
    """
    return _softsign_backward(grad_output, x)


# TorchScript compiles a call of these functions to the operator itself (their bodies use
# what it cannot compile: a keyword-only default, the C++ entry point), so scripted code
# runs wherever the operator library is loaded, without Python. (torch.jit has no public
# way to give a Python function a builtin's meaning; its own functions use this table.)
for _function, _operator in ((softsign, "softsign_ext::softsign"), (softsign_, "softsign_ext::softsign_"),
                             (softsign_backward, "softsign_ext::softsign_backward")):
    torch.jit._builtins._register_builtin(_function, _operator)
