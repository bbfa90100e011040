"""ONNX: both of torch.onnx.export's exporters turn softsign_ext's functions and modules into
the standard ONNX Softsign operator, one node and no custom domain, with no step from the
user but importing softsign_ext; onnxruntime's outputs match nn.Softsign's export to the
dtype's tolerance, for a batch size other than the exported one (dynamic batch dimension).
Exported from CPU here, from CUDA too on a GPU machine; onnxruntime runs on the CPU."""

import warnings

import pytest
import torch
from _helpers import DEVICES, assert_same_values, random_input
from torch import nn

import softsign_ext
from softsign_ext.reference import softsign_reference

MISSING = softsign_ext.onnx.missing_onnx_packages()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} (in the test extra)")

EXPORTERS = [pytest.param(False, id="torchscript"), pytest.param(True, id="dynamo")]
ONNX_DTYPES = [torch.float32, torch.float16]


def _export(model, x, dynamo, path):
    """torch.onnx.export with a dynamic batch dimension; the path of the .onnx file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the TorchScript-based exporter's deprecation warning)
        if dynamo:
            torch.onnx.export(model, (x,), str(path), dynamo=True, verbose=False,
                              dynamic_shapes=({0: torch.export.Dim("batch")},))
        else:
            torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"],
                              dynamic_axes={"x": {0: "batch"}})
    return path


def _run(path, x):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.cpu().numpy()})[0])


def _nodes(path):
    import onnx

    return [(node.op_type, node.domain) for node in onnx.load(str(path)).graph.node]


def _mlp(dtype, device, activation, last_activation):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), activation, nn.Linear(32, 8), last_activation).to(device, dtype).eval()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ONNX_DTYPES)
@pytest.mark.parametrize("dynamo", EXPORTERS)
def test_mlp_exports_one_softsign_node_each(dynamo, dtype, device, tmp_path):
    ours = _mlp(dtype, device, softsign_ext.Softsign(), softsign_ext.Softsign(inplace=True))
    reference = _mlp(dtype, device, nn.Softsign(), nn.Softsign())
    x = random_input((4, 16), dtype, device, with_specials=False)
    path = _export(ours, x, dynamo, tmp_path / "ours.onnx")
    nodes = _nodes(path)
    assert [op for op, _ in nodes].count("Softsign") == 2, nodes
    assert {domain for _, domain in nodes} <= {"", "ai.onnx"}, nodes
    assert not {"Abs", "Div"} & {op for op, _ in nodes}, nodes
    reference_path = _export(reference, x, dynamo, tmp_path / "reference.onnx")
    for batch in (4, 11):
        x = random_input((batch, 16), dtype, device, with_specials=False)
        assert_same_values(_run(path, x), _run(reference_path, x))


@pytest.mark.parametrize("dtype", ONNX_DTYPES)
@pytest.mark.parametrize("dynamo", EXPORTERS)
def test_special_values_through_onnxruntime(dynamo, dtype, tmp_path):
    x = random_input((2, 300), dtype)  # inf, nan, -0.0, subnormals and huge values among them
    path = _export(softsign_ext.Softsign(), x, dynamo, tmp_path / "softsign.onnx")
    assert _nodes(path) == [("Softsign", "")]
    x = random_input((5, 300), dtype)
    assert_same_values(_run(path, x), softsign_reference(x))


@pytest.mark.parametrize("dynamo", EXPORTERS)
def test_integer_input_promotes_as_in_eager(dynamo, tmp_path):
    x = torch.randint(-50, 50, (3, 7))
    path = _export(softsign_ext.Softsign(), x, dynamo, tmp_path / "softsign.onnx")
    x = torch.randint(-50, 50, (6, 7))
    assert_same_values(_run(path, x), softsign_reference(x.to(torch.get_default_dtype())))


class _CallsTheOperator(nn.Module):
    def forward(self, x):
        return torch.ops.softsign_ext.softsign(x)


def test_operator_called_directly_exports_with_the_translation_table(tmp_path):
    x = random_input((3, 10), torch.float32, with_specials=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_CallsTheOperator(), (x,), str(tmp_path / "op.onnx"), dynamo=True,
                          custom_translation_table=softsign_ext.onnx.translation_table())
    assert _nodes(tmp_path / "op.onnx") == [("Softsign", "")]
    assert_same_values(_run(tmp_path / "op.onnx", x), softsign_reference(x))
