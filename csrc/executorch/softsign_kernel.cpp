// softsign_ext::softsign.out for ExecuTorch's runtime: the kernel a program
// exported with softsign_ext calls on a phone or a board, registered in
// ExecuTorch's kernel registry when this library loads (Python:
// softsign_ext.executorch; C++: link it). One pass over the tensor with the
// math of softsign_math.h, the CPU kernels' bits: float and double as they
// are, half types widened to float and rounded once, integer inputs promoted
// to the result's floating dtype. Built against the installed executorch's
// headers and its vendored c10, not torch's: this library needs no libtorch.
#include <executorch/extension/kernel_util/make_boxed_from_unboxed_functor.h>
#include <executorch/runtime/kernel/kernel_includes.h>
#include <executorch/runtime/kernel/thread_parallel_interface.h>

#include <cstdint>
#include <type_traits>

#include "softsign_math.h"

namespace softsign_ext {
namespace executorch_kernels {
namespace {

using ::executorch::aten::ScalarType;
using ::executorch::aten::Tensor;
using ::executorch::runtime::Error;
using ::executorch::runtime::KernelRuntimeContext;

// Elements per task of the thread pool: small tensors stay on one thread.
constexpr int64_t kGrainSize = 1 << 15;

// The arithmetic type of a result element: float for half types, as the CPU
// kernels widen them; the element type itself otherwise.
template <typename Out>
using Compute = std::conditional_t<(sizeof(Out) < sizeof(float)), float, Out>;

// On x86-64 the loop is compiled once per instruction set, as the CPU kernels
// are per CPU_CAPABILITY: the baseline (SSE2), x86-64-v3 (AVX2, FMA) and
// x86-64-v4 (AVX-512), and the loader picks the widest the CPU has (GCC's and
// Clang's function multiversioning). The division is the loop's cost, and
// each level divides twice as many elements per instruction as the one before.
#if defined(__x86_64__) && defined(__GNUC__)
#define SOFTSIGN_EXT_PER_INSTRUCTION_SET \
  __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define SOFTSIGN_EXT_PER_INSTRUCTION_SET
#endif

template <typename In, typename Out>
SOFTSIGN_EXT_PER_INSTRUCTION_SET void softsign_range(const In* in, Out* result,
                                                     int64_t begin,
                                                     int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    result[i] =
        static_cast<Out>(softsign_forward(static_cast<Compute<Out>>(in[i])));
  }
}

template <typename In, typename Out>
void softsign_elements(const Tensor& x, Tensor& out) {
  const In* in = x.const_data_ptr<In>();
  Out* result = out.mutable_data_ptr<Out>();
  ::executorch::extension::parallel_for(
      0, x.numel(), kGrainSize, [&](int64_t begin, int64_t end) {
        softsign_range<In, Out>(in, result, begin, end);
      });
}

// The result dtype Out, for an input of dtype `input`: the same for floating
// inputs, a promotion (to out's dtype) for integer ones. False where the
// pair is not one softsign makes.
template <typename Out>
bool softsign_into(const Tensor& x, Tensor& out) {
  switch (x.scalar_type()) {
#define SOFTSIGN_EXT_INTEGER_INPUT(type, name) \
  case ScalarType::name:                       \
    softsign_elements<type, Out>(x, out);      \
    return true;
    ET_FORALL_INT_TYPES(SOFTSIGN_EXT_INTEGER_INPUT)
#undef SOFTSIGN_EXT_INTEGER_INPUT
    default:
      if (x.scalar_type() != out.scalar_type()) {
        return false;
      }
      softsign_elements<Out, Out>(x, out);
      return true;
  }
}

Tensor& softsign_out(KernelRuntimeContext& context, const Tensor& x,
                     Tensor& out) {
  ET_KERNEL_CHECK_MSG(
      context,
      ::executorch::runtime::resize_tensor(out, x.sizes()) == Error::Ok,
      InvalidArgument, out, "softsign_ext::softsign.out: cannot resize out");
  ET_KERNEL_CHECK_MSG(
      context, ::executorch::runtime::tensors_have_same_dim_order(x, out),
      InvalidArgument, out,
      "softsign_ext::softsign.out: x and out must have the same dim order");
  bool done = false;
  switch (out.scalar_type()) {
    case ScalarType::Float:
      done = softsign_into<float>(x, out);
      break;
    case ScalarType::Double:
      done = softsign_into<double>(x, out);
      break;
    case ScalarType::Half:
      done = softsign_into<::executorch::aten::Half>(x, out);
      break;
    case ScalarType::BFloat16:
      done = softsign_into<::executorch::aten::BFloat16>(x, out);
      break;
    default:
      break;
  }
  ET_KERNEL_CHECK_MSG(
      context, done, InvalidType, out,
      "softsign_ext::softsign.out: ExecuTorch's kernel takes float32, "
      "float64, float16 and bfloat16 (integer inputs into a floating out); "
      "got input dtype %d, out dtype %d",
      static_cast<int>(x.scalar_type()), static_cast<int>(out.scalar_type()));
  return out;
}

}  // namespace

EXECUTORCH_LIBRARY(softsign_ext, "softsign.out", softsign_out);

}  // namespace executorch_kernels
}  // namespace softsign_ext
