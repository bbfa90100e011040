"""python -m softsign_ext.bench: the options, the progress bar and the run."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import warnings
from typing import Callable, Iterable, Optional

import torch

from .._library import build_info
from ..executorch import kernels_built as executorch_kernels_built
from ..onnx import missing_onnx_packages
from .bandwidth import jobs, measure_case
from .cases import DIRECTIONS, DTYPES, KERNELBENCH_SHAPE, LAYOUTS, default_cases
from .common import build_summary, device_name, dtype_name, format_shape
from .executorch_runtime import executorch_jobs, executorch_records
from .graphs import CPU_GRAPH_SHAPES, CUDA_GRAPH_SHAPES, GRAPH_DIRECTIONS, GRAPH_MODES, GRAPHS, graph_jobs, graph_records
from .impls import ALL_IMPLS, IMPLS
from .kernelbench_timing import KERNELBENCH_TOLERANCE, KERNELBENCH_TRIALS, fitting_shape, kernelbench_records
from .ncu import NCU_DTYPES, NcuUnavailable, ncu_records
from .onnx_runtime import ONNX_DTYPES, onnx_jobs, onnx_records
from .records import Record, read_json, write_json
from .report import format_table, plot
from .small_calls import SMALL_CALL_SHAPES, candidates, small_call_records
from .timing import TIMINGS
from .transforms import TRANSFORMS, transform_jobs, transform_records

DESCRIPTION = """\
Benchmarks softsign_ext against what users would pick instead, side by side.

    python -m softsign_ext.bench                   # the full run on CUDA if present, else CPU
    python -m softsign_ext.bench --kernelbench     # KernelBench's own protocol
    python -m softsign_ext.bench --graphs          # softsign inside compiled models
    python -m softsign_ext.bench --transforms      # under torch.func's jvp, vmap, grad
    python -m softsign_ext.bench --onnx            # onnxruntime on exported MLPs
    python -m softsign_ext.bench --ncu             # Nsight Compute's counters per kernel (CUDA)
    python -m softsign_ext.bench --executorch      # ExecuTorch's runtime on exported models

Implementations: a plain copy (x.clone(), the floor of a memory-bound op), softsign_ext,
eager F.softsign and torch.compile(F.softsign); forward, backward alone (autograd.grad of
a retained graph) and forward + backward. Every implementation is checked against float64
math before it is timed. Bandwidth counts each tensor read or written once (forward 2N
elements, backward 3N, forward + backward 5N)."""

CUDA_DEFAULTS = {"dtypes": "float32,bfloat16,float16", "shapes": "kernelbench,4096x786432,4096x4096", "sweep": "10:31:3",
                 "timing": "device", "graph_dtypes": "float32,bfloat16", "graph_timings": "device,launch"}
CPU_DEFAULTS = {"dtypes": "float32,float64,bfloat16,float16", "shapes": "2048x2048,4096x4096", "sweep": "", "timing": "wall",
                "graph_dtypes": "float32,bfloat16", "graph_timings": "wall"}


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass


class _LineProgress(_NoProgress):
    """Progress as lines on stderr, "[3/40 done] what is being measured now" as each
    measurement starts (or "[4/40 done]" for sections that do not name theirs): for logs,
    where a bar's redraws would pile up, and where tqdm is not installed."""

    def __init__(self, total: int):
        self.total, self.done, self.names_runs = total, 0, False

    def _line(self, text: str = "") -> None:
        print(f"[{self.done}/{self.total} done] {text}".rstrip(), file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.names_runs:
            self._line()

    def set_postfix_str(self, s: str) -> None:
        self.names_runs = True
        self._line(s)


def progress_bar(total: int, enabled: bool):
    """When enabled: tqdm's bar on stderr where stderr is a terminal and tqdm is installed,
    else a line per run."""
    if not enabled:
        return _NoProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return _LineProgress(total)
    if not sys.stderr.isatty():
        return _LineProgress(total)
    return tqdm(total=total, file=sys.stderr, unit="run", dynamic_ncols=True)


def parse_shape(text: str) -> tuple[int, ...]:
    """ROWSxCOLS... or "kernelbench" (the KernelBench problem's input shape)."""
    if text.lower() == "kernelbench":
        return KERNELBENCH_SHAPE
    try:
        shape = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a shape looks like {format_shape(KERNELBENCH_SHAPE)} (or is 'kernelbench'), "
                                         f"not {text!r}") from None
    if not shape or any(s <= 0 for s in shape):
        raise argparse.ArgumentTypeError(f"a shape needs positive sizes, not {text!r}")
    return shape


