"""The implementations the benchmark compares, one call of each direction, and the check
of every call against float64 math before it is timed."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..functional import softsign
from ..reference import softsign_grad_reference, softsign_reference

IMPLS = ("copy", "softsign_ext", "eager", "compile")
# Timed only when asked for (--impls): softsign_ext's Triton kernel (softsign_ext.kernelbench.triton_kernel,
# CUDA with Triton installed; forward only).
OPTIONAL_IMPLS = ("triton",)
ALL_IMPLS = IMPLS + OPTIONAL_IMPLS
# Elements of the float64 reference computed at a time by the checks.
CHECK_CHUNK = 1 << 24
# Tolerance, in units of the dtype's eps, of the half-precision gradient checks.
HALF_GRAD_ULPS = 4

_compiled: dict[str, Callable] = {}


def fresh_compile() -> None:
    """Forgets compiled code, so that each case gets its own static-shape compile: Dynamo
    would otherwise turn shapes dynamic after a recompile and fall back to eager after
    eight."""
    torch._dynamo.reset()
    _compiled.clear()


def forward_fn(impl: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if impl == "copy":
        return torch.clone
    if impl == "softsign_ext":
        return softsign
    if impl == "eager":
        return F.softsign
    if impl == "compile":
        if "compile" not in _compiled:
            _compiled["compile"] = torch.compile(F.softsign, dynamic=False)
        return _compiled["compile"]
    if impl == "triton":
        from ..kernelbench.triton_kernel import triton_softsign
        return triton_softsign
    raise ValueError(f"unknown impl {impl!r}; choose from {ALL_IMPLS}")


def make_call(impl: str, direction: str, x: torch.Tensor, grad: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A no-argument call that runs one direction of one impl: forward; backward alone
    (autograd.grad of a retained graph); forward + backward."""
    fn = forward_fn(impl)
    if direction == "forward":
        return lambda: fn(x)
    leaf = x.detach().requires_grad_()
    if direction == "backward":
        y = fn(leaf)
        return lambda: torch.autograd.grad(y, leaf, grad, retain_graph=True)[0]
    if direction == "fwd+bwd":
        return lambda: torch.autograd.grad(fn(leaf), leaf, grad)[0]
    raise ValueError(f"unknown direction {direction!r}")


def check(impl: str, direction: str, x: torch.Tensor, grad: torch.Tensor, call: Callable[[], torch.Tensor]) -> None:
    """Compares one call's result with float64 math, a chunk at a time."""
    out = call()
    tolerance = {}
    if direction != "forward" and x.dtype in (torch.float16, torch.bfloat16):
        # Eager F.softsign's gradient takes several rounded half-precision steps (it is
        # off by up to ~2 ulps); a few ulps still catch a wrong kernel. The tests hold
        # softsign_ext to the dtype's own tolerance.
        tolerance = dict(rtol=HALF_GRAD_ULPS * torch.finfo(x.dtype).eps, atol=1e-5)
    flat_out, flat_x, flat_grad = out.reshape(-1), x.reshape(-1), grad.reshape(-1)
    for start in range(0, flat_x.numel(), CHECK_CHUNK):
        part = slice(start, start + CHECK_CHUNK)
        if direction != "forward":
            expected = softsign_grad_reference(flat_grad[part], flat_x[part])
        elif impl == "copy":
            expected = flat_x[part]
        else:
            expected = softsign_reference(flat_x[part])
        torch.testing.assert_close(
            flat_out[part], expected, equal_nan=True, msg=lambda m: f"{impl} {direction}: {m}", **tolerance
        )
