"""Benchmarks softsign_ext against what users would pick instead, side by side.

    python -m softsign_ext.bench                      # the full run on CUDA if present, else CPU
    python -m softsign_ext.bench --kernelbench        # KernelBench's own protocol
    python -m softsign_ext.bench --help               # dtypes, sizes, impls, directions, outputs

Implementations: a plain copy (x.clone(), the floor of a memory-bound op),
softsign_ext, eager F.softsign and torch.compile(F.softsign); forward, backward
alone (autograd.grad of a retained graph) and forward + backward. Every
implementation is checked against a float64 reference before it is timed.
Bandwidth counts each tensor read or written once (forward 2N elements,
backward 3N, forward + backward 5N); "% of copy" is that bandwidth over the
copy's at the same size and dtype, in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Optional

import torch
import torch.nn.functional as F
from torch import nn

import softsign_ext

KERNELBENCH_SHAPE = (4096, 393216)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "float64": torch.float64}
IMPLS = ("copy", "softsign_ext", "eager", "compile")
DIRECTIONS = ("forward", "backward", "fwd+bwd")
# Tensors of the input's size each direction reads plus writes once.
TENSORS_MOVED = {"forward": 2, "backward": 3, "fwd+bwd": 5}
# Tensors of the input's size alive at once in the hungriest impl (eager's
# temporaries and saved tensors, the grads), with one of slack.
TENSORS_IN_FLIGHT = {"forward": 5, "backward": 8, "fwd+bwd": 8}
# Share of free memory the benchmark lets itself use.
MEMORY_SHARE = 0.8
# Elements of the float64 reference computed at a time by the checks.
CHECK_CHUNK = 1 << 24
# Tolerance, in units of the dtype's eps, of the half-precision gradient checks.
HALF_GRAD_ULPS = 4
# Timing: calls until this much time has passed, within these bounds.
TIME_BUDGET_S = 0.5
MIN_REPEATS, MAX_REPEATS = 10, 200
# GPU clock cycles to sleep before each timed call: ~0.5 ms at H100 clocks,
# longer than the host takes to queue any call here (autograd.grad included).
HOST_LEAD_CYCLES = 1_000_000
SMALL_CALL_SHAPES = ((16, 16384), (1, 1024))
SMALL_CALLS_PER_ROUND, SMALL_CALL_ROUNDS = 500, 21
KERNELBENCH_TRIALS = 100


@dataclass
class Record:
    impl: str
    direction: str
    dtype: str
    shape: list[int]
    median_ms: float
    gbps: Optional[float]
    pct_of_copy: Optional[float]
    peak_extra_bytes: Optional[int]
    device: str
    # "device" or "launch" (see time_calls_ms), "host" on a CPU, "wall" for small calls.
    timing: str = "wall"
    layout: str = "contiguous"
    torch_version: str = torch.__version__
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- devices --


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def free_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("cannot read MemAvailable from /proc/meminfo")


def fits(numel: int, dtype: torch.dtype, direction: str, device: torch.device) -> bool:
    need = TENSORS_IN_FLIGHT[direction] * numel * dtype.itemsize
    return need <= MEMORY_SHARE * free_memory_bytes(device)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


TIMINGS = ("device", "launch")


def repeat_count(seconds_per_call: float) -> int:
    """How many timed calls fill TIME_BUDGET_S, within [MIN_REPEATS, MAX_REPEATS]."""
    return int(min(MAX_REPEATS, max(MIN_REPEATS, TIME_BUDGET_S / max(seconds_per_call, 1e-6))))


def time_calls_ms(fn: Callable[[], object], device: torch.device, timing: str = "device") -> float:
    """Median time of one call in ms, warmed up first, repeated for TIME_BUDGET_S.

    On a GPU, CUDA events around each call. timing="device": the GPU sleeps
    while the host queues the call, so the events time the device's work
    alone. timing="launch": the GPU is idle when the call is issued, so the
    host's launch path counts too, as in triton's do_bench and KernelBench.
    On a CPU, the host clock."""
    fn()
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    one = time.perf_counter() - start
    repeats = repeat_count(one)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            if timing == "device":
                torch.cuda._sleep(HOST_LEAD_CYCLES)
            begin.record()
            fn()
            end.record()
            end.synchronize()
            times.append(begin.elapsed_time(end))
        else:
            begin = time.perf_counter()
            fn()
            times.append((time.perf_counter() - begin) * 1e3)
    return statistics.median(times)


def peak_extra_bytes(fn: Callable[[], object], device: torch.device) -> Optional[int]:
    """Device memory one call needs beyond what was allocated before it, its
    outputs included; None off CUDA."""
    if device.type != "cuda":
        return None
    synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    out = fn()
    synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - base
    del out
    return peak


# ----------------------------------------------------------------- impls --

_compiled: dict[str, Callable] = {}


def fresh_compile() -> None:
    """Forgets compiled code, so that each case gets its own static-shape
    compile: Dynamo would otherwise turn shapes dynamic after a recompile and
    fall back to eager after eight."""
    torch._dynamo.reset()
    _compiled.clear()


def forward_fn(impl: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if impl == "copy":
        return torch.clone
    if impl == "softsign_ext":
        return softsign_ext.softsign
    if impl == "eager":
        return F.softsign
    if impl == "compile":
        if "compile" not in _compiled:
            _compiled["compile"] = torch.compile(F.softsign, dynamic=False)
        return _compiled["compile"]
    raise ValueError(f"unknown impl {impl!r}; choose from {IMPLS}")


def make_call(impl: str, direction: str, x: torch.Tensor, grad: torch.Tensor) -> Callable[[], object]:
    """A no-argument call that runs one direction of one impl."""
    fn = forward_fn(impl)
    if direction == "forward":
        return lambda: fn(x)
    leaf = x.detach().requires_grad_()
    if direction == "backward":
        y = fn(leaf)
        return lambda: torch.autograd.grad(y, leaf, grad, retain_graph=True)[0]
    if direction == "fwd+bwd":
        return lambda: torch.autograd.grad(fn(leaf), leaf, grad)[0]
    raise ValueError(f"unknown direction {direction!r}; choose from {DIRECTIONS}")


def check(impl: str, direction: str, x: torch.Tensor, grad: torch.Tensor, call: Callable[[], object]) -> None:
    """Compares one call's result with float64 math, a chunk at a time."""
    out = call()
    tolerance = {}
    if direction != "forward" and x.dtype in (torch.float16, torch.bfloat16):
        # Eager F.softsign's gradient takes several rounded half-precision
        # steps (it is off by up to ~2 ulps); a few ulps still catch a wrong
        # kernel. The tests hold softsign_ext to the dtype's own tolerance.
        tolerance = dict(rtol=HALF_GRAD_ULPS * torch.finfo(x.dtype).eps, atol=1e-5)
    flat_out, flat_x, flat_grad = out.reshape(-1), x.reshape(-1), grad.reshape(-1)
    for start in range(0, flat_x.numel(), CHECK_CHUNK):
        part = slice(start, start + CHECK_CHUNK)
        xd = flat_x[part].double()
        if direction == "forward":
            expected = xd if impl == "copy" else F.softsign(xd)
        else:
            expected = flat_grad[part].double() / (1 + xd.abs()) ** 2
        torch.testing.assert_close(
            flat_out[part], expected.to(x.dtype), equal_nan=True, msg=lambda m: f"{impl} {direction}: {m}", **tolerance
        )


