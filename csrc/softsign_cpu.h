// The CPU kernels of one instruction set: softsign_cpu_kernel.cpp is compiled
// once per set that setup.py's cpu_capabilities lists, into the namespace
// softsign_ext::<CPU_CAPABILITY>, and setup.py defines SOFTSIGN_EXT_CPU_<SET>
// for each set beyond the baseline. softsign_cpu.cpp picks one at run time.
#pragma once

#include "softsign.h"

namespace softsign_ext {

struct CpuKernels {
  const char* capability;  // "DEFAULT", "AVX2", "AVX512": torch's names
  ForwardKernel forward;
  BackwardKernel backward;
};

namespace DEFAULT {
extern const CpuKernels cpu_kernels;
}
#ifdef SOFTSIGN_EXT_CPU_AVX2
namespace AVX2 {
extern const CpuKernels cpu_kernels;
}
#endif
#ifdef SOFTSIGN_EXT_CPU_AVX512
namespace AVX512 {
extern const CpuKernels cpu_kernels;
}
#endif

// The build for the instruction set torch's own CPU kernels use
// (at::get_cpu_capability(), which ATEN_CPU_CAPABILITY can lower), or the
// best one built below it.
const CpuKernels& selected_cpu_kernels();

}  // namespace softsign_ext
