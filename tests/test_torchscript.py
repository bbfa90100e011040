"""TorchScript: softsign_ext's functions and modules script (to the operators themselves) and
trace; scripted and traced models save, load and run in a process that loads only the
operator library (torch.ops.load_library), not the Python package. CPU here, CUDA on a GPU
machine."""

import subprocess
import sys

import pytest
import torch
from _helpers import DEVICES, FLOAT_DTYPES, assert_same_values, random_input
from torch import nn

import softsign_ext
from softsign_ext.reference import softsign_grad_reference, softsign_reference


def _models():
    return {
        "Softsign": softsign_ext.Softsign(),
        "Softsign_inplace": softsign_ext.Softsign(inplace=True),
        "ModelNew": softsign_ext.ModelNew(),
        "Sequential": nn.Sequential(softsign_ext.Softsign(), nn.Sequential(softsign_ext.ModelNew())),
    }


def _operators(block) -> list[str]:
    """The softsign_ext operators a TorchScript graph calls, nested blocks included, in order."""
    found = []
    for node in block.nodes():
        if node.kind().startswith("softsign_ext::"):
            found.append(node.kind())
        for inner in node.blocks():
            found += _operators(inner)
    return found


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(_models()))
def test_scripted_modules_call_the_operator(name, dtype, device):
    scripted = torch.jit.script(_models()[name].eval())
    # Frozen, the module's `inplace` is a constant and only the branch taken is left.
    frozen = torch.jit.freeze(scripted).graph
    expected_calls = {"Softsign_inplace": ["softsign_ext::softsign_"], "Sequential": ["softsign_ext::softsign"] * 2}
    assert _operators(frozen) == expected_calls.get(name, ["softsign_ext::softsign"]), frozen
    x = random_input((37, 19), dtype, device)
    # Sequential applies softsign twice.
    expected = softsign_reference(softsign_reference(x)) if name == "Sequential" else softsign_reference(x)
    assert_same_values(scripted(x.clone()), expected)


def _scripted_calls(x: torch.Tensor, out: torch.Tensor, grad: torch.Tensor):
    y = softsign_ext.softsign(x)
    softsign_ext.softsign(x, out=out)
    z = softsign_ext.softsign_(x.clone())
    return y, z, softsign_ext.softsign_backward(grad, x)


@pytest.mark.parametrize("device", DEVICES)
def test_functions_called_in_scripted_code(device):
    scripted = torch.jit.script(_scripted_calls)
    assert _operators(scripted.graph) == ["softsign_ext::softsign", "softsign_ext::softsign",
                                          "softsign_ext::softsign_", "softsign_ext::softsign_backward"]
    x = random_input((100,), torch.float32, device)
    grad = random_input((100,), torch.float32, device, with_specials=False)
    out = torch.full_like(x, 7.0)
    y, z, dx = scripted(x, out, grad)
    for result in (y, out, z):
        assert_same_values(result, softsign_reference(x))
    assert_same_values(dx, softsign_grad_reference(grad, x))


@pytest.mark.parametrize("device", DEVICES)
def test_scripted_model_backward(device):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), softsign_ext.Softsign(), nn.Linear(16, 4)).to(device)
    reference = nn.Sequential(model[0], nn.Softsign(), model[2])
    scripted = torch.jit.script(model)
    x = random_input((5, 8), torch.float64, device, with_specials=False)
    model.double()
    scripted(x).sum().backward()
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    reference(x).sum().backward()
    for got, expected in zip(ours, (p.grad for p in model.parameters())):
        torch.testing.assert_close(got, expected)


# Run in a fresh interpreter: loads the operator library alone, then the saved module.
_LOAD_AND_RUN = """
import sys, torch
library, module, inputs, outputs = sys.argv[1:]
torch.ops.load_library(library)
x = torch.load(inputs)
torch.save(torch.jit.load(module)(x), outputs)
assert "softsign_ext" not in sys.modules, "the Python package was imported"
"""


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("how", ["script", "trace"])
def test_saved_module_runs_with_the_operator_library_alone(how, device, tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), softsign_ext.Softsign(), softsign_ext.ModelNew()).to(device).eval()
    reference = nn.Sequential(model[0], nn.Softsign(), nn.Softsign())
    x = random_input((9, 16), torch.float32, device, with_specials=False)
    saved = torch.jit.script(model) if how == "script" else torch.jit.trace(model, x)
    saved.save(str(tmp_path / "model.pt"))
    torch.save(x, tmp_path / "x.pt")
    done = subprocess.run([sys.executable, "-c", _LOAD_AND_RUN, softsign_ext.library_path, str(tmp_path / "model.pt"),
                           str(tmp_path / "x.pt"), str(tmp_path / "y.pt")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    with torch.no_grad():
        torch.testing.assert_close(torch.load(tmp_path / "y.pt"), reference(x))
