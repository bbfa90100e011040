"""The Nsight Compute section (``--ncu``): the counters the KernelBench seed judges a kernel by,
read by ``ncu`` for every kernel the section compares, at the KernelBench shape.

Kernels: a copy (``x.clone()``, the floor), softsign_ext's forward and backward kernels,
``torch.compile(F.softsign)``'s Triton kernel, eager ``F.softsign``'s kernels (abs, add, div),
softsign_ext's Triton kernel and any KernelBench submission given (``--submission seed=FILE``:
the seed's Triton kernel). Per kernel: the seed's three metrics, the DRAM bandwidth achieved
and the duration. The seed's stall metric, ``smsp__warp_issue_stalled_memory_dependency``,
has no counter on Hopper and later (ncu reads n/a); there its counterpart, the warps stalled
on a long scoreboard (waiting for an L1TEX result: global memory), is reported, and the table
says which.

``ncu`` runs the target (``python -m softsign_ext.bench.ncu_target``) in a subprocess, one
per dtype, with ``--clock-control none`` (the GPU's clocks stay as they are) and
``--profile-from-start off``: every implementation runs once unprofiled (compiles, autotunes),
then once profiled, after a marker kernel (``torch.cuda._sleep``) that separates its kernels
from the next one's in ncu's output.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from typing import Optional

import torch

from .common import device_name, format_shape
from .records import Record

# What each column holds: ncu's metric names.
METRICS = {
    "dram_pct": "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "l2_hit_pct": "lts__t_sector_hit_rate.pct",
    "memory_dependency_stall_pct": "smsp__warp_issue_stalled_memory_dependency_per_warp_active.pct",
    "long_scoreboard_stall_pct": "smsp__warp_issue_stalled_long_scoreboard_per_warp_active.pct",
    "dram_bytes_per_second": "dram__bytes.sum.per_second",
    "duration_ns": "gpu__time_duration.sum",
}
# The seed's target for its stall metric: below this share of the warps' active cycles.
STALL_TARGET_PCT = 20.0
# What is profiled: (impl, direction); "submission NAME" for each --submission.
JOBS = (("copy", "forward"), ("softsign_ext", "forward"), ("softsign_ext", "backward"), ("compile", "forward"),
        ("eager", "forward"), ("triton", "forward"))
NCU_DTYPES = ("float32", "bfloat16", "float16")
MARKER_KERNEL = "spin_kernel"  # torch.cuda._sleep's kernel, between the jobs' kernels
DROPPED = "ncu_target: left out"  # the target's line for a job that failed unprofiled
PERMISSION_HELP = (
    "ncu cannot read this GPU's performance counters ({code}): profiling is restricted to administrators. "
    "Run as root, or let every user profile by loading the NVIDIA driver with "
    "NVreg_RestrictProfilingToAdminUsers=0 (https://developer.nvidia.com/ERR_NVGPUCTRPERM)")


class NcuUnavailable(RuntimeError):
    """ncu cannot measure here; the message says why and what to do."""


def find_ncu() -> str:
    """ncu's path: on PATH, else beside nvcc (CUDA_HOME/bin, or an nsight-compute folder of the
    toolkit). Raises NcuUnavailable naming where it looked."""
    found = shutil.which("ncu")
    if found:
        return found
    from torch.utils.cpp_extension import CUDA_HOME

    places = []
    for root in filter(None, (CUDA_HOME, os.path.dirname(os.path.dirname(shutil.which("nvcc") or "")))):
        places += [os.path.join(root, "bin", "ncu"), *sorted(
            os.path.join(folder, "ncu") for folder in
            (os.path.join(root, name) for name in (os.listdir(root) if os.path.isdir(root) else []))
            if os.path.basename(folder).startswith("nsight-compute"))]
    for place in places:
        if os.access(place, os.X_OK):
            return place
    raise NcuUnavailable("ncu (Nsight Compute) was not found on PATH or beside nvcc "
                         f"({', '.join(places) or 'no CUDA toolkit found'}); install Nsight Compute or put ncu on PATH")


def _number(text: str) -> Optional[float]:
    """A value of ncu's CSV ("1,234.5" or "n/a")."""
    text = text.strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def parse_ncu_csv(text: str) -> list[dict]:
    """ncu's ``--csv --page raw --print-units base`` output: one dict per profiled kernel, in
    launch order, with its "kernel" name and each METRICS key's value (None where ncu read
    n/a). Lines before the CSV header (the profiled program's own output, ncu's ==PROF==
    notes) are skipped."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID"')), None)
    if start is None:
        return []
    rows = list(csv.reader(io.StringIO("\n".join(lines[start:]))))
    header, body = rows[0], rows[1:]
    if body and body[0] and not body[0][0].strip().isdigit():  # the units row
        body = body[1:]
    column = {name: i for i, name in enumerate(header)}
    kernels = []
    for row in body:
        if len(row) != len(header):
            continue
        kernel = {"kernel": row[column["Kernel Name"]]}
        for key, metric in METRICS.items():
            kernel[key] = _number(row[column[metric]]) if metric in column else None
        kernels.append(kernel)
    return kernels


def split_jobs(kernels: list[dict], jobs: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
    """The kernels of each job: each job's kernels follow one marker kernel, in job order."""
    groups: list[list[dict]] = []
    for kernel in kernels:
        if MARKER_KERNEL in kernel["kernel"]:
            groups.append([])
        elif groups:
            groups[-1].append(kernel)
    if len(groups) != len(jobs):
        raise RuntimeError(f"ncu profiled {len(groups)} jobs where {len(jobs)} ran; its output is not this run's")
    return dict(zip(jobs, groups))


