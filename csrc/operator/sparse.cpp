// Sparse tensors: F.softsign does not take them (its `|x| + 1` has no sparse
// form), so neither do we, but with an error that says what to do instead of
// the dispatcher's list of backends. One boxed kernel serves every operator
// and every sparse layout.
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <string>

namespace softsign_ext {
namespace {

// The layout as Python names it.
std::string layout_name(c10::Layout layout) {
  switch (layout) {
    case c10::kStrided:
      return "torch.strided";
    case c10::kSparse:
      return "torch.sparse_coo";
    case c10::kSparseCsr:
      return "torch.sparse_csr";
    case c10::kSparseCsc:
      return "torch.sparse_csc";
    case c10::kSparseBsr:
      return "torch.sparse_bsr";
    case c10::kSparseBsc:
      return "torch.sparse_bsc";
    default:
      return "sparse";
  }
}

void refuse_sparse(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  std::string layout = "sparse";
  for (const c10::IValue& argument :
       torch::jit::last(*stack, op.schema().arguments().size())) {
    if (argument.isTensor()) {
      layout = layout_name(argument.toTensor().layout());
      if (layout != "torch.strided") {
        break;
      }
    }
  }
  TORCH_CHECK_NOT_IMPLEMENTED(
      false, op.schema().name(), ": got a tensor of layout ", layout,
      ", which F.softsign does not take either; softsign_ext supports "
      "strided and nested tensors. Apply it to x.to_dense(), or, since "
      "softsign(0) = 0, to the stored values (x.values()) and rebuild the "
      "sparse tensor");
}

void register_refusals(torch::Library& m) {
  for (const char* name :
       {"softsign", "softsign.out", "softsign_", "softsign_backward"}) {
    m.impl(name, torch::CppFunction::makeFromBoxedFunction<&refuse_sparse>());
  }
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, SparseCPU, m) { register_refusals(m); }
TORCH_LIBRARY_IMPL(softsign_ext, SparseCUDA, m) { register_refusals(m); }
TORCH_LIBRARY_IMPL(softsign_ext, SparseCsrCPU, m) { register_refusals(m); }
TORCH_LIBRARY_IMPL(softsign_ext, SparseCsrCUDA, m) { register_refusals(m); }

}  // namespace softsign_ext
