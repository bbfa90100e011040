// CPU kernels: ATen's at::vec SIMD helpers over contiguous chunks, spread over
// threads by at::parallel_for. at::vec::map widens half types to float, runs
// the math there and rounds once on the way out.
#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>  // at::internal::GRAIN_SIZE, ATen's per-thread chunk
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>

#include "softsign.h"
#include "softsign_math.h"

namespace softsign_ext {
namespace {

void softsign_cpu_kernel(const at::Tensor& out, const at::Tensor& x) {
  SOFTSIGN_DISPATCH_FLOATING_TYPES(x.scalar_type(), "softsign_cpu", [&] {
    const scalar_t* in = x.const_data_ptr<scalar_t>();
    scalar_t* result = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, x.numel(), at::internal::GRAIN_SIZE,
                     [&](int64_t begin, int64_t end) {
                       at::vec::map(
                           [](auto v) { return softsign_forward(v); },
                           result + begin, in + begin, end - begin);
                     });
  });
}

void softsign_backward_cpu_kernel(const at::Tensor& out,
                                  const at::Tensor& grad_output,
                                  const at::Tensor& x) {
  SOFTSIGN_DISPATCH_FLOATING_TYPES(x.scalar_type(), "softsign_backward_cpu", [&] {
    const scalar_t* grad = grad_output.const_data_ptr<scalar_t>();
    const scalar_t* in = x.const_data_ptr<scalar_t>();
    scalar_t* result = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, x.numel(), at::internal::GRAIN_SIZE,
                     [&](int64_t begin, int64_t end) {
                       at::vec::map2(
                           [](auto g, auto v) { return softsign_grad(g, v); },
                           result + begin, grad + begin, in + begin,
                           end - begin);
                     });
  });
}

at::Tensor softsign_cpu(const at::Tensor& x) {
  return softsign_with(x, &softsign_cpu_kernel);
}

at::Tensor softsign_backward_cpu(const at::Tensor& grad_output,
                                 const at::Tensor& x) {
  return softsign_backward_with(grad_output, x, &softsign_backward_cpu_kernel);
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, CPU, m) {
  m.impl("softsign", &softsign_cpu);
  m.impl("softsign_backward", &softsign_backward_cpu);
}

}  // namespace softsign_ext
