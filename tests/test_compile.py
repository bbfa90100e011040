"""torch.compile(fullgraph=True) of every form of softsign_ext: no graph breaks, dynamic
shapes, reduce-overhead, in-place and out=, forward and backward equal to eager."""

import copy

import pytest
import torch
from _helpers import DEVICES, assert_same_values, random_input, softsign_grad_reference, softsign_reference
from torch import nn

import softsign_ext


def _recording_backend(graphs: list):
    """A torch.compile backend that appends each graph it compiles to `graphs` and runs it as is."""

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    return backend


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
    fn = torch.compile(softsign_ext.softsign, backend=_recording_backend(graphs), fullgraph=True)
    x = random_input((64,), torch.float32, device)
    torch.testing.assert_close(fn(x), softsign_ext.softsign(x), equal_nan=True)
    targets = [node.target for gm in graphs for node in gm.graph.nodes]
    assert torch.ops.softsign_ext.softsign.default in targets


@pytest.mark.parametrize("device", DEVICES)
def test_no_graph_breaks(device):
    def fn(t):
        y = softsign_ext.softsign(t * 2)
        z = softsign_ext.softsign_(y + 1)
        out = torch.empty_like(z)
        softsign_ext.softsign(z, out=out)
        return softsign_ext.Softsign()(out) + softsign_ext.softsign_backward(out, t)

    torch._dynamo.reset()
    explanation = torch._dynamo.explain(fn)(random_input((4, 9), torch.float32, device))
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1, explanation.break_reasons


@pytest.mark.parametrize("device", DEVICES)
def test_dynamic_shapes_compile_once(device):
    torch._dynamo.reset()
    compiles = []
    fn = torch.compile(
        lambda t: softsign_ext.softsign(t) * 2, backend=_recording_backend(compiles), dynamic=True, fullgraph=True
    )
    # (Dynamo specializes sizes 0 and 1 by design, so the shapes avoid them.)
    for shape in [(3, 5), (7, 11), (2, 129), (16, 4096), (5, 3)]:
        x = random_input(shape, torch.float32, device)
        torch.testing.assert_close(fn(x), softsign_ext.softsign(x) * 2, equal_nan=True)
    assert len(compiles) == 1, f"compiled {len(compiles)} times for 5 shapes"


@pytest.mark.parametrize("device", DEVICES)
def test_dynamic_shapes_with_inductor_forward_and_backward(device):
    torch._dynamo.reset()
    fn = torch.compile(lambda t: softsign_ext.softsign(t).sum(), dynamic=True, fullgraph=True)
    for n in (17, 1000, 4097):
        x = random_input((n,), torch.float32, device, with_specials=False).requires_grad_()
        fn(x).backward()
        torch.testing.assert_close(x.grad, softsign_grad_reference(torch.ones_like(x), x.detach()))


@pytest.mark.parametrize("device", DEVICES)
def test_reduce_overhead_mode(device):
    """On CUDA the first calls record a CUDA graph and the later ones replay it, each on a
    fresh input (on a CPU the mode compiles as the default one)."""
    torch._dynamo.reset()
    model = softsign_ext.ModelNew()
    compiled = torch.compile(lambda t: model(t * 2) + 1, mode="reduce-overhead", fullgraph=True)
    for _ in range(4):
        x = random_input((8, 1000), torch.float32, device)
        assert_same_values(compiled(x), softsign_reference(x * 2) + 1)


@pytest.mark.parametrize("device", DEVICES)
def test_compile_fullgraph_inplace_and_out(device):
    torch._dynamo.reset()

    def inplace_on_input(t):
        return softsign_ext.softsign_(t)

    def inplace_on_intermediate(t):
        return softsign_ext.softsign_(t * 2) + 1

    def out_form(t, out):
        softsign_ext.softsign(t, out=out)
        return out * 2

    x = random_input((8, 33), torch.float32, device)
    expected = softsign_reference(x)
    mutated = x.clone()
    result = torch.compile(inplace_on_input, fullgraph=True)(mutated)
    assert_same_values(mutated, expected)
    assert_same_values(result, expected)
    assert_same_values(torch.compile(inplace_on_intermediate, fullgraph=True)(x), softsign_reference(x * 2) + 1)
    out = torch.full_like(x, float("nan"))
    result = torch.compile(out_form, fullgraph=True)(x, out)
    assert_same_values(out, expected)
    assert_same_values(result, expected * 2)


@pytest.mark.parametrize("device", DEVICES)
def test_compile_inplace_module_forward_and_backward(device):
    torch._dynamo.reset()
    model = nn.Sequential(nn.Linear(16, 32), softsign_ext.Softsign(inplace=True), nn.Linear(32, 4)).to(device)
    reference = nn.Sequential(model[0], nn.Softsign(), model[2])
    x = random_input((8, 16), torch.float32, device, with_specials=False)
    compiled = torch.compile(model, fullgraph=True)
    y = compiled(x)
    torch.testing.assert_close(y, reference(x))
    y.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    reference(x).sum().backward()
    for got, p in zip(grads, model.parameters()):
        torch.testing.assert_close(got, p.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_compiled_inplace_on_an_input_that_requires_grad(device):
    # softsign_ on a non-leaf input of the compiled function: the gradient reaching the leaf
    # must go through softsign. Before the C++ Nodes (autograd::Function, whose forward runs
    # with grad mode off) AOTAutograd took the write as hidden from autograd and the leaf got
    # 1 where the derivative is 1 / (1 + |x|)^2, with no error.
    leaf = random_input((6, 5), torch.float32, device, with_specials=False).requires_grad_()
    weights = random_input((6, 5), torch.float32, device, with_specials=False)
    torch._dynamo.reset()
    out = torch.compile(softsign_ext.softsign_, backend="aot_eager", fullgraph=True)(leaf * 1)
    assert_same_values(out, softsign_reference(leaf.detach()))
    (grad,) = torch.autograd.grad((out * weights).sum(), leaf)
    torch.testing.assert_close(grad, softsign_grad_reference(weights, leaf.detach()))
    # With Inductor, torch 2.8-2.11's backward saves the input that the write then overwrites
    # and autograd refuses it, as it does for torch.sin_ (whose derivative also needs the
    # input); newer releases save it apart. Either way, never a wrong gradient.
    torch._dynamo.reset()
    out = torch.compile(softsign_ext.softsign_, fullgraph=True)(leaf * 1)
    try:
        (grad,) = torch.autograd.grad((out * weights).sum(), leaf)
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error)
    else:
        torch.testing.assert_close(grad, softsign_grad_reference(weights, leaf.detach()))
