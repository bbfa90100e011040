// Autograd for both operators, registered on the Autograd key so that a call
// from Python pays no Python autograd cost. softsign_backward has its own
// derivative, so double backward (and higher) works.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace softsign_ext {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using SoftsignOp = c10::TypedOperatorHandle<at::Tensor(const at::Tensor&)>;
using SoftsignBackwardOp =
    c10::TypedOperatorHandle<at::Tensor(const at::Tensor&, const at::Tensor&)>;

const SoftsignOp& softsign_op() {
  static const SoftsignOp op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("softsign_ext::softsign", "")
          .typed<at::Tensor(const at::Tensor&)>();
  return op;
}

const SoftsignBackwardOp& softsign_backward_op() {
  static const SoftsignBackwardOp op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("softsign_ext::softsign_backward", "")
          .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
  return op;
}

// Calls through the dispatcher: below the Autograd key under an
// AutoDispatchBelowADInplaceOrView guard, differentiably otherwise.
at::Tensor call_softsign(const at::Tensor& x) { return softsign_op().call(x); }

at::Tensor call_softsign_backward(const at::Tensor& grad_output,
                                  const at::Tensor& x) {
  return softsign_backward_op().call(grad_output, x);
}

class SoftsignFunction : public torch::autograd::Function<SoftsignFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    ctx->save_for_backward({x});
    const at::AutoDispatchBelowADInplaceOrView guard;
    return call_softsign(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    return {call_softsign_backward(grads[0], x)};
  }
};

class SoftsignBackwardFunction
    : public torch::autograd::Function<SoftsignBackwardFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& grad_output,
                            const at::Tensor& x) {
    ctx->save_for_backward({grad_output, x});
    const at::AutoDispatchBelowADInplaceOrView guard;
    return call_softsign_backward(grad_output, x);
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
      grad_grad_output = call_softsign_backward(grad, x);
    }
    if (ctx->needs_input_grad(1)) {
      grad_x = grad * grad_output * x.sign() * -2 / (x.abs() + 1).pow(3);
    }
    return {grad_grad_output, grad_x};
  }
};

// With no gradient to record, skip building an autograd node and redispatch
// straight to the backend kernel: this keeps inference calls as cheap as a
// native operator's. The guard (as in PyTorch's generated kernels) keeps the
// ATen calls the kernel makes itself (empty_like, copy_) below autograd too.
bool records_gradient(const at::Tensor& a, const at::Tensor& b = {}) {
  return at::GradMode::is_enabled() &&
         (a.requires_grad() || (b.defined() && b.requires_grad()));
}

at::Tensor softsign_autograd(c10::DispatchKeySet keys, const at::Tensor& x) {
  if (!records_gradient(x)) {
    const at::AutoDispatchBelowADInplaceOrView guard;
    return softsign_op().redispatch(keys & c10::after_ADInplaceOrView_keyset,
                                    x);
  }
  return SoftsignFunction::apply(x);
}

at::Tensor softsign_backward_autograd(c10::DispatchKeySet keys,
                                      const at::Tensor& grad_output,
                                      const at::Tensor& x) {
  if (!records_gradient(grad_output, x)) {
    const at::AutoDispatchBelowADInplaceOrView guard;
    return softsign_backward_op().redispatch(
        keys & c10::after_ADInplaceOrView_keyset, grad_output, x);
  }
  return SoftsignBackwardFunction::apply(grad_output, x);
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, Autograd, m) {
  m.impl("softsign", &softsign_autograd);
  m.impl("softsign_backward", &softsign_backward_autograd);
}

}  // namespace softsign_ext
