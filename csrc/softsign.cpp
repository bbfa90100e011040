// The operator schemas, the Meta kernels, and the host logic that the CPU and
// CUDA kernels share.
#include "softsign.h"

#include <ATen/ATen.h>
#include <Python.h>
#include <torch/library.h>

namespace softsign_ext {

namespace {

constexpr const char* kSupported =
    "softsign_ext supports float32, float64, float16 and bfloat16 "
    "(integer inputs are promoted to the default float dtype, as in "
    "F.softsign)";

// A tensor with the layout of `like` (which is dense) and the values of `t`:
// `t` itself when it already has that layout, otherwise a copy.
at::Tensor with_layout_of(const at::Tensor& t, const at::Tensor& like) {
  if (t.is_non_overlapping_and_dense() && t.strides() == like.strides()) {
    return t;
  }
  return at::empty_like(like).copy_(t);
}

// `t` itself when it is dense (any permutation of strides), else a dense copy
// that keeps its dimension order.
at::Tensor dense(const at::Tensor& t) {
  return t.is_non_overlapping_and_dense() ? t : at::empty_like(t).copy_(t);
}

}  // namespace

// Dtype problems raise TypeError and shape problems ValueError in Python;
// a device mismatch raises RuntimeError, as PyTorch's own operators do.
at::ScalarType check_softsign_input(const at::Tensor& x) {
  const at::ScalarType dtype = x.scalar_type();
  if (at::isFloatingType(dtype)) {
    TORCH_CHECK_TYPE(dtype == at::kFloat || dtype == at::kDouble ||
                         dtype == at::kHalf || dtype == at::kBFloat16,
                     "softsign: got a tensor of dtype ", dtype, "; ",
                     kSupported);
    return dtype;
  }
  TORCH_CHECK_TYPE(at::isIntegralType(dtype, /*includeBool=*/false),
                   "softsign: got a tensor of dtype ", dtype, "; ", kSupported);
  return c10::get_default_dtype_as_scalartype();
}

void check_softsign_backward_inputs(const at::Tensor& grad_output,
                                    const at::Tensor& x) {
  TORCH_CHECK(grad_output.device() == x.device(),
              "softsign_backward: grad_output is on ", grad_output.device(),
              " but x is on ", x.device(), "; both must be on one device");
  TORCH_CHECK_TYPE(at::isFloatingType(x.scalar_type()),
                   "softsign_backward: x has dtype ", x.scalar_type(),
                   ", which has no gradient; ", kSupported);
  check_softsign_input(x);
  TORCH_CHECK_TYPE(grad_output.scalar_type() == x.scalar_type(),
                   "softsign_backward: grad_output has dtype ",
                   grad_output.scalar_type(), " but x has dtype ",
                   x.scalar_type(), "; they must match");
  TORCH_CHECK_VALUE(grad_output.sym_sizes() == x.sym_sizes(),
                    "softsign_backward: grad_output has shape ",
                    grad_output.sym_sizes(), " but x has shape ", x.sym_sizes(),
                    "; they must match");
}

at::Tensor softsign_with(const at::Tensor& x, FlatForwardKernel kernel) {
  const at::ScalarType dtype = check_softsign_input(x);
  // (The dtype test first spares the common call a dispatcher round trip.)
  const at::Tensor input = dense(x.scalar_type() == dtype ? x : x.to(dtype));
  // A copy made above for layout or dtype is ours to overwrite.
  const bool input_is_ours = !input.is_same(x);
  at::Tensor out = input_is_ours ? input : at::empty_like(input);
  if (out.numel() > 0) {
    kernel(out, input);
  }
  return out;
}

at::Tensor softsign_backward_with(const at::Tensor& grad_output,
                                  const at::Tensor& x,
                                  FlatBackwardKernel kernel) {
  check_softsign_backward_inputs(grad_output, x);
  const at::Tensor input = dense(x);
  const at::Tensor grad = with_layout_of(grad_output, input);
  at::Tensor out = grad.is_same(grad_output) ? at::empty_like(input) : grad;
  if (out.numel() > 0) {
    kernel(out, grad, input);
  }
  return out;
}

namespace {

// Meta kernels: shapes, strides and dtypes only, for FakeTensor and
// torch.compile. empty_like gives the same strides as the real kernels.
at::Tensor softsign_meta(const at::Tensor& x) {
  return at::empty_like(x, x.options().dtype(check_softsign_input(x)));
}

at::Tensor softsign_backward_meta(const at::Tensor& grad_output,
                                  const at::Tensor& x) {
  check_softsign_backward_inputs(grad_output, x);
  return at::empty_like(x);
}

}  // namespace

TORCH_LIBRARY(softsign_ext, m) {
  m.def("softsign(Tensor x) -> Tensor", {at::Tag::pointwise});
  m.def("softsign_backward(Tensor grad_output, Tensor x) -> Tensor",
        {at::Tag::pointwise});
}

TORCH_LIBRARY_IMPL(softsign_ext, Meta, m) {
  m.impl("softsign", &softsign_meta);
  m.impl("softsign_backward", &softsign_backward_meta);
}

}  // namespace softsign_ext

// Importing softsign_ext._C from Python loads this library, whose static
// initializers register the operators above; the module itself is empty.
extern "C" {
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr,
                                          -1, nullptr};
  return PyModule_Create(&module_def);
}
}
