"""The printed tables (one per group of records) and the plot."""

from __future__ import annotations

import re
import statistics
import textwrap
from typing import Optional

from .cases import DTYPES
from .common import format_shape
from .graphs import GRAPH_DIRECTIONS, GRAPH_MODES, RECOMPILED
from .impls import ALL_IMPLS
from .ncu import METRICS as NCU_METRICS
from .onnx_runtime import AGAIN as ONNX_AGAIN
from .records import Record
from .transforms import AGAIN as TRANSFORM_AGAIN
from .timing import TIMINGS

# What each table's rows and columns are, printed once above the tables of that kind.
LEGENDS = {
    "bandwidth": """\
How to read the tables below (one per dtype and shape):
  rows        copy = x.clone(), the floor of a memory-bound op; softsign_ext = softsign_ext.softsign;
              eager = F.softsign; compile = torch.compile(F.softsign)
  direction   forward: y = f(x); backward: autograd.grad of a graph kept from one forward (the
              gradient alone); fwd+bwd: both
  median ms   time per call (lower is better)
  GB/s        each tensor read or written once per call (forward 2, backward 3, fwd+bwd 5 tensors)
  % copy      GB/s over copy's at the same size in the same run (100 = copy speed). A backward moves
              three tensors to a copy's two, so it can pass 100; on a CPU each forward also faults in
              its fresh output as the copy does, and what is left over 100 is timing noise
  vs eager    eager's time over this row's, a speedup: above 1.00x this row is faster
  vs compile  compile's time over this row's, the same way round
  peak MiB    memory one call allocates beyond what it was given, at its peak, its result included
              (the result's own size: no temporary)""",
    "ncu": """\
How to read the Nsight Compute tables: one row per kernel of one call, as ncu profiled it.
  rows        copy = torch.neg(x), a copy's traffic in a kernel (x.clone() is a cudaMemcpy, which
              ncu does not profile), the floor; softsign_ext = its forward and backward kernels;
              compile = torch.compile(F.softsign)'s Triton kernel; eager = F.softsign's kernels (abs,
              add, div); triton = softsign_ext's Triton kernel; submission NAME = a --submission file's
  ms          the kernel's duration (lower is better); DRAM GB/s: bytes moved to and from DRAM per
              second, as ncu counts them
  DRAM %      dram__throughput.avg.pct_of_peak_sustained_elapsed (higher is better; copy's is the
              practical peak)
  L2 hit %    lts__t_sector_hit_rate.pct (a stream that reads each byte once gains nothing from L2)
  stall %     smsp__warp_issue_stalled_memory_dependency_per_warp_active.pct, the seed's (target below
              20%); where ncu has no such counter (Hopper and later) its counterpart
              smsp__warp_issue_stalled_long_scoreboard_per_warp_active.pct, the share of active warp
              cycles waiting for a global-memory result""",
    "small_call": """\
How to read the small-call tables: the host's cost of one call on a small float32 tensor, where
launching is the whole cost (us per call, lower is better). softsign_ext = softsign_ext.softsign(x)
beside torch.neg(x), a native operator (what one call into torch's C++ costs), and ModelNew(),
softsign_ext's module, beside nn.Tanh(), a native activation module (what a module call costs);
eager = F.softsign(x); compile = torch.compile(F.softsign)(x).""",
}


def _bandwidth_table(title: str, rows: list[Record]) -> list[str]:
    lines = [f"\n{title}: median of {TIMINGS[rows[0].timing]}"]
    lines.append(
        f"  {'direction':<10}{'impl':<14}{'median ms':>11}{'GB/s':>8}{'% copy':>8}{'vs eager':>10}{'vs compile':>12}"
        f"{'peak MiB':>10}"
    )
    for r in rows:
        pct = f"{r.pct_of_copy:.1f}" if r.pct_of_copy is not None else "-"
        ve = f"{r.extra['vs_eager']:.2f}x" if "vs_eager" in r.extra else "-"
        vc = f"{r.extra['vs_compile']:.2f}x" if "vs_compile" in r.extra else "-"
        peak = f"{r.peak_extra_bytes / 2**20:.0f}" if r.peak_extra_bytes is not None else "n/a"
        lines.append(f"  {r.direction:<10}{r.impl:<14}{r.median_ms:>11.4f}{r.gbps:>8.0f}{pct:>8}{ve:>10}{vc:>12}{peak:>10}")
    return lines


