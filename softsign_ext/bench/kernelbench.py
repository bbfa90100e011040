"""The KernelBench section: the problem's protocol (torch.rand float32 input, the L2 cache
flushed before each trial on CUDA, CUDA events, the mean of `trials` calls)."""

from __future__ import annotations

import statistics

import torch
import torch.nn.functional as F

import softsign_ext
from softsign_ext.reference import KernelBenchModel

from .cases import KERNELBENCH_SHAPE, device_name, fits, format_shape
from .records import Record
from .timing import time_calls

KERNELBENCH_TRIALS = 100
KERNELBENCH_TOLERANCE = dict(atol=1e-4, rtol=1e-4)


def fitting_shape(wanted: tuple[int, ...], device: torch.device) -> tuple[int, ...]:
    """`wanted`, with fewer rows until a float32 forward fits in memory (said when scaled)."""
    shape = wanted
    while not fits(torch.Size(shape).numel(), torch.float32, "forward", device) and shape[0] > 1:
        shape = (shape[0] // 2, *shape[1:])
    if shape != wanted:
        print(f"note: scaled down from {format_shape(wanted)} to {format_shape(shape)} to fit in memory")
    return shape


def kernelbench_records(device: torch.device, shape: tuple[int, ...] = KERNELBENCH_SHAPE,
                        trials: int = KERNELBENCH_TRIALS) -> list[Record]:
    x = torch.rand(shape, device=device)
    models = {
        "reference": KernelBenchModel(),
        "ModelNew": softsign_ext.ModelNew(),
        "compile(reference)": torch.compile(KernelBenchModel()),
    }
    for name, model in models.items():
        torch.testing.assert_close(model(x), F.softsign(x.double()).float(), **KERNELBENCH_TOLERANCE,
                                   msg=lambda m, name=name: f"{name}: {m}")
    flush = None
    if device.type == "cuda":
        scratch = torch.empty(2 * torch.cuda.get_device_properties(device).L2_cache_size, dtype=torch.uint8,
                              device=device)
        flush = scratch.zero_
    timing = "launch" if device.type == "cuda" else "wall"
    calls = {name: (lambda model=model: model(x)) for name, model in models.items()}
    samples = time_calls(calls, device, timing, rounds=trials, before_each=flush)
    records = []
    for name, times in samples.items():
        record = Record.from_samples(times, kind="kernelbench", impl=name, direction="forward", dtype="float32",
                                     shape=list(shape), device=device_name(device), timing=timing,
                                     extra={"std_ms": statistics.pstdev(times), "trials": trials})
        record.gbps = 2 * x.numel() * 4 / (record.mean_ms * 1e-3) / 1e9  # KernelBench's statistic, the mean
        records.append(record)
    for r in records:
        # KernelBench's speedup: the mean time of the reference over this one's.
        r.extra["speedup_vs_reference"] = records[0].mean_ms / r.mean_ms
    return records