def parse_count(text: str) -> int:
    """A positive number of calls or draws."""
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"a positive whole number, not {text!r}")
    return int(text)


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    return [parse_shape(s) for s in text.split(",") if s]


def parse_list(choices: Iterable[str]) -> Callable[[str], list[str]]:
    """A comma-separated subset of choices, or "all" of them."""
    def parse(text: str) -> list[str]:
        if text == "all":
            return list(choices)
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


def parse_submission(text: str) -> tuple[str, str]:
    """'NAME=FILE' or 'FILE' (named after the file): a KernelBench submission to time."""
    name, _, path = text.rpartition("=") if "=" in text else (os.path.splitext(os.path.basename(text))[0], "", text)
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"no submission file {path!r}")
    return name, path


def parse_device(text: str) -> torch.device:
    try:
        device = torch.device(text)
    except RuntimeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if device.type not in ("cuda", "cpu"):
        raise argparse.ArgumentTypeError(f"the benchmark runs on cuda or cpu, not {text!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("--device cuda, but torch sees no CUDA GPU")
    return device


def _default(name: str) -> str:
    return f"default {CUDA_DEFAULTS[name]!r} on CUDA, {CPU_DEFAULTS[name]!r} on CPU"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m softsign_ext.bench", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", type=parse_device, default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where to run: cuda (or cuda:N) or cpu (default cuda when a GPU is visible, else cpu)")
    parser.add_argument("--dtypes", type=parse_list(DTYPES), default=None,
                        help=f"comma-separated subset of {','.join(DTYPES)} ({_default('dtypes')})")
    parser.add_argument("--impls", type=parse_list(ALL_IMPLS), default=list(IMPLS),
                        help=f"comma-separated subset of {','.join(ALL_IMPLS)} (default "
                             f"{','.join(IMPLS)}; triton: softsign_ext's Triton kernel, forward only, CUDA "
                             "with Triton installed)")
    parser.add_argument("--directions", type=parse_list(DIRECTIONS), default=None,
                        help=f"comma-separated subset of {','.join(DIRECTIONS)} (default all; with --graphs "
                             f"{','.join(GRAPH_DIRECTIONS)})")
    parser.add_argument("--layouts", type=parse_list(LAYOUTS), default=["contiguous"],
                        help=f"comma-separated subset of {','.join(LAYOUTS)}, or all, for the --shapes (default contiguous)")
    parser.add_argument("--shapes", type=parse_shapes, default=None,
                        help=f"comma-separated ROWSxCOLS ({_default('shapes')}); with --kernelbench the first one "
                             f"(default {format_shape(KERNELBENCH_SHAPE)})")
    parser.add_argument("--sweep", type=parse_powers, default=None,
                        help=f"sizes of the 1-D sweep as powers of two, start:stop:step or a list ({_default('sweep')}); "
                             "'' for none")
    parser.add_argument("--timing", choices=list(TIMINGS), default=None,
                        help="; ".join(f"{name}: {words}" for name, words in TIMINGS.items())
                             + f" ({_default('timing')}; a CPU has only wall)")
    parser.add_argument("--no-small-calls", action="store_true",
                        help="skip the small-call table (host overhead per call at "
                             f"{' and '.join(format_shape(s) for s in SMALL_CALL_SHAPES)})")
    parser.add_argument("--kernelbench", action="store_true",
                        help="only KernelBench's protocol: torch.rand in its precisions (float32 alone on a CPU), L2 "
                             "flushed, mean of --trials calls; on CUDA also in device timing")
    parser.add_argument("--submission", action="append", type=parse_submission, default=[], metavar="[NAME=]FILE",
                        help="with --kernelbench: also time this KernelBench submission file (its ModelNew), "
                             "named NAME (default the file's name); repeatable")
    parser.add_argument("--trials", type=parse_count, default=KERNELBENCH_TRIALS,
                        help=f"timed calls per model with --kernelbench (default {KERNELBENCH_TRIALS})")
    parser.add_argument("--graphs", type=parse_list(GRAPHS), nargs="?", const=list(GRAPHS), default=None,
                        metavar="NAMES",
                        help=f"only the graph section: softsign inside models ({','.join(GRAPHS)}; default all), "
                             "nn.Softsign against softsign_ext in each mode (compiled, also nn.Softsign against a "
                             "second compile of itself: the A/A); --dtypes default "
                             f"{CUDA_DEFAULTS['graph_dtypes']!r}, --timing default device and launch on CUDA")
    parser.add_argument("--transforms", type=parse_list(TRANSFORMS), nargs="?", const=list(TRANSFORMS), default=None,
                        metavar="NAMES",
                        help=f"only the transforms section: F.softsign against softsign_ext under the same torch.func "
                             f"transform, eager and compiled ({','.join(TRANSFORMS)}; default all); --dtypes default "
                             "float32, --timing default device on CUDA")
    parser.add_argument("--onnx", action="store_true",
                        help="only the ONNX section: onnxruntime (CPU) on an MLP exported with nn.Softsign against "
                             "the same MLP exported with softsign_ext, by each exporter (dtypes: float32,float16; "
                             "needs onnx, onnxscript and onnxruntime)")
    parser.add_argument("--executorch", action="store_true",
                        help="only the ExecuTorch section: ExecuTorch's runtime (host CPU) on programs exported with "
                             "nn.Softsign against softsign_ext, an MLP at a batch of 256 with XNNPACK and the "
                             "activation alone on the portable kernels (needs executorch, and softsign_ext built "
                             "with it)")
    parser.add_argument("--ncu", action="store_true",
                        help="only the Nsight Compute section: ncu's counters (DRAM throughput, L2 hit rate, memory "
                             "stalls, bandwidth, duration) for every kernel compared, one profiled call each, at the "
                             f"first --shapes (default {format_shape(KERNELBENCH_SHAPE)}); --dtypes default "
                             f"{','.join(NCU_DTYPES)}; with --submission NAME=FILE also that submission's kernels; "
                             "CUDA, needs ncu and permission to read the GPU's counters")
    parser.add_argument("--ncu-csv", metavar="DIR",
                        help="with --ncu: also write ncu's own CSV output there, one file per dtype")
    parser.add_argument("--graph-modes", type=parse_list(GRAPH_MODES), default=list(GRAPH_MODES),
                        help=f"comma-separated subset of {','.join(GRAPH_MODES)} for --graphs (default all)")
    parser.add_argument("--graph-draws", type=parse_count, default=1, metavar="N",
                        help="with --graphs or --transforms: compile and time every row N times, each time afresh, "
                             "and report each row's median ratio over the draws and their range (default 1; one "
                             "compile is a draw of Inductor's autotuner, which can move a row by more than softsign "
                             "does: see the A/A)")
    parser.add_argument("--graph-shape", type=parse_shape, default=None, metavar="ROWSxWIDTH",
                        help="one input shape for every graph (default per graph: "
                             + ", ".join(f"{n} {format_shape(s)}" for n, s in CUDA_GRAPH_SHAPES.items())
                             + " on CUDA; " + ", ".join(f"{n} {format_shape(s)}" for n, s in CPU_GRAPH_SHAPES.items())
                             + " on CPU)")
    parser.add_argument("--from-json", action="append", default=[], metavar="PATH",
                        help="measure nothing: read the records of earlier runs' --json files (repeatable) and print "
                             "their tables, and with --json and --plot write them as one file and plot them; for "
                             "instance to join the sections of a long --graphs run split over calls or GPUs")
    parser.add_argument("--json", metavar="PATH", help="write one JSON record per measurement (benchmarks/README.md)")
    parser.add_argument("--plot", metavar="PATH",
                        help="write a PNG: with graph records softsign_ext's ratios to nn.Softsign, else GB/s against "
                             "size (or per shape), a panel per dtype")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress (by default a bar on a terminal with tqdm installed, else a line per run)")
    return parser


def _quiet_torch_notices() -> None:
    """Silences torch's notices that say nothing about the measurements: cpp_extension's "No
    CUDA runtime is found" (logged when torch.compile loads it on a machine without a GPU)
    and Inductor's warning that it leaves complex operators to eager (how compiled
    F.softsign runs on complex inputs, which the tables show)."""
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Torchinductor does not support code generation for complex")


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_torch_notices()
    if args.from_json:
        if args.kernelbench or args.graphs or args.transforms or args.onnx or args.ncu or args.executorch:
            parser.error("--from-json reads records instead of measuring; drop --kernelbench, --graphs, "
                         "--transforms, --onnx, --ncu and --executorch")
        records = [record for path in args.from_json for record in read_json(path)]
        return _report(records, args)
    device = args.device
    defaults = CUDA_DEFAULTS if device.type == "cuda" else CPU_DEFAULTS
    timing = args.timing or defaults["timing"]
    if device.type != "cuda" and timing != "wall":
        parser.error(f"--timing {timing} needs a CUDA device; a CPU is timed by the wall clock")
    if "triton" in args.impls and (device.type != "cuda" or importlib.util.find_spec("triton") is None):
        parser.error("--impls triton needs a CUDA device and Triton (pip install triton)")
    if args.submission and not (args.kernelbench or args.ncu):
        parser.error("--submission is timed by --kernelbench (or profiled by --ncu); add one of them")
    if args.ncu and device.type != "cuda":
        parser.error("--ncu profiles CUDA kernels; it needs a CUDA device")
    print(f"softsign_ext benchmark on {device_name(device)}, torch {torch.__version__}, {TIMINGS[timing]}")
    print(build_summary())

    if args.executorch:
        if importlib.util.find_spec("executorch") is None:
            parser.error("--executorch needs executorch: pip install executorch, then rebuild softsign_ext")
        if not executorch_kernels_built():
            parser.error(f"--executorch needs softsign_ext's ExecuTorch kernel, which this build lacks "
                         f"({build_info['executorch_reason']}); rebuild softsign_ext where executorch is installed")
        progress = progress_bar(executorch_jobs(), not args.no_progress)
        records = executorch_records(progress)
        progress.close()
        print("every program's output agreed with nn.Softsign's program in ExecuTorch before it was timed")
    elif args.ncu:
        names = args.dtypes or list(NCU_DTYPES)
        progress = progress_bar(len(names), not args.no_progress)
        try:
            records = ncu_records(names, args.shapes[0] if args.shapes else KERNELBENCH_SHAPE, device,
                                  dict(args.submission), progress, args.ncu_csv)
        except NcuUnavailable as error:
            progress.close()
            print(f"python -m softsign_ext.bench --ncu: {error}", file=sys.stderr)
            return 2
        progress.close()
    elif args.kernelbench:
        wanted = args.shapes[0] if args.shapes else KERNELBENCH_SHAPE
        # Every precision KernelBench evaluates on CUDA; float32 alone on a CPU.
        precisions = [dtype_name(dtype) for dtype in KERNELBENCH_TOLERANCE]
        names = args.dtypes or (precisions if device.type == "cuda" else ["float32"])
        if not set(names) <= set(precisions):
            parser.error(f"--kernelbench runs KernelBench's precisions {','.join(precisions)}, not {','.join(names)}")
        progress = progress_bar(len(names), not args.no_progress)
        records = kernelbench_records(device, fitting_shape(wanted, device), args.trials,
                                      tuple(DTYPES[name] for name in names), progress, dict(args.submission))
        progress.close()
    elif args.onnx:
        missing = missing_onnx_packages()
        if missing:
            parser.error(f"--onnx needs {', '.join(missing)}: pip install {' '.join(missing)}")
        dtypes = [DTYPES[d] for d in (args.dtypes or [dtype_name(d) for d in ONNX_DTYPES])]
        if not set(dtypes) <= set(ONNX_DTYPES):
            parser.error(f"--onnx times {','.join(dtype_name(d) for d in ONNX_DTYPES)}")
        progress = progress_bar(onnx_jobs(dtypes), not args.no_progress)
        records = onnx_records(dtypes, progress)
        progress.close()
        print("softsign_ext's exported model agreed with nn.Softsign's in onnxruntime before it was timed")
    elif args.transforms:
        dtypes = [DTYPES[d] for d in (args.dtypes or ["float32"])]
        progress = progress_bar(transform_jobs(args.transforms, dtypes) * args.graph_draws, not args.no_progress)
        records = []
        for draw in range(args.graph_draws):
            records += transform_records(args.transforms, dtypes, device, timing, progress, draw)
            if args.json:  # after every draw, so that an interrupted run keeps what it measured
                write_json(records, args.json)
        progress.close()
        print("softsign_ext's results matched F.softsign's under every transform before they were timed")
    elif args.graphs:
        dtypes = [DTYPES[d] for d in (args.dtypes or parse_list(DTYPES)(defaults["graph_dtypes"]))]
        shapes = CUDA_GRAPH_SHAPES if device.type == "cuda" else CPU_GRAPH_SHAPES
        if args.graph_shape is not None:
            if len(args.graph_shape) != 2:
                parser.error(f"--graph-shape is ROWSxWIDTH, not {format_shape(args.graph_shape)}")
            shapes = dict.fromkeys(shapes, args.graph_shape)
        directions = tuple(args.directions or GRAPH_DIRECTIONS)
        if not set(directions) <= set(GRAPH_DIRECTIONS):
            parser.error(f"--graphs times the directions {','.join(GRAPH_DIRECTIONS)}, not {','.join(directions)}")
        timings = [args.timing] if args.timing else defaults["graph_timings"].split(",")
        progress = progress_bar(graph_jobs(args.graphs, args.graph_modes, dtypes, directions, args.graph_draws),
                                not args.no_progress)
        records = []
        for name in args.graphs:
            for dtype in dtypes:
                for draw in range(args.graph_draws):
                    records += graph_records(name, dtype, draw, args.graph_modes, device, shapes[name], timings,
                                             progress, directions)
                    if args.json:  # after every graph, dtype and draw, so that an interrupted run keeps what it measured
                        write_json(records, args.json)
        progress.close()
        print("softsign_ext's outputs and gradients matched nn.Softsign's in every mode before they were timed")
    else:
        cases = default_cases(
            device,
            args.dtypes or parse_list(DTYPES)(defaults["dtypes"]),
            args.sweep if args.sweep is not None else parse_powers(defaults["sweep"]),
            args.shapes if args.shapes is not None else parse_shapes(defaults["shapes"]),
            args.layouts,
            args.directions or list(DIRECTIONS),
        )
        small = not args.no_small_calls
        total = sum(len(jobs(case, args.impls)) for case in cases)
        total += small * len(SMALL_CALL_SHAPES) * len(candidates(args.impls))
        progress = progress_bar(total, not args.no_progress)
        records = []
        for case in cases:
            records += measure_case(case, args.impls, device, progress, timing)
            if args.json:  # after every case, so that an interrupted run keeps what it measured
                write_json(records, args.json)
        if small:
            records += small_call_records(args.impls, device, progress)
        progress.close()
        print("every implementation matched float64 math before it was timed")
    return _report(records, args)


def _report(records: list[Record], args: argparse.Namespace) -> int:
    """The tables, and the JSON and plot where asked for."""
    print(format_table(records))
    if args.json:
        write_json(records, args.json)
        print(f"wrote {len(records)} records to {args.json}")
    if args.plot:
        plot(records, args.plot)
        print(f"wrote {args.plot}")
    return 0