def _small_call_table(title: str, rows: list[Record]) -> list[str]:
    extra = rows[0].extra
    # Records older than the round counts (h100.json's) have none to print.
    rounds = (f", {extra['calls_per_round']} back to back, median of {extra['rounds']} rounds"
              if "rounds" in extra else "")
    lines = [f"\nsmall calls, {title}: {TIMINGS['wall']} per call{rounds}"]
    lines.append(f"  {'impl':<16}{'us/call':>10}")
    lines += [f"  {r.impl:<16}{r.median_ms * 1e3:>10.2f}" for r in rows]
    return lines


def _kernelbench_table(title: str, rows: list[Record]) -> list[str]:
    flushed = ", L2 flushed" if rows[0].timing != "wall" else ""
    lines = [f"\nKernelBench protocol, {title}: mean of {rows[0].extra['trials']} trials{flushed}, "
             f"{TIMINGS[rows[0].timing]}"]
    lines.append(f"  {'model':<20}{'mean ms':>10}{'std ms':>9}{'GB/s':>8}{'% copy':>8}{'speedup':>9}"
                 f"{'device ms':>11}{'% copy':>8}")
    for r in rows:
        device = (f"{r.extra['device_mean_ms']:>11.3f}{r.extra['device_pct_of_copy']:>8.1f}"
                  if "device_mean_ms" in r.extra else f"{'-':>11}{'-':>8}")
        lines.append(f"  {r.impl:<20}{r.mean_ms:>10.3f}{r.extra['std_ms']:>9.3f}{r.gbps:>8.0f}{r.pct_of_copy:>8.1f}"
                     f"{r.extra['speedup_vs_reference']:>8.2f}x{device}")
    if "device_mean_ms" in rows[0].extra:
        lines.append(f"  device ms: the same trials in {TIMINGS['device']}; the difference from the mean is the "
                     "time the GPU waited for the launch")
    return lines


