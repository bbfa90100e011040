// Generic machinery for dense elementwise CUDA kernels: the op is a functor
// on opmath values (float for half types); this file owns vector width,
// alignment, 64-bit indexing and launch configuration.
#pragma once

#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include <cstdint>
#include <limits>
#include <utility>

namespace softsign_ext {
namespace cuda {

// 16 bytes is the widest load/store a thread can issue (LDG.E.128).
constexpr int kVectorBytes = 16;
constexpr int kThreadsPerBlock = 256;

template <typename T, int N>
struct alignas(sizeof(T) * N) Vector {
  T val[N];
};

template <typename T, int kInputs>
struct InputPointers {
  const T* data[kInputs];
};

// Calls op with the widened element `element(a)` of each input a.
template <typename opmath_t, typename Op, typename Element, std::size_t... A>
__device__ __forceinline__ opmath_t apply(const Op& op, const Element& element,
                                          std::index_sequence<A...>) {
  return op(static_cast<opmath_t>(element(A))...);
}

// Each thread maps kVec consecutive elements with one vector load per input
// and one vector store; no grid-stride loop, so the grid covers n. The last
// thread also takes the n % kVec elements left after the last whole vector.
template <int kVec, typename T, int kInputs, typename Op>
__global__ void __launch_bounds__(kThreadsPerBlock)
    elementwise_kernel(T* out, InputPointers<T, kInputs> in, int64_t n, Op op) {
  using opmath_t = at::opmath_type<T>;
  using Vec = Vector<T, kVec>;
  constexpr auto inputs = std::make_index_sequence<kInputs>{};
  const int64_t first =
      (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * kVec;
  if (first + kVec <= n) {
    Vec args[kInputs];
#pragma unroll
    for (int a = 0; a < kInputs; ++a) {
      args[a] = *reinterpret_cast<const Vec*>(in.data[a] + first);
    }
    Vec result;
#pragma unroll
    for (int j = 0; j < kVec; ++j) {
      result.val[j] = static_cast<T>(apply<opmath_t>(
          op, [&](int a) { return args[a].val[j]; }, inputs));
    }
    *reinterpret_cast<Vec*>(out + first) = result;
  } else {
    for (int64_t i = first; i < n; ++i) {
      out[i] = static_cast<T>(apply<opmath_t>(
          op, [&](int a) { return in.data[a][i]; }, inputs));
    }
  }
}

inline bool is_vector_aligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % kVectorBytes == 0;
}

template <int kVec, typename T, int kInputs, typename Op>
void launch(T* out, const InputPointers<T, kInputs>& in, int64_t n, Op op) {
  const int64_t threads = (n + kVec - 1) / kVec;
  const int64_t blocks = (threads + kThreadsPerBlock - 1) / kThreadsPerBlock;
  TORCH_CHECK(blocks <= std::numeric_limits<int32_t>::max(),
              "softsign_ext: tensor of ", n, " elements is too large");
  elementwise_kernel<kVec>
      <<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0,
         at::cuda::getCurrentCUDAStream()>>>(out, in, n, op);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// out[k] = op(inputs[k]...) for every k < out.numel(). All tensors are dense
// with identical strides (see softsign.h); out may alias an input. Pointers
// that are not 16-byte aligned (storage offsets) take the one-element path.
// Runs on the current stream of out's device, whatever device is current.
template <typename T, typename Op, typename... Inputs>
void elementwise(const at::Tensor& out, Op op, const Inputs&... inputs) {
  const c10::cuda::CUDAGuard device_guard(out.device());
  constexpr int kInputs = sizeof...(Inputs);
  constexpr int kVec = kVectorBytes / sizeof(T);
  const InputPointers<T, kInputs> in{{inputs.template const_data_ptr<T>()...}};
  T* result = out.mutable_data_ptr<T>();
  bool aligned = is_vector_aligned(result);
  for (const T* p : in.data) {
    aligned = aligned && is_vector_aligned(p);
  }
  if (aligned) {
    launch<kVec>(result, in, out.numel(), op);
  } else {
    launch<1>(result, in, out.numel(), op);
  }
}

}  // namespace cuda
}  // namespace softsign_ext
