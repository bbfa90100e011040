// vmap (torch.func.vmap, and every transform built on it: jacrev, jacfwd,
// hessian, per-sample gradients) batching rules, registered on the
// FuncTorchBatched key as functorch registers its own. Softsign is
// elementwise, so a batched call is one call on the batched tensors' physical
// values, where the batch dimension is just one more dimension: no per-example
// loop (the fallback, which also warns), and the kernels keep their layouts.
#include <ATen/ATen.h>
#include <ATen/functorch/BatchedTensorImpl.h>
#include <ATen/functorch/DynamicLayer.h>
#include <ATen/functorch/PlumbingHelper.h>
#include <torch/library.h>

#include <optional>

#include "operator/softsign.h"

namespace softsign_ext {
namespace {

namespace functorch = at::functorch;

// The vmap level being run; calls below it see the physical tensors.
int64_t current_level() {
  const std::optional<functorch::DynamicLayer> layer =
      functorch::maybeCurrentDynamicLayer();
  TORCH_INTERNAL_ASSERT(layer.has_value(),
                        "softsign_ext: a batching rule ran outside vmap");
  return layer->layerId();
}

// A physical value with its batch dimension first, of `batch_size` when it
// had none (an expanded view: the kernels read any strides).
at::Tensor batch_first(const at::Tensor& value, std::optional<int64_t> bdim,
                       int64_t batch_size) {
  if (bdim.has_value()) {
    return value.movedim(*bdim, 0);
  }
  std::vector<int64_t> sizes = value.sizes().vec();
  sizes.insert(sizes.begin(), batch_size);
  return value.unsqueeze(0).expand(sizes);
}

at::Tensor softsign_batched(const at::Tensor& x) {
  const c10::impl::ExcludeDispatchKeyGuard guard(
      c10::DispatchKey::FuncTorchBatched);
  const int64_t level = current_level();
  if (!functorch::isBatchedAtLevel(x, level)) {
    return handles::softsign().call(x);
  }
  const auto [value, bdim] = functorch::unwrapTensorAtLevel(x, level);
  return functorch::makeBatched(handles::softsign().call(value), bdim, level);
}

at::Tensor& softsign_inplace_batched(at::Tensor& x) {
  const c10::impl::ExcludeDispatchKeyGuard guard(
      c10::DispatchKey::FuncTorchBatched);
  const int64_t level = current_level();
  at::Tensor value = x;
  if (functorch::isBatchedAtLevel(x, level)) {
    value = std::get<0>(functorch::unwrapTensorAtLevel(x, level));
  }
  handles::softsign_().call(value);
  return x;
}

at::Tensor& softsign_out_batched(const at::Tensor& x, at::Tensor& out) {
  const c10::impl::ExcludeDispatchKeyGuard guard(
      c10::DispatchKey::FuncTorchBatched);
  const int64_t level = current_level();
  const bool x_batched = functorch::isBatchedAtLevel(x, level);
  if (!functorch::isBatchedAtLevel(out, level)) {
    TORCH_CHECK(!x_batched,
                "vmap: softsign(x, out=out) cannot write a batched result "
                "into an out that is not batched by this vmap (it would "
                "hold one result for the whole batch); create out inside the "
                "vmapped function, e.g. torch.empty_like(x), or use "
                "softsign(x)");
    return handles::softsign_out().call(x, out);
  }
  TORCH_CHECK(x.sym_sizes() == out.sym_sizes(), "vmap: softsign(x, out=out) ",
              "cannot resize out under vmap: out has shape ", out.sym_sizes(),
              " but x has shape ", x.sym_sizes(),
              "; pass an out of x's shape");
  auto [out_value, out_bdim] = functorch::unwrapTensorAtLevel(out, level);
  auto [x_value, x_bdim] = functorch::unwrapTensorAtLevel(x, level);
  if (x_bdim != out_bdim) {
    // A view of out's storage: the kernel writes through it.
    const int64_t batch_size = out_value.size(*out_bdim);
    out_value = out_value.movedim(*out_bdim, 0);
    x_value = batch_first(x_value, x_bdim, batch_size);
  }
  handles::softsign_out().call(x_value, out_value);
  return out;
}

at::Tensor softsign_backward_batched(const at::Tensor& grad_output,
                                     const at::Tensor& x) {
  const c10::impl::ExcludeDispatchKeyGuard guard(
      c10::DispatchKey::FuncTorchBatched);
  const int64_t level = current_level();
  if (!functorch::isBatchedAtLevel(grad_output, level) &&
      !functorch::isBatchedAtLevel(x, level)) {
    return handles::softsign_backward().call(grad_output, x);
  }
  // The shape check of the logical tensors, before their batch dimensions
  // make the physical shapes differ.
  check_softsign_backward_inputs(grad_output, x);
  auto [grad_value, grad_bdim] =
      functorch::unwrapTensorAtLevel(grad_output, level);
  auto [x_value, x_bdim] = functorch::unwrapTensorAtLevel(x, level);
  if (grad_bdim == x_bdim) {
    return functorch::makeBatched(
        handles::softsign_backward().call(grad_value, x_value), x_bdim, level);
  }
  const int64_t batch_size =
      grad_bdim ? grad_value.size(*grad_bdim) : x_value.size(*x_bdim);
  return functorch::makeBatched(
      handles::softsign_backward().call(batch_first(grad_value, grad_bdim, batch_size),
                                    batch_first(x_value, x_bdim, batch_size)),
      0, level);
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, FuncTorchBatched, m) {
  m.impl("softsign", &softsign_batched);
  m.impl("softsign.out", &softsign_out_batched);
  m.impl("softsign_", &softsign_inplace_batched);
  m.impl("softsign_backward", &softsign_backward_batched);
}

}  // namespace softsign_ext
