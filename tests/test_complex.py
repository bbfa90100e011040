"""Complex inputs (complex64, complex128): z / (1 + |z|) and its conjugate Wirtinger
gradient, against F.softsign in complex128, on every path the real dtypes take: layouts,
out=, in place, autograd in both modes, torch.func, torch.compile."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from _helpers import (
    COMPLEX_DTYPES,
    DEVICES,
    assert_same_values,
    needs_cuda,
    poison_allocator,
    random_complex_input,
    softsign_checked,
    softsign_grad_reference,
    softsign_reference,
    special_value_pairs,
)
from torch.func import jvp, vjp, vmap

import softsign_ext

SHAPES = [(), (1,), (7,), (17,), (1023,), (3, 5, 7), (2, 0, 3), (4, 2049)]


def _parts(z: torch.Tensor) -> torch.Tensor:
    return torch.view_as_real(z.resolve_conj())


def assert_same_complex_values(actual: torch.Tensor, expected: torch.Tensor, **tolerances) -> None:
    """Each part at the dtype's tolerance, with the same NaNs and zero signs."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert_same_values(_parts(actual), _parts(expected), **tolerances)


def assert_close_as_vectors(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Within the dtype's tolerance of |expected| (assert_close on complex tensors): a
    gradient's part much smaller than the other carries that one's rounding."""
    assert actual.dtype == expected.dtype
    torch.testing.assert_close(actual, expected)


def _overflowing(z: torch.Tensor) -> torch.Tensor:
    """Where |z| overflows the dtype though both parts are finite."""
    parts = _parts(z)
    return torch.hypot(parts[..., 0], parts[..., 1]).isinf() & parts.isfinite().all(-1)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_reference(shape, dtype, device):
    z = random_complex_input(shape, dtype, device)
    assert_same_complex_values(softsign_checked(z), softsign_reference(z))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_every_pair_of_special_values(dtype, device):
    z = special_value_pairs(dtype.to_real()).to(device)
    ours = softsign_checked(z)
    # Against float64: where |z| overflows, F.softsign gives 0 and we give z / |z|.
    assert_same_complex_values(ours, softsign_reference(z))
    # Against F.softsign in the same dtype, wherever |z| does not overflow: its nans (an
    # infinite part makes both parts nan) and its signs of zero, bit for bit.
    kept = ~_overflowing(z)
    assert_same_complex_values(ours[kept], F.softsign(z)[kept], rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_beyond_the_largest_finite_magnitude(dtype, device):
    big = torch.finfo(dtype.to_real()).max
    z = torch.tensor([complex(big, big), complex(-big, big / 3), complex(big / 2, -big)], dtype=dtype, device=device)
    assert _overflowing(z).all()
    assert_same_complex_values(softsign_ext.softsign(z), softsign_reference(z))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_layouts(dtype, device):
    z = random_complex_input((64, 130), dtype, device)
    for view in (z[:, 1:], z[::3], z.t(), z[:, ::2], z.conj()):
        result = softsign_checked(view)
        assert_same_complex_values(result, softsign_reference(view))
    transposed = softsign_ext.softsign(z.t())
    assert transposed.stride() == z.t().stride()  # a dense input's layout is kept


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_out_and_in_place(dtype, device):
    z = random_complex_input((5, 301), dtype, device)
    out = torch.full_like(z, complex(math.nan, math.nan))
    assert softsign_ext.softsign(z, out=out) is out
    assert_same_complex_values(out, softsign_reference(z))
    strided_out = torch.full((5, 602), complex(math.nan, math.nan), dtype=dtype, device=device)[:, ::2]
    softsign_ext.softsign(z, out=strided_out)
    assert_same_complex_values(strided_out, softsign_reference(z))
    mutated = z.clone()
    assert softsign_ext.softsign_(mutated) is mutated
    assert_same_complex_values(mutated, softsign_reference(z))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
@pytest.mark.parametrize("shape", [(7,), (1023,), (4, 2049)], ids=str)
def test_gradient_matches_f_softsign(shape, dtype, device):
    z = random_complex_input(shape, dtype, device, with_specials=False)
    grad = random_complex_input(shape, dtype, device, with_specials=False)
    x = z.clone().requires_grad_()
    softsign_ext.softsign(x).backward(grad)
    assert_close_as_vectors(x.grad, softsign_grad_reference(grad, z))
    poison_allocator(z.numel() * z.element_size(), device)
    assert_close_as_vectors(softsign_ext.softsign_backward(grad, z), softsign_grad_reference(grad, z))


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_keeps_its_precision_where_f_softsigns_cancels(device):
    # g along z: autograd's form of F.softsign's gradient, r g - (r z) r Re(g conj(u)),
    # cancels there and loses about log2 |z| bits; ours stays within a few roundings.
    z = torch.tensor([complex(3e4, 4e4), complex(-1e6, 2.5e5), complex(7.0, -24.0)], dtype=torch.complex64,
                     device=device)
    grad = z * torch.tensor([2.0, -0.5, 1.0], device=device)
    expected = softsign_grad_reference(grad, z).to(torch.complex128)
    error = (softsign_ext.softsign_backward(grad, z).to(torch.complex128) - expected).abs() / expected.abs()
    assert (error < 8 * torch.finfo(torch.float32).eps).all(), error


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_at_zero_and_tiny_magnitudes(device):
    # u = z / |z| is 0 at z = 0 (torch.sgn's value, what F.softsign's autograd uses) and
    # z / |z| for subnormal z.
    tiny = torch.finfo(torch.float32).tiny
    z = torch.tensor([0, complex(-0.0, 0.0), complex(tiny / 8, -tiny / 4), complex(3e-30, 4e-30),
                      complex(-2 * tiny, 0), complex(-2 * tiny, 1e-45)], dtype=torch.complex64, device=device)
    grad = torch.tensor([complex(1, 2)] * len(z), dtype=torch.complex64, device=device)
    assert_close_as_vectors(softsign_ext.softsign_backward(grad, z), softsign_grad_reference(grad, z))


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_every_mode(device):
    z = random_complex_input((3, 5), torch.complex128, device, with_specials=False)
    x = (z / (1 + z.abs()) * 3).requires_grad_()  # magnitudes away from the kink at 0
    kinds = dict(check_forward_ad=True, check_backward_ad=True, check_batched_grad=True,
                 check_batched_forward_grad=True)
    # gradcheck and gradgradcheck raise GradcheckError on a wrong derivative.
    torch.autograd.gradcheck(softsign_ext.softsign, (x,), **kinds)
    torch.autograd.gradgradcheck(softsign_ext.softsign, (x,), check_fwd_over_rev=True, check_rev_over_rev=True,
                                 check_batched_grad=True)
    grad = random_complex_input((3, 5), torch.complex128, device, with_specials=False).requires_grad_()
    torch.autograd.gradcheck(softsign_ext.softsign_backward, (grad, x), **kinds)
    torch.autograd.gradgradcheck(softsign_ext.softsign_backward, (grad, x), check_fwd_over_rev=True)


def _real_loss(f):
    return lambda z: (f(z) * torch.full_like(z, complex(0.5, -2))).real.sum()


TRANSFORMS = {
    "jvp": lambda f, z, t: jvp(f, (z,), (t,)),
    "vjp": lambda f, z, t: vjp(f, z)[1](t),
    "grad": lambda f, z, t: torch.func.grad(_real_loss(f))(z),
    "vmap": lambda f, z, t: vmap(f)(z),
    "vmap_jvp": lambda f, z, t: vmap(lambda a, b: jvp(f, (a,), (b,)))(z, t),
    "vmap_grad": lambda f, z, t: vmap(torch.func.grad(_real_loss(f)))(z),
    "jvp_grad": lambda f, z, t: jvp(torch.func.grad(_real_loss(f)), (z,), (t,)),
    "grad_jvp": lambda f, z, t: torch.func.grad(lambda v: _real_loss(lambda w: jvp(f, (w,), (t,))[1])(v))(z),
}
# (jacrev, jacfwd and hessian take real inputs only, for F.softsign too.)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_transform_matches_f_softsign(transform, dtype, device):
    z = random_complex_input((4, 6), dtype, device, with_specials=False)
    t = random_complex_input((4, 6), dtype, device, with_specials=False)
    apply = TRANSFORMS[transform]
    ours = apply(softsign_ext.softsign, z, t)
    reference = apply(F.softsign, z.to(torch.complex128), t.to(torch.complex128))
    for actual, expected in zip(ours if isinstance(ours, tuple) else (ours,),
                                reference if isinstance(reference, tuple) else (reference,), strict=True):
        assert actual.dtype == dtype
        torch.testing.assert_close(actual, expected.to(dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_compiled_is_one_fused_kernel_with_eager_values(dtype, device):
    from torch._inductor.utils import run_and_get_code

    torch._dynamo.reset()
    z = random_complex_input((4, 300), dtype, device)
    compiled = torch.compile(softsign_ext.softsign, fullgraph=True)
    result, (code, *_) = run_and_get_code(compiled, z)
    # Inductor runs complex ATen operations as calls of their own; ours decomposes into
    # real arithmetic on the parts, which it fuses into one kernel between two views.
    assert set(re.findall(r"= torch\.ops\.aten\.(\w+)\.", code)) == {"view_as_real", "view_as_complex"}
    assert "torch.ops.softsign_ext" not in code
    assert code.count("async_compile.cpp_pybinding(" if device == "cpu" else "async_compile.triton(") == 1
    kept = ~_overflowing(z)
    # F.softsign's special values (nans, signs of zero); its values to rounding, since
    # Inductor's hypot may differ from eager's in the last bit.
    assert_same_complex_values(result[kept], F.softsign(z)[kept])
    assert_same_complex_values(result, softsign_reference(z))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_compiled_backward(dtype, device):
    torch._dynamo.reset()
    z = random_complex_input((4, 300), dtype, device, with_specials=False)
    grad = random_complex_input((4, 300), dtype, device, with_specials=False)
    x = z.clone().requires_grad_()
    torch.compile(softsign_ext.softsign, fullgraph=True)(x).backward(grad)
    assert_close_as_vectors(x.grad, softsign_grad_reference(grad, z))
    compiled_backward = torch.compile(softsign_ext.softsign_backward, fullgraph=True)
    assert_close_as_vectors(compiled_backward(grad, z), softsign_grad_reference(grad, z))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_opcheck(dtype, device):
    ops = torch.ops.softsign_ext
    z = random_complex_input((4, 33), dtype, device, with_specials=False)
    torch.library.opcheck(ops.softsign.default, (z.clone().requires_grad_(),))
    torch.library.opcheck(ops.softsign_backward.default, (z.clone().requires_grad_(), z.clone().requires_grad_()))
    torch.library.opcheck(ops.softsign.out, (z,), {"out": torch.empty_like(z)})
    torch.library.opcheck(ops.softsign_.default, (z.clone(),))


def test_complex32_is_refused_on_the_cpu_as_f_softsign_refuses_it():
    z = torch.full((3,), complex(1, 2), dtype=torch.complex32)
    with pytest.raises(NotImplementedError):
        F.softsign(z)
    with pytest.raises(TypeError, match="dtype ComplexHalf on cpu.*supports .*complex64 and complex128"):
        softsign_ext.softsign(z)


@needs_cuda
def test_complex32_on_cuda_as_f_softsign_takes_it():
    # Computed in complex64 and rounded once (F.softsign rounds |z| and 1 + |z| to half
    # first), so compared with float64 math at complex32's tolerance.
    z = random_complex_input((1000,), torch.complex64, "cuda", with_specials=False).to(torch.complex32)
    result = softsign_checked(z)
    assert result.dtype == torch.complex32 == F.softsign(z).dtype
    torch.testing.assert_close(torch.view_as_real(result).float(),
                               torch.view_as_real(softsign_reference(z.to(torch.complex64))).float(),
                               rtol=2e-3, atol=1e-3)
    grad = random_complex_input((1000,), torch.complex64, "cuda", with_specials=False).to(torch.complex32)
    torch.testing.assert_close(
        torch.view_as_real(softsign_ext.softsign_backward(grad, z)).float(),
        torch.view_as_real(softsign_grad_reference(grad.to(torch.complex64), z.to(torch.complex64))).float(),
        rtol=2e-3, atol=1e-3)
