// Autograd for the operators, registered on the Autograd key and written as
// PyTorch's generated kernels (VariableType) are: a call that needs a gradient
// records a Node for reverse mode and sets its result's forward gradient for
// forward mode. torch::autograd::Function would be shorter, but it has no
// forward derivative (jvp silently gave zeros) and every torch.func transform
// refuses it; a Python autograd.Function costs Python on every call
// (benchmarks/README.md, "Function transforms"). softsign_backward has
// derivatives of its own in both modes, so every order of derivative works.
// The version-counter bumps of the mutating forms sit on the ADInplaceOrView
// key, also as PyTorch generates them.
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/csrc/dynamo/compiled_autograd.h>
#include <torch/library.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "operator/softsign.h"

namespace softsign_ext {
namespace {

using torch::autograd::SavedVariable;
using torch::autograd::TraceableFunction;
using torch::autograd::variable_list;
using torch::dynamo::autograd::CompiledNodeArgs;
using torch::dynamo::autograd::SwapSavedVariables;

// Complex x: the derivative of softsign_backward(g, x) = s g - s^2 x Re(g u*)
// (csrc/softsign_math.h; s = 1 / (1 + |x|), u = sgn(x), * the conjugate)
// along (dg, dx), with a . b = Re(a b*), p = u . dx, q = g . dx, w = g . u:
//   softsign_backward(dg, x) - s^2 (p g + q u + w dx - (3 - 2 s) w p u).
// softsign_backward is the gradient of g . softsign(x), so this is that
// function's Hessian times dx: symmetric, so it serves reverse mode as well.
at::Tensor complex_softsign_backward_derivative(const at::Tensor& dg,
                                                const at::Tensor& dx,
                                                const at::Tensor& g,
                                                const at::Tensor& x) {
  const auto dot = [](const at::Tensor& a, const at::Tensor& b) {
    return at::real(a * b.conj());
  };
  const at::Tensor s = (x.abs() + 1).reciprocal();
  const at::Tensor u = x.sgn();
  const at::Tensor p = dot(u, dx);
  const at::Tensor w = dot(g, u);
  at::Tensor result = -s * s *
                      (p * g + dot(g, dx) * u + w * dx - (3 - 2 * s) * w * p * u);
  if (dg.defined()) {
    result = result + handles::softsign_backward().call(dg, x);
  }
  return result;
}

// The derivative of softsign_backward(g, x) = g / (1 + |x|)^2 along (dg, dx):
// (dg - 2 g dx sign(x) / (1 + |x|)) / (1 + |x|)^2, with dg undefined for 0.
// ATen ops, so that it is differentiable in both modes itself; half types
// compute in float and round once, as the kernels do.
at::Tensor softsign_backward_derivative(const at::Tensor& dg,
                                        const at::Tensor& dx,
                                        const at::Tensor& g,
                                        const at::Tensor& x) {
  if (x.is_complex()) {
    return complex_softsign_backward_derivative(dg, dx, g, x);
  }
  const at::ScalarType compute = at::toOpMathType(x.scalar_type());
  const at::Tensor x_ = x.to(compute);
  const at::Tensor reciprocal = (x_.abs() + 1).reciprocal();
  // g times the reciprocal first: no overflow for huge g and x.
  at::Tensor sum = g.to(compute) * reciprocal * dx.to(compute) * x_.sign() * -2;
  if (dg.defined()) {
    sum = sum + dg.to(compute);
  }
  // Multiplied by the reciprocal twice, as in the kernels: no overflow.
  return (sum * reciprocal * reciprocal).to(x.scalar_type());
}

// What compiled autograd (torch._dynamo.compiled_autograd) needs of a node:
// its saved tensors in the cache key, and, instead of running apply, a
// functional form of the backward that its Python compiler records, called
// with the saved tensors swapped for its own. Each node below has one static
// backward(grads, saved tensors, which inputs need a gradient) that both its
// apply and this functional form call.
template <typename NodeType>
variable_list functional_backward(const variable_list& grads,
                                  const std::vector<c10::IValue>& args) {
  torch::dynamo::autograd::PackedArgs packed(args);
  const auto saved = packed.unpack<variable_list>();
  const auto needs_input_grad = packed.unpack<std::vector<bool>>();
  return NodeType::backward(grads, saved, needs_input_grad);
}

template <typename NodeType>
variable_list traced_backward(NodeType& node, const variable_list& grads,
                              SwapSavedVariables& swap) {
  for (SavedVariable& saved : node.saved_) {
    swap.before(saved);
  }
  torch::dynamo::autograd::PackedArgs packed;
  packed.pack(node.unpacked());
  packed.pack(node.needs_input_grad());
  const std::vector<c10::IValue> args = packed.vec();
  std::vector<at::TypePtr> schema;
  for (const c10::IValue& arg : args) {
    schema.push_back(arg.type());
  }
  const auto& python = torch::dynamo::autograd::getPyCompilerInterface();
  // Bound once per node type for the life of the process, as PyTorch's own
  // nodes are: compiled autograd keeps the binding under the node's name and
  // asserts when a later compile (another shape, device, or after a reset)
  // binds it again.
  static const std::string function = python->bind_function(
      swap.get_py_compiler(), node.name(), functional_backward<NodeType>,
      schema);
  const auto output_metadata = torch::dynamo::autograd::IValuePacker<
      std::vector<std::optional<torch::autograd::InputMetadata>>>::
      pack(torch::dynamo::autograd::get_input_metadata(node.next_edges()));
  variable_list result =
      python->call_function(swap.get_py_compiler(), "apply_functional",
                            function, grads, args, output_metadata);
  for (SavedVariable& saved : node.saved_) {
    swap.after(saved);
  }
  return result;
}

// The parts of a node that every node here shares: its saved variables, apply
// through the static backward, their release, and compiled autograd.
template <typename Derived, size_t kInputs, size_t kSaved>
struct SoftsignNode : public TraceableFunction {
  variable_list apply(variable_list&& grads) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    return Derived::backward(grads, unpacked(), needs_input_grad());
  }

