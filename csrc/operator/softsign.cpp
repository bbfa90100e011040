// The operator schemas, the host logic that the CPU and CUDA kernels share,
// the Meta kernels, and the functionalization of the mutating forms.
#include "operator/softsign.h"

#include <ATen/ATen.h>
#include <ATen/FunctionalTensorWrapper.h>
#include <ATen/MemoryOverlap.h>
#include <ATen/native/Resize.h>
#include <torch/library.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

namespace softsign_ext {
namespace {

// What the dtype errors say softsign_ext supports.
std::string supported_dtypes_message() {
  return "softsign_ext supports " + supported_dtype_names() +
         " (int8, int16, int32, int64 and uint8 inputs are promoted to the "
         "default float dtype, as in F.softsign), and on CUDA, as F.softsign "
         "there, complex32 and bool (promoted)";
}

bool is_supported(at::ScalarType dtype) {
  return std::find(std::begin(kSupportedDtypes), std::end(kSupportedDtypes),
                   dtype) != std::end(kSupportedDtypes);
}

// x in the dtype of the result (a copy for integer inputs).
at::Tensor promoted(const at::Tensor& x, at::ScalarType dtype) {
  return x.scalar_type() == dtype ? x : x.to(dtype);
}

// Bytes from the first to one past the last byte that t addresses.
std::pair<const char*, const char*> address_span(const at::Tensor& t) {
  const char* begin = static_cast<const char*>(t.const_data_ptr());
  int64_t low = 0;
  int64_t high = 0;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t reach = (t.size(d) - 1) * t.stride(d);
    (reach < 0 ? low : high) += reach;
  }
  return {begin + low * t.element_size(),
          begin + (high + 1) * t.element_size()};
}

// Whether out shares memory with x in a way the kernel cannot order: out may
// hold the very elements of x (in-place) or memory apart from x. Partial
// overlaps that PyTorch can prove raise, as in PyTorch. Non-dense views of
// one storage it cannot judge: when their address spans intersect they may
// interleave (disjoint) or overlap, and the caller computes through a
// temporary, as if x were read before out is written.
bool out_interleaves_x(const at::Tensor& out, const at::Tensor& x) {
  at::assert_no_internal_overlap(out);
  if (out.numel() == 0 || x.numel() == 0 || !out.is_alias_of(x) ||
      (out.const_data_ptr() == x.const_data_ptr() &&
       out.sizes() == x.sizes() && out.strides() == x.strides())) {
    return false;
  }
  at::assert_no_partial_overlap(out, x);
  const auto [out_begin, out_end] = address_span(out);
  const auto [x_begin, x_end] = address_span(x);
  return out_begin < x_end && x_begin < out_end;
}

// A failed resize of a tensor whose storage cannot grow (memory PyTorch does
// not own) leaves the tensor with the new sizes; refuse before resizing.
void check_out_can_take_shape(const at::Tensor& out, at::IntArrayRef shape) {
  if (out.sizes() == shape) {
    return;
  }
  const int64_t needed =
      (out.storage_offset() + c10::multiply_integers(shape)) *
      out.element_size();
  TORCH_CHECK(out.storage().resizable() ||
                  needed <= static_cast<int64_t>(out.storage().nbytes()),
              "softsign: out has shape ", out.sizes(),
              " and its storage, which PyTorch cannot resize, is too small ",
              "for the result's shape ", shape,
              "; pass an out tensor of that shape");
}

}  // namespace

std::string supported_dtype_names() {
  const size_t count = std::size(kSupportedDtypes);
  std::string names;
  for (size_t i = 0; i < count; ++i) {
    names += i == 0 ? "" : (i + 1 == count ? " and " : ", ");
    names += c10::getDtypeNames(kSupportedDtypes[i]).first;
  }
  return names;
}

