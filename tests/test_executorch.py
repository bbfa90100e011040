"""ExecuTorch (softsign_ext.executorch): a model with softsign_ext exported to a .pte program
runs in ExecuTorch's runtime, from Python and from a C++ program (tests/executorch_cpp/), in
both forms (core ATen, the default, for every runtime and delegate; softsign_ext's fused
kernel, with set_fused_kernel), portable and with XNNPACK, at two batch sizes of one
dynamic-batch export, with eager's outputs. These tests need executorch (and softsign_ext
built where it is installed); CI runs them in .ci/run's executorch step, with executorch's
own torch."""

import os
import platform
import shutil
import subprocess
import sys
import textwrap
import types

import pytest
import torch
from _helpers import bits, cmake_program, random_input
from torch import nn

pytest.importorskip("executorch", reason="executorch is not installed (pip install executorch; CI runs these tests "
                                         "in .ci/run's executorch step)")
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner  # noqa: E402
from executorch.exir import to_edge, to_edge_transform_and_lower  # noqa: E402
from executorch.runtime import Runtime  # noqa: E402

import softsign_ext  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(__file__), "executorch_cpp")
FORMS = ("core_aten", "kernel")  # the default, and set_fused_kernel(True)
BACKENDS = ("portable", "xnnpack")
BATCHES = (4, 256)


def _mlp(activation) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), activation(), nn.Linear(64, 8), activation()).eval()


class _Activation(nn.Module):
    """softsign_ext.softsign alone, as a function call."""

    def forward(self, x):
        return softsign_ext.softsign(x)


def _calls(edge) -> list[str]:
    """The operators an edge program calls, in order (delegate calls as executorch_call_delegate)."""
    return [node.target.__name__ for node in edge.exported_program().graph.nodes
            if node.op == "call_function" and node.target.__name__ != "getitem"]


def _program(model: nn.Module, x: torch.Tensor, form: str, backend: str, dynamic_batch: bool = True):
    """The operators the program of `model` in `form` for `backend` calls, and its .pte bytes."""
    shapes = ({0: torch.export.Dim("batch", min=1, max=1024)},) if dynamic_batch else None
    exported = torch.export.export(model, (x,), dynamic_shapes=shapes)
    with softsign_ext.executorch.fused_kernel(form == "kernel"):
        edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()] if backend == "xnnpack" else [])
    return _calls(edge), edge.to_executorch().buffer


def _run(program: bytes, x: torch.Tensor) -> torch.Tensor:
    return Runtime.get().load_program(program).load_method("forward").execute([x])[0]


def test_this_build_has_the_kernel():
    # executorch is installed, so the build includes its kernel (setup.py's executorch_plan).
    assert softsign_ext.executorch.kernels_built(), softsign_ext.build_info["executorch_reason"]
    assert softsign_ext.build_info["executorch"] is not None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", FORMS)
def test_model_runs_in_the_python_runtime_with_eager_outputs(form, backend):
    model = _mlp(softsign_ext.Softsign)
    x = random_input((max(BATCHES), 64), torch.float32, with_specials=False)
    _calls, program = _program(model, x[:BATCHES[0]], form, backend)
    for batch in BATCHES:  # one export with a dynamic batch
        with torch.no_grad():
            expected = model(x[:batch])
        torch.testing.assert_close(_run(program, x[:batch]), expected)


@pytest.mark.parametrize("form", FORMS)
def test_what_each_form_calls(form):
    x = torch.randn(4, 64)
    ours = {backend: _program(_mlp(softsign_ext.Softsign), x, form, backend)[0] for backend in BACKENDS}
    theirs = {backend: _program(_mlp(nn.Softsign), x, "core_aten", backend)[0] for backend in BACKENDS}
    if form == "kernel":
        # One fused kernel per activation where nn.Softsign's program makes abs, add and div;
        # with XNNPACK, the kernel between delegate calls.
        activation = ("softsign_ext.softsign.default", "aten.abs.default", "aten.add.Tensor", "aten.div.Tensor")
        assert [c for c in ours["portable"] if c in activation] == ["softsign_ext.softsign.default"] * 2
        assert [c for c in theirs["portable"] if c in activation] == list(activation[1:]) * 2
        assert ours["xnnpack"] == ["executorch_call_delegate", "softsign_ext.softsign.default"] * 2
    else:
        # nn.Softsign's program exactly: XNNPACK takes the whole model in one call.
        assert ours == theirs
        assert ours["xnnpack"].count("executorch_call_delegate") == 1


@pytest.mark.parametrize("form", FORMS)
def test_to_edge_lowers_as_to_edge_transform_and_lower(form):
    # ExecuTorch's other lowering entry point takes the same decomposition table.
    model, x = _mlp(softsign_ext.Softsign), torch.randn(4, 64)
    exported = torch.export.export(model, (x,))
    with softsign_ext.executorch.fused_kernel(form == "kernel"):
        edge = to_edge(exported)
    assert _calls(edge) == _program(model, x, form, "portable", dynamic_batch=False)[0]
    torch.testing.assert_close(_run(edge.to_executorch().buffer, x), model(x))


