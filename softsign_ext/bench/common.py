"""Helpers every section of the benchmark uses: names of dtypes, shapes and devices as the
tables and records write them, how far two results differ, and the records of calls timed
against a reference."""

from __future__ import annotations

import platform
from typing import Callable, Mapping, Sequence

import torch

from .._library import build_info, cpu_capability
from .records import Record
from .timing import time_calls


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def format_shape(shape) -> str:
    return "x".join(map(str, shape))


# The CPU flags that decide which build of the CPU kernels can run (setup.py's cpu_capabilities).
ISA_FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16", "avx512_fp16")


def device_name(device: torch.device) -> str:
    """The GPU's name; for a CPU its model, threads, instruction-set flags and the
    instruction set of the kernels in use."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model, flags = "CPU", set()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() in ("flags", "Features"):
                    flags = set(value.split())
    except OSError:  # not Linux: the model and flags are not at hand
        model = platform.processor() or model
    isa = " ".join(flag for flag in ISA_FLAGS if flag in flags) or "none listed"
    return (f"{model} ({torch.get_num_threads()} threads; flags: {isa}; "
            f"softsign_ext kernels: {cpu_capability()})")


def build_summary() -> str:
    """What this softsign_ext install holds and why (softsign_ext.build_info), in a line or two."""
    cuda = (f"CUDA kernels built for {build_info['cuda_arch_list']}" if build_info["cuda"] is not None
            else "no CUDA kernels")
    return (f"softsign_ext built against torch {build_info['torch']}: {cuda} ({build_info['cuda_reason']}); "
            f"CPU kernels for {', '.join(build_info['cpu_capabilities'])} ({cpu_capability()} in use); "
            f"ExecuTorch kernel: {build_info['executorch_reason']}")


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """The norm of the difference over the norm of `expected`, in float64."""
    expected = expected.double()
    return ((actual.double() - expected).norm() / expected.norm().clamp_min(1e-30)).item()


def check_agreement(label: str, impl: str, got: Sequence[torch.Tensor], reference: str,
                    expected: Sequence[torch.Tensor], tolerance: float) -> None:
    """impl's results against reference's, tensor by tensor: raises AssertionError where the
    relative norm of a difference exceeds `tolerance`."""
    for actual, wanted in zip(got, expected, strict=True):
        error = relative_error(actual, wanted)
        if not error <= tolerance:
            raise AssertionError(f"{label}: {impl} differs from {reference} by {error:.2e} (relative norm; "
                                 f"allowed {tolerance:.0e})")


def timed_against(reference: str, ratio: str, calls: Mapping[str, Callable[[], object]], device: torch.device,
                  timing: str, extra: dict, **fields) -> list[Record]:
    """The calls timed round robin (time_calls), their records as records_against makes them."""
    return records_against(reference, ratio, time_calls(calls, device, timing), device, timing, extra, **fields)


def records_against(reference: str, ratio: str, samples: Mapping[str, list[float]], device: torch.device,
                    timing: str, extra: dict, **fields) -> list[Record]:
    """A record of each impl's samples (ms per call) with `fields` and its own copy of `extra`;
    every record but the reference's has its time over the reference's in extra[ratio]."""
    records = {impl: Record.from_samples(times, impl=impl, device=device_name(device), timing=timing,
                                         extra=dict(extra), **fields)
               for impl, times in samples.items()}
    for impl, record in records.items():
        if impl != reference:
            record.extra[ratio] = record.median_ms / records[reference].median_ms
    return list(records.values())
