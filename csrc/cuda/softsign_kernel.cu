// CUDA kernels: the softsign math as functors for the generic elementwise
// launcher, run on the current stream of the input's device.
#include <torch/library.h>

#include "elementwise/cuda_loops.cuh"
#include "operator/softsign.h"
#include "cuda/softsign_functors.cuh"

namespace softsign_ext {
namespace {

void softsign_cuda_kernel(const at::Tensor& out, const at::Tensor& x) {
  SOFTSIGN_CUDA_DISPATCH(x.scalar_type(), "softsign_cuda", [&] {
    cuda::elementwise<scalar_t>(out, SoftsignOp{}, x);
  });
}

void softsign_backward_cuda_kernel(const at::Tensor& out,
                                   const at::Tensor& grad_output,
                                   const at::Tensor& x) {
  SOFTSIGN_CUDA_DISPATCH(
      x.scalar_type(), "softsign_backward_cuda", [&] {
        cuda::elementwise<scalar_t>(out, SoftsignGradOp{}, grad_output, x);
      });
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, CUDA, m) {
  register_kernels<&softsign_cuda_kernel, &softsign_backward_cuda_kernel>(m);
}

}  // namespace softsign_ext
