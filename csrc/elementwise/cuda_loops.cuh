// Generic machinery for elementwise CUDA kernels: the op is a functor on
// opmath values (float for half types); this file owns vector width,
// alignment, 64-bit indexing, strides and launch configuration.
#pragma once

#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "elementwise/layout.h"

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

// Bytes past the last 16-byte boundary at or before p.
__host__ __device__ __forceinline__ unsigned misalignment(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % kVectorBytes;
}

// The block count of a 1-D grid, which CUDA caps at 2^31 - 1 blocks.
inline unsigned grid_blocks(int64_t blocks, int64_t n) {
  TORCH_CHECK(blocks <= std::numeric_limits<int32_t>::max(),
              "softsign_ext: tensor of ", n, " elements is too large");
  return static_cast<unsigned>(blocks);
}

// ------------------------------------------------------------- flat loop --

// Bytes [kWord * 4 + bits / 8, ... + 16) of the 32 bytes in w.
template <int kWord>
__device__ __forceinline__ uint4 funnel(const uint32_t (&w)[8],
                                        unsigned bits) {
  return make_uint4(__funnelshift_r(w[kWord], w[kWord + 1], bits),
                    __funnelshift_r(w[kWord + 1], w[kWord + 2], bits),
                    __funnelshift_r(w[kWord + 2], w[kWord + 3], bits),
                    __funnelshift_r(w[kWord + 3], w[kWord + 4], bits));
}

