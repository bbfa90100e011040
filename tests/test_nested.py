"""Nested tensors, both layouts, as F.softsign takes them: the strided layout
(torch.nested.nested_tensor) through the operators' nested-tensor kernels, the jagged
layout through its tensor subclass; forward, in place and backward, against float64
F.softsign component by component (CPU here, CUDA on a GPU machine)."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from _helpers import DEVICES, FLOAT_DTYPES, assert_same_values, random_input

import softsign_ext
from softsign_ext.reference import softsign_grad_reference, softsign_reference

LAYOUTS = [torch.strided, torch.jagged]


def _components(dtype, device):
    # Specials (inf, nan, -0.0, subnormals, huge) land in every component.
    return [random_input((rows, 7), dtype, device) for rows in (3, 1, 40)]


def _nested(components, layout, requires_grad=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the strided layout's "prototype stage" warning)
        return torch.nested.nested_tensor([c.detach() for c in components], layout=layout,
                                          requires_grad=requires_grad)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=["strided", "jagged"])
def test_forward_and_in_place(layout, dtype, device):
    components = _components(dtype, device)
    result = softsign_ext.softsign(_nested(components, layout))
    assert result.is_nested and result.layout == layout
    for got, x in zip(result.unbind(), components):
        assert_same_values(got, softsign_reference(x))
    mutated = _nested(components, layout)
    assert softsign_ext.softsign_(mutated) is mutated
    for got, x in zip(mutated.unbind(), components):
        assert_same_values(got, softsign_reference(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=["strided", "jagged"])
def test_backward(layout, device):
    components = _components(torch.float64, device)
    grads = [random_input(c.shape, torch.float64, device, with_specials=False) for c in components]
    x = _nested(components, layout, requires_grad=True)
    # A jagged gradient must share x's ragged dimension (its offsets).
    grad = (_nested(grads, layout) if layout == torch.strided
            else torch.nested.nested_tensor_from_jagged(torch.cat(grads), x.offsets()))
    softsign_ext.softsign(x).backward(grad)
    for got, grad, c in zip(x.grad.unbind(), grads, components):
        assert_same_values(got, softsign_grad_reference(grad, c))


@pytest.mark.parametrize("device", DEVICES)
def test_integer_components_promote_as_in_f_softsign(device):
    components = [torch.arange(-4, 5, device=device).reshape(3, 3), torch.arange(6, device=device).reshape(2, 3)]
    result = softsign_ext.softsign(_nested(components, torch.strided))
    for got, expected in zip(result.unbind(), F.softsign(_nested(components, torch.strided)).unbind()):
        assert_same_values(got, expected)


def test_non_contiguous_strided_nested_raises_as_f_softsign():
    x = _nested(_components(torch.float32, "cpu"), torch.strided).transpose(1, 2)
    with pytest.raises(RuntimeError, match="must be contiguous"):
        F.softsign(x)
    with pytest.raises(RuntimeError, match="must be contiguous"):
        softsign_ext.softsign(x)
