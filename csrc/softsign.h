// Host-side pieces shared by the CPU, CUDA and Meta registrations: the dtype
// dispatch, the argument checks and the layout handling. Each backend supplies
// only a "flat" kernel that maps dense storage to dense storage.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>
#include <torch/library.h>

namespace softsign_ext {

// The one place that lists the dtypes the kernels are compiled for.
#define SOFTSIGN_DISPATCH_FLOATING_TYPES(TYPE, NAME, ...)               \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, TYPE, NAME, \
                                  __VA_ARGS__)

// Flat kernels: every tensor argument is non-overlapping and dense with the
// same sizes and strides as `out`, so element k of one lives at offset k of
// each. `out` may alias an input. They are never called with numel() == 0.
using FlatForwardKernel = void (*)(const at::Tensor& out, const at::Tensor& x);
using FlatBackwardKernel = void (*)(const at::Tensor& out,
                                    const at::Tensor& grad_output,
                                    const at::Tensor& x);

// softsign(x) through `kernel`, after the checks, the integer-to-float
// promotion and the layout handling that every device shares.
at::Tensor softsign_with(const at::Tensor& x, FlatForwardKernel kernel);
at::Tensor softsign_backward_with(const at::Tensor& grad_output,
                                  const at::Tensor& x,
                                  FlatBackwardKernel kernel);

// Registers both operators for one backend (CPU, CUDA) from its flat kernels.
template <FlatForwardKernel kForward, FlatBackwardKernel kBackward>
void register_kernels(torch::Library& m) {
  m.impl("softsign",
         [](const at::Tensor& x) { return softsign_with(x, kForward); });
  m.impl("softsign_backward",
         [](const at::Tensor& grad_output, const at::Tensor& x) {
           return softsign_backward_with(grad_output, x, kBackward);
         });
}

// Checks the arguments; returns the dtype of the result.
at::ScalarType check_softsign_input(const at::Tensor& x);
void check_softsign_backward_inputs(const at::Tensor& grad_output,
                                    const at::Tensor& x);

}  // namespace softsign_ext