  void release_variables() override {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (SavedVariable& saved : saved_) {
      saved.reset_data();
    }
  }

  void compiled_args(CompiledNodeArgs& args) const override {
    for (const SavedVariable& saved : saved_) {
      args.collect(saved, /*is_output=*/false);
    }
  }

  variable_list apply_with_saved(const variable_list& grads,
                                 SwapSavedVariables& swap) override {
    return traced_backward(static_cast<Derived&>(*this), grads, swap);
  }

  variable_list unpacked() const {
    variable_list tensors;
    for (const SavedVariable& saved : saved_) {
      tensors.push_back(saved.unpack());
    }
    return tensors;
  }

  std::vector<bool> needs_input_grad() const {
    std::vector<bool> needs(kInputs);
    for (size_t i = 0; i < kInputs; ++i) {
      needs[i] = task_should_compute_output(i);
    }
    return needs;
  }

  std::array<SavedVariable, kSaved> saved_;
};

// Reverse mode of softsign(x), and of softsign_(x) with x's values from
// before the write: grad / (1 + |x|)^2 through softsign_backward (for complex
// x, its conjugate Wirtinger form). Saves x.
struct SoftsignBackward0 : public SoftsignNode<SoftsignBackward0, 1, 1> {
  std::string name() const override { return "SoftsignBackward0"; }

