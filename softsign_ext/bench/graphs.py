"""The graph section: softsign inside the models users compile, with nn.Softsign and with
softsign_ext.Softsign, in eager, torch.compile and torch.compile(mode="max-autotune"),
forward (inference, no autograd) and forward + backward (a training step's gradients of
the input and every parameter). Each row's ratio is softsign_ext's time over nn.Softsign's
in the same mode, dtype and run; all are timed round robin. Compiled, each model is
compiled on its own (fresh Inductor caches), and nn.Softsign's model is compiled a second
time and timed with them: its ratio to the first (the A/A) is how far two compiles of the
same model differ in that run. Under max-autotune Inductor's autotuner may choose a
different config for the same kernel in each compile, and the A/A shows how much that
moves a row. Each compiled measurement can be drawn again (`draws`): every draw compiles
every model afresh, and the report reads a row's ratio as the median of its draws'."""

from __future__ import annotations

import contextlib
import functools
import tempfile

import torch
from torch import nn

from ..modules import Softsign
from .common import check_agreement, dtype_name, format_shape, timed_against
from .records import Record

GRAPH_MODES = ("eager", "compile", "max-autotune")
ACTIVATIONS = {"nn.Softsign": nn.Softsign, "softsign_ext": Softsign}
# The A/A: nn.Softsign's model compiled again, in the compiled modes.
RECOMPILED = "nn.Softsign again"
GRAPH_DIRECTIONS = ("forward", "fwd+bwd")
# ‖ours - nn.Softsign's‖ / ‖nn.Softsign's‖ allowed, per dtype, for outputs and gradients.
AGREEMENT = {torch.float32: 1e-4, torch.bfloat16: 2e-2, torch.float16: 5e-3, torch.float64: 1e-10}


class PointwiseChain(nn.Module):
    """softsign(x + b) * g, all of one shape."""

    def __init__(self, act: nn.Module, rows: int, width: int) -> None:
        super().__init__()
        self.act = act
        self.b = nn.Parameter(torch.randn(rows, width))
        self.g = nn.Parameter(torch.randn(rows, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.b) * self.g


class LayerNormResidual(nn.Module):
    """LayerNorm -> softsign -> residual add."""

    def __init__(self, act: nn.Module, rows: int, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(x)) + x


class LinearSoftsign(nn.Module):
    """Linear -> softsign: the activation in the matmul's epilogue."""

    def __init__(self, act: nn.Module, rows: int, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x))