// Dtype problems raise TypeError and shape problems ValueError in Python;
// device mismatches and overlapping memory raise RuntimeError, as PyTorch's
// own operators do.
at::ScalarType check_softsign_input(const at::Tensor& x) {
  const at::ScalarType dtype = x.scalar_type();
  // F.softsign's CUDA kernels take complex32 and bool too; its CPU ones do not.
  // (Anything but a CPU tensor counts as CUDA here: the Meta kernels stand in
  // for CUDA ones when torch.compile traces.)
  const bool as_on_cuda = !x.device().is_cpu();
  if (at::isFloatingType(dtype) || at::isComplexType(dtype)) {
    TORCH_CHECK_TYPE(is_supported(dtype) ||
                         (as_on_cuda && dtype == at::kComplexHalf),
                     "softsign: got a tensor of dtype ", dtype, " on ",
                     x.device(), "; ", supported_dtypes_message());
    return dtype;
  }
  // uint16, uint32 and uint64 have too few kernels for F.softsign's |x|.
  TORCH_CHECK_TYPE((at::isIntegralType(dtype, /*includeBool=*/false) &&
                    !at::isBarebonesUnsignedType(dtype)) ||
                       (as_on_cuda && dtype == at::kBool),
                   "softsign: got a tensor of dtype ", dtype, " on ",
                   x.device(), "; ", supported_dtypes_message());
  return c10::get_default_dtype_as_scalartype();
}

void check_softsign_out(const at::Tensor& x, const at::Tensor& out) {
  const at::ScalarType dtype = check_softsign_input(x);
  // PyTorch's rule for out= of its unary float operators: the result, in its
  // own dtype, is cast to out's, which must be a dtype it can be cast to
  // (a float result into any floating or complex out, not into an integer or
  // bool one); the same error as theirs.
  TORCH_CHECK(at::canCast(dtype, out.scalar_type()), "result type ", dtype,
              " can't be cast to the desired output type ", out.scalar_type());
  TORCH_CHECK(out.device() == x.device(), "softsign: out is on ",
              out.device(), " but x is on ", x.device(),
              "; both must be on one device");
}

void check_softsign_inplace(const at::Tensor& x) {
  const at::ScalarType dtype = check_softsign_input(x);
  TORCH_CHECK_TYPE(dtype == x.scalar_type(), "softsign_: x has dtype ",
                   x.scalar_type(), ", which cannot hold the result (dtype ",
                   dtype, "); use softsign(x) instead of the in-place form");
}

void check_softsign_backward_inputs(const at::Tensor& grad_output,
                                    const at::Tensor& x) {
  TORCH_CHECK(grad_output.device() == x.device(),
              "softsign_backward: grad_output is on ", grad_output.device(),
              " but x is on ", x.device(), "; both must be on one device");
  TORCH_CHECK_TYPE(at::isFloatingType(x.scalar_type()) ||
                       at::isComplexType(x.scalar_type()),
                   "softsign_backward: x has dtype ", x.scalar_type(),
                   ", which has no gradient; ",
                   supported_dtypes_message());
  check_softsign_input(x);
  TORCH_CHECK_TYPE(grad_output.scalar_type() == x.scalar_type(),
                   "softsign_backward: grad_output has dtype ",
                   grad_output.scalar_type(), " but x has dtype ",
                   x.scalar_type(), "; they must match");
  TORCH_CHECK_VALUE(grad_output.sym_sizes() == x.sym_sizes(),
                    "softsign_backward: grad_output has shape ",
                    grad_output.sym_sizes(), " but x has shape ", x.sym_sizes(),
                    "; they must match");
}

at::Tensor softsign_with(const at::Tensor& x, ForwardKernel kernel) {
  const at::Tensor input = promoted(x, check_softsign_input(x));
  // empty_like keeps a dense input's strides (a non-dense one gets a dense
  // layout); a promoted copy is ours to overwrite.
  at::Tensor out = input.is_same(x) ? at::empty_like(input) : input;
  if (out.numel() > 0) {
    kernel(out, input);
  }
  return out;
}

at::Tensor& softsign_out_with(const at::Tensor& x, at::Tensor& out,
                              ForwardKernel kernel) {
  check_softsign_out(x, out);
  // Every check comes before the first write: a failed call leaves out alone.
  const bool interleaved = out_interleaves_x(out, x);
  check_out_can_take_shape(out, x.sizes());
  at::native::resize_output(out, x.sizes());
  if (out.numel() > 0) {
    // The kernels write their own dtype; into an out of another, or one that
    // may interleave with x, the result goes through a temporary.
    if (interleaved || out.scalar_type() != check_softsign_input(x)) {
      out.copy_(softsign_with(x, kernel));
    } else {
      kernel(out, promoted(x, out.scalar_type()));
    }
  }
  return out;
}

