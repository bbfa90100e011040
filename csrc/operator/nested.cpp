// Nested tensors of the strided layout (torch.nested.nested_tensor): softsign is
// elementwise, so each operator runs on the nested tensor's one buffer (every
// component's values, back to back), as ATen's own unary operators do, and the
// result takes the input's nested sizes. Like them it needs a contiguous nested
// tensor. (The jagged layout is a Python tensor subclass that calls the
// operators on its values itself.)
#include <ATen/NestedTensorImpl.h>
#include <ATen/native/nested/NestedTensorMath.h>
#include <torch/library.h>

#include "operator/softsign.h"

namespace softsign_ext {
namespace {

at::Tensor softsign_nested(const at::Tensor& x) {
  return at::native::map_nt(
      x, [](const at::Tensor& values) { return handles::softsign().call(values); });
}

at::Tensor& softsign_inplace_nested(at::Tensor& x) {
  at::Tensor values = at::native::get_nested_tensor_impl(x)->get_buffer();
  handles::softsign_().call(values);
  return x;
}

at::Tensor softsign_backward_nested(const at::Tensor& grad_output,
                                    const at::Tensor& x) {
  TORCH_CHECK(grad_output.is_nested() && x.is_nested(),
              "softsign_backward: grad_output and x must both be nested "
              "tensors, or neither");
  TORCH_CHECK_VALUE(at::native::get_nested_tensor_impl(grad_output)
                        ->get_nested_sizes()
                        .equal(at::native::get_nested_tensor_impl(x)
                                   ->get_nested_sizes()),
                    "softsign_backward: grad_output and x must have the same "
                    "nested sizes");
  return at::native::map_nt_binary(
      grad_output, x, [](const at::Tensor& grad, const at::Tensor& values) {
        return handles::softsign_backward().call(grad, values);
      });
}

void register_nested(torch::Library& m) {
  m.impl("softsign", &softsign_nested);
  m.impl("softsign_", &softsign_inplace_nested);
  m.impl("softsign_backward", &softsign_backward_nested);
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, NestedTensorCPU, m) {
  register_nested(m);
}

TORCH_LIBRARY_IMPL(softsign_ext, NestedTensorCUDA, m) {
  register_nested(m);
}

}  // namespace softsign_ext