  static variable_list backward(const variable_list& grads,
                                const variable_list& saved,
                                const std::vector<bool>& /*needs_input_grad*/) {
    if (!grads[0].defined()) {
      return {at::Tensor()};
    }
    return {handles::softsign_backward().call(grads[0], saved[0])};
  }
};

// Reverse mode of softsign_backward(grad_output, x). Saves grad_output, x.
struct SoftsignBackwardBackward0
    : public SoftsignNode<SoftsignBackwardBackward0, 2, 2> {
  std::string name() const override { return "SoftsignBackwardBackward0"; }

  static variable_list backward(const variable_list& grads,
                                const variable_list& saved,
                                const std::vector<bool>& needs_input_grad) {
    const at::Tensor& grad = grads[0];
    const at::Tensor& grad_output = saved[0];
    const at::Tensor& x = saved[1];
    variable_list result(2);
    if (!grad.defined()) {
      return result;
    }
    if (needs_input_grad[0]) {
      result[0] = handles::softsign_backward().call(grad, x);
    }
    if (needs_input_grad[1]) {
      result[1] = softsign_backward_derivative({}, grad, grad_output, x);
    }
    return result;
  }
};

// A new node, held as autograd holds nodes: c10::intrusive_ptr in the torch releases
// where Node is an intrusive_ptr_target (pytorch/pytorch#181782), std::shared_ptr with
// autograd's deleteNode (which frees a long chain of nodes without deep recursion) before;
// deleteNode is named through the node (a dependent call), since the newer releases lack it.
template <typename NodeType>
auto make_node() {
  if constexpr (std::is_base_of_v<c10::intrusive_ptr_target, torch::autograd::Node>) {
    return c10::make_intrusive<NodeType>();
  } else {
    return std::shared_ptr<NodeType>(new NodeType(),
                                     [](NodeType* node) { deleteNode(node); });
  }
}

template <typename NodeType>
using NodePtr = decltype(make_node<NodeType>());

// t's forward gradient (tangent) and primal value at forward-AD level 0, the
// one level core autograd has (torch.func maps its nested levels onto it).
at::Tensor tangent(const at::Tensor& t) { return t._fw_grad(/*level=*/0); }
at::Tensor primal(const at::Tensor& t) { return t._fw_primal(/*level=*/0); }

// The forward gradient of softsign at x: t / (1 + |x|)^2, one fused pass
// through softsign_backward (itself differentiable, for higher orders). For
// complex x too: softsign's Jacobian, as a map of the plane, is symmetric, so
// its vector-Jacobian product is also its Jacobian-vector product.
at::Tensor softsign_tangent(const at::Tensor& x) {
  return handles::softsign_backward().call(tangent(x), primal(x));
}

// An in-place result's tangent must be its old tangent, written in place
// (autograd's layout rule for forward gradients); a tensor that had none
// takes the new one.
void write_tangent(const at::Tensor& mutated, const at::Tensor& new_tangent) {
  const at::Tensor old_tangent = tangent(mutated);
  if (old_tangent.defined()) {
    old_tangent.copy_(new_tangent);
  } else {
    mutated._set_fw_grad(new_tangent, /*level=*/0, /*is_inplace_op=*/true);
  }
}

bool has_tangent(const at::Tensor& t) {
  return t.defined() && tangent(t).defined();
}

// Whether autograd has anything to do for this call in either mode. A tensor
// without autograd metadata (any plain tensor) can neither require grad nor
// carry a tangent: that test alone decides an inference call.
template <typename... Tensors>
bool needs_autograd(const Tensors&... tensors) {
  const auto needs = [](const at::Tensor& t) {
    return t.unsafeGetTensorImpl()->autograd_meta() != nullptr &&
           ((at::GradMode::is_enabled() && t.requires_grad()) ||
            tangent(t).defined());
  };
  return (needs(tensors) || ...);
}

// Without a gradient to record in either mode every form goes straight to the
// backend kernel, so that inference costs what a native operator's does (with
// requires_grad false, check_inplace has nothing to check). The guard (as in
// PyTorch's generated kernels) keeps the ATen calls the kernel makes itself
// (empty_like, copy_) below autograd too.
at::Tensor softsign_autograd(c10::DispatchKeySet keys, const at::Tensor& x) {
  if (!needs_autograd(x)) {
    const at::AutoDispatchBelowADInplaceOrView guard;
    return handles::softsign().redispatch(keys & c10::after_ADInplaceOrView_keyset,
                                      x);
  }
  const bool requires_grad = torch::autograd::compute_requires_grad(x);
  NodePtr<SoftsignBackward0> node;
  if (requires_grad) {
    node = make_node<SoftsignBackward0>();
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    node->saved_ = {SavedVariable(x, /*is_output=*/false)};
  }
  at::Tensor result;
  {
    const at::AutoDispatchBelowADInplaceOrView guard;
    result = handles::softsign().redispatch(keys & c10::after_ADInplaceOrView_keyset,
                                        x);
  }
  if (node) {
    torch::autograd::set_history(result, node);
  }
  if (has_tangent(x)) {
    result._set_fw_grad(softsign_tangent(x), /*level=*/0,
                        /*is_inplace_op=*/false);
  }
  return result;
}

at::Tensor softsign_backward_autograd(c10::DispatchKeySet keys,
                                      const at::Tensor& grad_output,
                                      const at::Tensor& x) {
  if (!needs_autograd(grad_output, x)) {
    const at::AutoDispatchBelowADInplaceOrView guard;
    return handles::softsign_backward().redispatch(
        keys & c10::after_ADInplaceOrView_keyset, grad_output, x);
  }
  const bool requires_grad =
      torch::autograd::compute_requires_grad(grad_output, x);
  NodePtr<SoftsignBackwardBackward0> node;
  if (requires_grad) {
    node = make_node<SoftsignBackwardBackward0>();
    node->set_next_edges(torch::autograd::collect_next_edges(grad_output, x));
    node->saved_ = {SavedVariable(grad_output, /*is_output=*/false),
                    SavedVariable(x, /*is_output=*/false)};
  }
  at::Tensor result;
  {
    const at::AutoDispatchBelowADInplaceOrView guard;
    result = handles::softsign_backward().redispatch(
        keys & c10::after_ADInplaceOrView_keyset, grad_output, x);
  }
  if (node) {
    torch::autograd::set_history(result, node);
  }
  if (has_tangent(grad_output) || has_tangent(x)) {
    // Along grad_output alone, the op itself (one fused pass).
    const at::Tensor result_tangent =
        has_tangent(x)
            ? softsign_backward_derivative(tangent(grad_output), tangent(x),
                                           primal(grad_output), primal(x))
            : handles::softsign_backward().call(tangent(grad_output), primal(x));
    result._set_fw_grad(result_tangent, /*level=*/0, /*is_inplace_op=*/false);
  }
  return result;
}

// The mutating forms go below Autograd only (not below ADInplaceOrView), so
// that the version counter of the tensor they write is bumped, and autograd
// notices when a tensor it saved was overwritten.
at::Tensor& softsign_inplace_autograd(c10::DispatchKeySet keys, at::Tensor& x) {
  if (!needs_autograd(x)) {
    const at::AutoDispatchBelowAutograd guard;
    return handles::softsign_().redispatch(keys & c10::after_autograd_keyset, x);
  }
  const bool requires_grad = torch::autograd::compute_requires_grad(x);
  // PyTorch's own checks, before any write: no in-place on a leaf that
  // requires grad (or on some views of one).
  torch::autograd::check_inplace(x, requires_grad);
  // Both derivatives need x's values from before the write: the tangent is
  // computed first, and reverse mode keeps a copy, as PyTorch keeps the
  // original self of its own in-place operators whose derivative needs it.
  // The copy records x's history, so double backward reaches x through it.
  at::Tensor new_tangent;
  if (has_tangent(x)) {
    new_tangent = softsign_tangent(x);
  }
  NodePtr<SoftsignBackward0> node;
  if (requires_grad) {
    node = make_node<SoftsignBackward0>();
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    node->saved_ = {SavedVariable(x.clone(), /*is_output=*/false)};
  }
  {
    const at::AutoDispatchBelowAutograd guard;
    handles::softsign_().redispatch(keys & c10::after_autograd_keyset, x);
  }
  if (node) {
    torch::autograd::rebase_history(x, node);
  }
  if (new_tangent.defined()) {
    write_tangent(x, new_tangent);
  }
  return x;
}

// out= records no reverse-mode gradient, as every PyTorch out= function; its
// forward gradient is that of an in-place write into out.
at::Tensor& softsign_out_autograd(c10::DispatchKeySet keys, const at::Tensor& x,
                                  at::Tensor& out) {
  if (!needs_autograd(x, out)) {
    const at::AutoDispatchBelowAutograd guard;
    return handles::softsign_out().redispatch(keys & c10::after_autograd_keyset, x,
                                          out);
  }
  if (torch::autograd::compute_requires_grad(x, out)) {
    torch::autograd::throw_error_out_requires_grad("softsign");
  }
  at::Tensor new_tangent;
  if (has_tangent(x)) {
    new_tangent = softsign_tangent(x);  // before the write: out may be x
  } else if (has_tangent(out)) {
    new_tangent = at::zeros_like(tangent(out));  // out's new value is constant
  }
  {
    const at::AutoDispatchBelowAutograd guard;
    handles::softsign_out().redispatch(keys & c10::after_autograd_keyset, x, out);
  }
  if (new_tangent.defined()) {
    write_tangent(out, new_tangent.to(out.scalar_type()));  // out='s cast
  }
  return out;
}

// What PyTorch generates for its own mutating operators on this key: bump the
// version counter of the tensor written.
at::Tensor& softsign_inplace_ad_inplace_or_view(c10::DispatchKeySet keys,
                                                at::Tensor& x) {
  {
    const at::AutoDispatchBelowADInplaceOrView guard;
    handles::softsign_().redispatch(keys & c10::after_ADInplaceOrView_keyset, x);
  }
  torch::autograd::increment_version(x);
  return x;
}

at::Tensor& softsign_out_ad_inplace_or_view(c10::DispatchKeySet keys,
                                            const at::Tensor& x,
                                            at::Tensor& out) {
  {
    const at::AutoDispatchBelowADInplaceOrView guard;
    handles::softsign_out().redispatch(keys & c10::after_ADInplaceOrView_keyset, x,
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