at::Tensor& softsign_inplace_with(at::Tensor& x, ForwardKernel kernel) {
  check_softsign_inplace(x);
  at::assert_no_internal_overlap(x);
  if (x.numel() > 0) {
    kernel(x, x);
  }
  return x;
}

at::Tensor softsign_backward_with(const at::Tensor& grad_output,
                                  const at::Tensor& x, BackwardKernel kernel) {
  check_softsign_backward_inputs(grad_output, x);
  at::Tensor out = at::empty_like(x);
  if (out.numel() > 0) {
    kernel(out, grad_output, x);
  }
  return out;
}

namespace {

// Meta kernels: shapes, strides and dtypes only, for FakeTensor and
// torch.compile. empty_like gives the same strides as the real kernels.
at::Tensor softsign_meta(const at::Tensor& x) {
  return at::empty_like(x, x.options().dtype(check_softsign_input(x)));
}

at::Tensor& softsign_out_meta(const at::Tensor& x, at::Tensor& out) {
  check_softsign_out(x, out);
  at::native::resize_output_symint(out, x.sym_sizes());
  return out;
}

at::Tensor& softsign_inplace_meta(at::Tensor& x) {
  check_softsign_inplace(x);
  return x;
}

at::Tensor softsign_backward_meta(const at::Tensor& grad_output,
                                  const at::Tensor& x) {
  check_softsign_backward_inputs(grad_output, x);
  return at::empty_like(x);
}

// Functionalization (torch.compile, torch.export) of the mutating forms, as
// PyTorch generates it for its own in-place and out= operators: compute with
// the functional softsign, then let the mutated tensor take the result.
at::Tensor& write_functional_result(at::Tensor& mutated, const at::Tensor& x) {
  namespace impl = at::functionalization::impl;
  at::Tensor result;
  {
    const at::AutoDispatchSkipFunctionalize guard;
    result = handles::softsign()
                 .call(impl::isFunctionalTensor(x)
                           ? impl::from_functional_tensor(x)
                           : x)
                 .to(mutated.scalar_type());  // out= casts, as eager does
  }
  impl::replace_(mutated, result);
  impl::commit_update(mutated);
  impl::sync(mutated);
  return mutated;
}

at::Tensor& softsign_out_functionalize(const at::Tensor& x, at::Tensor& out) {
  namespace impl = at::functionalization::impl;
  if (!impl::isFunctionalTensor(out)) {
    TORCH_CHECK(!impl::isFunctionalTensor(x),
                "softsign: cannot write a functional tensor's result into a "
                "non-functional out tensor");
    const at::AutoDispatchSkipFunctionalize guard;
    return handles::softsign_out().call(x, out);
  }
  check_softsign_out(x, out);
  impl::sync(x);
  return write_functional_result(out, x);
}

at::Tensor& softsign_inplace_functionalize(at::Tensor& x) {
  namespace impl = at::functionalization::impl;
  if (!impl::isFunctionalTensor(x)) {
    const at::AutoDispatchSkipFunctionalize guard;
    return handles::softsign_().call(x);
  }
  check_softsign_inplace(x);
  impl::sync(x);
  return write_functional_result(x, x);
}

}  // namespace

TORCH_LIBRARY(softsign_ext, m) {
  const std::vector<at::Tag> pointwise = {at::Tag::pointwise};
  m.def("softsign(Tensor x) -> Tensor", pointwise);
  m.def("softsign.out(Tensor x, *, Tensor(a!) out) -> Tensor(a!)", pointwise);
  m.def("softsign_(Tensor(a!) x) -> Tensor(a!)", pointwise);
  m.def("softsign_backward(Tensor grad_output, Tensor x) -> Tensor",
        pointwise);
}

TORCH_LIBRARY_IMPL(softsign_ext, Meta, m) {
  m.impl("softsign", &softsign_meta);
  m.impl("softsign.out", &softsign_out_meta);
  m.impl("softsign_", &softsign_inplace_meta);
  m.impl("softsign_backward", &softsign_backward_meta);
}

TORCH_LIBRARY_IMPL(softsign_ext, Functionalize, m) {
  m.impl("softsign.out", &softsign_out_functionalize);
  m.impl("softsign_", &softsign_inplace_functionalize);
}

}  // namespace softsign_ext

