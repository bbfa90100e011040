"""Every input F.softsign takes, ours takes: every torch dtype × every layout × each device.
Where F.softsign returns, softsign_ext.softsign returns the same dtype, shape and layout, with
the values of F.softsign in float64 (to the dtype's tolerance); where F.softsign raises, ours
raises an error that says what softsign_ext supports. This matrix is docs/api.md's
supported-inputs table: the test checks the table against it (exactly under the torch release
that wrote it, cell by cell under another), and

    python tests/test_supported_inputs.py

writes the table into docs/api.md (the CPU's cells, and CUDA_CELLS where F.softsign does
otherwise on CUDA; the GPU check runs every cell on CUDA and asserts that the table holds)."""

import functools
import pathlib
import re
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from _helpers import DEVICES, assert_same_values, random_complex_input, random_input
from torch.testing._internal.common_dtype import all_types_and_complex_and

import softsign_ext

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "api.md"
# The table's first line names the torch release that wrote it: torch's own support for some
# inputs differs between releases (sparse CSR uint16 tensors, for one).
BEGIN = "<!-- supported-inputs: begin (tests/test_supported_inputs.py writes this table, torch {release}) -->"
END = "<!-- supported-inputs: end -->"
BLOCK = re.compile(re.escape(BEGIN).replace(re.escape("{release}"), r"(?P<release>\d+\.\d+)")
                   + r"\n(?P<table>.*?)\n" + re.escape(END), re.S)
TORCH_RELEASE = ".".join(torch.__version__.split(".")[:2])

FLOAT8_DTYPES = [getattr(torch, name) for name in dir(torch) if name.startswith("float8_")
                 and isinstance(getattr(torch, name), torch.dtype)]
DTYPES = sorted(set(all_types_and_complex_and(torch.half, torch.bfloat16, torch.bool, torch.complex32,
                                              torch.uint16, torch.uint32, torch.uint64, *FLOAT8_DTYPES)),
                key=lambda dtype: (re.sub(r"\d+", "", str(dtype)), dtype.itemsize, str(dtype)))