# --------------------------------------------------------------- measure --


LAYOUTS = ("contiguous", "channels_last", "transposed", "misaligned", "row_slice", "strided")


@dataclass
class Case:
    shape: tuple[int, ...]
    dtype: str
    directions: tuple[str, ...]
    layout: str = "contiguous"


def make_input(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device, layout: str) -> torch.Tensor:
    """torch.rand values (as KernelBench makes its inputs) of `shape`, laid out as asked:
    channels_last views ROWSxCOLS as (ROWS, 3, COLS/48, 16) with the 3 channels innermost;
    transposed is the transpose of a contiguous COLSxROWS tensor; misaligned starts one
    element past a 16-byte boundary. Not dense: row_slice is the first COLS columns of a
    ROWSx(COLS+64) tensor, strided every other column of a ROWSx(2*COLS) one."""
    if layout == "contiguous":
        return torch.rand(shape, dtype=dtype, device=device)
    if len(shape) != 2:
        raise ValueError(f"layout {layout!r} needs a ROWSxCOLS shape, not {shape}")
    rows, cols = shape
    if layout == "channels_last":
        if cols % 48:
            raise ValueError(f"layout channels_last needs COLS divisible by 48, not {cols}")
        return torch.rand(rows, cols // 48, 16, 3, dtype=dtype, device=device).permute(0, 3, 1, 2)
    if layout == "transposed":
        return torch.rand(cols, rows, dtype=dtype, device=device).t()
    if layout == "misaligned":
        return torch.rand(rows * cols + 1, dtype=dtype, device=device)[1:].view(rows, cols)
    if layout == "row_slice":
        return torch.rand(rows, cols + 64, dtype=dtype, device=device)[:, :cols]
    if layout == "strided":
        return torch.rand(rows, 2 * cols, dtype=dtype, device=device)[:, ::2]
    raise ValueError(f"unknown layout {layout!r}; choose from {LAYOUTS}")


def job_label(case: Case, impl: str, direction: str) -> str:
    """What the progress bar shows while one impl of a case is measured."""
    return f"{case.dtype} {'x'.join(map(str, case.shape))} {case.layout} {direction} {impl}"


def case_record(case: Case, impl: str, direction: str, x: torch.Tensor, ms: float, peak: Optional[int],
                device: torch.device, timing: str) -> Record:
    return Record(
        impl=impl,
        direction=direction,
        dtype=case.dtype,
        shape=list(case.shape),
        median_ms=ms,
        gbps=TENSORS_MOVED[direction] * x.numel() * x.element_size() / (ms * 1e-3) / 1e9,
        pct_of_copy=None,
        peak_extra_bytes=peak,
        device=device_name(device),
        timing=timing,
        layout=case.layout,
    )


def measure(
    case: Case, impl: str, direction: str, x: torch.Tensor, grad: torch.Tensor, device: torch.device, timing: str
) -> Record:
    """One impl on CUDA: checked, then timed on its own."""
    call = make_call(impl, direction, x, grad)
    check(impl, direction, x, grad, call)
    ms = time_calls_ms(call, device, timing)
    return case_record(case, impl, direction, x, ms, peak_extra_bytes(call, device), device, timing)


def measure_round_robin(
    case: Case, jobs: list[tuple[str, str]], x: torch.Tensor, grad: torch.Tensor, device: torch.device, progress
) -> list[Record]:
    """Every impl on a CPU: all checked, then timed one call each per round, round robin, for
    TIME_BUDGET_S per impl; the median of the rounds. A CPU's speed drifts with other load and,
    likely, with whether fresh outputs get huge pages (on the 2-core CI machine one impl timed on
    its own measured 4 ms in one run and 40 ms in the next); round robin spreads that over every
    impl alike."""
    calls = []
    for impl, direction in jobs:
        progress.set_postfix_str(job_label(case, impl, direction))
        call = make_call(impl, direction, x, grad)
        check(impl, direction, x, grad, call)
        calls.append(call)
    start = time.perf_counter()
    for call in calls:
        call()
    one_round = time.perf_counter() - start
    rounds = repeat_count(one_round / max(len(calls), 1))
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, call_times in zip(calls, times):
            begin = time.perf_counter()
            call()
            call_times.append((time.perf_counter() - begin) * 1e3)
    records = []
    for (impl, direction), call_times in zip(jobs, times):
        records.append(case_record(case, impl, direction, x, statistics.median(call_times), None, device, "host"))
        progress.update()
    return records


def measure_case(case: Case, impls: list[str], device: torch.device, progress, timing: str = "device") -> list[Record]:
    """The copy (forward, the reference bandwidth), then every other impl in every direction."""
    fresh_compile()
    x = make_input(case.shape, DTYPES[case.dtype], device, case.layout)
    grad = make_input(case.shape, DTYPES[case.dtype], device, case.layout).view(x.shape)
    jobs = [("copy", "forward")] if "copy" in impls else []
    jobs += [(impl, d) for d in case.directions for impl in impls if impl != "copy"]
    if device.type != "cuda":
        records = measure_round_robin(case, jobs, x, grad, device, progress)
    else:
        # One at a time: a call may hold much memory (a retained graph for backward).
        records = []
        for impl, direction in jobs:
            progress.set_postfix_str(job_label(case, impl, direction))
            records.append(measure(case, impl, direction, x, grad, device, timing))
            progress.update()
    copy = records[0] if "copy" in impls else None
    for r in records:
        r.pct_of_copy = 100 * r.gbps / copy.gbps if copy else None
    add_speedups(records)
    return records


def add_speedups(records: list[Record]) -> None:
    """extra['vs_eager'] and extra['vs_compile']: their time over this one's."""
    by_key = {(r.impl, r.direction): r for r in records}
    for r in records:
        for other in ("eager", "compile"):
            ref = by_key.get((other, r.direction))
            if ref is not None:
                r.extra[f"vs_{other}"] = ref.median_ms / r.median_ms


def small_call_records(impls: list[str], device: torch.device, progress) -> list[Record]:
    """Wall time per call, back to back, of small float32 tensors: host overhead."""
    fresh_compile()
    # name: (call, reference)
    candidates = {
        "softsign_ext": (softsign_ext.softsign, F.softsign),
        "torch.neg": (torch.neg, lambda t: -t),
        "ModelNew()": (softsign_ext.ModelNew(), F.softsign),
        "nn.Tanh()": (nn.Tanh(), torch.tanh),
        "eager": (F.softsign, F.softsign),
    }
    if "compile" in impls:
        candidates["compile"] = (forward_fn("compile"), F.softsign)
    records = []
    for shape in SMALL_CALL_SHAPES:
        x = torch.rand(shape, device=device)
        for name, (fn, reference) in candidates.items():
            torch.testing.assert_close(fn(x), reference(x))
        # Round robin, so that drift in the host's speed touches every impl alike.
        rounds: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(SMALL_CALL_ROUNDS):
            for name, (fn, _reference) in candidates.items():
                synchronize(device)
                start = time.perf_counter()
                for _ in range(SMALL_CALLS_PER_ROUND):
                    fn(x)
                synchronize(device)
                rounds[name].append((time.perf_counter() - start) / SMALL_CALLS_PER_ROUND * 1e3)
        for name, times in rounds.items():
            records.append(
                Record(name, "small-call", "float32", list(shape), statistics.median(times), None, None, None, device_name(device))
            )
            progress.update()
    return records


def default_cases(
    device: torch.device, dtypes: list[str], sweep: list[int], shapes: list[tuple[int, ...]], layouts: list[str]
) -> list[Case]:
    """Every dtype at every shape (each layout) and sweep size (contiguous),
    in the directions that fit in memory."""
    cases = []
    for dtype in dtypes:
        for shape, layout in [(s, l) for s in shapes for l in layouts] + [((2**k,), "contiguous") for k in sweep]:
            numel = torch.Size(shape).numel()
            directions = tuple(d for d in DIRECTIONS if fits(numel, DTYPES[dtype], d, device))
            if directions:
                cases.append(Case(tuple(shape), dtype, directions, layout))
            else:
                print(f"note: skipping {dtype} {'x'.join(map(str, shape))}: does not fit in memory", file=sys.stderr)
    return cases


# ------------------------------------------------------------ kernelbench --


class KernelBenchModel(nn.Module):
    """KernelBench's reference model for this problem."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / (1 + torch.abs(x))


def kernelbench(device: torch.device, shape: tuple[int, ...], trials: int) -> list[Record]:
    """KernelBench's protocol: torch.rand float32 input, L2 flushed before each
    trial (on CUDA), mean of `trials` timed calls."""
    x = torch.rand(shape, device=device)
    models = {
        "reference": KernelBenchModel(),
        "ModelNew": softsign_ext.ModelNew(),
        "compile(reference)": torch.compile(KernelBenchModel()),
    }
    flush = None
    if device.type == "cuda":
        flush = torch.empty(2 * torch.cuda.get_device_properties(device).L2_cache_size, dtype=torch.uint8, device=device)
    records = []
    for name, model in models.items():
        torch.testing.assert_close(model(x), F.softsign(x.double()).float(), atol=1e-4, rtol=1e-4)
        model(x)
        times = []
        for _ in range(trials):
            if flush is not None:
                flush.zero_()
                begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                begin.record()
                model(x)
                end.record()
                end.synchronize()
                times.append(begin.elapsed_time(end))
            else:
                begin = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - begin) * 1e3)
        mean = statistics.fmean(times)
        records.append(
            Record(name, "kernelbench", "float32", list(shape), mean, 2 * x.numel() * 4 / (mean * 1e-3) / 1e9, None, None,
                   device_name(device), timing="launch" if flush is not None else "host",
                   extra={"std_ms": statistics.pstdev(times), "trials": trials})
        )
    for r in records:
        r.extra["speedup_vs_reference"] = records[0].median_ms / r.median_ms
    return records


# ---------------------------------------------------------------- output --


def format_table(records: list[Record]) -> str:
    lines = []
    groups: dict[tuple, list[Record]] = {}
    for r in records:
        groups.setdefault((r.direction == "small-call", r.direction == "kernelbench", r.dtype, tuple(r.shape), r.layout), []).append(r)
    for (small, kb, dtype, shape, layout), rows in groups.items():
        title = "x".join(map(str, shape)) + ("" if layout == "contiguous" else f" {layout}")
        if small:
            lines.append(f"\nsmall calls, {dtype} {title}: wall time per call, back to back")
            lines.append(f"  {'impl':<16}{'us/call':>10}")
            lines += [f"  {r.impl:<16}{r.median_ms * 1e3:>10.2f}" for r in rows]
            continue
        if kb:
            lines.append(f"\nKernelBench protocol, {dtype} {title}: mean of {rows[0].extra['trials']} trials, L2 flushed")
            lines.append(f"  {'model':<20}{'mean ms':>10}{'std ms':>9}{'GB/s':>8}{'speedup':>9}")
            lines += [
                f"  {r.impl:<20}{r.median_ms:>10.3f}{r.extra['std_ms']:>9.3f}{r.gbps:>8.0f}{r.extra['speedup_vs_reference']:>8.2f}x"
                for r in rows
            ]
            continue
        lines.append(f"\n{dtype} {title}")
        lines.append(
            f"  {'direction':<10}{'impl':<14}{'median ms':>11}{'GB/s':>8}{'% copy':>8}{'vs eager':>10}{'vs compile':>12}{'peak MiB':>10}"
        )
        for r in rows:
            pct = f"{r.pct_of_copy:.1f}" if r.pct_of_copy is not None else "-"
            ve = f"{r.extra['vs_eager']:.2f}x" if "vs_eager" in r.extra else "-"
            vc = f"{r.extra['vs_compile']:.2f}x" if "vs_compile" in r.extra else "-"
            peak = f"{r.peak_extra_bytes / 2**20:.0f}" if r.peak_extra_bytes is not None else "-"
            lines.append(f"  {r.direction:<10}{r.impl:<14}{r.median_ms:>11.4f}{r.gbps:>8.0f}{pct:>8}{ve:>10}{vc:>12}{peak:>10}")
    return "\n".join(lines)


def write_json(records: list[Record], path: str) -> None:
    with open(path, "w") as f:
        json.dump([asdict(r) for r in records], f, indent=1)


def plot(records: list[Record], path: str) -> None:
    """GB/s against size per impl (forward solid, backward dashed), a panel per dtype."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install matplotlib") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = [r for r in records if len(r.shape) == 1 and r.direction in ("forward", "backward")]
    dtypes = sorted({r.dtype for r in sweep}, key=list(DTYPES).index)
    if not dtypes:
        raise ValueError("no size-sweep records to plot")
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4.5), squeeze=False, sharey=True)
    for ax, dtype in zip(axes[0], dtypes):
        for color, impl in enumerate(IMPLS):
            for direction, style in (("forward", "-"), ("backward", "--")):
                pts = sorted((r.shape[0], r.gbps) for r in sweep if r.dtype == dtype and r.impl == impl and r.direction == direction)
                if pts:
                    ax.plot(*zip(*pts), style, color=f"C{color}", marker="o", ms=3, label=f"{impl} {direction}")
        ax.set_xscale("log", base=2)
        ax.set_title(f"{dtype} ({sweep[0].device})")
        ax.set_xlabel("elements")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("GB/s (each tensor read or written once)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool):
    if not enabled:
        return _NoProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, file=sys.stderr, unit="run", dynamic_ncols=True)


