"""What ncu profiles (softsign_ext.bench.ncu runs this under ncu): every job of the Nsight
Compute section once unprofiled (compiles, autotunes, loads modules), then each once between
cudaProfilerStart and cudaProfilerStop, after a marker kernel that separates its kernels from
the next job's.

    python -m softsign_ext.bench.ncu_target --dtype float32 --shape 4096x393216 [--submission NAME=FILE]
"""

from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F

from ..functional import softsign, softsign_backward
from .kernelbench_timing import load_model_new
from .ncu import DROPPED


def calls(dtype: torch.dtype, shape: tuple[int, ...], device: torch.device, submissions: dict[str, str]):
    """(impl, direction): a call that runs it once on KernelBench's input (torch.rand) in dtype."""
    from ..kernelbench.triton_kernel import triton_softsign

    x = torch.rand(shape, device=device).to(dtype)
    grad = torch.rand(shape, device=device).to(dtype)
    compiled = torch.compile(F.softsign, dynamic=False)
    # A copy's traffic (one read and one write per element) in a kernel: x.clone() is a
    # cudaMemcpy, which ncu does not profile.
    found = {("copy", "forward"): lambda: torch.neg(x), ("softsign_ext", "forward"): lambda: softsign(x),
             ("softsign_ext", "backward"): lambda: softsign_backward(grad, x),
             ("compile", "forward"): lambda: compiled(x), ("eager", "forward"): lambda: F.softsign(x),
             ("triton", "forward"): lambda: triton_softsign(x)}
    for name, path in submissions.items():
        model = load_model_new(path)().to(device)
        found[(f"submission {name}", "forward")] = lambda model=model: model(x)
    return found


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m softsign_ext.bench.ncu_target")
    parser.add_argument("--dtype", required=True)
    parser.add_argument("--shape", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--submission", action="append", default=[], metavar="NAME=FILE")
    args = parser.parse_args(argv)
    shape = tuple(int(s) for s in args.shape.split("x"))
    submissions = dict(item.split("=", 1) for item in args.submission)
    device = torch.device(args.device)
    if device.index is not None:
        torch.cuda.set_device(device)
    jobs = calls(getattr(torch, args.dtype), shape, device, submissions)
    for job, call in list(jobs.items()):
        try:
            call()
        except Exception as error:  # a submission that fails in this dtype (its own bug) is left out
            print(f"{DROPPED} {job[0]}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            del jobs[job]
    torch.cuda.synchronize()
    cudart = torch.cuda.cudart()
    for job in jobs:
        cudart.cudaProfilerStart()
        torch.cuda._sleep(1000)  # the marker kernel
        result = jobs[job]()
        torch.cuda.synchronize()
        cudart.cudaProfilerStop()
        del result


if __name__ == "__main__":
    main(sys.argv[1:])
