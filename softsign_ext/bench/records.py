"""One measurement, as printed and written to JSON (benchmarks/README.md describes the fields)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Optional

import torch

# What a record measures:
#   bandwidth    one impl in one direction on one tensor (GB/s, % of copy)
#   small_call   wall time per call of small tensors, back to back: host overhead
#   kernelbench  KernelBench's protocol: L2 flushed before each of `trials` calls
#   graph        a model or graph around softsign, eager or compiled
#   transform    softsign under a torch.func transform (jvp, vmap, ...), eager or compiled
#   onnx         a model exported to ONNX with nn.Softsign or softsign_ext, run by onnxruntime
#   ncu          one kernel's Nsight Compute counters (extra["metrics"]) in one profiled call
#   executorch   a model exported with nn.Softsign or softsign_ext, run by ExecuTorch's runtime
KINDS = ("bandwidth", "small_call", "kernelbench", "graph", "transform", "onnx", "ncu", "executorch")


@dataclass
class Record:
    kind: str
    impl: str
    direction: str
    dtype: str
    shape: list[int]
    median_ms: float
    mean_ms: float
    device: str
    timing: str  # a key of timing.TIMINGS
    gbps: Optional[float] = None
    pct_of_copy: Optional[float] = None
    peak_extra_bytes: Optional[int] = None
    layout: str = "contiguous"
    torch_version: str = torch.__version__
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown record kind {self.kind!r}; one of {KINDS}")

    @classmethod
    def from_samples(cls, samples: list[float], **fields) -> "Record":
        """A record of the median and mean of `samples` (ms per call) and the other fields."""
        return cls(median_ms=statistics.median(samples), mean_ms=statistics.fmean(samples), **fields)


def read_json(path: str) -> list[Record]:
    """The records of a file write_json wrote."""
    with open(path) as f:
        return [Record(**fields) for fields in json.load(f)]


def write_json(records: list[Record], path: str) -> None:
    with open(path, "w") as f:
        json.dump([asdict(r) for r in records], f, indent=1)
