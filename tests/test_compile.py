"""torch.compile(fullgraph=True) of a model using ModelNew, forward and backward equal to eager."""

import copy

import pytest
import torch
from _helpers import DEVICES, random_input
from torch import nn

import softsign_ext


def _model(device):
    return nn.Sequential(nn.Linear(32, 64), softsign_ext.ModelNew(), nn.Linear(64, 8)).to(device)


@pytest.mark.parametrize("device", DEVICES)
def test_compile_fullgraph_forward_and_backward(device):
    torch._dynamo.reset()
    eager = _model(device)
    compiled_model = copy.deepcopy(eager)
    compiled = torch.compile(compiled_model, fullgraph=True)
    x = random_input((16, 32), torch.float32, device, with_specials=False)
    x_eager, x_compiled = x.clone().requires_grad_(), x.clone().requires_grad_()

    y_eager, y_compiled = eager(x_eager), compiled(x_compiled)
    torch.testing.assert_close(y_compiled, y_eager)
    grad = torch.randn_like(y_eager)
    y_eager.backward(grad)
    y_compiled.backward(grad)
    torch.testing.assert_close(x_compiled.grad, x_eager.grad)
    for p_compiled, p_eager in zip(compiled_model.parameters(), eager.parameters()):
        torch.testing.assert_close(p_compiled.grad, p_eager.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_compiled_graph_calls_the_custom_op(device):
    torch._dynamo.reset()
    graphs = []

    def record(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    fn = torch.compile(softsign_ext.softsign, backend=record, fullgraph=True)
    x = random_input((64,), torch.float32, device)
    torch.testing.assert_close(fn(x), softsign_ext.softsign(x), equal_nan=True)
    targets = [node.target for gm in graphs for node in gm.graph.nodes]
    assert torch.ops.softsign_ext.softsign.default in targets
