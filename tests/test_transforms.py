"""Function transforms: torch.func (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap and their
compositions), forward-mode AD, gradcheck in every mode, and torch.compile of them, each
against F.softsign under the same transform computed in float64."""

import warnings

import pytest
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from _helpers import DEVICES, FLOAT_DTYPES, away_from_zero, random_input, softsign_grad_reference, special_values
from torch.func import functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp, vmap

import softsign_ext


# The functions under test, each with its float64 reference built from F.softsign's own ops
# (so that torch.func differentiates the reference the way it differentiates F.softsign).
# softsign_backward is differentiated along each argument in turn, the other held at
# constants (exact in every dtype) that, under vmap, are not batched.
def _constants(v, scale):
    """(-1, -0.5, 0, 0.5, ...) * scale along the last dimension, expanded to v's shape."""
    row = (torch.arange(v.shape[-1] if v.dim() else 1, dtype=v.dtype, device=v.device) - 2) * 0.5 * scale
    return row.reshape(v.shape[-1:]).expand(v.shape)


def _backward_along_x(v):
    return softsign_ext.softsign_backward(_constants(v, 1), v)


def _backward_along_x_reference(v):
    # Divided twice: the square of 1 + |v| would overflow to inf / inf = nan for huge v.
    return _constants(v, 1) / (1 + v.abs()) / (1 + v.abs())


def _backward_along_grad(v):
    return softsign_ext.softsign_backward(v, _constants(v, 3))


def _backward_along_grad_reference(v):
    return v / (1 + _constants(v, 3).abs()) ** 2


def _module(v):
    return functional_call(softsign_ext.Softsign(), {}, (v,))


FUNCTIONS = {
    "softsign": (softsign_ext.softsign, F.softsign),
    "module": (_module, F.softsign),
    "ModelNew": (softsign_ext.ModelNew(), F.softsign),
    "softsign_backward_x": (_backward_along_x, _backward_along_x_reference),
    "softsign_backward_grad": (_backward_along_grad, _backward_along_grad_reference),
}


def _weighted_sum(f):
    """A scalar loss of f whose gradient differs per element: the weights are exact in every
    dtype and the sum is taken in float64, so that the loss adds no rounding of its own."""
    def loss(v):
        out = f(v)
        return (out.double() * _constants(out, 1).double()).sum()
    return loss


# Each transform: (f, x, t) -> a tensor or a tuple of tensors. x has shape (4, 6).
TRANSFORMS = {
    "jvp": lambda f, x, t: jvp(f, (x,), (t,)),
    "forward_ad": lambda f, x, t: _dual_tangent(f, x, t),
    "grad": lambda f, x, t: grad(_weighted_sum(f))(x),
    "grad_and_value": lambda f, x, t: _value_in(x.dtype, *grad_and_value(_weighted_sum(f))(x)),
    "vjp": lambda f, x, t: vjp(f, x)[1](t),
    "jacrev": lambda f, x, t: jacrev(f)(x[0]),
    "jacfwd": lambda f, x, t: jacfwd(f)(x[0]),
    "hessian": lambda f, x, t: hessian(_weighted_sum(f))(x[0]),
    "vmap": lambda f, x, t: vmap(f)(x),
    "vmap_in1_out1": lambda f, x, t: vmap(f, in_dims=1, out_dims=1)(x),
    "vmap_out1": lambda f, x, t: vmap(f, out_dims=1)(x),
    "vmap_vmap": lambda f, x, t: vmap(vmap(f), in_dims=1)(x),
    "vmap_grad": lambda f, x, t: vmap(grad(_weighted_sum(f)))(x),
    "jvp_grad": lambda f, x, t: jvp(grad(_weighted_sum(f)), (x,), (t,)),
    "grad_jvp": lambda f, x, t: grad(lambda v: _weighted_sum(lambda w: jvp(f, (w,), (t,))[1])(v))(x),
    "jacrev_jacrev": lambda f, x, t: jacrev(jacrev(f))(x[0]),
    "jacfwd_jacrev": lambda f, x, t: jacfwd(jacrev(f))(x[0]),
    "vmap_jvp": lambda f, x, t: vmap(lambda a, b: jvp(f, (a,), (b,)))(x, t),
}


