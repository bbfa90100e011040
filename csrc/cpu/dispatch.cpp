// The CPU registration: each operator calls the kernels built for the
// instruction set torch itself runs on, chosen once when first called.
#include <ATen/Version.h>  // at::get_cpu_capability
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <string>
#include <vector>

#include "cpu/softsign_kernel.h"
#include "operator/softsign.h"

namespace softsign_ext {
namespace {

// Every build of the CPU kernels in this library (a function's static, so
// that it exists before the builds' initializers add to it).
std::vector<const CpuKernels*>& built_cpu_kernels() {
  static std::vector<const CpuKernels*> builds;
  return builds;
}

}  // namespace

bool add_cpu_kernels(const CpuKernels& kernels) {
  built_cpu_kernels().push_back(&kernels);
  return true;
}

const CpuKernels& selected_cpu_kernels() {
  // Following torch's choice (not the CPU's flags alone) keeps the two in
  // step: ATEN_CPU_CAPABILITY=avx2 or =default lowers both, which is also how
  // the tests run every build on one machine. setup.py builds every level
  // torch can pick on this architecture, so no level falls between two.
  static const CpuKernels& kernels = []() -> const CpuKernels& {
    const std::string capability = at::get_cpu_capability();
    const CpuKernels* baseline = nullptr;
    for (const CpuKernels* build : built_cpu_kernels()) {
      if (capability == build->capability) {
        return *build;
      }
      if (std::string(build->capability) == "DEFAULT") {
        baseline = build;
      }
    }
    TORCH_INTERNAL_ASSERT(baseline != nullptr,
                          "softsign_ext: no baseline build of the CPU kernels");
    return *baseline;
  }();
  return kernels;
}

namespace {

void softsign_cpu_kernel(const at::Tensor& out, const at::Tensor& x) {
  selected_cpu_kernels().forward(out, x);
}

void softsign_backward_cpu_kernel(const at::Tensor& out,
                                  const at::Tensor& grad_output,
                                  const at::Tensor& x) {
  selected_cpu_kernels().backward(out, grad_output, x);
}

}  // namespace

TORCH_LIBRARY_IMPL(softsign_ext, CPU, m) {
  register_kernels<&softsign_cpu_kernel, &softsign_backward_cpu_kernel>(m);
}

}  // namespace softsign_ext
