"""The benchmark's options and outputs, on a tiny CPU run."""

import json

import pytest
import torch

from softsign_ext import bench


def _run(tmp_path, *extra):
    out = tmp_path / "bench.json"
    code = bench.main(["--device", "cpu", "--no-progress", "--json", str(out), *extra])
    assert code == 0
    return json.loads(out.read_text())


def test_tiny_sweep_writes_records_and_plot(tmp_path, capsys):
    png = tmp_path / "bench.png"
    records = _run(
        tmp_path, "--dtypes", "float32,bfloat16", "--shapes", "8x64", "--sweep", "10:12:2",
        "--impls", "copy,softsign_ext,eager", "--no-small-calls", "--plot", str(png),
    )
    fields = {"impl", "direction", "dtype", "shape", "median_ms", "gbps", "pct_of_copy", "peak_extra_bytes", "device",
              "timing", "torch_version"}
    assert all(fields <= r.keys() for r in records)
    assert {r["impl"] for r in records} == {"copy", "softsign_ext", "eager"}
    assert {r["direction"] for r in records} == {"forward", "backward", "fwd+bwd"}
    assert {tuple(r["shape"]) for r in records} == {(8, 64), (1024,), (4096,)}
    # 3 shapes x 2 dtypes x (copy + 2 impls x 3 directions)
    assert len(records) == 3 * 2 * 7
    for r in records:
        assert r["median_ms"] > 0 and r["gbps"] > 0 and r["torch_version"] == torch.__version__
        assert r["peak_extra_bytes"] is None  # measured on CUDA only
        assert r["timing"] == "host"
        if r["impl"] == "copy":
            assert r["pct_of_copy"] == pytest.approx(100)
        else:
            assert r["extra"]["vs_eager"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = capsys.readouterr().out
    assert "float32 8x64" in table and "% copy" in table


def test_compile_and_subsets(tmp_path):
    records = _run(tmp_path, "--dtypes", "float32", "--shapes", "4x256", "--sweep", "", "--directions", "forward",
                   "--impls", "softsign_ext,compile", "--no-small-calls", "--timing", "launch")
    assert [(r["impl"], r["direction"]) for r in records] == [("softsign_ext", "forward"), ("compile", "forward")]
    assert records[0]["pct_of_copy"] is None  # no copy to compare with
    assert records[0]["extra"]["vs_compile"] == pytest.approx(records[1]["median_ms"] / records[0]["median_ms"])


def test_small_calls(monkeypatch):
    monkeypatch.setattr(bench, "SMALL_CALLS_PER_ROUND", 20)
    records = bench.small_call_records(["softsign_ext"], torch.device("cpu"), bench._NoProgress())
    assert {r.impl for r in records} == {"softsign_ext", "torch.neg", "ModelNew()", "nn.Tanh()", "eager"}
    assert {tuple(r.shape) for r in records} == set(bench.SMALL_CALL_SHAPES)
    assert all(r.direction == "small-call" and r.median_ms > 0 and r.timing == "wall" for r in records)


def test_kernelbench_mode(tmp_path, capsys):
    records = _run(tmp_path, "--kernelbench", "--shapes", "16x1024", "--trials", "3")
    assert [r["impl"] for r in records] == ["reference", "ModelNew", "compile(reference)"]
    assert all(r["direction"] == "kernelbench" and r["extra"]["trials"] == 3 for r in records)
    assert records[0]["extra"]["speedup_vs_reference"] == 1
    assert "KernelBench protocol" in capsys.readouterr().out


def test_a_wrong_implementation_fails_the_check(monkeypatch):
    real = bench.forward_fn
    monkeypatch.setattr(bench, "forward_fn", lambda impl: torch.tanh if impl == "softsign_ext" else real(impl))
    with pytest.raises(AssertionError, match="softsign_ext forward"):
        bench.measure_case(bench.Case((64,), "float32", ("forward",)), ["softsign_ext"], torch.device("cpu"), bench._NoProgress())


@pytest.mark.parametrize(
    "argv",
    [["--dtypes", "float8"], ["--timing", "wall"], ["--shapes", "4096by4"], ["--shapes", "0x4"], ["--impls", "triton"], ["--sweep", "a:b"]],
)
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--device", "cpu", *argv])
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_sweep_parsing():
    assert bench.parse_powers("10:31:3") == [10, 13, 16, 19, 22, 25, 28, 31]
    assert bench.parse_powers("10,20") == [10, 20]
    assert bench.parse_powers("") == []


@pytest.mark.parametrize("layout", bench.LAYOUTS)
def test_layouts(layout, tmp_path):
    x = bench.make_input((4, 96), torch.float32, torch.device("cpu"), layout)
    assert x.numel() == 4 * 96 and (x.dim() == 4) == (layout == "channels_last")
    assert x.is_contiguous() == (layout in ("contiguous", "misaligned"))
    assert (x.data_ptr() % 16 != 0) == (layout == "misaligned")
    records = _run(tmp_path, "--dtypes", "float32", "--shapes", "4x96", "--layouts", layout, "--sweep", "",
                   "--impls", "copy,softsign_ext", "--no-small-calls")
    assert {r["layout"] for r in records} == {layout} and len(records) == 4
    assert all(r["shape"] == [4, 96] for r in records)
