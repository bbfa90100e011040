// A complex value as its two parts, for elementwise ops on complex tensors:
// the parts are scalars (float, double) or SIMD vectors of them, which the CPU
// loops fill by deinterleaving complex arrays, so one op body serves scalars
// and vectors alike, as it does for real dtypes.
#pragma once

#include <c10/util/complex.h>

namespace softsign_ext {

template <typename R>
struct ComplexParts {
  R real;
  R imag;
};

template <typename T>
C10_HOST_DEVICE inline ComplexParts<T> parts(c10::complex<T> z) {
  return {z.real(), z.imag()};
}

template <typename T>
C10_HOST_DEVICE inline c10::complex<T> joined(const ComplexParts<T>& z) {
  return {z.real, z.imag};
}

}  // namespace softsign_ext
