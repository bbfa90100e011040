"""The transforms section: softsign_ext against F.softsign under the same torch.func transform,
eager and compiled: a jvp and a vmap of the activation on a large tensor, per-sample gradients
(vmap of grad) of a small MLP and a Hessian-vector product (forward over reverse) of its loss."""

from __future__ import annotations

import types
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, jvp, vmap

from ..functional import softsign
from ..modules import Softsign
from .common import check_agreement, dtype_name, timed_against
from .impls import fresh_compile
from .records import Record

TRANSFORMS = ("jvp", "vmap", "per_sample_grad", "hvp")
TRANSFORM_MODES = ("eager", "compile")
# The activation's functional form and module, per implementation.
ACTIVATIONS = {"F.softsign": (F.softsign, nn.Softsign), "softsign_ext": (softsign, Softsign)}
# jvp and vmap: one tensor of (rows, columns). The MLP: (batch, width) inputs, 10 classes.
CUDA_SIZES = {"tensor": (4096, 16384), "mlp": (256, 1024)}
CPU_SIZES = {"tensor": (1024, 4096), "mlp": (64, 256)}
CLASSES = 10
# F.softsign's workload made and compiled a second time, timed as another implementation:
# how far two calls of the same code differ in this run (the A/A).
AGAIN = "F.softsign again"
# Relative norm of the difference from F.softsign's result allowed in the check before timing.
AGREEMENT = {torch.float32: 1e-5, torch.float64: 1e-12, torch.float16: 2e-3, torch.bfloat16: 2e-2}


def _mlp(module: type[nn.Module], width: int, device: torch.device, dtype: torch.dtype) -> nn.Module:
    torch.manual_seed(0)  # the same parameters for both activations
    return nn.Sequential(nn.Linear(width, width), module(), nn.Linear(width, CLASSES)).to(device=device, dtype=dtype)


def _workloads(device: torch.device, dtype: torch.dtype) -> dict[str, tuple[list[int], Callable]]:
    """name: (input shape, make(impl) -> (function, its tensor arguments))."""
    sizes = CUDA_SIZES if device.type == "cuda" else CPU_SIZES
    rows, columns = sizes["tensor"]
    x = torch.randn(rows, columns, device=device, dtype=dtype)
    t = torch.randn_like(x)
    batch, width = sizes["mlp"]
    inputs = torch.randn(batch, width, device=device, dtype=dtype)
    labels = torch.randint(0, CLASSES, (batch,), device=device)

    def tensor_jvp(impl):
        act = ACTIVATIONS[impl][0]
        return (lambda a, b: jvp(act, (a,), (b,))), (x, t)

    def tensor_vmap(impl):
        act = ACTIVATIONS[impl][0]
        return (lambda a: vmap(act)(a)), (x,)

    def mlp_loss(impl):
        model = _mlp(ACTIVATIONS[impl][1], width, device, dtype)
        params = {name: p.detach() for name, p in model.named_parameters()}

        def loss(p, data, target):
            return F.cross_entropy(functional_call(model, p, (data,)), target)
        return loss, params

    def per_sample_grad(impl):
        loss, params = mlp_loss(impl)

        def one(p, data, target):
            return loss(p, data[None], target[None])
        return (lambda p, data, target: vmap(grad(one), in_dims=(None, 0, 0))(p, data, target)), (params, inputs, labels)

    def hvp(impl):
        loss, params = mlp_loss(impl)
        torch.manual_seed(1)
        direction = {name: torch.randn_like(p) for name, p in params.items()}

        def product(p, v, data, target):
            return jvp(lambda q: grad(loss)(q, data, target), (p,), (v,))[1]
        return product, (params, direction, inputs, labels)

    return {"jvp": ([rows, columns], tensor_jvp), "vmap": ([rows, columns], tensor_vmap),
            "per_sample_grad": ([batch, width], per_sample_grad), "hvp": ([batch, width], hvp)}


def _own_code(fn: Callable) -> Callable:
    """fn with a code object of its own. Dynamo caches compiled code per code object: the
    workloads of every implementation share theirs, so that all but the first compiled would
    be looked up behind the others' guards (a recompile, as "0/1" in a profile)."""
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _leaves(result) -> list[torch.Tensor]:
    return list(torch.utils._pytree.tree_leaves(result))


def _check(label: str, calls: dict[str, Callable[[], object]], dtype: torch.dtype) -> None:
    """softsign_ext's results (every leaf) against F.softsign's under the same transform."""
    theirs = [leaf.clone() for leaf in _leaves(calls["F.softsign"]())]
    check_agreement(label, "softsign_ext", _leaves(calls["softsign_ext"]()), "F.softsign", theirs, AGREEMENT[dtype])


def transform_jobs(names: list[str], dtypes: list[torch.dtype]) -> int:
    return len(names) * len(TRANSFORM_MODES) * len(dtypes)


def transform_records(names: list[str], dtypes: list[torch.dtype], device: torch.device, timing: str,
                      progress, draw: int = 0) -> list[Record]:
    """Each transform in each mode and dtype: both activations checked against each other,
    then timed round robin with the A/A; softsign_ext's and the A/A's records have their
    time over F.softsign's."""
    records = []
    for dtype in dtypes:
        workloads = _workloads(device, dtype)
        for name in names:
            shape, make = workloads[name]
            for mode in TRANSFORM_MODES:
                fresh_compile()
                calls = {}
                for impl, activation in [*((impl, impl) for impl in ACTIVATIONS), (AGAIN, "F.softsign")]:
                    fn, args = make(activation)
                    run = fn if mode == "eager" else torch.compile(_own_code(fn), fullgraph=True)
                    calls[impl] = lambda run=run, args=args: run(*args)
                progress.set_postfix_str(f"{name} {mode} {dtype_name(dtype)}")
                _check(f"{name} {mode} {dtype_name(dtype)}", calls, dtype)
                records += timed_against("F.softsign", "vs_f_softsign", calls, device, timing,
                                         {"transform": name, "mode": mode, "draw": draw}, kind="transform",
                                         direction=name, dtype=dtype_name(dtype), shape=shape)
                progress.update()
    return records
