"""Softsign / ModelNew as drop-ins for nn.Softsign (in place too), and replace_softsign."""

import pytest
import torch
from _helpers import DEVICES, FLOAT_DTYPES, RecordingDispatchMode, assert_same_values, random_input, softsign_reference
from torch import nn

import softsign_ext


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
        assert list(module.parameters()) == [] and module.state_dict() == {}
    assert repr(softsign_ext.Softsign()) == repr(nn.Softsign()) == "Softsign()"
    assert repr(softsign_ext.ModelNew()) == "ModelNew()"
    model = nn.Sequential(nn.Linear(4, 4), softsign_ext.Softsign())
    assert model(torch.randn(2, 4)).shape == (2, 4)


def test_functional_api_is_the_op():
    """Each Python function calls its operator, once, and nothing else."""
    x = random_input((33,), torch.float32)
    ops = torch.ops.softsign_ext
    calls = [(lambda: softsign_ext.softsign(x), ops.softsign.default),
             (lambda: softsign_ext.softsign(x, out=torch.empty_like(x)), ops.softsign.out),
             (lambda: softsign_ext.softsign_(x.clone()), ops.softsign_.default),
             (lambda: softsign_ext.softsign_backward(x, x), ops.softsign_backward.default)]
    for call, op in calls:
        with RecordingDispatchMode() as mode:
            call()
        assert [f for f in mode.funcs if f.namespace == "softsign_ext"] == [op]
    assert softsign_ext.softsign.__doc__ and "x / (1 + |x|)" in softsign_ext.softsign.__doc__


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


def test_softsign_inplace_module():
    m = softsign_ext.Softsign(inplace=True)
    assert repr(m) == "Softsign(inplace=True)" and not softsign_ext.ModelNew().inplace
    x = random_input((50,), torch.float32)
    expected = softsign_reference(x)
    assert m(x) is x
    assert_same_values(x, expected)
