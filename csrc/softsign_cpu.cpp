// The CPU registration: each operator calls the kernels built for the
// instruction set torch itself runs on, chosen once when first called.
#include <ATen/Version.h>  // at::get_cpu_capability
#include <torch/library.h>

#include <string>

#include "softsign.h"
#include "softsign_cpu.h"

namespace softsign_ext {

const CpuKernels& selected_cpu_kernels() {
  // Following torch's choice (not the CPU's flags alone) keeps the two in
  // step: ATEN_CPU_CAPABILITY=avx2 or =default lowers both, which is also how
  // the tests run every build on one machine.
  static const CpuKernels& kernels = [] () -> const CpuKernels& {
    const std::string capability = at::get_cpu_capability();
#ifdef SOFTSIGN_EXT_CPU_AVX512
    if (capability == "AVX512") {
      return AVX512::cpu_kernels;
    }
#endif
#ifdef SOFTSIGN_EXT_CPU_AVX2
    if (capability == "AVX512" || capability == "AVX2") {
      return AVX2::cpu_kernels;
    }
#endif
    return DEFAULT::cpu_kernels;
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
