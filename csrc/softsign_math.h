// The softsign math, written once for every kernel: the CPU kernels call it
// with scalars and with ATen's at::vec::Vectorized, the CUDA kernels with
// scalars on the device. Half types are widened to float before they get here;
// complex values come as c10::complex scalars or as their parts
// (ComplexParts of scalars or of vectors).
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/complex.h>

#include <cfloat>
#include <cmath>

#include "elementwise/complex_parts.h"

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

// |a + bi| without overflow or needless underflow, as std::abs of a complex
// number computes it (torch.abs too: hypot, Sleef's in its SIMD kernels).
C10_HOST_DEVICE inline float magnitude(float a, float b) { return ::hypotf(a, b); }

C10_HOST_DEVICE inline double magnitude(double a, double b) { return ::hypot(a, b); }

template <typename Vec>
inline Vec magnitude(const Vec& a, const Vec& b) {
  return a.hypot(b);
}

// |z| / 2 for complex z = a + bi, as |z / 2|: finite for every finite z
// (|z| itself overflows beyond the largest finite value, and F.softsign then
// gives 0), and exactly half of |z| elsewhere (halving is exact, and a
// subnormal part that it rounds cannot change 1 + |z|).
template <typename R>
C10_HOST_DEVICE inline R half_magnitude(const ComplexParts<R>& z) {
  const R half(0.5);
  return magnitude(z.real * half, z.imag * half);
}

// Complex z: z / (1 + |z|) as F.softsign computes it, dividing z by the
// complex number c + 0i, c = 1 + |z|, with c10::complex's division. With a
// zero imaginary divisor that division computes (a + b * 0) / c and
// (b - a * 0) / c as products with 1 / c, and its terms b * 0 and a * 0 are
// kept here for its special values: an infinite part makes both parts nan
// (inf * 0), and a zero part can lose its sign (-0 + 0 = +0). 1 / c is taken
// as 0.5 / (0.5 + |z| / 2), which is the same number while |z| is finite: so
// the result is F.softsign's bit for bit (both take a hypot), except that
// beyond the largest finite |z| it is z / |z|, as float64 gives, not 0.
template <typename R>
C10_HOST_DEVICE inline ComplexParts<R> softsign_forward(
    const ComplexParts<R>& z) {
  const R half(0.5);
  const R reciprocal = half / (half + half_magnitude(z));
  const R zero(0);
  return {(z.real + z.imag * zero) * reciprocal,
          (z.imag - z.real * zero) * reciprocal};
}

template <typename T>
C10_HOST_DEVICE inline c10::complex<T> softsign_forward(c10::complex<T> z) {
  return joined(softsign_forward(parts(z)));
}

// x y + w rounded once.
C10_HOST_DEVICE inline float fused_multiply_add(float x, float y, float w) {
  return ::fmaf(x, y, w);
}

C10_HOST_DEVICE inline double fused_multiply_add(double x, double y, double w) {
  return ::fma(x, y, w);
}

template <typename Vec>
inline Vec fused_multiply_add(const Vec& x, const Vec& y, const Vec& w) {
  return fmadd(x, y, w);  // at::vec's (an unfused a * b + c without FMA units)
}

// p q - s t to within about one rounding, even where the two products nearly
// cancel (Kahan's algorithm: the rounding error of s t, recovered exactly by
// a fused multiply-add, is subtracted too).
template <typename R>
C10_HOST_DEVICE inline R difference_of_products(const R& p, const R& q,
                                                const R& s, const R& t) {
  const R minus_st = R(0) - s * t;
  const R st_error = fused_multiply_add(s, t, minus_st);  // s t - round(s t)
  return fused_multiply_add(p, q, minus_st) - st_error;
}

// magnitude with the sign of sign.
C10_HOST_DEVICE inline float with_sign_of(float magnitude, float sign) {
  return ::copysignf(magnitude, sign);
}

C10_HOST_DEVICE inline double with_sign_of(double magnitude, double sign) {
  return ::copysign(magnitude, sign);
}

template <typename Vec>
inline Vec with_sign_of(const Vec& magnitude, const Vec& sign) {
  return magnitude.copysign(sign);
}

// Complex z: the gradient in PyTorch's convention (the conjugate Wirtinger
// derivative, what F.softsign's autograd gives), the vector-Jacobian product of
// softsign seen as a map of the plane. Its Jacobian is symmetric, so this is
// also the forward-mode derivative along g. With r = 1 / (1 + |z|) and the unit
// vector u = z / |z|, it scales g's component along u by r^2 and the one across
// u by r:
//   grad_z = r u (r Re(g conj(u)) + i Im(g conj(u))),
// for real z the real softsign_grad, g r^2. Written as r g - (r z) r Re(g
// conj(u)), as autograd differentiates F.softsign, it loses about log2 |z| bits
// to cancellation where g lies along z; here the component across u, which
// then nearly vanishes, comes from the exact parts of z / 2 as one difference
// of products, so the result keeps its precision. (It overflows only where
// |g| |z| does, as F.softsign's gradient does.) z / 2 cannot overflow |z|, and
// its real part is pushed FLT_MIN away from 0, so that u is a unit vector at
// z = 0 too: any unit u gives g there, and where r < 1 (|z| > 2^-54) the push
// is below 2^-70 of |z| / 2. Two divisions, 1 / |z / 2| and r: with four, FP64
// division bound the complex128 kernel on the GPU below a copy's speed.
template <typename R>
C10_HOST_DEVICE inline ComplexParts<R> softsign_grad(
    const ComplexParts<R>& g, const ComplexParts<R>& z) {
  const R half(0.5);
  const R a = z.real * half;
  const R pushed = a + with_sign_of(R(FLT_MIN), a);  // never 0
  const R b = z.imag * half;
  const R m = magnitude(pushed, b);
  const R inverse_m = R(1) / m;
  const R reciprocal = half / (half + m);
  const R ur = pushed * inverse_m;
  const R ui = b * inverse_m;
  const R along = reciprocal * (g.real * ur + g.imag * ui);  // r Re(g conj(u))
  const R across = difference_of_products(g.imag, pushed, g.real, b) * inverse_m;
  return {reciprocal * (ur * along - ui * across),
          reciprocal * (ur * across + ui * along)};
}

template <typename T>
C10_HOST_DEVICE inline c10::complex<T> softsign_grad(c10::complex<T> g,
                                                     c10::complex<T> z) {
  return joined(softsign_grad(parts(g), parts(z)));
}

}  // namespace softsign_ext
