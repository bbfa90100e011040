// Generic machinery for elementwise CPU kernels: out[k] = op(inputs[k]...)
// over threads, with the op a functor on scalars and at::vec vectors (widened
// to float for half types; for complex types, ComplexParts of them). Included
// by a source compiled once per instruction set (cpu/softsign_kernel.cpp), so
// it lives in that build's namespace CPU_CAPABILITY, as ATen's cpu/Loops.h
// does.
#pragma once

#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include "elementwise/complex_parts.h"
#include "elementwise/layout.h"

namespace softsign_ext {
namespace CPU_CAPABILITY {

// Half types: op applied to the at::vec vectors of `count` elements at
// in[...] + i, widened to two float vectors and rounded once on the way out
// to out + i (ATen's own Vectorized<Half> arithmetic rounds after every
// operation).
template <typename scalar_t, typename Op, typename Load, typename... Inputs>
inline void map_half_vector(const Op& op, const Load& load, scalar_t* out,
                            int64_t count, const Inputs*... in) {
  const auto widened =
      std::make_tuple(at::vec::convert_to_float<scalar_t>(load(in))...);
  const auto half = [&](auto part) {
    return std::apply(
        [&](const auto&... w) { return op(std::get<part()>(w)...); },
        widened);
  };
  at::vec::convert_from_float<scalar_t>(
      half(std::integral_constant<int, 0>{}),
      half(std::integral_constant<int, 1>{}))
      .store(out, count);
}

// float and double: a plain loop, which the compiler vectorizes for the
// build's instruction set. at::vec's baseline Vectorized keeps its lanes in
// memory and stalls on store-to-load forwarding (benchmarks/README.md).
template <typename scalar_t, typename Op, typename... Inputs>
void map_plain_contiguous(const Op& op, scalar_t* out, int64_t n,
                          const Inputs*... in) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = op(in[i]...);
  }
}

// Complex types: op applied to the parts of `count` complex elements at
// in[...] + i, deinterleaved from two at::vec vectors of the real type each
// (ComplexParts of vectors), and interleaved again on the way out to out + i.
// The parts, not at::vec's complex vectors: these keep the real and imaginary
// lanes side by side and divide one element at a time.
template <typename scalar_t, typename Op, typename... Inputs>
inline void map_complex_vectors(const Op& op, scalar_t* out, int64_t count,
                                const Inputs*... in) {
  using real_t = typename scalar_t::value_type;
  using Vec = at::vec::Vectorized<real_t>;
  constexpr int64_t kSize = Vec::size();  // reals per vector
  const int64_t n = 2 * count;             // reals in all
  const auto load = [&](const scalar_t* p) {
    const real_t* reals = reinterpret_cast<const real_t*>(p);
    const Vec low = n >= kSize ? Vec::loadu(reals) : Vec::loadu(reals, n);
    const Vec high = n >= 2 * kSize ? Vec::loadu(reals + kSize)
                     : n > kSize    ? Vec::loadu(reals + kSize, n - kSize)
                                    : Vec(0);
    const auto [real, imag] = at::vec::deinterleave2(low, high);
    return ComplexParts<Vec>{real, imag};
  };
  const ComplexParts<Vec> result = op(load(in)...);
  const auto [low, high] = at::vec::interleave2(result.real, result.imag);
  real_t* reals = reinterpret_cast<real_t*>(out);
  low.store(reals, std::min(n, kSize));
  if (n > kSize) {
    high.store(reals + kSize, n - kSize);
  }
}