@pytest.mark.parametrize("first", ["softsign_ext", "executorch.exir"])
def test_the_default_is_core_aten_whichever_is_imported_first(first):
    # softsign_ext adds its decomposition to ExecuTorch's lowering when that is imported, or at
    # its own import where ExecuTorch's came first (the lowering's modules then hold the table
    # function by name already). A fresh interpreter, so that neither is imported yet.
    second = "executorch.exir" if first == "softsign_ext" else "softsign_ext"
    code = textwrap.dedent(f"""
        import {first}, {second}
        import torch, softsign_ext
        from executorch.exir import to_edge, to_edge_transform_and_lower
        for lower in (to_edge, to_edge_transform_and_lower):
            for module in (softsign_ext.Softsign(), torch.nn.Softsign()):
                edge = lower(torch.export.export(module, (torch.randn(8),)))
                print(*[n.target.__name__ for n in edge.exported_program().graph.nodes if n.op == "call_function"])
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    ours_to_edge, theirs_to_edge, ours, theirs = done.stdout.splitlines()
    assert (ours_to_edge, ours) == (theirs_to_edge, theirs)  # nn.Softsign's programs


def test_fused_kernel_setting():
    executorch = softsign_ext.executorch
    assert not executorch.fused_kernel_enabled()  # the default
    assert executorch.set_fused_kernel(True) is False
    try:
        assert executorch.fused_kernel_enabled()
        with executorch.fused_kernel(False):
            assert not executorch.fused_kernel_enabled()
        assert executorch.fused_kernel_enabled()
    finally:
        assert executorch.set_fused_kernel(False) is True
    with pytest.raises(ValueError), executorch.fused_kernel():
        raise ValueError  # the block's error passes through, and the setting comes back
    assert not executorch.fused_kernel_enabled()
    with pytest.raises(TypeError, match="takes True or False"):
        executorch.set_fused_kernel(1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
def test_fused_kernel_gives_the_cpu_kernels_bits(dtype):
    x = random_input((4096,), dtype)  # special values included
    _calls, program = _program(_Activation(), x, "kernel", "portable", dynamic_batch=False)
    result, expected = _run(program, x), softsign_ext.softsign(x)
    assert result.dtype == dtype
    nan = expected.isnan()
    assert torch.equal(result.isnan(), nan)  # (a NaN's payload may differ, as between CPU builds)
    assert torch.equal(bits(result[~nan]), bits(expected[~nan]))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_core_aten_form_takes_half_types(dtype, backend):
    x = random_input((64, 32), dtype, with_specials=False)
    _calls, program = _program(_Activation(), x, "core_aten", backend, dynamic_batch=False)
    torch.testing.assert_close(_run(program, x), torch.nn.functional.softsign(x))


def test_fused_kernel_promotes_integer_inputs():
    x = torch.randint(-1000, 1000, (300,), dtype=torch.int32)
    _calls, program = _program(_Activation(), x, "kernel", "portable", dynamic_batch=False)
    assert torch.equal(_run(program, x), softsign_ext.softsign(x))


def test_kernel_library_needs_no_torch():
    needed = subprocess.run(["readelf", "-d", softsign_ext.executorch.kernel_library_path], capture_output=True,
                            text=True, check=True).stdout
    assert "libexecutorch.so" in needed
    assert [line for line in needed.splitlines() if "NEEDED" in line and ("[libtorch" in line or "[libc10" in line)] == []


def test_a_build_without_the_kernel_refuses_the_fused_form_at_export(monkeypatch):
    monkeypatch.setattr(softsign_ext.executorch, "kernel_library_path", None)
    monkeypatch.setattr(softsign_ext.executorch, "_loaded", None)
    with pytest.raises(RuntimeError, match=r"(?s)without its ExecuTorch kernel.*set_fused_kernel off"):
        softsign_ext.executorch.set_fused_kernel(True)
    assert not softsign_ext.executorch.fused_kernel_enabled()
    # The default form needs no kernel of softsign_ext's.
    assert "softsign_ext.softsign.default" not in _program(_Activation(), torch.randn(8), "core_aten", "portable", dynamic_batch=False)[0]


@pytest.mark.parametrize("form", FORMS)
def test_complex_inputs_are_refused_at_export_as_nn_softsigns(form):
    # ExecuTorch's kernels take no complex abs, nor does softsign_ext's: lowering refuses the
    # program, in either form, as it refuses nn.Softsign's, rather than a program that fails
    # on the device.
    x = torch.randn(64, dtype=torch.complex64)
    errors = []
    for model, model_form in ((nn.Softsign(), "core_aten"), (_Activation(), form)):
        with pytest.raises(Exception) as error:
            _program(model, x, model_form, "portable", dynamic_batch=False)
        errors.append((type(error.value), str(error.value).split("\n")[0]))
    assert errors[1] == errors[0]


def test_to_core_aten_gives_nn_softsigns_exported_program():
    # For consumers of exported programs other than ExecuTorch's lowering.
    x = torch.randn(4, 64)
    model = _mlp(softsign_ext.Softsign)
    ours = softsign_ext.executorch.to_core_aten(torch.export.export(model, (x,)))
    theirs = torch.export.export(_mlp(nn.Softsign), (x,))
    assert ([str(n.target) for n in ours.graph.nodes if n.op == "call_function"]
            == [str(n.target) for n in theirs.graph.nodes if n.op == "call_function"])
    torch.testing.assert_close(ours.module()(x), model(x))


def test_an_executorch_without_the_table_function_gets_a_warning():
    tracer = types.ModuleType(softsign_ext.executorch.TABLE_MODULES[0])
    with pytest.warns(UserWarning, match=r"cannot add its decomposition to ExecuTorch's lowering.*to_core_aten"):
        softsign_ext.executorch._add_decompositions(tracer)


def test_a_kernel_built_against_another_executorch_is_refused(monkeypatch):
    monkeypatch.setattr(softsign_ext.executorch, "_loaded", None)
    monkeypatch.setitem(softsign_ext.executorch.build_info, "executorch", "0.0.1")
    with pytest.raises(RuntimeError, match=r"built against executorch 0\.0\.1, but executorch .* is installed"):
        softsign_ext.executorch.load_kernels()


@pytest.fixture(scope="module")
def cpp_program(tmp_path_factory):
    import executorch
    return cmake_program(EXAMPLE, tmp_path_factory.mktemp("executorch_cpp_build"), "run_program",
                         CMAKE_PREFIX_PATH=executorch.__path__[0],
                         SOFTSIGN_EXT_EXECUTORCH_LIBRARY=softsign_ext.executorch.kernel_library_path)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", FORMS)
def test_cpp_program_runs_the_programs(cpp_program, form, backend, tmp_path):
    model = _mlp(softsign_ext.Softsign)
    x = random_input((max(BATCHES), 64), torch.float32, with_specials=False)
    _calls, program = _program(model, x[:BATCHES[0]], form, backend)
    (tmp_path / "model.pte").write_bytes(program)
    env = {**os.environ, "PYTHONPATH": ""}  # (nothing of Python runs in the program)
    for batch in BATCHES:
        x[:batch].numpy().tofile(tmp_path / "input.bin")
        done = subprocess.run([str(cpp_program), str(tmp_path / "model.pte"), str(batch), "64",
                               str(tmp_path / "input.bin"), str(tmp_path / "output.bin")],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.split() == [str(batch), "8"]
        result = torch.from_file(str(tmp_path / "output.bin"), size=batch * 8, dtype=torch.float32).reshape(batch, 8)
        with torch.no_grad():
            torch.testing.assert_close(result, model(x[:batch]))



@pytest.mark.skipif(platform.machine() != "x86_64", reason="the per-instruction-set builds are x86-64's")
@pytest.mark.parametrize("cpu", [None, "Nehalem", "Haswell"],
                         ids=["this-cpu", "baseline-on-emulated-Nehalem", "x86-64-v3-on-emulated-Haswell"])
def test_each_instruction_set_build_gives_the_cpu_kernels_bits(cpp_program, cpu, tmp_path):
    # The kernel's loop is compiled for the baseline, x86-64-v3 and x86-64-v4, and the loader
    # picks the widest the CPU has: this CPU's own, then qemu-user's emulated Nehalem (no AVX)
    # and Haswell (AVX2, no AVX-512) make it pick the other two. The C++ program needs no
    # Python, so it runs whole under emulation.
    runner = []
    if cpu is not None:
        qemu = shutil.which("qemu-x86_64-static")
        if qemu is None:
            pytest.skip("no qemu-x86_64-static (Debian: apt-get install qemu-user-static; CI's executorch step has it)")
        runner = [qemu, "-cpu", cpu]
    x = random_input((256, 64), torch.float32)  # special values included
    _calls, program = _program(_Activation(), x, "kernel", "portable", dynamic_batch=False)
    (tmp_path / "model.pte").write_bytes(program)
    x.numpy().tofile(tmp_path / "input.bin")
    done = subprocess.run([*runner, str(cpp_program), str(tmp_path / "model.pte"), "256", "64",
                           str(tmp_path / "input.bin"), str(tmp_path / "output.bin")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = torch.from_file(str(tmp_path / "output.bin"), size=x.numel(), dtype=torch.float32).reshape(x.shape)
    expected = softsign_ext.softsign(x)
    nan = expected.isnan()
    assert torch.equal(result.isnan(), nan)
    assert torch.equal(bits(result[~nan]), bits(expected[~nan]))
