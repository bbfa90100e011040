"""The KernelBench section: the problem's protocol (torch.rand input, the L2 cache flushed
before each trial on CUDA, CUDA events, the mean of `trials` calls) for the package's
ModelNew, the submissions softsign_ext.kernelbench generates, the reference and compile,
in each dtype asked for, beside a copy."""

from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
from typing import Callable

import torch
from torch import nn

from ..kernelbench.submission import generate
from ..modules import ModelNew
from ..reference import KernelBenchModel, softsign_reference
from .cases import KERNELBENCH_SHAPE, fits
from .common import device_name, dtype_name, format_shape
from .records import Record
from .timing import time_calls

KERNELBENCH_TRIALS = 100
# KernelBench's correctness tolerance per precision (atol = rtol).
KERNELBENCH_TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 1e-2, torch.float16: 1e-2}


def load_model_new(path: "str | os.PathLike[str]") -> type[nn.Module]:
    """The ModelNew class of a submission file, imported from the file as KernelBench
    loads a submission."""
    spec = importlib.util.spec_from_file_location(f"kernelbench_{os.path.splitext(os.path.basename(path))[0]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ModelNew


def submission_model(backend: str) -> nn.Module:
    """ModelNew of the submission softsign_ext.kernelbench generates for `backend`."""
    path = os.path.join(tempfile.mkdtemp(prefix="softsign_ext_kernelbench_"), f"model_new_{backend}.py")
    with open(path, "w") as f:
        f.write(generate(backend))
    return load_model_new(path)()


def models(device: torch.device) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """What is timed: a copy (the floor), the reference, the package's ModelNew, on CUDA the
    two generated submissions (Triton's when it is installed), and compile."""
    found = {"copy": torch.clone, "reference": KernelBenchModel(), "ModelNew": ModelNew()}
    if device.type == "cuda":
        found["submission cuda"] = submission_model("cuda")
        if importlib.util.find_spec("triton") is not None:
            found["submission triton"] = submission_model("triton")
    found["compile(reference)"] = torch.compile(KernelBenchModel())
    return found


# KernelBench's flush before each trial (its timing.py, clear_l2_cache): a fresh 256 MiB
# int64 tensor, filled. It is larger than the L2 of any current GPU, and the GPU is busy
# filling it while the host issues the timed call, so its size decides how much of the
# host's launch path the timing sees: a smaller flush would time a stricter protocol
# than KernelBench's.
KERNELBENCH_FLUSH_SHAPE = (32, 1024, 1024)


def clear_l2_cache(device: torch.device) -> None:
    torch.empty(KERNELBENCH_FLUSH_SHAPE, dtype=torch.int64, device=device).fill_(42)


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def fitting_shape(wanted: tuple[int, ...], device: torch.device) -> tuple[int, ...]:
    """`wanted`, with fewer rows until a float32 forward fits in memory (said when scaled)."""
    shape = wanted
    while not fits(torch.Size(shape).numel(), torch.float32, "forward", device) and shape[0] > 1:
        shape = (shape[0] // 2, *shape[1:])
    if shape != wanted:
        print(f"note: scaled down from {format_shape(wanted)} to {format_shape(shape)} to fit in memory")
    return shape


def kernelbench_records(device: torch.device, shape: tuple[int, ...] = KERNELBENCH_SHAPE,
                        trials: int = KERNELBENCH_TRIALS, dtypes: tuple[torch.dtype, ...] = (torch.float32,),
                        progress=None, others: "dict[str, str] | None" = None) -> list[Record]:
    """Each model in each dtype: checked at KernelBench's tolerance, then `trials` calls
    timed round robin with the L2 cache flushed before each (on CUDA, in launch timing as
    KernelBench times, then in device timing). `others` maps a name to someone else's
    submission file (its ModelNew), timed beside ours; where one fails in a dtype (an
    error, or wrong at the tolerance) it is left out of that dtype's timing and the
    failure is printed."""
    others = others or {}
    timed = models(device)
    for name, path in others.items():
        timed[name] = load_model_new(path)()
    flush = (lambda: clear_l2_cache(device)) if device.type == "cuda" else None
    timing = "launch" if device.type == "cuda" else "wall"
    records = []
    for dtype in dtypes:
        x = torch.rand(shape, device=device, dtype=dtype)
        expected = softsign_reference(x)
        tolerance = KERNELBENCH_TOLERANCE[dtype]
        passing = dict(timed)
        for name, model in timed.items():
            if name == "copy":
                continue
            try:
                torch.testing.assert_close(model(x), expected, atol=tolerance, rtol=tolerance,
                                           msg=lambda m, name=name: f"{name} {dtype_name(dtype)}: {m}")
            except Exception as error:
                if name not in others:
                    raise  # ours must pass
                print(f"{name} {dtype_name(dtype)}: failed, left out of the timing ({first_line(error)})")
                del passing[name]
        calls = {name: (lambda model=model, x=x: model(x)) for name, model in passing.items()}
        samples = time_calls(calls, device, timing, rounds=trials, before_each=flush)
        # On CUDA the same trials again in device timing (the same flush before each): the
        # difference from launch timing is the time the GPU waited for the launch.
        device_samples = (time_calls(calls, device, "device", rounds=trials, before_each=flush)
                          if device.type == "cuda" else {})
        rows = []
        for name, times in samples.items():
            record = Record.from_samples(times, kind="kernelbench", impl=name, direction="forward",
                                         dtype=dtype_name(dtype), shape=list(shape), device=device_name(device),
                                         timing=timing, extra={"std_ms": statistics.pstdev(times), "trials": trials})
            # KernelBench's statistic is the mean.
            record.gbps = 2 * x.numel() * x.element_size() / (record.mean_ms * 1e-3) / 1e9
            rows.append(record)
        by_name = {r.impl: r for r in rows}
        for r in rows:
            # KernelBench's speedup: the mean time of the reference over this one's.
            r.extra["speedup_vs_reference"] = by_name["reference"].mean_ms / r.mean_ms
            r.pct_of_copy = 100 * r.gbps / by_name["copy"].gbps
            if device_samples:
                r.extra["device_mean_ms"] = statistics.fmean(device_samples[r.impl])
                r.extra["device_pct_of_copy"] = 100 * statistics.fmean(device_samples["copy"]) / r.extra["device_mean_ms"]
        records += rows
        del x, expected
        if progress is not None:
            progress.update()
    return records
