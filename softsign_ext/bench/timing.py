"""The one way every section of the benchmark times calls, and peak memory."""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
from typing import Callable, Iterator, Mapping, Optional

import torch
from torch._C._autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

# How a call is timed (Record.timing), in the words the tables and --help use. Device:
# the events are queued behind a GPU sleep, so they time the device's work alone. Launch:
# the call is issued to an idle GPU, so the host's launch path counts too, as in triton's
# do_bench and KernelBench.
TIMINGS = {
    "device": "device time (CUDA events, the host's launch path hidden)",
    "launch": "launch time (CUDA events on an idle GPU, the host's launch path included)",
    "wall": "wall-clock time (host clock)",
    "ncu": "Nsight Compute's kernel duration (one call, replayed for its counters, clocks as found)",
    "etdump": "ExecuTorch's own time of Method::execute (ETDump): the program's operators, without the Python "
              "bindings' taking in and handing back of tensors",
}
# Timed calls until this much time has passed, within these bounds.
TIME_BUDGET_S = 0.5
MIN_REPEATS, MAX_REPEATS = 10, 200
# GPU clock cycles to sleep before each call in device timing: longer, at any clock of a
# current GPU, than the host takes to queue any call here (autograd.grad included).
HOST_LEAD_CYCLES = 1_000_000


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def repeat_count(seconds_per_call: float) -> int:
    """How many timed calls fill TIME_BUDGET_S, within [MIN_REPEATS, MAX_REPEATS]."""
    return int(min(MAX_REPEATS, max(MIN_REPEATS, TIME_BUDGET_S / max(seconds_per_call, 1e-6))))


def _time_one(fn: Callable[[], object], device: torch.device, timing: str, calls: int) -> float:
    """ms per call of `calls` back-to-back calls of fn."""
    if timing == "wall":
        synchronize(device)
        begin = time.perf_counter()
        for _ in range(calls):
            fn()
        synchronize(device)
        return (time.perf_counter() - begin) * 1e3 / calls
    if device.type != "cuda":
        raise ValueError(f"{timing!r} timing needs a CUDA device; use 'wall' on {device}")
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    if timing == "device":
        torch.cuda._sleep(HOST_LEAD_CYCLES)
    begin.record()
    for _ in range(calls):
        fn()
    end.record()
    end.synchronize()
    return begin.elapsed_time(end) / calls


def time_calls(
    calls: Mapping[str, Callable[[], object]],
    device: torch.device,
    timing: str,
    *,
    rounds: Optional[int] = None,
    calls_per_round: int = 1,
    before_each: Optional[Callable[[], object]] = None,
) -> dict[str, list[float]]:
    """ms per call of each of `calls`, one sample per round, the calls taken round robin so
    that drift in the machine's speed (other load, clocks, whether fresh outputs get huge
    pages) touches every one alike, in an order shuffled every round (the same orders every
    run): a call that always followed the same one inherited its state, such as the
    already-mapped memory a CPU call after eager's backward got for its output. Each is
    warmed up first. `rounds` defaults to what fills TIME_BUDGET_S per call. `before_each`
    runs untimed before every sample (KernelBench flushes the L2 cache there)."""
    for fn in calls.values():
        fn()
    synchronize(device)
    if rounds is None:
        begin = time.perf_counter()
        for fn in calls.values():
            fn()
        synchronize(device)
        rounds = repeat_count((time.perf_counter() - begin) / max(len(calls), 1))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            if before_each is not None:
                before_each()
            samples[name].append(_time_one(calls[name], device, timing, calls_per_round))
    return samples


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Sends what C++ writes to stderr (file descriptor 2) to /dev/null meanwhile: torch's
    profiler logs from C++ as it starts and stops (on a machine without a GPU, a failed GPU
    query too), lines that are not the benchmark's. Python's own stderr is flushed first;
    exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_extra_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """Memory one call allocates beyond what was allocated before it, at its peak, its
    outputs included: on CUDA from the caching allocator's peak; on a CPU from the
    allocations and frees that torch's profiler records, summed in order."""
    if device.type == "cuda":
        synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        out = fn()
        synchronize(device)
        peak = torch.cuda.max_memory_allocated(device) - base
        del out
        return peak
    with _native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True,
                                            acc_events=True) as profiler:
        out = fn()
    del out
    changes = sorted(
        (event.start_ns(), event.nbytes())
        for event in profiler.profiler.kineto_results.events()
        if event.name() == "[memory]" and event.device_type() == DeviceType.CPU
    )
    in_use = peak = 0
    for _, nbytes in changes:
        in_use += nbytes
        peak = max(peak, in_use)
    return peak
