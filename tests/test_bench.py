"""The benchmark's options and outputs, on tiny runs (on the CPU, and on CUDA where there
is a GPU): every record kind, the JSON fields benchmarks/README.md documents, and the
checks that refuse a wrong implementation."""

import json
import re
import subprocess
import sys
import pathlib
import types

import pytest
import torch

from _helpers import needs_cuda
from torch._dynamo.utils import counters

from softsign_ext.bench import bandwidth, cli, common, graphs, impls, onnx_runtime, report, small_calls, transforms
from softsign_ext.bench.bandwidth import measure_case
from softsign_ext.bench.cases import LAYOUTS, Case, make_input
from softsign_ext.bench.records import Record
from softsign_ext.onnx import missing_onnx_packages
import softsign_ext

# The fields benchmarks/README.md documents for every record.
FIELDS = {"kind", "impl", "direction", "dtype", "shape", "median_ms", "mean_ms", "gbps", "pct_of_copy",
          "peak_extra_bytes", "device", "timing", "layout", "torch_version", "extra"}


def _run(tmp_path, *extra):
    out = tmp_path / "bench.json"
    assert cli.main(["--device", "cpu", "--no-progress", "--json", str(out), *extra]) == 0
    records = json.loads(out.read_text())
    assert all(r.keys() == FIELDS for r in records)
    return records


def test_bandwidth_records_table_and_plot(tmp_path, capsys):
    png = tmp_path / "bench.png"
    records = _run(
        tmp_path, "--dtypes", "float32,bfloat16", "--shapes", "8x64", "--sweep", "10:12:2",
        "--impls", "copy,softsign_ext,eager", "--no-small-calls", "--plot", str(png),
    )
    assert {r["kind"] for r in records} == {"bandwidth"}
    assert {r["impl"] for r in records} == {"copy", "softsign_ext", "eager"}
    assert {r["direction"] for r in records} == {"forward", "backward", "fwd+bwd"}
    assert {tuple(r["shape"]) for r in records} == {(8, 64), (1024,), (4096,)}
    # 3 shapes x 2 dtypes x (copy + 2 impls x 3 directions)
    assert len(records) == 3 * 2 * 7
    for r in records:
        assert r["timing"] == "wall" and r["torch_version"] == torch.__version__
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = capsys.readouterr().out
    assert "float32 8x64: median of wall-clock time" in table and "% copy" in table
    assert "device time" not in table


def _fixed_times(times: dict[str, float]):
    """A stand-in for timing.time_calls: each call made once (as its warm-up does), then
    `times[key]` ms for every sample of the call under key."""
    def time_calls(calls, *args):
        for call in calls.values():
            call()
        return {key: [times[key]] * 3 for key in calls}
    return time_calls


def test_bandwidth_fields_from_known_timings(monkeypatch):
    """Fixed timings in, the derived fields out, against values worked out by hand."""
    times = {("copy", "forward"): 1.0, ("softsign_ext", "forward"): 2.0, ("eager", "forward"): 3.0,
             ("softsign_ext", "backward"): 4.0, ("eager", "backward"): 2.0}
    monkeypatch.setattr(bandwidth, "time_calls", _fixed_times(times))
    records = measure_case(Case((8, 64), "float32", ("forward", "backward")), ["copy", "softsign_ext", "eager"],
                           torch.device("cpu"), cli._NoProgress(), "wall")
    got = {(r.impl, r.direction): (r.gbps, r.pct_of_copy, r.extra.get("vs_eager")) for r in records}
    # 512 float32 elements: forward moves 2 x 2048 bytes, backward 3 x 2048.
    assert got == {
        ("copy", "forward"): (pytest.approx(4.096e-3), pytest.approx(100.0), pytest.approx(3.0)),
        ("softsign_ext", "forward"): (pytest.approx(2.048e-3), pytest.approx(50.0), pytest.approx(1.5)),
        ("eager", "forward"): (pytest.approx(4.096e-3 / 3), pytest.approx(100 / 3), pytest.approx(1.0)),
        ("softsign_ext", "backward"): (pytest.approx(1.536e-3), pytest.approx(37.5), pytest.approx(0.5)),
        ("eager", "backward"): (pytest.approx(3.072e-3), pytest.approx(75.0), pytest.approx(1.0)),
    }


def test_cpu_peak_memory_counts_the_output(tmp_path):
    records = _run(tmp_path, "--dtypes", "float32", "--shapes", "1024x1024", "--sweep", "", "--directions", "forward",
                   "--impls", "softsign_ext", "--no-small-calls")
    (record,) = records
    output_bytes = 1024 * 1024 * 4
    assert record["peak_extra_bytes"] == output_bytes  # the output, and no temporary


def test_compile_and_subsets(tmp_path):
    records = _run(tmp_path, "--dtypes", "float32", "--shapes", "4x256", "--sweep", "", "--directions", "forward",
                   "--impls", "softsign_ext,compile", "--no-small-calls")
    assert [(r["impl"], r["direction"]) for r in records] == [("softsign_ext", "forward"), ("compile", "forward")]
    assert records[0]["pct_of_copy"] is None  # no copy to compare with


