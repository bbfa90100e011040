// Autograd for the operators, registered on the Autograd key so that a call
// from Python pays no Python autograd cost, and the version-counter bumps of
// the mutating forms on the ADInplaceOrView key. softsign_backward has its
// own derivative, so double backward (and higher) works.
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/library.h>

#include "softsign.h"

namespace softsign_ext {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SoftsignFunction : public torch::autograd::Function<SoftsignFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    ctx->save_for_backward({x});
    const at::AutoDispatchBelowADInplaceOrView guard;
    return ops::softsign().call(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    return {ops::softsign_backward().call(grads[0], x)};
  }
};

// softsign_(x) keeps a clone of x taken before the write, as PyTorch keeps
// the original self of its own in-place operators whose derivative needs it.
// The clone is differentiable (it records x's history), so double backward
// reaches x through it.
class SoftsignInplaceFunction
    : public torch::autograd::Function<SoftsignInplaceFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, at::Tensor x) {
    at::Tensor original;
    {
      const at::AutoGradMode enable_grad(true);
      original = x.clone();
    }
    ctx->save_for_backward({original});
    {
      // Below Autograd only: the ADInplaceOrView kernel bumps x's version.
      const at::AutoDispatchBelowAutograd guard;
      ops::softsign_().call(x);
    }
    ctx->mark_dirty({x});
    return x;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor original = ctx->get_saved_variables()[0];
    return {ops::softsign_backward().call(grads[0], original)};
  }
};

class SoftsignBackwardFunction
    : public torch::autograd::Function<SoftsignBackwardFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& grad_output,
                            const at::Tensor& x) {
    ctx->save_for_backward({grad_output, x});
    const at::AutoDispatchBelowADInplaceOrView guard;
    return ops::softsign_backward().call(grad_output, x);
  }

  // f(g, x) = g / (1 + |x|)^2:
  //   df/dg = 1 / (1 + |x|)^2, which is softsign_backward again;
  //   df/dx = -2 g sign(x) / (1 + |x|)^3.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& grad_output = saved[0];
    const at::Tensor& x = saved[1];
    const at::Tensor& grad = grads[0];
    at::Tensor grad_grad_output;
    at::Tensor grad_x;
    if (ctx->needs_input_grad(0)) {
      grad_grad_output = ops::softsign_backward().call(grad, x);
    }
    if (ctx->needs_input_grad(1)) {
      grad_x = grad * grad_output * x.sign() * -2 / (x.abs() + 1).pow(3);
    }
    return {grad_grad_output, grad_x};
  }
};

// Whether autograd records this call (PyTorch's compute_requires_grad).
bool records_gradient(const at::Tensor& a, const at::Tensor& b = {}) {
  return at::GradMode::is_enabled() &&
         (a.requires_grad() || (b.defined() && b.requires_grad()));
}

// With no gradient to record, skip building an autograd node and redispatch
// straight to the backend kernel: this keeps inference calls as cheap as a
// native operator's. The guard (as in PyTorch's generated kernels) keeps the
// ATen calls the kernel makes itself (empty_like, copy_) below autograd too.
at::Tensor softsign_autograd(c10::DispatchKeySet keys, const at::Tensor& x) {
  if (!records_gradient(x)) {
    const at::AutoDispatchBelowADInplaceOrView guard;
    return ops::softsign().redispatch(keys & c10::after_ADInplaceOrView_keyset,
                                      x);
  }
  return SoftsignFunction::apply(x);
}

at::Tensor softsign_backward_autograd(c10::DispatchKeySet keys,
                                      const at::Tensor& grad_output,
                                      const at::Tensor& x) {
  if (!records_gradient(grad_output, x)) {
    const at::AutoDispatchBelowADInplaceOrView guard;
    return ops::softsign_backward().redispatch(
        keys & c10::after_ADInplaceOrView_keyset, grad_output, x);
  }
  return SoftsignBackwardFunction::apply(grad_output, x);
}

// The mutating forms go below Autograd only (not below ADInplaceOrView), so
// that the version counter of the tensor they write is bumped, and autograd
// notices when a tensor it saved was overwritten.
at::Tensor& softsign_inplace_autograd(c10::DispatchKeySet keys, at::Tensor& x) {
  const bool requires_grad = records_gradient(x);
  // PyTorch's own checks, before any write: no in-place on a leaf that
  // requires grad (or on some views of one).
  torch::autograd::check_inplace(x, requires_grad);
  if (!requires_grad) {
    const at::AutoDispatchBelowAutograd guard;
    return ops::softsign_().redispatch(keys & c10::after_autograd_keyset, x);
  }
  SoftsignInplaceFunction::apply(x);
  return x;
}

at::Tensor& softsign_out_autograd(c10::DispatchKeySet keys, const at::Tensor& x,
                                  at::Tensor& out) {
  if (records_gradient(x, out)) {
    torch::autograd::throw_error_out_requires_grad("softsign");
  }
  const at::AutoDispatchBelowAutograd guard;
  return ops::softsign_out().redispatch(keys & c10::after_autograd_keyset, x,
                                        out);
}

// What PyTorch generates for its own mutating operators on this key: bump the
// version counter of the tensor written.
at::Tensor& softsign_inplace_ad_inplace_or_view(c10::DispatchKeySet keys,
                                                at::Tensor& x) {
  {
    const at::AutoDispatchBelowADInplaceOrView guard;
    ops::softsign_().redispatch(keys & c10::after_ADInplaceOrView_keyset, x);
  }
  torch::autograd::increment_version(x);
  return x;
}

at::Tensor& softsign_out_ad_inplace_or_view(c10::DispatchKeySet keys,
                                            const at::Tensor& x,
                                            at::Tensor& out) {
  {
    const at::AutoDispatchBelowADInplaceOrView guard;
    ops::softsign_out().redispatch(keys & c10::after_ADInplaceOrView_keyset, x,
                                   out);
  }
  torch::autograd::increment_version(out);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, Autograd, m) {
  m.impl("softsign", &softsign_autograd);
  m.impl("softsign.out", &softsign_out_autograd);
  m.impl("softsign_", &softsign_inplace_autograd);
  m.impl("softsign_backward", &softsign_backward_autograd);
}

TORCH_LIBRARY_IMPL(softsign_ext, ADInplaceOrView, m) {
  m.impl("softsign.out", &softsign_out_ad_inplace_or_view);
  m.impl("softsign_", &softsign_inplace_ad_inplace_or_view);
}

}  // namespace softsign_ext