# ------------------------------------------------------------------ main --


def parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a shape looks like 4096x393216, not {text!r}") from None
    if not shape or any(s <= 0 for s in shape):
        raise argparse.ArgumentTypeError(f"a shape needs positive sizes, not {text!r}")
    return shape


def parse_list(choices: Iterable[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [t for t in text.split(",") if t]
        bad = [t for t in items if t not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(choices)}")
        return items

    return parse


def parse_powers(text: str) -> list[int]:
    """'10:31:3' (start:stop:step, stop included) or '10,20,24'; powers of two."""
    try:
        if ":" in text:
            start, stop, *step = (int(t) for t in text.split(":"))
            return list(range(start, stop + 1, step[0] if step else 1))
        return [int(t) for t in text.split(",") if t]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are powers of two like 10:31:3 or 10,20; not {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m softsign_ext.bench", description=__doc__.split("\n\n")[2], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtypes", type=parse_list(DTYPES), default=None,
                        help="comma-separated (default float32,bfloat16,float16 on CUDA, float32 on CPU)")
    parser.add_argument("--impls", type=parse_list(IMPLS), default=list(IMPLS), help=f"comma-separated subset of {','.join(IMPLS)}")
    parser.add_argument("--directions", type=parse_list(DIRECTIONS), default=list(DIRECTIONS), help=f"comma-separated subset of {','.join(DIRECTIONS)}")
    parser.add_argument("--layouts", type=parse_list(LAYOUTS), default=["contiguous"],
                        help=f"comma-separated subset of {','.join(LAYOUTS)}, for the --shapes (default contiguous)")
    parser.add_argument("--shapes", type=lambda t: [parse_shape(s) for s in t.split(",") if s], default=None,
                        help="comma-separated ROWSxCOLS (default 4096x393216,4096x786432,4096x4096 on CUDA; "
                             "4096x4096 on CPU); with --kernelbench the first one (default 4096x393216)")
    parser.add_argument("--sweep", type=parse_powers, default=None,
                        help="sizes of the 1-D sweep as powers of two, start:stop:step (default 10:31:3 on CUDA, 12:24:4 on CPU); '' for none")
    parser.add_argument("--timing", choices=TIMINGS, default="device",
                        help="CUDA timing: 'device' times the GPU's work alone (default); 'launch' includes the host's "
                             "launch path, as triton's do_bench does")
    parser.add_argument("--no-small-calls", action="store_true", help="skip the small-call host-overhead comparison")
    parser.add_argument("--kernelbench", action="store_true", help="only KernelBench's protocol: torch.rand, L2 flushed, mean of 100 trials")
    parser.add_argument("--trials", type=int, default=KERNELBENCH_TRIALS, help="trials in --kernelbench mode")
    parser.add_argument("--json", metavar="PATH", help="write one JSON record per measurement")
    parser.add_argument("--plot", metavar="PATH", help="write a PNG of GB/s against size, a panel per dtype")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    device = torch.device(args.device)
    on_cuda = device.type == "cuda"
    print(f"softsign_ext benchmark on {device_name(device)}, torch {torch.__version__}, {args.timing} timing")

    if args.kernelbench:
        wanted = args.shapes[0] if args.shapes else KERNELBENCH_SHAPE
        shape = wanted
        while not fits(torch.Size(shape).numel(), torch.float32, "forward", device) and shape[0] > 1:
            shape = (shape[0] // 2, *shape[1:])
        if shape != wanted:
            print(f"note: scaled down from {'x'.join(map(str, wanted))} to {'x'.join(map(str, shape))} to fit in memory")
        records = kernelbench(device, shape, args.trials)
    else:
        shapes = args.shapes if args.shapes is not None else (
            [KERNELBENCH_SHAPE, (4096, 786432), (4096, 4096)] if on_cuda else [(4096, 4096)]
        )
        sweep = args.sweep if args.sweep is not None else parse_powers("10:31:3" if on_cuda else "12:24:4")
        dtypes = args.dtypes or (["float32", "bfloat16", "float16"] if on_cuda else ["float32"])
        cases = default_cases(device, dtypes, sweep, shapes, args.layouts)
        cases = [Case(c.shape, c.dtype, tuple(d for d in c.directions if d in args.directions), c.layout) for c in cases]
        others = len([i for i in args.impls if i != "copy"])
        total = sum(("copy" in args.impls) + others * len(c.directions) for c in cases)
        small = not args.no_small_calls
        total += small * len(SMALL_CALL_SHAPES) * (5 + ("compile" in args.impls))
        progress = progress_bar(total, not args.no_progress)
        records = []
        for case in cases:
            records += measure_case(case, args.impls, device, progress, args.timing)
            if args.json:  # after every case, so that an interrupted run keeps what it measured
                write_json(records, args.json)
        if small:
            records += small_call_records(args.impls, device, progress)
        progress.close()
        print("every implementation matched float64 math before it was timed")

    print(format_table(records))
    if args.json:
        write_json(records, args.json)
        print(f"wrote {len(records)} records to {args.json}")
    if args.plot:
        plot(records, args.plot)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