class MLPBlock(nn.Module):
    """Linear -> Softsign -> Linear -> LayerNorm -> Softsign, batch `rows`, hidden `width`."""

    def __init__(self, act: nn.Module, rows: int, width: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(width, width), act, nn.Linear(width, width), nn.LayerNorm(width), act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


GRAPHS = {
    "pointwise_chain": PointwiseChain,
    "layer_norm_residual": LayerNormResidual,
    "linear": LinearSoftsign,
    "mlp_block": MLPBlock,
}
# (rows, width) of each graph's input: the chain has 2^26 elements on CUDA; smaller on a
# CPU, to fit the time of two cores.
CUDA_GRAPH_SHAPES = {"pointwise_chain": (16384, 4096), "layer_norm_residual": (8192, 4096), "linear": (8192, 4096),
                     "mlp_block": (8192, 4096)}
CPU_GRAPH_SHAPES = {"pointwise_chain": (2048, 2048), "layer_norm_residual": (2048, 1024), "linear": (1024, 1024),
                    "mlp_block": (512, 1024)}


def _make_calls(model: nn.Module, mode: str, direction: str, x: torch.Tensor, grad: torch.Tensor):
    """A no-argument call of one direction of `model` in `mode`."""
    run = model if mode == "eager" else torch.compile(model, mode=None if mode == "compile" else mode, fullgraph=True)
    inputs = [x, *model.parameters()]
    # CUDA graphs (max-autotune) reuse output memory on the next replay; each call here is
    # one whole step, and a new step is marked before it.
    new_step = torch.compiler.cudagraph_mark_step_begin if mode == "max-autotune" else (lambda: None)

    if direction == "forward":
        def call():
            new_step()
            with torch.no_grad():
                return (run(x),)
    else:
        def call():
            new_step()
            out = run(x)
            return (out.detach(), *torch.autograd.grad(out, inputs, grad))
    return call


def _models(name: str, rows: int, width: int, device: torch.device, dtype: torch.dtype) -> dict[str, nn.Module]:
    """The graph with each activation, and nn.Softsign's again for the A/A, all with the
    same parameters."""
    graph = GRAPHS[name]
    # Dynamo reuses a compiled graph for another instance of the same class (parameters
    # are inputs), so the A/A's model is of a subclass of its own.
    classes = {**{impl: (graph, act) for impl, act in ACTIVATIONS.items()},
               RECOMPILED: (type(graph.__name__, (graph,), {}), ACTIVATIONS["nn.Softsign"])}
    models = {}
    for impl, (cls, act) in classes.items():
        torch.manual_seed(0)
        models[impl] = cls(act(), rows, width).to(device=device, dtype=dtype)
    return models


def _checked_calls(label: str, calls: dict, dtype: torch.dtype, own_caches) -> None:
    """The first call of each (it compiles, within `own_caches()`), every output and
    gradient checked against nn.Softsign's."""
    with own_caches():
        theirs = [t.clone() for t in calls["nn.Softsign"]()]
    for impl, call in calls.items():
        if impl == "nn.Softsign":
            continue
        with own_caches():
            ours = call()
        check_agreement(label, impl, ours, "nn.Softsign", theirs, AGREEMENT[dtype])


def _timed_records(calls: dict, device: torch.device, timings: list[str], name: str, mode: str, direction: str,
                   dtype: torch.dtype, shape: list[int], draw: int) -> list[Record]:
    """Every call timed round robin in each timing; each record but nn.Softsign's with its
    time over nn.Softsign's."""
    records = []
    for timing in timings:
        records += timed_against("nn.Softsign", "vs_nn_softsign", calls, device, timing,
                                 {"graph": name, "mode": mode, "draw": draw}, kind="graph", direction=direction,
                                 dtype=dtype_name(dtype), shape=shape)
    return records


def draw_modes(modes: list[str], draw: int) -> list[str]:
    """The modes of draw number `draw` (from 0): eager compiles nothing, so only the first
    draw times it."""
    return modes if draw == 0 else [mode for mode in modes if mode != "eager"]


def graph_records(name: str, dtype: torch.dtype, draw: int, modes: list[str], device: torch.device,
                  shape: tuple[int, int], timings: list[str], progress,
                  directions: tuple[str, ...] = GRAPH_DIRECTIONS) -> list[Record]:
    """One graph in one dtype, draw number `draw` (from 0) of its modes: each mode and
    direction checked against nn.Softsign, then timed in each timing."""
    from torch._inductor.utils import fresh_cache  # imports Inductor: here, not with the package

    rows, width = shape
    models = _models(name, rows, width, device, dtype)
    torch.manual_seed(1)
    x = torch.randn(rows, width, device=device, dtype=dtype).requires_grad_()
    grad = torch.randn(rows, width, device=device, dtype=dtype)
    records = []
    # Each compile gets Inductor caches of its own in here (kept while its code runs: the
    # compiled code may load from them), so that no compile reuses another's kernels or
    # tuned configs: each is a draw of its own.
    with tempfile.TemporaryDirectory(prefix="softsign_ext_graphs_") as cache_root:
        for mode in draw_modes(modes, draw):
            torch._dynamo.reset()  # each mode compiles afresh, within Dynamo's recompile limit
            compiled = mode != "eager"
            own_caches = (functools.partial(fresh_cache, dir=cache_root, delete=False) if compiled
                          else contextlib.nullcontext)
            for direction in directions:
                label = f"{name} {format_shape(shape)} {dtype_name(dtype)} {mode} {direction}"
                progress.set_postfix_str(label)
                calls = {impl: _make_calls(model, mode, direction, x, grad) for impl, model in models.items()
                         if compiled or impl != RECOMPILED}
                _checked_calls(label, calls, dtype, own_caches)
                records += _timed_records(calls, device, timings, name, mode, direction, dtype, [rows, width], draw)
                progress.update()
    return records


def graph_jobs(names: list[str], modes: list[str], dtypes: list[torch.dtype], directions: tuple[str, ...],
               draws: int) -> int:
    """Progress steps of graph_records over every graph, dtype and draw."""
    return len(names) * len(dtypes) * len(directions) * sum(len(draw_modes(modes, d)) for d in range(draws))
