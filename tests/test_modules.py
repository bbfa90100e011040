"""Softsign / ModelNew as drop-ins for nn.Softsign, replace_softsign, and loading the library."""

import subprocess
import sys

import pytest
import torch
from _helpers import DEVICES, FLOAT_DTYPES, assert_same_values, random_input
from torch import nn

import softsign_ext
from softsign_ext import _library


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("module", [softsign_ext.ModelNew, softsign_ext.Softsign])
def test_module_matches_nn_softsign(module, dtype, device):
    x = random_input((8, 1001), dtype, device)
    reference = nn.Softsign()(x.double()).to(dtype)
    assert_same_values(module()(x), reference)


@pytest.mark.parametrize("device", DEVICES)
def test_module_gradient_matches_nn_softsign(device):
    x = random_input((8, 100), torch.float32, device, with_specials=False)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    softsign_ext.Softsign()(ours).sum().backward()
    nn.Softsign()(theirs).sum().backward()
    torch.testing.assert_close(ours.grad, theirs.grad)


def test_modules_are_parameter_free_drop_ins():
    for module in (softsign_ext.Softsign(), softsign_ext.ModelNew()):
        assert isinstance(module, nn.Module)
        assert list(module.parameters()) == [] and module.state_dict() == {}
    assert repr(softsign_ext.Softsign()) == repr(nn.Softsign()) == "Softsign()"
    assert repr(softsign_ext.ModelNew()) == "ModelNew()"
    model = nn.Sequential(nn.Linear(4, 4), softsign_ext.Softsign())
    assert model(torch.randn(2, 4)).shape == (2, 4)


def test_functional_api_is_the_op():
    x = random_input((33,), torch.float32)
    assert torch.equal(softsign_ext.softsign(x).nan_to_num(), torch.ops.softsign_ext.softsign(x).nan_to_num())
    assert softsign_ext.softsign.__doc__ and "x / (1 + |x|)" in softsign_ext.softsign.__doc__


def test_missing_library_says_how_to_build():
    with pytest.raises(ImportError, match="pip install --no-build-isolation") as info:
        _library.load("softsign_ext._not_built")
    assert "softsign_ext._not_built" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


def test_cuda_kernels_are_built_when_possible():
    """CI has nvcc and a CUDA torch but no GPU: the CUDA kernels must still be compiled in."""
    from torch.utils.cpp_extension import CUDA_HOME

    import os

    if torch.version.cuda is None or CUDA_HOME is None or os.environ.get("SOFTSIGN_EXT_CUDA") == "0":
        pytest.skip("this torch/toolkit cannot build CUDA kernels, or SOFTSIGN_EXT_CUDA=0")
    for op in ("softsign", "softsign_backward"):
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"softsign_ext::{op}", "CUDA")


class _Net(nn.Module):
    """nn.Softsign in a Sequential, nested, shared between two places, and in a ModuleList."""

    def __init__(self):
        super().__init__()
        shared = nn.Softsign()
        self.body = nn.Sequential(nn.Linear(8, 8), shared, nn.Sequential(nn.Softsign(), shared))
        self.heads = nn.ModuleList([nn.Softsign()])
        self.tanh = nn.Tanh()

    def forward(self, x):
        return self.tanh(self.heads[0](self.body(x)))


def test_replace_softsign_swaps_every_nn_softsign_in_place():
    model = _Net().eval()
    x = random_input((4, 8), torch.float32)
    before_out, before_state = model(x), {k: v.clone() for k, v in model.state_dict().items()}
    assert softsign_ext.replace_softsign(model) == 4  # places, the shared module counted in each
    assert not [m for m in model.modules() if isinstance(m, nn.Softsign)]
    assert sum(isinstance(m, softsign_ext.Softsign) for m in model.modules()) == 3  # sharing kept
    assert model.body[1] is model.body[2][1] and not model.body[1].training
    assert isinstance(model.tanh, nn.Tanh)
    torch.testing.assert_close(model(x), before_out)
    assert model.state_dict().keys() == before_state.keys()
    for key, value in model.state_dict().items():
        assert torch.equal(value, before_state[key])
    assert softsign_ext.replace_softsign(model) == 0


def test_replace_softsign_refuses_a_bare_nn_softsign():
    with pytest.raises(ValueError, match="use softsign_ext.Softsign"):
        softsign_ext.replace_softsign(nn.Softsign())


def test_dtensor_rules_register_when_dtensor_was_imported_first():
    # In a fresh interpreter: import DTensor, then softsign_ext, and look for the rules.
    code = (
        "import torch.distributed.tensor as dt, softsign_ext, torch\n"
        "funcs = dt.DTensor._op_dispatcher.sharding_propagator.op_strategy_funcs\n"
        "ops = torch.ops.softsign_ext\n"
        "assert all(op in funcs for op in (ops.softsign.default, ops.softsign_.default, "
        "ops.softsign_backward.default))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