def test_small_call_records(monkeypatch):
    monkeypatch.setattr(small_calls, "SMALL_CALLS_PER_ROUND", 20)
    records = small_calls.small_call_records(["softsign_ext"], torch.device("cpu"), cli._NoProgress())
    assert {r.impl for r in records} == {"softsign_ext", "torch.neg", "ModelNew()", "nn.Tanh()", "eager"}
    assert {tuple(r.shape) for r in records} == set(small_calls.SMALL_CALL_SHAPES)
    for r in records:
        assert (r.kind, r.direction, r.timing) == ("small_call", "forward", "wall")
        assert r.extra == {"calls_per_round": 20, "rounds": small_calls.SMALL_CALL_ROUNDS}


def test_kernelbench_records_store_mean_and_median(tmp_path, capsys):
    records = _run(tmp_path, "--kernelbench", "--shapes", "16x1024", "--trials", "3")
    # On a CPU: no generated submissions (they are CUDA code); a copy beside the models.
    assert [r["impl"] for r in records] == ["copy", "reference", "ModelNew", "compile(reference)"]
    for r in records:
        assert (r["kind"], r["direction"], r["dtype"], r["extra"]["trials"]) == ("kernelbench", "forward", "float32", 3)
        assert {"speedup_vs_reference", "std_ms"} <= r["extra"].keys() and r["pct_of_copy"] is not None
    assert "KernelBench protocol" in capsys.readouterr().out


def test_kernelbench_times_other_submissions_and_leaves_out_wrong_ones(tmp_path, capsys):
    model = "import torch\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return {}\n"
    (tmp_path / "right.py").write_text(model.format("x / (1 + x.abs())"))
    (tmp_path / "wrong.py").write_text(model.format("x / (2 + x.abs())"))
    records = _run(tmp_path, "--kernelbench", "--shapes", "16x1024", "--trials", "3",
                   "--submission", str(tmp_path / "right.py"), "--submission", f"theirs={tmp_path / 'wrong.py'}")
    assert [r["impl"] for r in records] == ["copy", "reference", "ModelNew", "compile(reference)", "right"]
    assert "theirs float32: failed, left out of the timing (AssertionError: theirs float32:" in capsys.readouterr().out