// out[i] = op(in[i]...) for i < n over contiguous arrays: half and complex
// types one at::vec vector at a time (the last one partial), float and double
// through the plain loop.
template <typename scalar_t, typename Op, typename... Inputs>
void map_contiguous(const Op& op, scalar_t* out, int64_t n,
                    const Inputs*... in) {
  if constexpr (c10::is_complex<scalar_t>::value) {
    // Complex elements per step: one vector of each part.
    constexpr int64_t kSize =
        at::vec::Vectorized<typename scalar_t::value_type>::size();
    for (int64_t i = 0; i < n; i += kSize) {
      map_complex_vectors(op, out + i, std::min(kSize, n - i), (in + i)...);
    }
  } else if constexpr (!at::is_reduced_floating_point_v<scalar_t>) {
    map_plain_contiguous(op, out, n, in...);
  } else {
    using Vec = at::vec::Vectorized<scalar_t>;
    constexpr int64_t kSize = Vec::size();
    int64_t i = 0;
    for (; i + kSize <= n; i += kSize) {
      map_half_vector(
          op, [&](const scalar_t* p) { return Vec::loadu(p + i); }, out + i,
          kSize, in...);
    }
    if (i < n) {
      map_half_vector(
          op, [&](const scalar_t* p) { return Vec::loadu(p + i, n - i); },
          out + i, n - i, in...);
    }
  }
}

// One element at a time through op, widened to opmath (float for half types).
template <typename scalar_t, typename Op, typename... Inputs>
inline scalar_t map_scalar(const Op& op, Inputs... in) {
  using opmath_t = at::opmath_type<scalar_t>;
  return static_cast<scalar_t>(op(static_cast<opmath_t>(in)...));
}

// One row of a TensorIterator loop: size0 elements, base[0] the output's,
// base[1 + a] input a's; strides[k] the byte stride of tensor k.
template <typename scalar_t, typename Op, std::size_t kTensors,
          std::size_t... A>
void map_row(const Op& op, const std::array<char*, kTensors>& base,
             const int64_t* strides, int64_t size0, bool contiguous,
             std::index_sequence<A...>) {
  auto* result = reinterpret_cast<scalar_t*>(base[0]);
  if (contiguous) {
    map_contiguous(op, result, size0,
                   reinterpret_cast<const scalar_t*>(base[A + 1])...);
    return;
  }
  for (int64_t i = 0; i < size0; ++i) {
    *reinterpret_cast<scalar_t*>(base[0] + i * strides[0]) =
        map_scalar<scalar_t>(op, *reinterpret_cast<const scalar_t*>(
                                     base[A + 1] + i * strides[A + 1])...);
  }
}

// Elements per thread at least: a smaller call stays on the calling thread.
// Twice ATen's GRAIN_SIZE, where splitting began to pay (benchmarks/README.md).
constexpr int64_t kGrainSize = 2 * at::internal::GRAIN_SIZE;

// out[k] = op(inputs[k]...) for every element, over threads. Tensors that
// share a dense layout take one flat vectorized loop; any others go through a
// TensorIterator, vectorized along rows whose elements are contiguous in
// every tensor. out may be an input (in-place) but overlaps nothing else.
template <typename scalar_t, typename Op, typename... Inputs>
void parallel_map(const Op& op, const at::Tensor& out,
                  const Inputs&... inputs) {
  if (shares_dense_layout(out, inputs...)) {
    scalar_t* result = out.mutable_data_ptr<scalar_t>();
    const auto in =
        std::make_tuple(inputs.template const_data_ptr<scalar_t>()...);
    at::parallel_for(0, out.numel(), kGrainSize,
                     [&](int64_t begin, int64_t end) {
                       std::apply(
                           [&](const auto*... p) {
                             map_contiguous(op, result + begin, end - begin,
                                            (p + begin)...);
                           },
                           in);
                     });
    return;
  }
  constexpr int kTensors = 1 + sizeof...(Inputs);
  const auto loop = [&](char** data, const int64_t* strides, int64_t size0,
                        int64_t size1) {
    bool contiguous = true;
    for (int k = 0; k < kTensors; ++k) {
      contiguous = contiguous && strides[k] == sizeof(scalar_t);
    }
    for (int64_t row = 0; row < size1; ++row) {
      std::array<char*, kTensors> base;
      for (int k = 0; k < kTensors; ++k) {
        base[k] = data[k] + row * strides[kTensors + k];
      }
      map_row<scalar_t>(op, base, strides, size0, contiguous,
                        std::index_sequence_for<Inputs...>{});
    }
  };
  strided_iterator(out, inputs...).for_each(loop, kGrainSize);
}

}  // namespace CPU_CAPABILITY
}  // namespace softsign_ext
