// Host-side layout machinery shared by the CPU and CUDA elementwise loops:
// which tensors can take the flat (dense) loop, and the TensorIterator that
// describes the rest to the strided loops.
#pragma once

#include <ATen/TensorIterator.h>
#include <ATen/core/Tensor.h>

namespace softsign_ext {

// True when out is dense and every input has out's strides (all have out's
// sizes): element k of each then lives at offset k of its data, whatever the
// dimension order, and one flat loop covers them all.
template <typename... Inputs>
bool shares_dense_layout(const at::Tensor& out, const Inputs&... inputs) {
  return out.is_non_overlapping_and_dense() &&
         ((inputs.strides() == out.strides()) && ...);
}

// A TensorIterator over out and the inputs (one dtype, one shape), for the
// strided loops: it merges dimensions that can be merged and orders them
// fastest-moving first. It neither resizes, casts nor checks overlap; the
// callers (operator/softsign.cpp) have done all three.
template <typename... Inputs>
at::TensorIterator strided_iterator(const at::Tensor& out,
                                    const Inputs&... inputs) {
  at::TensorIteratorConfig config;
  config.set_check_mem_overlap(false).resize_outputs(false).add_output(out);
  (config.add_const_input(inputs), ...);
  return config.build();
}

}  // namespace softsign_ext
