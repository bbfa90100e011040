// The CPU kernels: the softsign math through the generic CPU loops. One
// source compiled once per instruction set (setup.py's cpu_capabilities), each
// build in its own namespace softsign_ext::CPU_CAPABILITY, as ATen builds its
// kernels; cpu/dispatch.cpp picks one at run time.
#include "cpu/softsign_kernel.h"
#include "elementwise/cpu_loops.h"
#include "operator/softsign.h"
#include "softsign_math.h"

namespace softsign_ext {
namespace CPU_CAPABILITY {
namespace {

void softsign_forward_kernel(const at::Tensor& out, const at::Tensor& x) {
  SOFTSIGN_DISPATCH(x.scalar_type(), "softsign_cpu", [&] {
    parallel_map<scalar_t>([](auto v) { return softsign_forward(v); }, out, x);
  });
}

void softsign_backward_kernel(const at::Tensor& out,
                              const at::Tensor& grad_output,
                              const at::Tensor& x) {
  SOFTSIGN_DISPATCH(x.scalar_type(), "softsign_backward_cpu", [&] {
    parallel_map<scalar_t>([](auto g, auto v) { return softsign_grad(g, v); },
                           out, grad_output, x);
  });
}

#define SOFTSIGN_STRINGIFY_(name) #name
#define SOFTSIGN_STRINGIFY(name) SOFTSIGN_STRINGIFY_(name)
const CpuKernels cpu_kernels{SOFTSIGN_STRINGIFY(CPU_CAPABILITY),
                             &softsign_forward_kernel,
                             &softsign_backward_kernel};
const bool added = add_cpu_kernels(cpu_kernels);

}  // namespace
}  // namespace CPU_CAPABILITY
}  // namespace softsign_ext
