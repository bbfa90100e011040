// CPU kernels: ATen's at::vec SIMD vectors over contiguous chunks, spread over
// threads by at::parallel_for.
#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>  // at::internal::GRAIN_SIZE, ATen's per-thread chunk
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>

#include <tuple>

#include "softsign.h"
#include "softsign_math.h"

namespace softsign_ext {
namespace {

// op applied to the vectors of `count` elements at in[...] + i, stored at out +
// i. Half types are widened to two float vectors for op and rounded once on the
// way out (ATen's own Vectorized<Half> arithmetic rounds after every
// operation).
template <typename scalar_t, typename Op, typename Load, typename... Inputs>
inline void map_vector(const Op& op, const Load& load, scalar_t* out,
                       int64_t count, const Inputs*... in) {
  if constexpr (at::is_reduced_floating_point_v<scalar_t>) {
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
  } else {
    op(load(in)...).store(out, count);
  }
}

// out[i] = op(in[i]...) for i < n over contiguous arrays, one at::vec vector
// at a time, the last one partial.
template <typename scalar_t, typename Op, typename... Inputs>
void map_contiguous(const Op& op, scalar_t* out, int64_t n,
                    const Inputs*... in) {
  using Vec = at::vec::Vectorized<scalar_t>;
  constexpr int64_t kSize = Vec::size();
  int64_t i = 0;
  for (; i + kSize <= n; i += kSize) {
    map_vector(
        op, [&](const scalar_t* p) { return Vec::loadu(p + i); }, out + i,
        kSize, in...);
  }
  if (i < n) {
    map_vector(
        op, [&](const scalar_t* p) { return Vec::loadu(p + i, n - i); },
        out + i, n - i, in...);
  }
}

template <typename scalar_t, typename Op, typename... Inputs>
void parallel_map(const Op& op, const at::Tensor& out,
                  const Inputs&... inputs) {
  scalar_t* result = out.mutable_data_ptr<scalar_t>();
  const auto in =
      std::make_tuple(inputs.template const_data_ptr<scalar_t>()...);
  at::parallel_for(0, out.numel(), at::internal::GRAIN_SIZE,
                   [&](int64_t begin, int64_t end) {
                     std::apply(
                         [&](const auto*... p) {
                           map_contiguous(op, result + begin, end - begin,
                                          (p + begin)...);
                         },
                         in);
                   });
}

void softsign_cpu_kernel(const at::Tensor& out, const at::Tensor& x) {
  SOFTSIGN_DISPATCH_FLOATING_TYPES(x.scalar_type(), "softsign_cpu", [&] {
    parallel_map<scalar_t>([](auto v) { return softsign_forward(v); }, out, x);
  });
}

void softsign_backward_cpu_kernel(const at::Tensor& out,
                                  const at::Tensor& grad_output,
                                  const at::Tensor& x) {
  SOFTSIGN_DISPATCH_FLOATING_TYPES(
      x.scalar_type(), "softsign_backward_cpu", [&] {
        parallel_map<scalar_t>(
            [](auto g, auto v) { return softsign_grad(g, v); }, out,
            grad_output, x);
      });
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, CPU, m) {
  register_kernels<&softsign_cpu_kernel, &softsign_backward_cpu_kernel>(m);
}

}  // namespace softsign_ext