def _value_in(dtype, gradient, value):
    return gradient, value.to(dtype)  # the loss is summed in float64


def _dual_tangent(f, x, t):
    with fwAD.dual_level():
        out = f(fwAD.make_dual(x, t))
        return fwAD.unpack_dual(out).tangent


def _inputs(dtype, device):
    """x of shape (4, 6): random magnitudes and, in its first row, special values where
    derivatives are defined (nan, the largest finite values, subnormals, signed zeros;
    +-inf, where F.softsign's derivative is nan and ours is the limit 0, is tested below)."""
    x = random_input((4, 6), dtype, device, with_specials=False)
    specials = special_values(dtype).to(device)
    finite_or_nan = specials[~specials.isinf()]
    x[0] = finite_or_nan[torch.randperm(len(finite_or_nan))[:6]]
    return x, random_input((4, 6), dtype, device, with_specials=False)


def _flat(result):
    return result if isinstance(result, tuple) else (result,)


def _assert_matches_reference(ours, reference, dtype):
    for actual, expected in zip(_flat(ours), _flat(reference), strict=True):
        assert actual.dtype == dtype
        # Second derivatives of half types: F.softsign's composite ops round at each step.
        torch.testing.assert_close(actual, expected.to(dtype), equal_nan=True)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_transform_matches_f_softsign(transform, function, dtype, device):
    ours, reference = FUNCTIONS[function]
    x, t = _inputs(dtype, device)
    apply = TRANSFORMS[transform]
    _assert_matches_reference(apply(ours, x, t), apply(reference, x.double(), t.double()), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_derivative_at_infinity_is_the_limit_zero(dtype, device):
    # As softsign_backward gives (tests/test_backward.py): 0, where F.softsign gives nan.
    x = torch.tensor([float("inf"), float("-inf"), 2.0], dtype=dtype, device=device)
    t = torch.ones_like(x)
    expected = softsign_grad_reference(t, x)
    torch.testing.assert_close(jvp(softsign_ext.softsign, (x,), (t,))[1], expected)
    torch.testing.assert_close(_dual_tangent(softsign_ext.softsign, x, t), expected)
    torch.testing.assert_close(grad(lambda v: softsign_ext.softsign(v).sum())(x), expected)
    torch.testing.assert_close(vmap(grad(lambda v: softsign_ext.softsign(v).sum()))(x[:, None])[:, 0], expected)


GRADCHECK_MODES = dict(check_forward_ad=True, check_backward_ad=True, check_batched_grad=True,
                       check_batched_forward_grad=True, check_undefined_grad=True)
GRADGRADCHECK_MODES = dict(check_fwd_over_rev=True, check_rev_over_rev=True, check_batched_grad=True)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_every_mode(device):
    x = away_from_zero((5, 4), device).requires_grad_()
    torch.autograd.gradcheck(softsign_ext.softsign, (x,), **GRADCHECK_MODES)
    torch.autograd.gradgradcheck(softsign_ext.softsign, (x,), **GRADGRADCHECK_MODES)
    torch.autograd.gradcheck(softsign_ext.Softsign(), (x,), **GRADCHECK_MODES)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_every_mode_softsign_backward(device):
    x = away_from_zero((5, 4), device).requires_grad_()
    g = torch.randn(5, 4, dtype=torch.float64, device=device, requires_grad=True)
    torch.autograd.gradcheck(softsign_ext.softsign_backward, (g, x), **GRADCHECK_MODES)
    torch.autograd.gradgradcheck(softsign_ext.softsign_backward, (g, x), **GRADGRADCHECK_MODES)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_every_mode_inplace(device):
    x = away_from_zero((5, 4), device).requires_grad_()

    def inplace(v):
        return softsign_ext.softsign_(v * 1)

    torch.autograd.gradcheck(inplace, (x,), **GRADCHECK_MODES)
    torch.autograd.gradgradcheck(inplace, (x,), **GRADGRADCHECK_MODES)


# softsign_ and out= on a temporary of the function, under the transforms that allow
# mutation, against the out-of-place op under the same transform.
def _inplace(v):
    return softsign_ext.softsign_(v * 1)


def _inplace_view(v):
    y = v * 1
    softsign_ext.softsign_(y[..., 1:])
    return y[..., 1:]


def _out(v):
    return softsign_ext.softsign(v, out=torch.empty_like(v))


def _out_strided(v):
    # An out that is not dense: a view of every other element of a larger tensor.
    out = torch.empty_like(torch.stack([v, v], -1))[..., 0]
    return softsign_ext.softsign(v, out=out)


MUTATING = {"softsign_": _inplace, "softsign_ on a view": _inplace_view, "out=": _out,
            "out= strided": _out_strided}
MUTATING_TRANSFORMS = {
    "vmap": lambda f, x, t: vmap(f)(x),
    "vmap_in1": lambda f, x, t: vmap(f, in_dims=1)(x),
    "jvp": lambda f, x, t: jvp(f, (x,), (t,)),
    "forward_ad": lambda f, x, t: _dual_tangent(f, x, t),
    "vmap_jvp": lambda f, x, t: vmap(lambda a, b: jvp(f, (a,), (b,)))(x, t),
}
INPLACE_ONLY_TRANSFORMS = {  # out= records no reverse-mode gradient, as every PyTorch out= function
    "grad": lambda f, x, t: grad(_weighted_sum(f))(x),
    "vmap_grad": lambda f, x, t: vmap(grad(_weighted_sum(f)))(x),
    "jacrev": lambda f, x, t: jacrev(f)(x[0]),
}


def _functional_equivalent(mutating):
    return (lambda v: softsign_ext.softsign(v[..., 1:])) if mutating is _inplace_view else softsign_ext.softsign


MUTATING_CASES = [(transform, mutating) for transform in MUTATING_TRANSFORMS for mutating in MUTATING] + [
    (transform, mutating) for transform in INPLACE_ONLY_TRANSFORMS for mutating in MUTATING
    if not mutating.startswith("out=")]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("transform,mutating", MUTATING_CASES)
def test_mutating_forms_under_transforms(transform, mutating, dtype, device):
    apply = {**MUTATING_TRANSFORMS, **INPLACE_ONLY_TRANSFORMS}[transform]
    f = MUTATING[mutating]
    x, t = _inputs(dtype, device)
    expected = apply(_functional_equivalent(f), x, t)
    for actual, wanted in zip(_flat(apply(f, x, t)), _flat(expected), strict=True):
        torch.testing.assert_close(actual, wanted, equal_nan=True, rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_out_refuses_reverse_mode(device):
    x = random_input((4, 6), torch.float32, device)
    with pytest.raises(RuntimeError, match="out=.* don't support automatic differentiation"):
        grad(_weighted_sum(_out))(x)


@pytest.mark.parametrize("device", DEVICES)
def test_vmap_out_errors_say_what_to_do(device):
    x = random_input((4, 6), torch.float32, device)
    unbatched = torch.empty(6, device=device)
    with pytest.raises(RuntimeError, match="create out inside the vmapped function"):
        vmap(lambda v: softsign_ext.softsign(v, out=unbatched))(x)
    with pytest.raises(RuntimeError, match="cannot resize out under vmap"):
        vmap(lambda v: softsign_ext.softsign(v, out=torch.empty(3, device=device)[:, None] * v[:3]))(x)


@pytest.mark.parametrize("device", DEVICES)
def test_out_takes_tangent_of_x_or_none(device):
    # out= writes a new value into out: its tangent becomes x's, or zero when x has none.
    x, t = _inputs(torch.float64, device)
    with fwAD.dual_level():
        out = fwAD.make_dual(torch.empty_like(x), torch.ones_like(x))
        softsign_ext.softsign(x, out=out)
        assert torch.equal(fwAD.unpack_dual(out).tangent, torch.zeros_like(x))
        softsign_ext.softsign(fwAD.make_dual(x, t), out=out)
        torch.testing.assert_close(fwAD.unpack_dual(out).tangent, softsign_grad_reference(t, x))


@pytest.fixture
def no_vmap_fallback():
    """vmap's per-example fallback disabled: an op without a batching rule raises."""
    torch._C._functorch._set_vmap_fallback_enabled(False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the fallback's "performance drop" warning too
            yield
    finally:
        torch._C._functorch._set_vmap_fallback_enabled(True)


@pytest.mark.parametrize("device", DEVICES)
def test_vmap_has_batching_rules(device, no_vmap_fallback):
    x, t = _inputs(torch.float32, device)
    g = random_input((4, 6), torch.float32, device)
    # softsign_backward with either argument batched alone, or both on other dims.
    for in_dims, args, logical in [((0, None), (g, x[0]), (g, x[0].expand_as(g))),
                                   ((None, 0), (g[0], x), (g[0].expand_as(x), x)),
                                   ((1, 0), (g.T.contiguous(), x), (g, x)),
                                   ((0, 0), (g, x), (g, x))]:
        torch.testing.assert_close(vmap(softsign_ext.softsign_backward, in_dims=in_dims)(*args),
                                   softsign_grad_reference(*logical), equal_nan=True)
    for transform in ("vmap", "vmap_vmap", "vmap_grad", "jacrev", "jacfwd", "hessian", "vmap_jvp"):
        TRANSFORMS[transform](softsign_ext.softsign, x, t)
    for mutating in MUTATING.values():
        vmap(mutating)(x)


COMPILED = ("jvp", "grad", "vjp", "vmap", "vmap_grad", "jacrev", "jacfwd", "hessian")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("transform", COMPILED)
def test_transforms_compile_without_graph_breaks(transform, device):
    # (F.softsign compiles each of these with fullgraph=True too.)
    x, t = _inputs(torch.float32, device)
    apply = TRANSFORMS[transform]
    torch._dynamo.reset()
    compiled = torch.compile(lambda a, b: apply(softsign_ext.softsign, a, b), fullgraph=True)
    _assert_matches_reference(compiled(x, t), apply(F.softsign, x.double(), t.double()), torch.float32)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("transform,mutating", [("vmap", "softsign_"), ("vmap", "out="), ("jvp", "softsign_"),
                                                ("jvp", "out="), ("grad", "softsign_")])
def test_mutating_forms_compile_under_transforms(transform, mutating, device):
    x, t = _inputs(torch.float32, device)
    apply = {**MUTATING_TRANSFORMS, **INPLACE_ONLY_TRANSFORMS}[transform]
    torch._dynamo.reset()
    compiled = torch.compile(lambda a, b: apply(MUTATING[mutating], a, b), fullgraph=True)
    for actual, expected in zip(_flat(compiled(x, t)), _flat(apply(softsign_ext.softsign, x, t)), strict=True):
        torch.testing.assert_close(actual, expected, equal_nan=True)


@pytest.mark.parametrize("device", DEVICES)
def test_compiled_autograd(device):
    # Two compiles in one process, as a user's second shape or a reset brings: the
    # backward node is bound to compiled autograd once, and a second binding asserts.
    for shape in [(4, 6), (5, 7)]:
        x = random_input(shape, torch.float32, device, with_specials=False).requires_grad_()
        g = random_input(shape, torch.float32, device, with_specials=False)
        torch._dynamo.reset()
        with torch._dynamo.compiled_autograd._enable(torch.compile(backend="aot_eager", fullgraph=True)):
            softsign_ext.softsign(x).backward(g)
        torch.testing.assert_close(x.grad, softsign_grad_reference(g, x.detach()))