def stall_metric(kernels: list[dict]) -> str:
    """The stall column's metric: the seed's where ncu reads it, else its Hopper counterpart."""
    if any(k["memory_dependency_stall_pct"] is not None for k in kernels):
        return "memory_dependency_stall_pct"
    return "long_scoreboard_stall_pct"


def ncu_records(dtypes: list[str], shape: tuple[int, ...], device: torch.device, submissions: dict[str, str],
                progress, raw_output_dir: Optional[str] = None) -> list[Record]:
    """Runs ncu on the target once per dtype; a record per profiled kernel (kind "ncu").
    Raises NcuUnavailable where ncu is missing or cannot read counters."""
    ncu = find_ncu()
    jobs = list(JOBS) + [(f"submission {name}", "forward") for name in submissions]
    records = []
    for dtype in dtypes:
        progress.set_postfix_str(f"ncu {dtype} {format_shape(shape)}")
        command = [ncu, "--csv", "--page", "raw", "--print-units", "base", "--clock-control", "none",
                   "--profile-from-start", "off", "--target-processes", "all",
                   "--metrics", ",".join(METRICS.values()),
                   sys.executable, "-m", f"{__package__}.ncu_target", "--dtype", dtype, "--shape", format_shape(shape),
                   "--device", str(device), *(f"--submission={name}={path}" for name, path in submissions.items())]
        done = subprocess.run(command, capture_output=True, text=True)
        if raw_output_dir:
            with open(os.path.join(raw_output_dir, f"ncu_{dtype}.csv"), "w") as f:
                f.write(done.stdout)
        permission = re.search(r"ERR_NVGPUCTRPERM", done.stdout + done.stderr)
        if permission:
            raise NcuUnavailable(PERMISSION_HELP.format(code=permission.group(0)))
        kernels = parse_ncu_csv(done.stdout)
        if done.returncode != 0 or not kernels:
            raise NcuUnavailable(f"ncu exited with {done.returncode} and profiled {len(kernels)} kernels: "
                                 + (done.stderr.strip() or done.stdout.strip())[-2000:])
        stall = stall_metric(kernels)
        dropped = {line.removeprefix(DROPPED).strip().split(":")[0] for line in done.stdout.splitlines()
                   if line.startswith(DROPPED)}
        for line in done.stdout.splitlines():
            if line.startswith(DROPPED):
                print(f"{dtype}: {line.removeprefix(DROPPED).strip()}", file=sys.stderr)
        ran = [job for job in jobs if job[0] not in dropped]
        for (impl, direction), found in split_jobs(kernels, ran).items():
            for kernel in found:
                metrics = {key: kernel[key] for key in METRICS}
                milliseconds = kernel["duration_ns"] / 1e6
                gbps = kernel["dram_bytes_per_second"] / 1e9 if kernel["dram_bytes_per_second"] is not None else None
                records.append(Record(
                    kind="ncu", impl=impl, direction=direction, dtype=dtype, shape=list(shape),
                    median_ms=milliseconds, mean_ms=milliseconds, device=device_name(device), timing="ncu",
                    gbps=gbps, extra={"kernel": kernel["kernel"], "metrics": metrics, "stall_metric": stall}))
        progress.update()
    return records
