// Host-side pieces shared by the CPU, CUDA and Meta registrations: the dtype
// dispatch, the argument checks, the operator handles and the host logic of
// each operator. Each backend supplies only the two elementwise kernels.
#pragma once

#include <ATen/Dispatch_v2.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <string>

namespace softsign_ext {

// The dtypes the kernels are compiled for, listed once: the kernels' dtype
// dispatch, the argument checks and their messages, and Python's
// softsign_ext.SUPPORTED_DTYPES all come from this list.
#define SOFTSIGN_DTYPES                                               \
  at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kComplexFloat, \
      at::kComplexDouble
inline constexpr at::ScalarType kSupportedDtypes[] = {SOFTSIGN_DTYPES};

#define SOFTSIGN_DISPATCH(TYPE, NAME, ...) \
  AT_DISPATCH_V2(TYPE, NAME, AT_WRAP(__VA_ARGS__), SOFTSIGN_DTYPES)

// The CUDA kernels also take complex32, which F.softsign takes on CUDA (its CPU
// kernels refuse it), computed in complex64 and rounded once.
#define SOFTSIGN_CUDA_DISPATCH(TYPE, NAME, ...) \
  AT_DISPATCH_V2(TYPE, NAME, AT_WRAP(__VA_ARGS__), SOFTSIGN_DTYPES, at::kComplexHalf)

// Backend kernels: every tensor argument has out's sizes and dtype, and any
// strides; out may be x itself (in-place) but overlaps no other argument,
// and has no element twice. They are never called with numel() == 0.
using ForwardKernel = void (*)(const at::Tensor& out, const at::Tensor& x);
using BackwardKernel = void (*)(const at::Tensor& out,
                                const at::Tensor& grad_output,
                                const at::Tensor& x);

// Each operator's host logic through a backend's kernel: the checks, the
// integer-to-float promotion, the result's layout, out='s resizing and
// overlap rules. Shared by every backend.
at::Tensor softsign_with(const at::Tensor& x, ForwardKernel kernel);
at::Tensor& softsign_out_with(const at::Tensor& x, at::Tensor& out,
                              ForwardKernel kernel);
at::Tensor& softsign_inplace_with(at::Tensor& x, ForwardKernel kernel);
at::Tensor softsign_backward_with(const at::Tensor& grad_output,
                                  const at::Tensor& x, BackwardKernel kernel);

// Registers every operator for one backend (CPU, CUDA) from its kernels.
template <ForwardKernel kForward, BackwardKernel kBackward>
void register_kernels(torch::Library& m) {
  m.impl("softsign",
         [](const at::Tensor& x) { return softsign_with(x, kForward); });
  m.impl("softsign.out", [](const at::Tensor& x, at::Tensor& out) -> at::Tensor& {
    return softsign_out_with(x, out, kForward);
  });
  m.impl("softsign_", [](at::Tensor& x) -> at::Tensor& {
    return softsign_inplace_with(x, kForward);
  });
  m.impl("softsign_backward",
         [](const at::Tensor& grad_output, const at::Tensor& x) {
           return softsign_backward_with(grad_output, x, kBackward);
         });
}

// "float32, float64, float16, bfloat16, complex64 and complex128":
// kSupportedDtypes in words.
std::string supported_dtype_names();

// Argument checks, shared with the Meta kernels. check_softsign_input
// returns the dtype of the result.
at::ScalarType check_softsign_input(const at::Tensor& x);
void check_softsign_out(const at::Tensor& x, const at::Tensor& out);
void check_softsign_inplace(const at::Tensor& x);
void check_softsign_backward_inputs(const at::Tensor& grad_output,
                                    const at::Tensor& x);

// Typed handles of the operators, for calls and redispatches from C++.
namespace handles {

template <typename Signature>
c10::TypedOperatorHandle<Signature> find(const char* name,
                                         const char* overload = "") {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow(name, overload)
      .typed<Signature>();
}

inline const auto& softsign() {
  static const auto op =
      find<at::Tensor(const at::Tensor&)>("softsign_ext::softsign");
  return op;
}

inline const auto& softsign_out() {
  static const auto op = find<at::Tensor&(const at::Tensor&, at::Tensor&)>(
      "softsign_ext::softsign", "out");
  return op;
}

inline const auto& softsign_() {
  static const auto op = find<at::Tensor&(at::Tensor&)>("softsign_ext::softsign_");
  return op;
}

inline const auto& softsign_backward() {
  static const auto op = find<at::Tensor(const at::Tensor&, const at::Tensor&)>(
      "softsign_ext::softsign_backward");
  return op;
}

}  // namespace handles
}  // namespace softsign_ext
