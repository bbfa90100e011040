"""Times softsign_ext against the alternatives at the KernelBench problem's shape.

    python -m softsign_ext.bench [--device cuda|cpu] [--dtype float32] [--shape 4096x393216]

Runs on CUDA when a GPU is present, else on the CPU. Every implementation is
checked against a float64 reference before it is timed. The table reports the
median time per call, the bandwidth (each tensor read or written once) and the
ratio to a plain copy of the same tensor, the floor for a memory-bound op.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

import softsign_ext

KERNELBENCH_SHAPE = (4096, 393216)
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}

# How many tensors of the input's size may be alive at once: the input, an
# eager F.softsign's two temporaries and its output, and one more of slack.
TENSORS_IN_FLIGHT = 5
# Share of free memory the benchmark lets itself use.
MEMORY_SHARE = 0.8
# Rows of the float64 reference computed at a time by the correctness check.
CHECK_CHUNK_ELEMENTS = 1 << 24


@dataclass
class Impl:
    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    # Tensors of the input's size read plus written by one call.
    tensors_moved: int = 2
    checked: bool = True


IMPLS = [
    Impl("copy", torch.clone, checked=False),
    Impl("softsign_ext", softsign_ext.softsign),
    Impl("F.softsign", F.softsign),
]


@dataclass
class Result:
    impl: str
    median_ms: float
    gbps: float


def free_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return free
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("cannot read MemAvailable from /proc/meminfo")


def fit_shape(shape: tuple[int, int], dtype: torch.dtype, device: torch.device) -> tuple[int, int]:
    """Halves the rows until TENSORS_IN_FLIGHT tensors fit in MEMORY_SHARE of free memory."""
    rows, cols = shape
    budget = free_memory_bytes(device) * MEMORY_SHARE
    while rows > 1 and TENSORS_IN_FLIGHT * rows * cols * dtype.itemsize > budget:
        rows //= 2
    return rows, cols


def check(impl: Impl, x: torch.Tensor) -> None:
    """Compares impl(x) with F.softsign in float64, a chunk of rows at a time."""
    y = impl.fn(x)
    rows_per_chunk = max(1, CHECK_CHUNK_ELEMENTS // x.shape[-1])
    for start in range(0, x.shape[0], rows_per_chunk):
        chunk = slice(start, start + rows_per_chunk)
        expected = F.softsign(x[chunk].double()).to(x.dtype)
        torch.testing.assert_close(y[chunk], expected, equal_nan=True, msg=lambda m: f"{impl.name}: {m}")


def time_ms(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> float:
    """Median wall time of one call in milliseconds (CUDA events on a GPU)."""
    for _ in range(warmup):
        fn()
    times = []
    if device.type == "cuda":
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    else:
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def run(device: torch.device, dtype: torch.dtype, shape: tuple[int, int], repeats: int, warmup: int) -> list[Result]:
    x = torch.rand(shape, dtype=dtype, device=device)  # as KernelBench makes its inputs
    results = []
    for impl in IMPLS:
        if impl.checked:
            check(impl, x)
        ms = time_ms(lambda: impl.fn(x), device, repeats, warmup)
        gbps = impl.tensors_moved * x.numel() * x.element_size() / (ms * 1e-3) / 1e9
        results.append(Result(impl.name, ms, gbps))
    return results


def format_table(results: list[Result]) -> str:
    by_name = {r.impl: r for r in results}
    copy_ms, eager_ms = by_name["copy"].median_ms, by_name["F.softsign"].median_ms
    lines = [f"{'impl':<14}{'median ms':>11}{'GB/s':>9}{'% of copy':>11}{'vs eager':>10}"]
    for r in results:
        lines.append(
            f"{r.impl:<14}{r.median_ms:>11.3f}{r.gbps:>9.0f}{100 * copy_ms / r.median_ms:>10.1f}%{eager_ms / r.median_ms:>9.2f}x"
        )
    return "\n".join(lines)


def parse_shape(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape must look like 4096x393216, not {text!r}") from None
    return rows, cols


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m softsign_ext.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=DTYPES, default="float32")
    parser.add_argument("--shape", type=parse_shape, default=KERNELBENCH_SHAPE, help="ROWSxCOLS (default 4096x393216)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per impl (default 50 on CUDA, 5 on CPU)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls first (default 5 on CUDA, 1 on CPU)")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    dtype = DTYPES[args.dtype]
    on_cuda = device.type == "cuda"
    repeats = args.repeats if args.repeats is not None else (50 if on_cuda else 5)
    warmup = args.warmup if args.warmup is not None else (5 if on_cuda else 1)
    shape = fit_shape(args.shape, dtype, device)
    where = torch.cuda.get_device_name(device) if on_cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"softsign on {where}, torch {torch.__version__}, {args.dtype}, shape {shape[0]}x{shape[1]}")
    if shape != args.shape:
        print(
            f"note: scaled down from {args.shape[0]}x{args.shape[1]}: {TENSORS_IN_FLIGHT} tensors of that size "
            f"do not fit in {MEMORY_SHARE:.0%} of the {free_memory_bytes(device) / 2**30:.1f} GiB free"
        )
    results = run(device, dtype, shape, repeats, warmup)
    print(f"every impl matches F.softsign in float64; median of {repeats} calls")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
