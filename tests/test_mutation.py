"""The in-place softsign_ and the out= form: values, and PyTorch's in-place and out= rules
and autograd. (Their opcheck is in test_opcheck.py, their compilation in test_compile.py.)"""

import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from _helpers import (
    DEVICES,
    FLOAT_DTYPES,
    assert_same_values,
    bits,
    needs_cuda,
    random_input,
    softsign_grad_reference,
    softsign_reference,
)
import softsign_ext

ops = torch.ops.softsign_ext

LAYOUTS = {
    "contiguous": lambda t: t,
    "channels_last": lambda t: t.reshape(2, 3, 5, 7).to(memory_format=torch.channels_last),
    "transposed": lambda t: t.reshape(15, 14).t(),
    "misaligned": lambda t: torch.cat([t[:1], t])[1:],  # one element past the allocation's start
    "step_slice": lambda t: torch.cat([t, t])[::2],
    "transposed_slice": lambda t: torch.cat([t, t]).reshape(28, 15)[::2].t(),
}


# ------------------------------------------------------------------- in-place --


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_inplace_matches_reference(layout, dtype, device):
    x = LAYOUTS[layout](random_input((210,), dtype, device))
    expected, version, stride = softsign_reference(x), x._version, x.stride()
    result = softsign_ext.softsign_(x)
    assert result is x and x.stride() == stride
    assert x._version > version, "the version counter must be bumped"
    assert_same_values(x, expected)


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_writes_only_the_view(device):
    base = random_input((12, 10), torch.float32, device)
    before = base.clone()
    softsign_ext.softsign_(base[::3, 2:5])
    assert_same_values(base[::3, 2:5], softsign_reference(before[::3, 2:5]))
    untouched = torch.ones_like(base, dtype=torch.bool)
    untouched[::3, 2:5] = False
    assert torch.equal(bits(base[untouched]), bits(before[untouched]))


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_refuses_integers_and_overlapping_elements(device):
    x = torch.arange(6, device=device)
    with pytest.raises(TypeError, match="softsign_: x has dtype Long"):
        softsign_ext.softsign_(x)
    expanded = torch.rand(3, 1, device=device).expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        softsign_ext.softsign_(expanded)


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_on_leaf_requiring_grad_raises_before_writing(device):
    leaf = random_input((9,), torch.float32, device).requires_grad_()
    before = leaf.detach().clone()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        softsign_ext.softsign_(leaf)
    assert torch.equal(bits(leaf.detach()), bits(before))
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        softsign_ext.softsign_(leaf[2:])
    with torch.no_grad():  # allowed there, as for every PyTorch in-place op
        softsign_ext.softsign_(leaf)
    assert_same_values(leaf.detach(), softsign_reference(before))


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_on_tensor_saved_for_backward_fails_backward(device):
    x = random_input((9,), torch.float32, device, with_specials=False).requires_grad_()
    y = x.exp()  # exp saves its result for backward
    softsign_ext.softsign_(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # Also when the overwritten tensor does not require grad itself.
    w = random_input((9,), torch.float32, device, with_specials=False).requires_grad_()
    saved = random_input((9,), torch.float32, device, with_specials=False)
    product = w * saved  # mul saves `saved` to compute w's gradient
    softsign_ext.softsign_(saved)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        product.sum().backward()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_inplace_gradient(dtype, device):
    x = random_input((4, 33), dtype, device, with_specials=False).requires_grad_()
    y = x * 3
    softsign_ext.softsign_(y)
    grad = random_input(y.shape, dtype, device, with_specials=False)
    y.backward(grad)
    expected = (3 * grad.double() / (1 + 3 * x.detach().double().abs()) ** 2).to(dtype)
    assert_same_values(x.grad, expected)


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_gradcheck_and_gradgradcheck(device):
    x = random_input((6, 5), torch.float64, device, with_specials=False).requires_grad_()

    def fn(t):
        return softsign_ext.softsign_(t * 1.5)

    torch.autograd.gradcheck(fn, (x,))
    torch.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("device", DEVICES)
def test_inplace_on_view_of_tensor_requiring_grad(device):
    x = random_input((6, 8), torch.float32, device, with_specials=False).requires_grad_()
    y = x.clone()
    softsign_ext.softsign_(y[:, 2:5])
    y.sum().backward()
    expected = torch.ones_like(x)
    expected[:, 2:5] = softsign_grad_reference(torch.ones_like(expected[:, 2:5]), x.detach()[:, 2:5])
    torch.testing.assert_close(x.grad, expected)


# ------------------------------------------------------------------------ out= --


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_out_matches_reference(layout, dtype, device):
    x = LAYOUTS[layout](random_input((210,), dtype, device))
    out = torch.full_like(x, float("nan"))
    result = softsign_ext.softsign(x, out=out)
    assert result is out
    assert_same_values(out, softsign_reference(x))


@pytest.mark.parametrize("device", DEVICES)
def test_out_keeps_its_own_strides(device):
    x = random_input((7, 5), torch.float32, device)
    out = torch.full((5, 7), float("nan"), device=device).t()  # transposed against x
    softsign_ext.softsign(x, out=out)
    assert out.stride() == (1, 7)
    assert_same_values(out, softsign_reference(x))
    sliced = torch.full((7, 10), float("nan"), device=device)
    softsign_ext.softsign(x, out=sliced[:, ::2])
    assert_same_values(sliced[:, ::2], softsign_reference(x))
    assert sliced[:, 1::2].isnan().all(), "wrote outside the out view"


@pytest.mark.parametrize("device", DEVICES)
def test_out_promotes_integers(device):
    x = torch.randint(-50, 50, (100,), device=device)
    out = torch.empty(100, device=device)
    softsign_ext.softsign(x, out=out)
    torch.testing.assert_close(out, F.softsign(x))


# Out dtypes for a float32 result: wider, narrower, complex (PyTorch casts the result to
# them), integer and bool (PyTorch refuses them).
OUT_DTYPES = [torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.complex128, torch.int64,
              torch.int32, torch.bool]


def _outcome(call):
    """("ok", result) or ("raises", the error's type and message with the operator's name
    left out)."""
    try:
        return "ok", call()
    except RuntimeError as error:
        return "raises", (type(error), str(error).split("\n")[0])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("out_dtype", OUT_DTYPES, ids=str)
def test_out_dtype_follows_pytorch_casting(out_dtype, device):
    # PyTorch's rule for the out= of its unary float operators, torch.tanh's: the result is
    # computed in its own dtype and cast to out's where that cast is allowed.
    x = random_input((4, 6), torch.float32, device)
    ours = _outcome(lambda: softsign_ext.softsign(x, out=torch.full((4, 6), 7, dtype=out_dtype, device=device)))
    theirs = _outcome(lambda: torch.tanh(x, out=torch.full((4, 6), 7, dtype=out_dtype, device=device)))
    assert ours[0] == theirs[0]
    if ours[0] == "raises":
        assert ours[1] == theirs[1]
        return
    assert ours[1].dtype == out_dtype
    torch.testing.assert_close(ours[1], F.softsign(x).to(out_dtype), rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("device", DEVICES)
def test_out_dtype_cast_of_integer_and_half_inputs(device):
    # An integer input's result is the default float dtype, then cast; a half input's is
    # rounded to half first, as PyTorch does (torch.tanh of the same inputs agrees).
    integers = torch.randint(-50, 50, (40,), device=device)
    wide = softsign_ext.softsign(integers, out=torch.empty(40, dtype=torch.float64, device=device))
    assert torch.equal(wide, F.softsign(integers).double())
    half = random_input((40,), torch.float16, device, with_specials=False)
    widened = softsign_ext.softsign(half, out=torch.empty(40, device=device))
    assert torch.equal(widened, softsign_ext.softsign(half).float())


def test_out_dtype_under_compile_and_torchscript():
    x = random_input((4, 6), torch.float32, "cpu", with_specials=False)

    def f(x, out):
        return softsign_ext.softsign(x, out=out)

    compiled = torch.compile(f, fullgraph=True, backend="inductor")
    scripted = torch.jit.script(f)
    for call in (compiled, scripted):
        for out_dtype in (torch.float64, torch.float16):
            out = torch.empty(4, 6, dtype=out_dtype)
            call(x, out)
            torch.testing.assert_close(out, F.softsign(x).to(out_dtype), rtol=0, atol=0)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long|not safe"):
            call(x, torch.empty(4, 6, dtype=torch.int64))


@pytest.mark.parametrize("device", DEVICES)
def test_out_is_resized_like_pytorch_out_arguments(device):
    x = random_input((4, 6), torch.float32, device)
    empty = torch.empty(0, device=device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        softsign_ext.softsign(x, out=empty)
    assert [str(w.message) for w in caught if "resized" in str(w.message)] == []
    assert empty.shape == x.shape
    assert_same_values(empty, softsign_reference(x))
    wrong = torch.empty(5, device=device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        softsign_ext.softsign(x, out=wrong); line = sys._getframe().f_lineno  # noqa: E702
        torch.tanh(x, out=torch.empty(5, device=device)); tanh_line = sys._getframe().f_lineno  # noqa: E702
    resized = [w for w in caught if "An output with one or more elements was resized" in str(w.message)]
    # As torch.tanh's: a UserWarning that points at the caller's line.
    assert [(w.category, w.filename, w.lineno) for w in resized] == [(UserWarning, __file__, line),
                                                                      (UserWarning, __file__, tanh_line)]
    assert wrong.shape == x.shape
    assert_same_values(wrong, softsign_reference(x))


def _sentinel(shape, device, dtype=torch.float32):
    return torch.full(shape, 42.0, dtype=dtype, device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_out_errors_write_nothing(device):
    x = random_input((4, 6), torch.float32, device)
    out = _sentinel((4, 6), device, torch.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        softsign_ext.softsign(x, out=out)
    assert (out == 42).all()
    # Memory owned outside PyTorch (here through DLPack) cannot grow.
    fixed = torch.from_dlpack(_sentinel((3,), device))
    with pytest.raises(RuntimeError, match="storage, which PyTorch cannot resize, is too small"):
        softsign_ext.softsign(x, out=fixed)
    assert (fixed == 42).all() and fixed.shape == (3,)
    # An integer input's result is a float: an integer out cannot take it either.
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        softsign_ext.softsign(torch.arange(3, device=device), out=torch.empty(3, dtype=torch.int64, device=device))


@needs_cuda
def test_out_on_another_device_raises_and_writes_nothing():
    for x_device, out_device in (("cuda", "cpu"), ("cpu", "cuda")):
        x = random_input((8,), torch.float32, x_device)
        out = _sentinel((8,), out_device)
        with pytest.raises(RuntimeError, match=f"out is on {out_device}.* but x is on {x_device}"):
            softsign_ext.softsign(x, out=out)
        assert (out == 42).all()


@pytest.mark.parametrize("device", DEVICES)
def test_out_overlapping_the_input(device):
    x = random_input((6, 10), torch.float32, device)
    expected = softsign_reference(x)
    softsign_ext.softsign(x, out=x)  # the same tensor: in place
    assert_same_values(x, expected)
    y = random_input((6, 10), torch.float32, device)
    expected = softsign_reference(y)
    softsign_ext.softsign(y, out=y.view(6, 10))  # another view of the same elements
    assert_same_values(y, expected)
    z = random_input((20,), torch.float32, device)
    before = z.clone()
    with pytest.raises(RuntimeError, match="unsupported operation: some elements of the input tensor"):
        softsign_ext.softsign(z[:10], out=z[5:15])  # dense, partly overlapping
    assert torch.equal(bits(z), bits(before))
    # Non-dense views of one storage, which PyTorch cannot judge: interleaved
    # but apart, or partly overlapping; either way the result is as if x were
    # read before out is written.
    v = random_input((6, 10), torch.float32, device)
    expected = softsign_reference(v[:, :5])
    softsign_ext.softsign(v[:, :5], out=v[:, 5:])
    assert_same_values(v[:, 5:], expected)
    w = random_input((6, 10), torch.float32, device)
    expected = softsign_reference(w[:, :6])
    softsign_ext.softsign(w[:, :6], out=w[:, 1:7])
    assert_same_values(w[:, 1:7], expected)


@pytest.mark.parametrize("device", DEVICES)
def test_out_refuses_overlapping_elements(device):
    out = torch.zeros(1, 4, device=device).expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        softsign_ext.softsign(torch.rand(3, 4, device=device), out=out)


@pytest.mark.parametrize("device", DEVICES)
def test_out_does_not_support_autograd(device):
    x = random_input((5,), torch.float32, device).requires_grad_()
    message = r"functions with out=\.\.\. arguments don't support automatic differentiation"
    with pytest.raises(RuntimeError, match=message):
        softsign_ext.softsign(x, out=torch.empty(5, device=device))
    with pytest.raises(RuntimeError, match=message):
        softsign_ext.softsign(x.detach(), out=torch.empty(5, device=device, requires_grad=True))
    with torch.no_grad():
        out = torch.empty(5, device=device)
        softsign_ext.softsign(x, out=out)
    assert_same_values(out, softsign_reference(x.detach()))
