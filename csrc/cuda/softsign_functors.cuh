// The softsign math as functors for the generic elementwise launcher
// (elementwise/cuda_loops.cuh): the package's CUDA kernels
// (cuda/softsign_kernel.cu) and the KernelBench submission generated from
// these sources (softsign_ext/kernelbench/submission.py) launch the same ones.
#pragma once

#include "softsign_math.h"

namespace softsign_ext {

struct SoftsignOp {
  template <typename T>
  __device__ T operator()(T x) const {
    return softsign_forward(x);
  }
};

struct SoftsignGradOp {
  template <typename T>
  __device__ T operator()(T grad, T x) const {
    return softsign_grad(grad, x);
  }
};

}  // namespace softsign_ext
