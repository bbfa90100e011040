// The softsign math, written once for every kernel: the CPU kernels call it
// with scalars and with ATen's at::vec::Vectorized, the CUDA kernels with
// scalars on the device. Half types are widened to float before they get here.
#pragma once

#include <c10/macros/Macros.h>

#include <cmath>

namespace softsign_ext {

C10_HOST_DEVICE inline float magnitude(float x) { return ::fabsf(x); }

C10_HOST_DEVICE inline double magnitude(double x) { return ::fabs(x); }

// SIMD vectors (at::vec::Vectorized) carry abs() as a member function.
template <typename Vec>
inline Vec magnitude(const Vec& v) {
  return v.abs();
}

// y = x / (1 + |x|), the same expression as F.softsign, so special values
// agree with it: +-inf gives nan (inf / inf), subnormals and -0 pass through.
template <typename T>
C10_HOST_DEVICE inline T softsign_forward(T x) {
  return x / (T(1) + magnitude(x));
}

// dy/dx * grad = grad / (1 + |x|)^2. Dividing twice instead of by the square
// keeps (1 + |x|)^2 from overflowing to inf for |x| > ~1.8e19 in float.
template <typename T>
C10_HOST_DEVICE inline T softsign_grad(T grad, T x) {
  const T denom = T(1) + magnitude(x);
  return grad / denom / denom;
}

}  // namespace softsign_ext
