// The softsign math, written once for every kernel: the CPU kernels call it
// with scalars and with ATen's at::vec::Vectorized, the CUDA kernels with
// scalars on the device. Half types are widened to float before they get here.
#pragma once

#include <c10/macros/Macros.h>

#include <cfloat>
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

#if defined(__CUDA_ARCH__)
// The same for float on the GPU (half types widen to it), with the steps of
// CUDA's IEEE division written out in straight-line code. CUDA's division
// guards them with a range check that branches to a slow path, and the
// compiler then ran a thread's 4 or 8 divisions one after another, which
// showed where latency bounds the kernel: small tensors, and L2-resident
// bfloat16. Here the range is known, d = 1 + |x| >= 1:
// - |x| < 2^25: no step leaves the normal range, and the residual step
//   corrects the quotient to the correctly rounded one, as in CUDA's fast
//   path. A subnormal x gives d = 1, r = 1 and comes back exactly.
// - finite |x| >= 2^25: 1 + |x| rounds to |x|, so the quotient is exactly +-1
//   (the steps would lose precision once 1/d is subnormal).
// - +-inf and nan: r = 0 or nan, so nan, as from inf / inf.
// tests/test_forward.py checks every float bit pattern against torch's
// division.
__device__ __forceinline__ float softsign_forward(float x) {
  const float d = 1.0f + fabsf(x);
  float r;
  // ftz is safe: d is never subnormal, and 1/d is subnormal only where
  // |x| >= 2^126, whose result is the saturated +-1.
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(d));
  r = fmaf(r, fmaf(-d, r, 1.0f), r);  // one Newton step
  const float q = x * r;
  // q - r * (d q - x), the residual exact in the fma. Written this way round,
  // not as q + r * (x - d q), so that x = -0 gives -0 + -0 = -0, not +0.
  const float rounded = fmaf(-r, fmaf(d, q, -x), q);
  const bool saturated = fabsf(x) >= 0x1p25f && fabsf(x) <= FLT_MAX;
  return saturated ? copysignf(1.0f, x) : rounded;
}
#endif

// dy/dx * grad = grad / (1 + |x|)^2, as grad * r * r with r = 1 / (1 + |x|):
// one division instead of two. An IEEE division is about ten instructions, a
// multiply one, and where the data sits in L2 they bound the CUDA kernel.
// Multiplying grad by r before r again keeps r^2 from underflowing to 0 for
// |x| > ~1.8e19 in float, and the square from overflowing: the largest finite
// x gives r = 2.9e-39 (a subnormal, kept unless denormals are flushed), so an
// infinite gradient there stays infinite.
template <typename T>
C10_HOST_DEVICE inline T softsign_grad(T grad, T x) {
  const T reciprocal = T(1) / (T(1) + magnitude(x));
  return grad * reciprocal * reciprocal;
}

}  // namespace softsign_ext