@needs_cuda
def test_kernelbench_on_cuda_also_keeps_device_timing(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["--device", "cuda", "--no-progress", "--kernelbench", "--shapes", "16x1024", "--trials", "3",
                     "--dtypes", "float32", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert [r["impl"] for r in records][:3] == ["copy", "reference", "ModelNew"]
    for r in records:
        assert r["timing"] == "launch" and {"device_mean_ms", "device_pct_of_copy"} <= r["extra"].keys()
    assert "device ms: the same trials in device time" in capsys.readouterr().out


def test_submission_needs_kernelbench(tmp_path, capsys):
    (tmp_path / "model.py").write_text("")
    with pytest.raises(SystemExit):
        cli.main(["--device", "cpu", "--submission", str(tmp_path / "model.py")])
    assert "--submission is timed by --kernelbench" in capsys.readouterr().err


def test_graph_records_and_plot(tmp_path, capsys, monkeypatch):
    png = tmp_path / "graphs.png"
    monkeypatch.setattr(common, "time_calls", _fixed_times({"nn.Softsign": 2.0, "softsign_ext": 1.0,
                                                           graphs.RECOMPILED: 2.5}))
    counters.clear()
    records = _run(tmp_path, "--graphs", "pointwise_chain,mlp_block", "--graph-modes", "eager,compile",
                   "--graph-shape", "8x32", "--dtypes", "float32", "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # 2 graphs x 2 directions x (2 impls in eager + 3 compiled: nn.Softsign's model again, the A/A),
    # wall-clock timing on a CPU
    assert len(records) == 20
    assert counters["stats"]["unique_graphs"] == 12  # each compiled model and direction compiled on its own
    assert {(r["kind"], r["timing"], tuple(r["shape"])) for r in records} == {("graph", "wall", (8, 32))}
    assert {(r["extra"]["graph"], r["extra"]["mode"], r["direction"], r["impl"]) for r in records} == {
        (g, m, d, i) for g in ("pointwise_chain", "mlp_block") for m in ("eager", "compile")
        for d in ("forward", "fwd+bwd") for i in ("nn.Softsign", "softsign_ext", graphs.RECOMPILED)
        if m == "compile" or i != graphs.RECOMPILED}
    assert {r["impl"]: r["extra"].get("vs_nn_softsign") for r in records} == {
        "nn.Softsign": None, "softsign_ext": 0.5, graphs.RECOMPILED: 1.25}
    table = capsys.readouterr().out
    assert "graph mlp_block, float32 8x32" in table and "ratio" in table and "A/A" in table


def test_graph_draws_compile_afresh_and_report_medians(tmp_path, capsys):
    """--graph-draws N: every compiled model is compiled again in each draw (eager is timed
    once), and the table's ratio is the median of the draws' ratios."""
    png = tmp_path / "graphs.png"
    counters.clear()
    records = _run(tmp_path, "--graphs", "linear", "--graph-modes", "eager,compile", "--graph-draws", "3",
                   "--directions", "forward", "--graph-shape", "4x8", "--dtypes", "float32", "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted((r["extra"]["mode"], r["extra"]["draw"]) for r in records) == sorted(
        [("eager", 0)] * 2 + [("compile", d) for d in range(3) for _ in range(3)])
    assert counters["stats"]["unique_graphs"] == 9  # three models, each draw compiling all three afresh
    ratios = [r["extra"]["vs_nn_softsign"] for r in records if r["impl"] == "softsign_ext" and r["extra"]["mode"] == "compile"]
    out = capsys.readouterr().out
    assert report.GRAPH_DRAWS_NOTE in out
    row = next(line for line in out.splitlines() if line.split()[:2] == ["compile", "forward"])
    assert row.split()[2] == "3"
    assert row.split()[5] == f"{sorted(ratios)[1]:.3f}"
    assert row.split()[7] == f"{min(ratios):.3f}-{max(ratios):.3f}"


def test_graph_table_lists_rows_mode_by_mode():
    """Joined files come section by section; the table still lists eager, then compile,
    forward before fwd+bwd."""
    records = [Record(kind="graph", impl=impl, direction=direction, dtype="float32", shape=[4, 8], median_ms=1.0,
                      mean_ms=1.0, device="cpu", timing="wall",
                      extra={"graph": "linear", "mode": mode, "vs_nn_softsign": 1.0})
               for mode, direction in (("compile", "fwd+bwd"), ("eager", "fwd+bwd"), ("compile", "forward"))
               for impl in ("nn.Softsign", "softsign_ext")]
    rows = [line.split()[:2] for line in report.format_table(records).splitlines() if line.startswith("  ")][1:]
    assert rows == [["eager", "fwd+bwd"], ["compile", "forward"], ["compile", "fwd+bwd"]]


def test_graph_table_reads_a_drawn_row_at_its_median():
    """Figures of a row drawn three times are medians, wherever the median draw sits."""
    def record(impl, draw, ms):  # nn.Softsign's time is 1 ms: a ratio is the time
        return Record(kind="graph", impl=impl, direction="forward", dtype="float32", shape=[4, 8], median_ms=ms,
                      mean_ms=ms, device="cpu", timing="wall", extra={"graph": "linear", "mode": "compile",
                                                                       "draw": draw, "vs_nn_softsign": ms})
    records = [record(impl, draw, ms) for draw, (ext, again) in enumerate([(1.2, 1.1), (1.0, 0.8), (0.9, 1.3)])
               for impl, ms in (("nn.Softsign", 1.0), ("softsign_ext", ext), (graphs.RECOMPILED, again))]
    row = next(line for line in report.format_table(records).splitlines() if "compile" in line).split()
    assert row[2:] == ["3", "1.0000", "1.0000", "1.000", "1.100", "0.900-1.200"]


@needs_cuda
def test_graphs_tune_each_compile_on_its_own(monkeypatch, tmp_path):
    """Under max-autotune each compiled model (nn.Softsign's, softsign_ext's and nn.Softsign's
    again, the A/A) tunes its own kernel: a compile that read another's tuned config would
    hide the autotuner's spread from the A/A."""
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner

    tuned = set()
    benchmark_all_configs = CachingAutotuner.benchmark_all_configs

    def recording(self, *args, **kwargs):
        tuned.add(id(self))
        return benchmark_all_configs(self, *args, **kwargs)

    monkeypatch.setattr(CachingAutotuner, "benchmark_all_configs", recording)
    counters.clear()
    records = _run(tmp_path, "--device", "cuda", "--graphs", "layer_norm_residual", "--graph-modes", "max-autotune",
                   "--directions", "forward", "--graph-shape", "1024x4096", "--dtypes", "float32", "--timing", "device")
    assert {r["impl"] for r in records} == {"nn.Softsign", "softsign_ext", graphs.RECOMPILED}
    assert counters["stats"]["unique_graphs"] == 3
    assert len(tuned) == 3


def test_an_interrupted_graph_run_keeps_what_it_measured(monkeypatch, tmp_path):
    """The JSON is written after every graph and dtype: a run stopped in the second dtype
    keeps the first's records."""
    out = tmp_path / "graphs.json"
    measured = graphs.graph_records

    def stopped_in_bfloat16(name, dtype, *args):
        if dtype == torch.bfloat16:
            raise KeyboardInterrupt
        return measured(name, dtype, *args)

    monkeypatch.setattr(cli, "graph_records", stopped_in_bfloat16)
    with pytest.raises(KeyboardInterrupt):
        cli.main(["--device", "cpu", "--no-progress", "--dtypes", "float32,bfloat16", "--graphs", "linear",
                  "--graph-modes", "eager", "--directions", "forward", "--graph-shape", "4x8", "--json", str(out)])
    records = json.loads(out.read_text())
    assert {(r["dtype"], r["direction"], r["impl"]) for r in records} == {
        ("float32", "forward", "nn.Softsign"), ("float32", "forward", "softsign_ext")}


BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("name", sorted(p.name for p in BENCHMARKS.glob("*.json")))
def test_committed_results_print_from_json(name, capsys):
    """Every committed result file still reads back as records and prints its tables: a row
    for every implementation it holds (an A/A as its column)."""
    assert cli.main(["--from-json", str(BENCHMARKS / name)]) == 0
    out = capsys.readouterr().out
    impls = {r["impl"] for r in json.loads((BENCHMARKS / name).read_text())}
    a_a = {graphs.RECOMPILED, transforms.AGAIN}
    assert [impl for impl in impls - a_a if impl not in out] == []
    assert not impls & a_a or "A/A" in out


def test_from_json_joins_runs(tmp_path, capsys):
    """--from-json joins the sections of a run split over calls: one file with every
    record, the joined tables and the plot."""
    first, second, joined, png = (tmp_path / n for n in ("linear.json", "mlp.json", "joined.json", "joined.png"))
    for name, out in (("linear", first), ("mlp_block", second)):
        cli.main(["--device", "cpu", "--no-progress", "--graphs", name, "--graph-modes", "eager", "--graph-shape", "4x8",
                  "--dtypes", "float32", "--directions", "forward", "--json", str(out)])
    capsys.readouterr()
    assert cli.main(["--from-json", str(first), "--from-json", str(second), "--json", str(joined),
                     "--plot", str(png)]) == 0
    assert json.loads(joined.read_text()) == json.loads(first.read_text()) + json.loads(second.read_text())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "graph linear, float32 4x8" in out and "graph mlp_block, float32 4x8" in out
    assert report.GRAPH_DRAWS_NOTE not in out  # two graphs, each drawn once


def test_from_json_measures_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["--from-json", str(tmp_path / "any.json"), "--graphs"])
    assert "--from-json reads records instead of measuring" in capsys.readouterr().err


def test_a_wrong_activation_fails_the_graph_check(monkeypatch):
    monkeypatch.setitem(graphs.ACTIVATIONS, "softsign_ext", torch.nn.Tanh)
    with pytest.raises(AssertionError, match="softsign_ext differs from nn.Softsign"):
        graphs.graph_records("linear", torch.float32, 0, ["eager"], torch.device("cpu"), (4, 8), ["wall"],
                             cli._NoProgress())


def test_progress_total_counts_every_update(tmp_path, monkeypatch):
    """The bar's total is derived from what will run: it ends exactly full."""
    bars = []

    class CountingBar(cli._NoProgress):
        def __init__(self, total):
            self.total, self.done = total, 0
            bars.append(self)

        def update(self, n=1):
            self.done += n

    monkeypatch.setattr(cli, "progress_bar", lambda total, enabled: CountingBar(total))
    monkeypatch.setattr(small_calls, "SMALL_CALLS_PER_ROUND", 2)
    monkeypatch.setattr(small_calls, "SMALL_CALL_ROUNDS", 2)
    cli.main(["--device", "cpu", "--dtypes", "float32", "--shapes", "4x64", "--sweep", "10", "--impls", "copy,softsign_ext,compile"])
    cli.main(["--device", "cpu", "--dtypes", "float32", "--graphs", "linear", "--graph-modes", "eager,compile",
              "--graph-draws", "2", "--graph-shape", "4x8"])
    first, second = bars
    assert first.done == first.total == 2 * (1 + 2 * 3) + 2 * 6
    assert second.done == second.total == 2 * (2 + 1)  # two directions; eager in the first draw only


def test_a_wrong_implementation_fails_the_check(monkeypatch):
    real = impls.forward_fn
    monkeypatch.setattr(impls, "forward_fn", lambda impl: torch.tanh if impl == "softsign_ext" else real(impl))
    with pytest.raises(AssertionError, match="softsign_ext forward"):
        measure_case(Case((64,), "float32", ("forward",)), ["softsign_ext"], torch.device("cpu"), cli._NoProgress(), "wall")


def test_a_wrong_gradient_fails_the_check():
    x = torch.rand(64)
    grad = torch.rand(64)
    with pytest.raises(AssertionError, match="eager backward"):
        impls.check("eager", "backward", x, grad, lambda: grad / (1 + x.abs()))


def test_records_refuse_unknown_kinds():
    with pytest.raises(ValueError, match="unknown record kind 'small-call'"):
        Record(kind="small-call", impl="x", direction="forward", dtype="float32", shape=[1], median_ms=1, mean_ms=1,
               gbps=None, pct_of_copy=None, peak_extra_bytes=None, device="cpu", timing="wall")


@pytest.mark.parametrize(
    "argv",
    [["--dtypes", "float8"], ["--timing", "device"], ["--shapes", "4096by4"], ["--shapes", "0x4"],
     ["--impls", "triton"], ["--sweep", "a:b"], ["--device", "tpu"], ["--graphs", "resnet"],
     ["--graphs", "--graph-shape", "4x4x4"], ["--graphs", "--graph-modes", "fast"],
     ["--graphs", "--directions", "backward"], ["--graphs", "--graph-draws", "0"], ["--trials", "x"]],
)
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--device", "cpu", *argv])
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_every_option_has_help():
    parser = cli.build_parser()
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help line"


def test_sweep_parsing():
    assert cli.parse_powers("10:31:3") == [10, 13, 16, 19, 22, 25, 28, 31]
    assert cli.parse_powers("10,20") == [10, 20]
    assert cli.parse_powers("") == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout, tmp_path):
    x = make_input((4, 96), torch.float32, torch.device("cpu"), layout)
    assert x.numel() == 4 * 96 and (x.dim() == 4) == (layout == "channels_last")
    assert x.is_contiguous() == (layout in ("contiguous", "misaligned"))
    assert (x.data_ptr() % 16 != 0) == (layout == "misaligned")
    records = _run(tmp_path, "--dtypes", "float32", "--shapes", "4x96", "--layouts", layout, "--sweep", "",
                   "--impls", "copy,softsign_ext", "--no-small-calls")
    assert {r["layout"] for r in records} == {layout} and len(records) == 4
    assert all(r["shape"] == [4, 96] for r in records)


needs_onnx = pytest.mark.skipif(bool(missing_onnx_packages()),
                                reason=f"needs {', '.join(missing_onnx_packages())} (in the test extra)")


@needs_onnx
def test_onnx_records(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(onnx_runtime, "SHAPES", {"mlp": (4, 16), "activation": (8, 32)})
    monkeypatch.setattr(common, "time_calls", _fixed_times({"nn.Softsign": 2.0, "softsign_ext": 1.0,
                                                               onnx_runtime.AGAIN: 2.5}))
    records = _run(tmp_path, "--onnx", "--dtypes", "float32")
    # 2 models x 2 exporters x (nn.Softsign, softsign_ext, nn.Softsign again: the A/A)
    assert {(r["extra"]["model"], r["extra"]["exporter"], r["impl"]) for r in records} == {
        (m, e, i) for m in onnx_runtime.SHAPES for e in onnx_runtime.EXPORTERS
        for i in ("nn.Softsign", "softsign_ext", onnx_runtime.AGAIN)} and len(records) == 12
    assert {r["impl"]: r["extra"].get("vs_nn_softsign") for r in records} == {
        "nn.Softsign": None, "softsign_ext": 0.5, onnx_runtime.AGAIN: 1.25}
    table = capsys.readouterr().out
    assert "onnxruntime (CPU), activation float32 8x32" in table and "torchscript" in table


@needs_onnx
def test_a_wrong_onnx_export_fails_the_check(monkeypatch):
    monkeypatch.setattr(onnx_runtime, "SHAPES", {"activation": (8, 32)})
    monkeypatch.setattr(onnx_runtime, "Softsign", torch.nn.Tanh)
    with pytest.raises(AssertionError, match="softsign_ext differs from nn.Softsign"):
        onnx_runtime.onnx_records([torch.float32], types.SimpleNamespace(update=lambda: None))


def test_transform_records(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(transforms, "CPU_SIZES", {"tensor": (4, 16), "mlp": (4, 8)})
    monkeypatch.setattr(common, "time_calls", _fixed_times({"F.softsign": 2.0, "softsign_ext": 1.0,
                                                               transforms.AGAIN: 2.5}))
    counters.clear()
    records = _run(tmp_path, "--transforms", "jvp,per_sample_grad")
    # 2 transforms x 2 modes x (F.softsign, softsign_ext, F.softsign again: the A/A)
    assert len(records) == 12
    assert {(r["extra"]["transform"], r["extra"]["mode"], r["impl"]) for r in records} == {
        (t, m, i) for t in ("jvp", "per_sample_grad") for m in transforms.TRANSFORM_MODES
        for i in ("F.softsign", "softsign_ext", transforms.AGAIN)}
    # Each compiled workload has a code object of its own: none is a recompile of another's.
    assert counters["stats"]["unique_graphs"] == 6
    assert not counters["recompiles"]
    assert {r["impl"]: r["extra"].get("vs_f_softsign") for r in records} == {
        "F.softsign": None, "softsign_ext": 0.5, transforms.AGAIN: 1.25}
    table = capsys.readouterr().out
    assert "transforms, float32 4x16" in table and "per_sample_grad" in table and "A/A" in table


@pytest.mark.parametrize("transform", transforms.TRANSFORMS)
def test_a_wrong_activation_fails_the_transform_check(transform, monkeypatch):
    monkeypatch.setattr(transforms, "CPU_SIZES", {"tensor": (4, 16), "mlp": (4, 8)})
    monkeypatch.setitem(transforms.ACTIVATIONS, "softsign_ext", (torch.tanh, torch.nn.Tanh))
    with pytest.raises(AssertionError, match="softsign_ext differs from F.softsign"):
        transforms.transform_records([transform], [torch.float32], torch.device("cpu"), "wall", cli._NoProgress())


def test_transform_draws_compile_afresh_and_report_medians(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(transforms, "CPU_SIZES", {"tensor": (4, 16), "mlp": (4, 8)})
    counters.clear()
    records = _run(tmp_path, "--transforms", "vmap", "--graph-draws", "3")
    assert sorted(r["extra"]["draw"] for r in records if r["impl"] == "softsign_ext") == [0, 0, 1, 1, 2, 2]
    assert counters["stats"]["unique_graphs"] == 9  # 3 draws x 3 compiled workloads, each afresh
    ratios = sorted(r["extra"]["vs_f_softsign"] for r in records
                    if r["impl"] == "softsign_ext" and r["extra"]["mode"] == "compile")
    row = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("vmap") and "compile" in line)
    assert row.split()[2] == "3" and f"{ratios[1]:.3f}" in row.split()[5]


def test_main_job_prints_only_its_own_lines_with_progress_into_a_log(tmp_path):
    # Output not a terminal, as in CI: a line per measurement on stderr and nothing else
    # there (no profiler logging from C++, no GPU query errors, no torch notices).
    done = subprocess.run(
        [sys.executable, "-m", "softsign_ext.bench", "--device", "cpu", "--dtypes", "float32", "--shapes", "64x64",
         "--directions", "forward", "--no-small-calls"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(re.fullmatch(r"\[\d+/\d+ done\] .+", line) for line in lines), done.stderr
    assert lines[0] == "[0/4 done] float32 64x64 contiguous"
    assert "float32 64x64" in done.stdout and "every implementation matched float64 math" in done.stdout
    # Its second line says what the build holds and why, as build_info does.
    assert done.stdout.splitlines()[1] == common.build_summary()
    assert softsign_ext.build_info["cuda_reason"] in done.stdout.splitlines()[1]


def test_every_row_and_column_of_the_main_tables_is_explained(monkeypatch):
    # A newcomer's run: each implementation a table shows, and each column, has a line in the
    # legend above the tables.
    monkeypatch.setattr(small_calls, "SMALL_CALLS_PER_ROUND", 2)
    device = torch.device("cpu")
    records = measure_case(Case((8, 64), "float32", ("forward", "backward")),
                           list(impls.IMPLS), device, cli._NoProgress(), "wall")
    records += small_calls.small_call_records(list(impls.IMPLS), device, cli._NoProgress())
    text = report.format_table(records)
    legend = "\n".join(report.LEGENDS.values())
    named = [impl for impl in dict.fromkeys(r.impl for r in records)
             if re.search(rf"(?<![\w.]){re.escape(impl)}(?!\w)", legend)]
    assert named == list(dict.fromkeys(r.impl for r in records))
    columns = re.search(r"direction impl +(.+)", text)[1].split("  ")
    assert [c.strip() for c in columns if c.strip() and c.strip() not in legend] == []
    assert "device" not in text.lower().replace("device timing", "")


# ------------------------------------------------------------ Nsight Compute --

NCU_SAMPLE = pathlib.Path(__file__).parent / "data" / "ncu_sample.csv"


def test_ncu_csv_is_parsed_kernel_by_kernel():
    from softsign_ext.bench import ncu
    kernels = ncu.parse_ncu_csv(NCU_SAMPLE.read_text())
    names = [k["kernel"] for k in kernels]
    assert len(names) == 7 and names[2].startswith("void softsign_ext::flat_kernel<4, 0, float, 1, ")
    assert names[6] == "triton_poi_fused_abs_add_div_0"
    forward = kernels[2]
    assert forward["dram_pct"] == 88.71 and forward["l2_hit_pct"] == 50.74 and forward["duration_ns"] == 3012928
    assert forward["dram_bytes_per_second"] == 4268600123202.41  # thousands separators read
    # H200: no memory-dependency counter (ncu leaves its column out), the long scoreboard instead
    assert forward["memory_dependency_stall_pct"] is None and forward["long_scoreboard_stall_pct"] == 89.89
    jobs = [("copy", "forward"), ("softsign_ext", "forward"), ("softsign_ext", "backward"), ("compile", "forward")]
    groups = ncu.split_jobs(kernels, jobs)
    assert groups[("copy", "forward")] == []  # a job that launched no kernel (this run's copy was x.clone(), a cudaMemcpy)
    assert [k["kernel"] for k in groups[("compile", "forward")]] == ["triton_poi_fused_abs_add_div_0"]
    with pytest.raises(RuntimeError, match="profiled 4 jobs where 5 ran"):
        ncu.split_jobs(kernels, jobs + [("eager", "forward")])
    assert ncu.stall_metric(kernels) == "long_scoreboard_stall_pct"
    kernels[2]["memory_dependency_stall_pct"] = 12.0  # a GPU that has the seed's counter
    assert ncu.stall_metric(kernels) == "memory_dependency_stall_pct"
    assert ncu.parse_ncu_csv("==PROF== no kernels were profiled\n") == []


def _fake_ncu(monkeypatch, stdout: str, returncode: int = 0):
    """ncu's output for any call, as ncu's subprocess would give it."""
    from softsign_ext.bench import ncu
    monkeypatch.setattr(ncu, "find_ncu", lambda: "/opt/ncu/ncu")
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, returncode, stdout, "")
    monkeypatch.setattr(ncu.subprocess, "run", run)
    monkeypatch.setattr(ncu, "JOBS", (("copy", "forward"), ("softsign_ext", "forward"), ("softsign_ext", "backward"),
                                      ("compile", "forward")))
    monkeypatch.setattr(ncu, "device_name", lambda device: "NVIDIA H100 80GB HBM3")
    return calls


def test_ncu_records_table_and_json(monkeypatch, tmp_path, capsys):
    from softsign_ext.bench import ncu
    calls = _fake_ncu(monkeypatch, NCU_SAMPLE.read_text())
    records = ncu.ncu_records(["float32"], (4096, 393216), torch.device("cuda"), {}, cli._NoProgress(), str(tmp_path))
    command = calls[0]
    assert "--clock-control" in command and command[command.index("--clock-control") + 1] == "none"
    assert (tmp_path / "ncu_float32.csv").read_text() == NCU_SAMPLE.read_text()
    assert [(r.kind, r.impl, r.direction) for r in records] == [
        ("ncu", "softsign_ext", "forward"), ("ncu", "softsign_ext", "backward"), ("ncu", "compile", "forward")]
    forward = records[0]
    assert forward.median_ms == pytest.approx(3.012928) and forward.gbps == pytest.approx(4268.60012320241)
    path = tmp_path / "ncu.json"
    from softsign_ext.bench.records import read_json, write_json
    write_json(records, str(path))
    assert cli.main(["--from-json", str(path)]) == 0
    table = capsys.readouterr().out
    assert "Nsight Compute, float32 4096x393216 on NVIDIA H100 80GB HBM3" in table
    row = next(line for line in table.splitlines() if line.strip().startswith("softsign_ext      forward"))
    assert row.split()[2] == "flat_kernel<SoftsignOp>"
    assert row.split()[-5:] == ["3.013", "4269", "88.7", "50.7", "89.9"]
    assert "stall %: smsp__warp_issue_stalled_long_scoreboard_per_warp_active.pct" in table
    assert read_json(str(path))[0].extra["metrics"]["dram_pct"] == 88.71


def test_ncu_table_joins_split_launches():
    # ATen splits a tensor of more than 2^31 bytes into several launches of one kernel.
    def record(kernel, ms):
        return report.Record(kind="ncu", impl="eager", direction="forward", dtype="float32", shape=[4, 4],
                             median_ms=ms, mean_ms=ms, device="GPU", timing="ncu", gbps=4000.0,
                             extra={"kernel": kernel, "stall_metric": "long_scoreboard_stall_pct",
                                    "metrics": {"dram_pct": 88.0, "l2_hit_pct": 50.0, "long_scoreboard_stall_pct": 80.0}})
    abs_kernel = "void native::vectorized_elementwise_kernel<4, native::AbsFunctor<float>, std::array<char *, 2>>(int)"
    # A lambda's kernel is named by the op that made it (the copy row's torch.neg, as ncu names it on an H100).
    neg_kernel = ("void native::vectorized_elementwise_kernel<4, native::neg_kernel_cuda(at::TensorIteratorBase &)::"
                  "[lambda() (instance 2)]::operator ()() const::[lambda(float) (instance 1)], std::array<char *, 2>>"
                  "(int, T2, T3)")
    table = report.format_table([record(abs_kernel, 0.75)] * 4 + [record("other", 1.0), record(neg_kernel, 0.5)])
    rows = [line for line in table.splitlines() if line.strip().startswith("eager")]
    assert [row.split()[2:5] for row in rows] == [["vectorized_elementwise_kernel<AbsFunctor>", "x4", "3.000"],
                                                  ["other", "1.000", "4000"],
                                                  ["vectorized_elementwise_kernel<neg>", "0.500", "4000"]]


def test_ncu_without_counters_says_why_in_one_line(monkeypatch, capsys):
    from softsign_ext.bench import ncu
    monkeypatch.setattr(cli, "parse_device", lambda text: torch.device("cuda"))
    monkeypatch.setattr(cli, "device_name", lambda device: "NVIDIA H100 80GB HBM3")
    _fake_ncu(monkeypatch, "==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU "
                           "Performance Counters on the target device 0.\n", returncode=1)
    assert cli.main(["--ncu", "--device", "cuda", "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert "Nsight Compute," not in out  # no table, not even an empty one
    assert len(err.strip().splitlines()) == 1
    assert "ERR_NVGPUCTRPERM" in err and "NVreg_RestrictProfilingToAdminUsers=0" in err
    monkeypatch.setattr(ncu, "find_ncu", lambda: (_ for _ in ()).throw(ncu.NcuUnavailable("ncu was not found")))
    assert cli.main(["--ncu", "--device", "cuda", "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == "python -m softsign_ext.bench --ncu: ncu was not found"


def test_find_ncu_names_where_it_looked(monkeypatch, tmp_path):
    from softsign_ext.bench import ncu
    monkeypatch.setattr(ncu.shutil, "which", lambda name: None)
    import torch.utils.cpp_extension as cpp_extension
    monkeypatch.setattr(cpp_extension, "CUDA_HOME", str(tmp_path))
    with pytest.raises(ncu.NcuUnavailable, match=f"{tmp_path}/bin/ncu"):
        ncu.find_ncu()
    (tmp_path / "nsight-compute-2025.3.1").mkdir()
    tool = tmp_path / "nsight-compute-2025.3.1" / "ncu"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert ncu.find_ncu() == str(tool)


# ----------------------------------------------------------------- ExecuTorch --


def test_executorch_section_without_executorch_says_what_to_do(capsys, monkeypatch):
    import importlib.util
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "executorch" else real_find_spec(name, *args))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--executorch", "--no-progress"])
    assert exit_info.value.code == 2
    assert "--executorch needs executorch: pip install executorch" in capsys.readouterr().err


def test_executorch_records_and_table(monkeypatch, capsys, tmp_path):
    pytest.importorskip("executorch", reason="executorch is not installed (CI's executorch step has it)")
    from softsign_ext.bench import executorch_runtime
    monkeypatch.setattr(executorch_runtime, "CASES", {"mlp": ("xnnpack", (8, 64)), "activation": ("portable", (4, 64))})
    wall = {"nn.Softsign": 2.0, executorch_runtime.CORE_ATEN: 2.0, executorch_runtime.KERNEL: 1.0,
            executorch_runtime.AGAIN: 2.5}
    monkeypatch.setattr(common, "time_calls", _fixed_times(wall))
    monkeypatch.setattr(executorch_runtime, "_execute_times",
                        lambda methods, x: {impl: [wall[impl] / 4] * 3 for impl in methods})
    records = executorch_runtime.executorch_records(cli._NoProgress())
    ratios = {"nn.Softsign": None, executorch_runtime.CORE_ATEN: 1.0, executorch_runtime.KERNEL: 0.5,
              executorch_runtime.AGAIN: 1.25}
    programs = {"mlp": ["nn.Softsign", "softsign_ext core ATen", "softsign_ext kernel", "nn.Softsign again"],
                "activation": ["nn.Softsign", "softsign_ext kernel", "nn.Softsign again"]}
    assert [(r.kind, r.extra["model"], r.timing, r.impl, r.extra.get("vs_nn_softsign")) for r in records] == [
        ("executorch", model, timing, impl, ratios[impl])
        for model, impls in programs.items() for timing in ("wall", "etdump") for impl in impls]
    assert [r.median_ms for r in records if r.timing == "etdump"] == [
        wall[impl] / 4 for impls in programs.values() for impl in impls]
    table = report.format_table(records)
    titles = [line.split(": median ms of ")[1] for line in table.splitlines() if line.startswith("ExecuTorch runtime")]
    assert [title.split(" (")[0] for title in titles] == ["wall-clock time", "ExecuTorch's own time of Method::execute"] * 2
    assert "softsign_ext kernel: lowered with softsign_ext.executorch.set_fused_kernel(True)" in table


def test_executorch_execute_times_come_from_etdump(monkeypatch):
    pytest.importorskip("executorch", reason="executorch is not installed (CI's executorch step has it)")
    from softsign_ext.bench import executorch_runtime
    monkeypatch.setattr(executorch_runtime, "ETDUMP_RUNS", 3)
    x = torch.randn(64, 64)
    methods = {impl: executorch_runtime._method(executorch_runtime._program_bytes(
                   executorch_runtime._model("activation", activation), x, "portable", fused), etdump=True)
               for impl, activation, fused in (("nn", torch.nn.Softsign, False), ("ours", softsign_ext.Softsign, True))}
    times = executorch_runtime._execute_times(methods, x)
    assert sorted(times) == ["nn", "ours"]
    assert all(len(runs) == 3 and all(t > 0 for t in runs) for runs in times.values())


def test_executorch_chain_case_applies_its_activations_in_a_row():
    from softsign_ext.bench import executorch_runtime
    x = torch.randn(4, 64)
    expected = x
    for _ in range(8):
        expected = torch.nn.functional.softsign(expected)
    for activation in (torch.nn.Softsign, softsign_ext.Softsign):
        torch.testing.assert_close(executorch_runtime._model("activation x8", activation)(x), expected)


def test_executorch_models_of_one_shape_get_a_table_each():
    def record(model, impl, ms):
        return report.Record(kind="executorch", impl=impl, direction="forward", dtype="float32", shape=[1024, 1024],
                             median_ms=ms, mean_ms=ms, device="CPU", timing="wall", gbps=None,
                             extra={"model": model, "backend": "portable", "threads": 2}
                             | ({} if impl == "nn.Softsign" else {"vs_nn_softsign": ms / 2.0}))
    table = report.format_table([record("activation", "nn.Softsign", 2.0), record("activation", "softsign_ext kernel", 1.0),
                                 record("activation x8", "nn.Softsign", 2.0),
                                 record("activation x8", "softsign_ext kernel", 0.5)])
    titles = [line for line in table.splitlines() if line.startswith("ExecuTorch runtime")]
    assert [t.split("threads), ")[1].split(" float32")[0] for t in titles] == ["activation", "activation x8"]
    assert [line.split()[-1] for line in table.splitlines() if line.strip().startswith("softsign_ext kernel")] == [
        "0.500", "0.250"]


def test_a_wrong_executorch_program_fails_the_check(monkeypatch):
    pytest.importorskip("executorch", reason="executorch is not installed (CI's executorch step has it)")
    from softsign_ext.bench import executorch_runtime
    monkeypatch.setattr(executorch_runtime, "CASES", {"activation": ("portable", (4, 64))})
    monkeypatch.setattr(executorch_runtime, "Softsign", torch.nn.Tanh)
    with pytest.raises(AssertionError, match="softsign_ext kernel differs from nn.Softsign"):
        executorch_runtime.executorch_records(cli._NoProgress())