def _nested(layout):
    def build(x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the strided layout's "prototype stage" warning)
            return torch.nested.nested_tensor([x[:3], x[3:]], layout=layout)
    return build


LAYOUTS = {
    "strided": lambda x: x,
    "non-contiguous view": lambda x: x.t()[::2],
    "sparse COO": lambda x: x.to_sparse(),
    "sparse CSR": lambda x: x.to_sparse_csr(),
    "nested (strided)": _nested(torch.strided),
    "nested (jagged)": _nested(torch.jagged),
}


# Cells where F.softsign does otherwise on CUDA than on a CPU, and so do we: its CUDA
# kernels take bool (promoted) and complex32. The GPU check runs them.
CUDA_CELLS = {(dtype, layout): cell
              for dtype, cell in ((torch.bool, "✓ → float32"), (torch.complex32, "✓"))
              for layout in ("strided", "non-contiguous view", "nested (strided)", "nested (jagged)")}
# Both mean that no such input is taken: a cell may be either on one device and the other
# on another (torch builds some tensors on CUDA that it cannot build on a CPU).
UNSUPPORTED = {"✗", "n/a"}


def _values(dtype: torch.dtype, device: str) -> torch.Tensor:
    """An (8, 40) tensor of dtype: random values over many magnitudes, never all zeros."""
    if dtype.is_complex:
        return random_complex_input((8, 40), torch.complex128, device).to(dtype)
    if dtype == torch.bool:
        return torch.randint(0, 2, (8, 40), device=device).bool()
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        return torch.randint(max(info.min, -1000), min(info.max, 1000), (8, 40), device=device).to(dtype)
    return random_input((8, 40), torch.float64, device).to(dtype)


def _pieces(t: torch.Tensor):
    """The tensor's values as strided tensors (a nested tensor's components)."""
    return t.unbind() if t.is_nested else [t]


def _real_view(t: torch.Tensor) -> torch.Tensor:
    """A complex tensor as its parts (a real tensor with a last dimension of 2), so that
    each part is compared; a real tensor as it is."""
    return torch.view_as_real(t) if t.is_complex() else t


def _wide(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.complex128 if t.is_complex() else torch.float64)


@functools.lru_cache(maxsize=None)
def outcome(dtype: torch.dtype, layout: str, device: str) -> str:
    """Runs one cell, asserting that ours does what F.softsign does; returns what that is:
    "✓" (returns, same dtype), "✓ → <dtype>" (returns, promoted), "✗" (both raise) or
    "n/a" (torch cannot build that input)."""
    try:
        x = LAYOUTS[layout](_values(dtype, device))
    except (RuntimeError, TypeError):
        return "n/a"
    try:
        expected = F.softsign(x)
    except (RuntimeError, TypeError):
        with pytest.raises((RuntimeError, TypeError), match="softsign_ext supports"):
            softsign_ext.softsign(x)
        return "✗"
    result = softsign_ext.softsign(x)
    assert (result.dtype, result.layout, result.is_nested) == (expected.dtype, expected.layout, expected.is_nested)
    assert result.shape == expected.shape if not x.is_nested else len(_pieces(result)) == len(_pieces(x))
    for got, piece in zip(_pieces(result), _pieces(x), strict=True):
        assert got.shape == piece.shape
        assert_same_values(_real_view(got), _real_view(F.softsign(_wide(piece)).to(result.dtype)))
    return "✓" if result.dtype == dtype else f"✓ → {str(result.dtype).removeprefix('torch.')}"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_cell(dtype, layout, device):
    cell = outcome(dtype, layout, device)
    if device != "cpu":
        expected = CUDA_CELLS.get((dtype, layout), outcome(dtype, layout, "cpu"))
        assert cell == expected or {cell, expected} <= UNSUPPORTED, "docs/api.md's table does not hold on CUDA"


def table() -> str:
    """The matrix as a Markdown table, dtypes with the same row together."""
    rows: dict[tuple, list[str]] = {}
    for dtype in DTYPES:
        cells = tuple(outcome(dtype, layout, "cpu") + (f" (CUDA: {CUDA_CELLS[dtype, layout]})"
                                                       if (dtype, layout) in CUDA_CELLS else "")
                      for layout in LAYOUTS)
        rows.setdefault(cells, []).append(str(dtype).removeprefix("torch."))
    lines = ["| dtype | " + " | ".join(LAYOUTS) + " |", "|---" * (len(LAYOUTS) + 1) + "|"]
    lines += [f"| {', '.join(names)} | " + " | ".join(cells) + " |" for cells, names in rows.items()]
    return "\n".join(lines)


def _block() -> re.Match:
    block = BLOCK.search(DOC.read_text())
    assert block, f"{DOC} has no supported-inputs block"
    return block


def _doc_with(new_table: str) -> str:
    block, text = _block(), DOC.read_text()
    return text[:block.start()] + f"{BEGIN.format(release=TORCH_RELEASE)}\n{new_table}\n{END}" + text[block.end():]


def _cells(markdown: str) -> dict[tuple[str, str], str]:
    """{(dtype, layout): cell} of a table that table() wrote."""
    lines = markdown.splitlines()
    layouts = [name.strip() for name in lines[0].strip("|").split("|")[1:]]
    cells = {}
    for line in lines[2:]:
        names, *row = (cell.strip() for cell in line.strip("|").split("|"))
        cells.update({(dtype, layout): cell for dtype in names.split(", ") for layout, cell in zip(layouts, row)})
    return cells


def _meaning(cell: str) -> str:
    """What a cell says of the input being taken: ✗ and n/a both say it is not."""
    return "✗" if cell.split(" (CUDA")[0] in UNSUPPORTED else cell


def test_documented_table_is_the_matrix():
    block = _block()
    message = f"{DOC.name}'s supported-inputs table differs from the matrix; run python tests/test_supported_inputs.py"
    if block["release"] == TORCH_RELEASE:
        assert DOC.read_text() == _doc_with(table()), message
        return
    # Another torch release than the table's: the same inputs must be taken, and the same refused,
    # though where torch can build an input can differ (✗ for n/a).
    documented, measured = _cells(block["table"]), _cells(table())
    differing = {key: (documented[key], cell) for key, cell in measured.items()
                 if key in documented and _meaning(documented[key]) != _meaning(cell)}
    assert differing == {}, message


if __name__ == "__main__":
    DOC.write_text(_doc_with(table()))
    print(table(), file=sys.stderr)
