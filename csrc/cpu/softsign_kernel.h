// The CPU kernels of one instruction set. cpu/softsign_kernel.cpp is compiled
// once per set that setup.py's cpu_capabilities lists, into the namespace
// softsign_ext::<CPU_CAPABILITY>, and each build adds its kernels to the list
// that cpu/dispatch.cpp picks from at run time, as ATen's REGISTER_DISPATCH
// does: the sets are named in setup.py only.
#pragma once

#include "operator/softsign.h"

namespace softsign_ext {

struct CpuKernels {
  const char* capability;  // torch's name: "DEFAULT", "AVX2", "SVE128", ...
  ForwardKernel forward;
  BackwardKernel backward;
};

// Called by each build while the library loads; returns true.
bool add_cpu_kernels(const CpuKernels& kernels);

// The build for the instruction set torch's own CPU kernels use
// (at::get_cpu_capability(), which ATEN_CPU_CAPABILITY can lower), else the
// baseline build.
const CpuKernels& selected_cpu_kernels();

}  // namespace softsign_ext
