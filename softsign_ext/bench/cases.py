"""What the bandwidth section measures: dtypes, shapes, layouts, directions, and whether
a case fits in the device's memory."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch

from .._library import SUPPORTED_DTYPES
from .common import dtype_name, format_shape

KERNELBENCH_SHAPE = (4096, 393216)
DTYPES = {dtype_name(dtype): dtype for dtype in SUPPORTED_DTYPES}
DIRECTIONS = ("forward", "backward", "fwd+bwd")
LAYOUTS = ("contiguous", "channels_last", "transposed", "misaligned", "row_slice", "strided")
# Tensors of the input's size each direction reads plus writes once.
TENSORS_MOVED = {"forward": 2, "backward": 3, "fwd+bwd": 5}
# Tensors of the input's size alive at once in the hungriest impl (eager's temporaries and
# saved tensors, the grads), with one of slack.
TENSORS_IN_FLIGHT = {"forward": 5, "backward": 8, "fwd+bwd": 8}
# Share of free memory the benchmark lets itself use.
MEMORY_SHARE = 0.8


@dataclass
class Case:
    shape: tuple[int, ...]
    dtype: str
    directions: tuple[str, ...]
    layout: str = "contiguous"

    def label(self) -> str:
        return f"{self.dtype} {format_shape(self.shape)} {self.layout}"


def free_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("cannot read MemAvailable from /proc/meminfo")


def fits(numel: int, dtype: torch.dtype, direction: str, device: torch.device) -> bool:
    need = TENSORS_IN_FLIGHT[direction] * numel * dtype.itemsize
    return need <= MEMORY_SHARE * free_memory_bytes(device)


def make_input(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device, layout: str) -> torch.Tensor:
    """torch.rand values (as KernelBench makes its inputs) of `shape`, laid out as asked:
    channels_last views ROWSxCOLS as (ROWS, 3, COLS/48, 16) with the 3 channels innermost;
    transposed is the transpose of a contiguous COLSxROWS tensor; misaligned starts one
    element past a 16-byte boundary. Not dense: row_slice is the first COLS columns of a
    ROWSx(COLS+64) tensor, strided every other column of a ROWSx(2*COLS) one."""
    if layout == "contiguous":
        return torch.rand(shape, dtype=dtype, device=device)
    if len(shape) != 2:
        raise ValueError(f"layout {layout!r} needs a ROWSxCOLS shape, not {shape}")
    rows, cols = shape
    if layout == "channels_last":
        if cols % 48:
            raise ValueError(f"layout channels_last needs COLS divisible by 48, not {cols}")
        return torch.rand(rows, cols // 48, 16, 3, dtype=dtype, device=device).permute(0, 3, 1, 2)
    if layout == "transposed":
        return torch.rand(cols, rows, dtype=dtype, device=device).t()
    if layout == "misaligned":
        return torch.rand(rows * cols + 1, dtype=dtype, device=device)[1:].view(rows, cols)
    if layout == "row_slice":
        return torch.rand(rows, cols + 64, dtype=dtype, device=device)[:, :cols]
    if layout == "strided":
        return torch.rand(rows, 2 * cols, dtype=dtype, device=device)[:, ::2]
    raise ValueError(f"unknown layout {layout!r}; choose from {LAYOUTS}")


def default_cases(
    device: torch.device,
    dtypes: list[str],
    sweep: list[int],
    shapes: list[tuple[int, ...]],
    layouts: list[str],
    directions: list[str],
) -> list[Case]:
    """Every dtype at every shape (each layout) and sweep size (contiguous), in the wanted
    directions that fit in memory."""
    cases = []
    for dtype in dtypes:
        for shape, layout in [(s, l) for s in shapes for l in layouts] + [((2**k,), "contiguous") for k in sweep]:
            numel = torch.Size(shape).numel()
            fitting = tuple(d for d in directions if fits(numel, DTYPES[dtype], d, device))
            if fitting:
                cases.append(Case(tuple(shape), dtype, fitting, layout))
            else:
                print(f"note: skipping {dtype} {format_shape(shape)}: does not fit in memory", file=sys.stderr)
    return cases
