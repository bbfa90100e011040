"""The bandwidth section: copy, softsign_ext, eager and compile on one tensor, each direction,
checked against float64 math, then timed."""

from __future__ import annotations

from typing import Optional

import torch

from .cases import DTYPES, TENSORS_MOVED, Case, make_input
from .common import device_name
from .impls import check, fresh_compile, make_call
from .records import Record
from .timing import peak_extra_bytes, time_calls


def jobs(case: Case, impls: list[str]) -> list[tuple[str, str]]:
    """(impl, direction) pairs of a case: the copy (forward, the reference bandwidth) first;
    the Triton kernel has a forward only."""
    first = [("copy", "forward")] if "copy" in impls else []
    return first + [(impl, d) for d in case.directions for impl in impls
                    if impl != "copy" and (impl != "triton" or d == "forward")]


def _record(case: Case, impl: str, direction: str, x: torch.Tensor, samples: list[float],
            peak: Optional[int], device: torch.device, timing: str) -> Record:
    record = Record.from_samples(samples, kind="bandwidth", impl=impl, direction=direction, dtype=case.dtype,
                                 shape=list(case.shape), peak_extra_bytes=peak, device=device_name(device),
                                 timing=timing, layout=case.layout)
    record.gbps = TENSORS_MOVED[direction] * x.numel() * x.element_size() / (record.median_ms * 1e-3) / 1e9
    return record


def measure_case(case: Case, impls: list[str], device: torch.device, progress, timing: str) -> list[Record]:
    """Every job of the case. On CUDA one impl at a time (a backward holds a retained graph's
    memory); on a CPU all of them round robin, as a CPU's speed drifts from run to run and
    every impl should see the same drift."""
    fresh_compile()
    x = make_input(case.shape, DTYPES[case.dtype], device, case.layout)
    grad = make_input(case.shape, DTYPES[case.dtype], device, case.layout).view(x.shape)
    groups = [[job] for job in jobs(case, impls)] if device.type == "cuda" else [jobs(case, impls)]
    records = []
    for group in groups:
        ((first_impl, first_direction), *others) = group
        progress.set_postfix_str(case.label() + ("" if others else f" {first_direction} {first_impl}"))
        calls = {}
        for impl, direction in group:
            call = make_call(impl, direction, x, grad)
            check(impl, direction, x, grad, call)
            calls[(impl, direction)] = call
        samples = time_calls(calls, device, timing)
        for (impl, direction), call in calls.items():
            peak = peak_extra_bytes(call, device)
            records.append(_record(case, impl, direction, x, samples[(impl, direction)], peak, device, timing))
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