def _grouped(rows: list[Record], key) -> dict[tuple, list[Record]]:
    """The records under each key(record), draws of one row together."""
    groups: dict[tuple, list[Record]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return groups


def _ratio_header(reference: str, drawn: bool) -> str:
    return f"{reference:>13}{'softsign_ext':>14}{'ratio':>7}{'A/A':>7}" + (f"{'range':>13}" if drawn else "")


def _ratio_cells(theirs: list[Record], ours: list[Record], again: list[Record], ratio: str, drawn: bool) -> str:
    """The reference's and softsign_ext's median ms over their draws, the median of softsign_ext's
    ratios (extra[ratio]) and of the A/A's ('-' without one) and, in a drawn table, the lowest
    and highest of softsign_ext's ratios."""
    ratios = [r.extra[ratio] for r in ours]
    again_ratios = [r.extra[ratio] for r in again]
    cells = (f"{statistics.median(r.median_ms for r in theirs):>13.4f}"
             f"{statistics.median(r.median_ms for r in ours):>14.4f}{statistics.median(ratios):>7.3f}"
             + (f"{statistics.median(again_ratios):>7.3f}" if again_ratios else f"{'-':>7}"))
    if drawn:
        cells += f"{min(ratios):>7.3f}-{max(ratios):.3f}" if len(ratios) > 1 else f"{'-':>13}"
    return cells


def _graph_table(title: str, rows: list[Record]) -> list[str]:
    """A row per mode and direction; where a row was drawn more than once, each figure is the
    median over its draws, and the range is the lowest and highest of its draws' ratios."""
    timings = list(dict.fromkeys(r.timing for r in rows))
    by_key = _grouped(rows, lambda r: (r.extra["mode"], r.direction, r.timing, r.impl))
    drawn = any(len(draws) > 1 for draws in by_key.values())
    lines = [f"\ngraph {rows[0].extra['graph']}, {title}: median ms of " + " | ".join(TIMINGS[t] for t in timings)]
    header = f"  {'mode':<14}{'direction':<10}" + (f"{'draws':>6}" if drawn else "")
    for timing in timings:
        header += _ratio_header("nn.Softsign", drawn) + "  "
    lines.append(header)
    # Mode by mode, whatever order the records came in (joined files come section by section).
    order = {key: i for i, key in enumerate((mode, direction) for mode in GRAPH_MODES for direction in GRAPH_DIRECTIONS)}
    for mode, direction in sorted(dict.fromkeys((r.extra["mode"], r.direction) for r in rows), key=order.get):
        line = f"  {mode:<14}{direction:<10}"
        if drawn:
            line += f"{len(by_key[(mode, direction, timings[0], 'softsign_ext')]):>6}"
        for timing in timings:
            line += _ratio_cells(by_key[(mode, direction, timing, "nn.Softsign")],
                                 by_key[(mode, direction, timing, "softsign_ext")],
                                 by_key.get((mode, direction, timing, RECOMPILED), []), "vs_nn_softsign", drawn) + "  "
        lines.append(line)
    return lines


def _transform_table(title: str, rows: list[Record]) -> list[str]:
    """A row per transform and mode: F.softsign's and softsign_ext's times under it, drawn
    rows read as in the graph table."""
    by_key = _grouped(rows, lambda r: (r.extra["transform"], r.extra["mode"], r.impl))
    drawn = any(len(draws) > 1 for draws in by_key.values())
    lines = [f"\ntransforms, {title}: median ms of {TIMINGS[rows[0].timing]}"]
    lines.append(f"  {'transform':<17}{'mode':<9}" + (f"{'draws':>6}" if drawn else "")
                 + _ratio_header("F.softsign", drawn))
    for transform, mode in dict.fromkeys((r.extra["transform"], r.extra["mode"]) for r in rows):
        ours = by_key[(transform, mode, "softsign_ext")]
        lines.append(f"  {transform:<17}{mode:<9}" + (f"{len(ours):>6}" if drawn else "")
                     + _ratio_cells(by_key[(transform, mode, "F.softsign")], ours,
                                    by_key.get((transform, mode, TRANSFORM_AGAIN), []), "vs_f_softsign", drawn))
    return lines


def _onnx_table(title: str, rows: list[Record]) -> list[str]:
    """A row per exporter: onnxruntime's time for the model exported with nn.Softsign and with
    softsign_ext."""
    by_key = _grouped(rows, lambda r: (r.extra["exporter"], r.impl))
    drawn = any(len(draws) > 1 for draws in by_key.values())
    lines = [f"\nonnxruntime (CPU), {rows[0].extra['model']} {title}: median ms of {TIMINGS[rows[0].timing]}"]
    lines.append(f"  {'exporter':<13}" + _ratio_header("nn.Softsign", drawn))
    for exporter in dict.fromkeys(r.extra["exporter"] for r in rows):
        lines.append(f"  {exporter:<13}" + _ratio_cells(by_key[(exporter, "nn.Softsign")],
                                                       by_key[(exporter, "softsign_ext")],
                                                       by_key.get((exporter, ONNX_AGAIN), []), "vs_nn_softsign", drawn))
    return lines


def _kernel_label(name: str) -> str:
    """A kernel's name without its return type and arguments, and of its template arguments
    the functor or, for a lambda, the op whose kernel made it (elementwise kernels are told apart
    by these: `AbsFunctor`, our `SoftsignOp`, `neg` of `neg_kernel_cuda`), cut to fit a column."""
    base = name.removeprefix("void ").split("<")[0].split("(")[0].split("::")[-1]
    functor = re.findall(r"(\w+Functor\w*|\w+Op)\b", name) or re.findall(r"(\w+)_kernel_cuda\b", name)
    label = base + (f"<{functor[-1]}>" if functor else "")
    return label if len(label) <= 44 else label[:43] + "~"


def _ncu_table(title: str, rows: list[Record]) -> list[str]:
    stall = rows[0].extra["stall_metric"]
    lines = [f"\nNsight Compute, {title} on {rows[0].device}: {TIMINGS['ncu']}"]
    lines.append(f"  {'impl':<18}{'direction':<10}{'kernel':<50}{'ms':>8}{'DRAM GB/s':>10}{'DRAM %':>8}"
                 f"{'L2 hit %':>9}{'stall %':>8}")
    # One row per kernel, launches of the same kernel in a row (ATen splits a tensor of more
    # than 2^31 bytes into several) as one: "×N", their total time and their mean counters.
    runs: list[list[Record]] = []
    for r in rows:
        if runs and (runs[-1][0].impl, runs[-1][0].direction, runs[-1][0].extra["kernel"]) == \
                (r.impl, r.direction, r.extra["kernel"]):
            runs[-1].append(r)
        else:
            runs.append([r])
    for run in runs:
        first = run[0]

        def mean(key: str) -> Optional[float]:
            values = [r.extra["metrics"][key] for r in run]
            return None if None in values else statistics.fmean(values)
        cells = [f"{mean(key):>{width}.1f}" if mean(key) is not None else f"{'n/a':>{width}}"
                 for key, width in (("dram_pct", 8), ("l2_hit_pct", 9), (stall, 8))]
        gbps = [r.gbps for r in run]
        gbps_cell = f"{statistics.fmean(gbps):>10.0f}" if None not in gbps else f"{'n/a':>10}"
        name = _kernel_label(first.extra["kernel"]) + (f" x{len(run)}" if len(run) > 1 else "")
        lines.append(f"  {first.impl:<18}{first.direction:<10}{name:<50}{sum(r.median_ms for r in run):>8.3f}"
                     f"{gbps_cell}" + "".join(cells))
    lines.append(f"  stall %: {NCU_METRICS[stall]}")
    return lines


def _executorch_table(title: str, rows: list[Record]) -> list[str]:
    """A row per program: ExecuTorch's time for it and its time over nn.Softsign's."""
    extra = rows[0].extra
    lines = [f"\nExecuTorch runtime ({extra['backend']}, {extra['threads']} threads), {extra['model']} {title}: "
             f"median ms of {TIMINGS[rows[0].timing]}"]
    lines.append(f"  {'program':<26}{'median ms':>11}{'ratio':>8}")
    for r in rows:
        ratio = f"{r.extra['vs_nn_softsign']:.3f}" if "vs_nn_softsign" in r.extra else "1"
        lines.append(f"  {r.impl:<26}{r.median_ms:>11.4f}{ratio:>8}")
    return lines


TABLES = {"bandwidth": _bandwidth_table, "small_call": _small_call_table, "kernelbench": _kernelbench_table,
          "graph": _graph_table, "transform": _transform_table, "onnx": _onnx_table, "ncu": _ncu_table,
          "executorch": _executorch_table}
ONNX_RATIO_NOTE = ("ratio: onnxruntime's time for the model exported with softsign_ext (one Softsign node per "
                   "activation) over its time for the model exported with nn.Softsign (Abs, Add, Div), same run "
                   "(below 1: faster).\nA/A: nn.Softsign's model in a second session over the first.")
EXECUTORCH_RATIO_NOTE = (
    "ratio: ExecuTorch's time for the program over its time for nn.Softsign's program, same run (below 1: "
    "faster). softsign_ext core ATen: lowered as by default (abs, add, div, as nn.Softsign; XNNPACK takes the "
    "whole model); softsign_ext kernel: lowered with softsign_ext.executorch.set_fused_kernel(True), its operator "
    "kept and run by its fused ExecuTorch kernel.\nnn.Softsign again: nn.Softsign's program loaded a second time "
    "(the A/A).")
TRANSFORM_RATIO_NOTE = ("ratio: softsign_ext's time over F.softsign's under the same transform, mode, dtype and run "
                        "(below 1: faster).\nA/A: F.softsign's same call timed again, over the first: how far two "
                        "timings of the same code differ in this run.")
GRAPH_RATIO_NOTE = ("ratio: softsign_ext's time over nn.Softsign's in the same mode, dtype and run (below 1: faster).\n"
                    "A/A: a second compile of nn.Softsign's model over the first: how far two compiles of the same "
                    "model differ in this run.")
GRAPH_DRAWS_NOTE = ("draws (--graph-draws): each compiled afresh; a drawn row's figures are medians over its draws, "
                    "its range the lowest and highest ratio.")


def format_table(records: list[Record]) -> str:
    groups: dict[tuple, list[Record]] = {}
    for r in records:
        # A graph's or a model's records apart from another's of the same input.
        model = r.extra.get("graph", r.extra.get("model"))
        # A graph's table has a column per timing; other kinds, a table per timing.
        timing = None if r.kind == "graph" else r.timing
        groups.setdefault((r.kind, model, r.dtype, tuple(r.shape), r.layout, timing), []).append(r)
    kinds = dict.fromkeys(r.kind for r in records)
    lines = ["\n" + LEGENDS[kind] for kind in kinds if kind in LEGENDS]
    for (kind, _model, dtype, shape, layout, _timing), rows in groups.items():
        title = f"{dtype} {format_shape(shape)}" + ("" if layout == "contiguous" else f" {layout}")
        lines += TABLES[kind](title, rows)
    if any(r.kind == "graph" for r in records):
        lines.append("\n" + GRAPH_RATIO_NOTE)
        rows = [(r.extra["graph"], r.dtype, tuple(r.shape), r.extra["mode"], r.direction, r.timing, r.impl)
                for r in records if r.kind == "graph"]
        if len(set(rows)) < len(rows):
            lines.append(GRAPH_DRAWS_NOTE)
    if any(r.kind == "transform" for r in records):
        lines.append("\n" + TRANSFORM_RATIO_NOTE)
    if any(r.kind == "onnx" for r in records):
        lines.append("\n" + ONNX_RATIO_NOTE)
    if any(r.kind == "executorch" for r in records):
        lines.append("\n" + EXECUTORCH_RATIO_NOTE)
    return "\n".join(lines)


def _wrapped(name: str) -> str:
    """A graph's name on lines short enough for its bar group's label."""
    return "\n".join(textwrap.wrap(name.replace("_", " "), 12))


def _title(text: str) -> str:
    """A panel's title on lines that fit the figure (a CPU's device name is long)."""
    return textwrap.fill(text, 110)


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(records: list[Record], path: str) -> None:
    """The graph section's ratios if the records have them, else the size sweep, else (no
    sweep run) the bandwidth of each shape."""
    if any(r.kind == "graph" for r in records):
        _plot_graph_ratios(records, path)
    elif any(r.kind == "bandwidth" and len(r.shape) == 1 for r in records):
        _plot_sweep(records, path)
    else:
        _plot_shapes(records, path)


def _plot_sweep(records: list[Record], path: str) -> None:
    """GB/s against size per impl (forward solid, backward dashed), a panel per dtype."""
    plt = _pyplot()
    sweep = [r for r in records if r.kind == "bandwidth" and len(r.shape) == 1 and r.direction in ("forward", "backward")]
    dtypes = sorted({r.dtype for r in sweep}, key=list(DTYPES).index)
    if not dtypes:
        raise ValueError("no size-sweep records to plot")
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4.5), squeeze=False, sharey=True)
    for ax, dtype in zip(axes[0], dtypes):
        for color, impl in enumerate(ALL_IMPLS):
            for direction, style in (("forward", "-"), ("backward", "--")):
                pts = sorted((r.shape[0], r.gbps) for r in sweep if r.dtype == dtype and r.impl == impl and r.direction == direction)
                if pts:
                    ax.plot(*zip(*pts), style, color=f"C{color}", marker="o", ms=3, label=f"{impl} {direction}")
        ax.set_xscale("log", base=2)
        ax.set_title(_title(f"{dtype} ({sweep[0].device})"))
        ax.set_xlabel("elements")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("GB/s (each tensor read or written once)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _plot_shapes(records: list[Record], path: str) -> None:
    """GB/s of each impl, a group of bars per shape and direction, a panel per dtype."""
    plt = _pyplot()
    rows = [r for r in records if r.kind == "bandwidth" and r.gbps is not None]
    if not rows:
        raise ValueError("no bandwidth records to plot")
    dtypes = sorted({r.dtype for r in rows}, key=list(DTYPES).index)
    groups = list(dict.fromkeys((format_shape(r.shape), r.direction) for r in rows))
    impls = [impl for impl in ALL_IMPLS if any(r.impl == impl for r in rows)]
    width = 0.8 / len(impls)
    fig, axes = plt.subplots(len(dtypes), 1, figsize=(max(8, 1.2 * len(groups)), 3.2 * len(dtypes)), squeeze=False)
    for ax, dtype in zip(axes[:, 0], dtypes):
        for i, impl in enumerate(impls):
            gbps = {(format_shape(r.shape), r.direction): r.gbps for r in rows if r.dtype == dtype and r.impl == impl}
            ax.bar([g + i * width for g in range(len(groups))], [gbps.get(group, 0) for group in groups], width,
                   color=f"C{ALL_IMPLS.index(impl)}", label=impl)
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
        ax.set_xticklabels([f"{shape}\n{direction}" for shape, direction in groups], fontsize=8)
        ax.set_title(_title(f"{dtype} ({rows[0].device})"), fontsize=9)
        ax.set_ylabel("GB/s")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _plot_graph_ratios(records: list[Record], path: str) -> None:
    """softsign_ext's time over nn.Softsign's, a bar per mode (the median over draws, a
    whisker from the lowest to the highest draw), a group per graph and direction, a panel
    per dtype and timing."""
    plt = _pyplot()
    ours = [r for r in records if r.kind == "graph" and r.impl == "softsign_ext"]
    panels = list(dict.fromkeys((r.dtype, r.timing) for r in ours))
    groups = list(dict.fromkeys((r.extra["graph"], r.direction) for r in ours))
    modes = list(dict.fromkeys(r.extra["mode"] for r in ours))
    width = 0.8 / len(modes)
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(8, 1.1 * len(groups)), 3.2 * len(panels)), squeeze=False)
    for ax, (dtype, timing) in zip(axes[:, 0], panels):
        for m, mode in enumerate(modes):
            ratios: dict[tuple, list[float]] = {}
            for r in ours:
                if (r.dtype, r.timing, r.extra["mode"]) == (dtype, timing, mode):
                    ratios.setdefault((r.extra["graph"], r.direction), []).append(r.extra["vs_nn_softsign"])
            keys = [key for key in groups if key in ratios]
            xs = [groups.index(key) + (m - (len(modes) - 1) / 2) * width for key in keys]
            medians = [statistics.median(ratios[key]) for key in keys]
            ax.bar(xs, medians, width, label=mode, color=f"C{m}")
            for x, mid, key in zip(xs, medians, keys):
                if len(ratios[key]) > 1:
                    ax.errorbar(x, mid, [[mid - min(ratios[key])], [max(ratios[key]) - mid]], color="black", capsize=2)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(groups)), [f"{_wrapped(graph)}\n{direction}" for graph, direction in groups], fontsize=7)
        ax.set_ylabel("softsign_ext / nn.Softsign")
        ax.set_title(_title(f"{dtype}, {timing} timing ({ours[0].device})"), fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    # Above the panels: inside one it would cover bars that reach 1.
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncol=len(modes), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