// The 16 bytes at p, which need not be 16-byte aligned, read with the two
// aligned 16-byte loads around them (so misaligned tensors keep 128-bit
// loads) and shifted into place. Reads up to 15 bytes before p and after
// p + 16. All threads of a launch have the same p % 16 for a given tensor, so
// the branches never diverge.
__device__ __forceinline__ uint4 load_realigned(const void* p) {
  const unsigned shift = misalignment(p);
  const uint4* aligned = reinterpret_cast<const uint4*>(
      reinterpret_cast<std::uintptr_t>(p) - shift);
  const uint4 lo = aligned[0];
  if (shift == 0) {
    return lo;
  }
  const uint4 hi = aligned[1];
  const uint32_t w[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
  const unsigned bits = 8 * (shift % 4);
  switch (shift / 4) {
    case 0:
      return funnel<0>(w, bits);
    case 1:
      return funnel<1>(w, bits);
    case 2:
      return funnel<2>(w, bits);
    default:
      return funnel<3>(w, bits);
  }
}

template <bool kRealign, typename Vec>
__device__ __forceinline__ Vec load_vector(const void* p) {
  static_assert(sizeof(Vec) == kVectorBytes, "one 16-byte vector");
  if constexpr (kRealign) {
    const uint4 raw = load_realigned(p);
    Vec v;
    memcpy(&v, &raw, sizeof v);
    return v;
  } else {
    return *reinterpret_cast<const Vec*>(p);
  }
}

// How a span of n elements at the same offsets in out and the inputs splits
// for the vector loop: `head` elements before out's first 16-byte boundary
// (tensors are element-aligned), then `vectors` whole vectors, then the tail;
// head and tail are the `leftovers`. When an input is not 16-byte aligned
// there (`realign`), each of its vectors is read as the two aligned 16-byte
// blocks around it (load_realigned), so the last whole vector is left out:
// every block read then holds an element of the tensor, and no read leaves
// its allocation.
template <int kVec, typename T, int kInputs>
struct SpanSplit {
  // At most kVec - 1 head elements and 2 * kVec - 1 tail ones (a partial
  // vector, plus the whole one left out when loads realign).
  static constexpr int64_t kMaxLeftovers = 3 * kVec - 2;

  int64_t head;
  int64_t vectors;
  int64_t leftovers;
  bool realign;

  __host__ __device__ SpanSplit(const T* out, const InputPointers<T, kInputs>& in,
                                int64_t n) {
    head = (kVectorBytes - misalignment(out)) % kVectorBytes / sizeof(T);
    head = head < n ? head : n;
    realign = false;
    for (int a = 0; a < kInputs; ++a) {
      realign = realign || misalignment(in.data[a] + head) != 0;
    }
    vectors = (n - head) / kVec - (realign ? 1 : 0);
    vectors = vectors > 0 ? vectors : 0;
    leftovers = n - vectors * kVec;
  }

  // Threads that map the span: one per vector and one per leftover element.
  __host__ __device__ int64_t threads() const { return vectors + leftovers; }
};

// Maps a span of n elements split as above. Thread t < vectors maps the kVec
// elements from head + t * kVec: one 16-byte vector of each input (one
// aligned load, or two when it realigns) and one 16-byte store (no
// grid-stride loop: measured fastest). Thread vectors + k maps
// leftover k, the head's elements first and then the tail's: one element per
// thread, as a thread mapping them all would wait out one memory round trip
// per element (out may alias an input, so its loads cannot be batched).
template <int kVec, bool kRealign, typename T, int kInputs, typename Op>
__device__ __forceinline__ void map_span(T* out,
                                         const InputPointers<T, kInputs>& in,
                                         int64_t n, int64_t head,
                                         int64_t vectors, int64_t thread,
                                         const Op& op) {
  using opmath_t = at::opmath_type<T>;
  using Vec = Vector<T, kVec>;
  constexpr auto inputs = std::make_index_sequence<kInputs>{};
  if (thread < vectors) {
    const int64_t first = head + thread * kVec;
    Vec args[kInputs];
#pragma unroll
    for (int a = 0; a < kInputs; ++a) {
      args[a] = load_vector<kRealign, Vec>(in.data[a] + first);
    }
    Vec result;
#pragma unroll
    for (int j = 0; j < kVec; ++j) {
      result.val[j] = static_cast<T>(apply<opmath_t>(
          op, [&](int a) { return args[a].val[j]; }, inputs));
    }
    *reinterpret_cast<Vec*>(out + first) = result;
  } else {
    const int64_t leftover = thread - vectors;
    const int64_t i = leftover < head ? leftover : leftover + vectors * kVec;
    if (i < n) {
      out[i] = static_cast<T>(apply<opmath_t>(
          op, [&](int a) { return in.data[a][i]; }, inputs));
    }
  }
}

// Dense tensors of one layout: the whole tensor is one span.
template <int kVec, bool kRealign, typename T, int kInputs, typename Op>
__global__ void __launch_bounds__(kThreadsPerBlock)
    flat_kernel(T* out, InputPointers<T, kInputs> in, int64_t n, int64_t head,
                int64_t vectors, Op op) {
  map_span<kVec, kRealign>(
      out, in, n, head, vectors,
      static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x, op);
}

template <typename T, int kInputs, typename Op>
void launch_flat(T* out, const InputPointers<T, kInputs>& in, int64_t n,
                 Op op) {
  constexpr int kVec = kVectorBytes / sizeof(T);
  const SpanSplit<kVec, T, kInputs> split(out, in, n);
  const unsigned blocks = grid_blocks(
      (split.threads() + kThreadsPerBlock - 1) / kThreadsPerBlock, n);
  const auto kernel = split.realign ? flat_kernel<kVec, true, T, kInputs, Op>
                                    : flat_kernel<kVec, false, T, kInputs, Op>;
  kernel<<<blocks, kThreadsPerBlock, 0, at::cuda::getCurrentCUDAStream()>>>(
      out, in, n, split.head, split.vectors, op);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// ---------------------------------------------------------- strided loop --

// Dimensions the strided kernel takes after TensorIterator has merged what it
// can (ATen's offset calculator has the same limit).
constexpr int kMaxDims = 25;
// Elements per thread, a block apart: loads of several elements in flight per
// thread, each warp-wide load as contiguous as the strides allow.
constexpr int kStridedElementsPerThread = 4;

template <int kTensors>
struct StridedLayout {
  int ndim;
  int64_t sizes[kMaxDims];              // fastest-moving dimension first
  int64_t strides[kMaxDims][kTensors];  // in bytes; tensor 0 is out
};

// Byte offset in each tensor of the element with linear index `linear`.
template <typename index_t, int kTensors>
__device__ __forceinline__ void strided_offsets(
    const StridedLayout<kTensors>& layout, index_t linear,
    int64_t (&offsets)[kTensors]) {
#pragma unroll
  for (int k = 0; k < kTensors; ++k) {
    offsets[k] = 0;
  }
  // Unrolled to constant indices, so the layout stays in parameter space
  // instead of being copied to local memory.
#pragma unroll
  for (int d = 0; d < kMaxDims; ++d) {
    if (d == layout.ndim) {
      break;
    }
    const index_t size = static_cast<index_t>(layout.sizes[d]);
    const index_t index = linear % size;
    linear /= size;
#pragma unroll
    for (int k = 0; k < kTensors; ++k) {
      offsets[k] += static_cast<int64_t>(index) * layout.strides[d][k];
    }
  }
}

// Any strides (views, slices, out= tensors): each element's offsets come from
// its index; all loads of a thread are issued before its stores.
template <typename index_t, typename T, int kInputs, typename Op>
__global__ void __launch_bounds__(kThreadsPerBlock)
    strided_kernel(char* out, InputPointers<char, kInputs> in,
                   StridedLayout<kInputs + 1> layout, index_t n, Op op) {
  using opmath_t = at::opmath_type<T>;
  constexpr auto inputs = std::make_index_sequence<kInputs>{};
  const index_t first = static_cast<index_t>(blockIdx.x) * kThreadsPerBlock *
                            kStridedElementsPerThread +
                        threadIdx.x;
  int64_t offsets[kStridedElementsPerThread][kInputs + 1];
  T args[kStridedElementsPerThread][kInputs];
#pragma unroll
  for (int e = 0; e < kStridedElementsPerThread; ++e) {
    const index_t i = first + e * kThreadsPerBlock;
    if (i < n) {
      strided_offsets(layout, i, offsets[e]);
#pragma unroll
      for (int a = 0; a < kInputs; ++a) {
        args[e][a] =
            *reinterpret_cast<const T*>(in.data[a] + offsets[e][a + 1]);
      }
    }
  }
#pragma unroll
  for (int e = 0; e < kStridedElementsPerThread; ++e) {
    if (first + e * kThreadsPerBlock < n) {
      *reinterpret_cast<T*>(out + offsets[e][0]) = static_cast<T>(
          apply<opmath_t>(op, [&](int a) { return args[e][a]; }, inputs));
    }
  }
}

// Rows contiguous in every tensor (slices such as x[:, :k], chunks along the
// last dimension): each row is a span for the vector loop, at the offsets of
// its outer index. Rows need not share an alignment, so loads realign.
template <int kVec, typename index_t, typename T, int kInputs, typename Op>
__global__ void __launch_bounds__(kThreadsPerBlock)
    rows_kernel(char* out, InputPointers<char, kInputs> in,
                StridedLayout<kInputs + 1> outer, int64_t row_length,
                int64_t blocks_per_row, Op op) {
  const int64_t row = blockIdx.x / blocks_per_row;
  const int64_t thread =
      (blockIdx.x % blocks_per_row) * kThreadsPerBlock + threadIdx.x;
  int64_t offsets[kInputs + 1];
  strided_offsets(outer, static_cast<index_t>(row), offsets);
  T* out_row = reinterpret_cast<T*>(out + offsets[0]);
  InputPointers<T, kInputs> in_row;
#pragma unroll
  for (int a = 0; a < kInputs; ++a) {
    in_row.data[a] = reinterpret_cast<const T*>(in.data[a] + offsets[a + 1]);
  }
  const SpanSplit<kVec, T, kInputs> split(out_row, in_row, row_length);
  map_span<kVec, true>(out_row, in_row, row_length, split.head, split.vectors,
                       thread, op);
}

template <typename T, typename Op, typename... Inputs>
void launch_strided(const at::Tensor& out, Op op, const Inputs&... inputs) {
  constexpr int kInputs = sizeof...(Inputs);
  const at::TensorIterator iter = strided_iterator(out, inputs...);
  TORCH_CHECK(iter.ndim() <= kMaxDims, "softsign_ext: tensors whose strides ",
              "leave more than ", kMaxDims,
              " dimensions that cannot be merged are not supported; call "
              ".contiguous() on them first");
  InputPointers<char, kInputs> in;
  for (int a = 0; a < kInputs; ++a) {
    in.data[a] = static_cast<const char*>(iter.data_ptr(a + 1));
  }
  char* result = static_cast<char*>(iter.data_ptr(0));
  const int64_t n = iter.numel();
  const auto stream = at::cuda::getCurrentCUDAStream();
  // Dimensions from `first` on, as the strided kernels see them.
  const auto layout_from = [&](int first) {
    StridedLayout<kInputs + 1> layout{};
    layout.ndim = iter.ndim() - first;
    for (int d = first; d < iter.ndim(); ++d) {
      layout.sizes[d - first] = iter.shape()[d];
      for (int k = 0; k <= kInputs; ++k) {
        layout.strides[d - first][k] = iter.strides(k)[d];
      }
    }
    return layout;
  };

  // Rows contiguous in every tensor and long enough to keep at least half of
  // a block's threads on whole vectors take the vector loop row by row.
  constexpr int kVec = kVectorBytes / sizeof(T);
  bool contiguous_rows = iter.ndim() > 1 &&
                         iter.shape()[0] >= kThreadsPerBlock * kVec / 2;
  for (int k = 0; k <= kInputs; ++k) {
    contiguous_rows = contiguous_rows && iter.strides(k)[0] == sizeof(T);
  }
  if (contiguous_rows) {
    const int64_t row_length = iter.shape()[0];
    const int64_t rows = n / row_length;
    // Enough threads for any row's split, whatever its alignment.
    const int64_t row_threads =
        row_length / kVec + SpanSplit<kVec, T, kInputs>::kMaxLeftovers;
    const int64_t blocks_per_row =
        (row_threads + kThreadsPerBlock - 1) / kThreadsPerBlock;
    const unsigned blocks = grid_blocks(rows * blocks_per_row, n);
    // (rows < blocks, so row indices fit 32 bits.)
    rows_kernel<kVec, uint32_t, T><<<blocks, kThreadsPerBlock, 0, stream>>>(
        result, in, layout_from(1), row_length, blocks_per_row, op);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return;
  }

  constexpr int64_t kPerBlock = kThreadsPerBlock * kStridedElementsPerThread;
  const unsigned blocks = grid_blocks((n + kPerBlock - 1) / kPerBlock, n);
  const auto layout = layout_from(0);
  // 32-bit index arithmetic (divisions above all) when the indices fit.
  if (n + kPerBlock <= std::numeric_limits<int32_t>::max()) {
    strided_kernel<uint32_t, T><<<blocks, kThreadsPerBlock, 0, stream>>>(
        result, in, layout, static_cast<uint32_t>(n), op);
  } else {
    strided_kernel<int64_t, T><<<blocks, kThreadsPerBlock, 0, stream>>>(
        result, in, layout, n, op);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// -------------------------------------------------------------- dispatch --

// out[k] = op(inputs[k]...) for every element, on the current stream of out's
// device, whatever device is current. All tensors have out's sizes and dtype
// and any strides; out may be an input (in-place) but overlaps nothing else.
template <typename T, typename Op, typename... Inputs>
void elementwise(const at::Tensor& out, Op op, const Inputs&... inputs) {
  const c10::cuda::CUDAGuard device_guard(out.device());
  if (shares_dense_layout(out, inputs...)) {
    const InputPointers<T, sizeof...(Inputs)> in{
        {inputs.template const_data_ptr<T>()...}};
    launch_flat(out.mutable_data_ptr<T>(), in, out.numel(), op);
  } else {
    launch_strided<T>(out, op, inputs...);
  }
}

}  // namespace cuda
}  // namespace softsign_ext
