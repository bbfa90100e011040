"""The eager entry points (softsign_ext._C.softsign / softsign_, behind softsign_ext.softsign,
softsign_ and the modules) call the operator through the C++ dispatcher for plain tensors:
they must behave exactly as calling the torch.ops operator does, and hand everything else
(__torch_function__ subclasses and modes, FX proxies) to it."""

import pytest
import torch
from _helpers import DEVICES, RecordingDispatchMode, assert_same_values, random_input, softsign_reference
from torch import nn
from torch.overrides import TorchFunctionMode

import softsign_ext
from softsign_ext._library import _C

ops = torch.ops.softsign_ext


class _RecordingFunctionMode(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.funcs = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.funcs.append(func)
        return func(*args, **(kwargs or {}))


class _TaggedTensor(torch.Tensor):
    """A subclass whose __torch_function__ records what it sees and keeps the subclass."""

    seen = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.seen.append(func)
        return super().__torch_function__(func, types, args, kwargs or {})


@pytest.mark.parametrize("device", DEVICES)
def test_plain_tensors_and_parameters_take_the_dispatcher(device):
    x = random_input((257,), torch.float32, device)
    for arg in (x, nn.Parameter(x.clone())):
        result = _C.softsign(arg)
        assert type(result) is torch.Tensor
        assert_same_values(result, softsign_reference(x))
        assert result.requires_grad == arg.requires_grad
    y = x.clone()
    version = y._version
    assert _C.softsign_(y) is y
    assert y._version > version
    assert_same_values(y, softsign_reference(x))


def test_entry_points_say_what_they_take():
    import inspect

    for entry in (_C.softsign, _C.softsign_):
        assert str(inspect.signature(entry)) == "(x, /)"
        assert "torch.ops.softsign_ext" in entry.__doc__


@pytest.mark.parametrize("device", DEVICES)
def test_autograd_through_the_entry_point(device):
    x = random_input((64,), torch.float64, device, with_specials=False).requires_grad_()
    torch.autograd.gradcheck(_C.softsign, (x,))
    y = x.detach().clone().requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        _C.softsign_(y)


@pytest.mark.parametrize("call", ["softsign", "softsign_", "module", "inplace_module"])
def test_torch_function_mode_sees_the_operator(call):
    x = random_input((16,), torch.float32)
    fn = {
        "softsign": softsign_ext.softsign,
        "softsign_": softsign_ext.softsign_,
        "module": softsign_ext.ModelNew(),
        "inplace_module": softsign_ext.Softsign(inplace=True),
    }[call]
    expected = ops.softsign_.default if call in ("softsign_", "inplace_module") else ops.softsign.default
    with _RecordingFunctionMode() as mode:
        fn(x)
    assert mode.funcs == [expected]


def test_torch_function_subclass_sees_the_operator_and_keeps_its_type():
    x = random_input((16,), torch.float32)
    _TaggedTensor.seen.clear()
    result = softsign_ext.ModelNew()(x.as_subclass(_TaggedTensor))
    assert _TaggedTensor.seen[0] is ops.softsign.default
    assert type(result) is _TaggedTensor
    assert_same_values(result.as_subclass(torch.Tensor), softsign_reference(x))


def test_torch_dispatch_mode_sees_calls_from_the_entry_point():
    """The dispatcher reaches Python modes with the GIL released by the entry point."""
    x = random_input((16,), torch.float32)
    with RecordingDispatchMode() as mode:
        softsign_ext.softsign(x)
        softsign_ext.softsign_(x.clone())
    assert ops.softsign.default in mode.funcs and ops.softsign_.default in mode.funcs


@pytest.mark.parametrize("inplace", [False, True])
def test_fx_symbolic_trace_records_the_operator(inplace):
    module = softsign_ext.Softsign(inplace=inplace)
    graph_module = torch.fx.symbolic_trace(module)
    targets = [node.target for node in graph_module.graph.nodes if node.op == "call_function"]
    assert targets == [ops.softsign_.default if inplace else ops.softsign.default]
    x = random_input((33,), torch.float32)
    assert_same_values(graph_module(x.clone()), softsign_reference(x))


@pytest.mark.filterwarnings("ignore:`torch.jit")  # deprecated since torch 2.11 (a FutureWarning later), still used
def test_jit_trace_records_the_operator():
    x = random_input((33,), torch.float32)
    traced = torch.jit.trace(softsign_ext.ModelNew(), x)
    assert [node.kind() for node in traced.graph.nodes()] == ["softsign_ext::softsign"]
    fresh = random_input((33,), torch.float32)
    assert_same_values(traced(fresh), softsign_reference(fresh))


@pytest.mark.parametrize("entry, op", [(_C.softsign, ops.softsign.default), (_C.softsign_, ops.softsign_.default)])
def test_non_tensor_arguments_fail_as_the_operator_does(entry, op):
    for argument in ([1.0, 2.0], None, 3.0):
        with pytest.raises(Exception) as ours:
            entry(argument)
        with pytest.raises(Exception) as theirs:
            op(argument)
        assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_kernel_errors_keep_their_python_types():
    with pytest.raises(TypeError, match="dtype Bool"):
        _C.softsign(torch.tensor([True]))
    with pytest.raises(TypeError, match="use softsign"):
        _C.softsign_(torch.tensor([1, 2]))
