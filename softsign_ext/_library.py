"""The compiled library: importing this module loads it (its import registers the
torch.ops.softsign_ext operators) after checking that it was built against the torch that
is importing it, and says what the build holds."""

import importlib
import os
from types import ModuleType
from typing import Optional

import torch

from ._metadata import HOW_TO_BUILD

NAMESPACE = "softsign_ext"


def check_torch_version(built_against: Optional[str], running: str) -> None:
    """Raises ImportError when the library was built against another torch: loading it could
    crash the process instead of failing cleanly."""
    if built_against is None:
        raise ImportError("softsign_ext's compiled library has not been built (no softsign_ext/_build_info.py). "
                          + HOW_TO_BUILD)
    if built_against != running:
        raise ImportError(f"softsign_ext was built against torch {built_against}, but torch {running} is importing "
                          "it; a C++ extension only works with the torch it was compiled against. " + HOW_TO_BUILD)


def load(name: str = "softsign_ext._C", build_info: str = "softsign_ext._build_info") -> ModuleType:
    """Imports the extension module ``name`` once ``build_info`` says it was built against this
    torch; raises ImportError saying how to build it otherwise."""
    try:
        info = importlib.import_module(build_info)
    except ImportError:
        info = None
    check_torch_version(getattr(info, "TORCH_VERSION", None), torch.__version__)
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(f"softsign_ext's compiled library {name!r} could not be imported ({error}). "
                          + HOW_TO_BUILD) from error


def refuse_cuda_tensors(reason: str) -> torch.library.Library:
    """For a build without the CUDA kernels: CUDA tensors get an error that says so and how
    to build them, instead of the dispatcher's "could not run ... 'CUDA' backend", from every
    operator that has a CPU kernel. Returns the registration, which lives as long as it is
    referenced."""
    message = (f"softsign_ext was built without its CUDA kernels ({reason}), so it cannot take CUDA tensors. "
               "Rebuild where torch has CUDA and a CUDA toolkit of the same major version is installed "
               "(SOFTSIGN_EXT_CUDA=1 makes the build fail instead of leaving them out): " + HOW_TO_BUILD)

    def refuse(*args, **kwargs):
        raise RuntimeError(message)

    library = torch.library.Library(NAMESPACE, "IMPL")
    for name in torch._C._dispatch_get_registrations_for_dispatch_key("CPU"):
        if name.startswith(f"{NAMESPACE}::"):
            library.impl(name.removeprefix(f"{NAMESPACE}::"), refuse, "CUDA")
    return library


_C = load()

from . import _build_info  # noqa: E402  (written by setup.py; load() checked it exists)

# What this install was built with: the torch it was compiled against, the CUDA toolkit
# (None for a CPU-only build) and why the CUDA kernels were or were not built, the GPU
# architectures it holds code for, the CPU architecture it was built for ("x86_64",
# "aarch64") and the instruction sets its CPU kernels were compiled for, and the executorch release its ExecuTorch kernel was built against (None
# without one) and why.
build_info = {
    "torch": _build_info.TORCH_VERSION,
    "cuda": _build_info.CUDA_VERSION,
    "cuda_reason": _build_info.CUDA_PLAN,
    "cuda_arch_list": _build_info.CUDA_ARCH_LIST,
    "machine": getattr(_build_info, "MACHINE", None),
    "cpu_capabilities": _build_info.CPU_CAPABILITIES,
    "executorch": getattr(_build_info, "EXECUTORCH_VERSION", None),
    "executorch_reason": getattr(_build_info, "EXECUTORCH_PLAN", "built before ExecuTorch kernels existed"),
}

# The operator library, which needs no Python (_C is a thin layer over it): what C++
# programs link, and what torch.ops.load_library loads in a process that runs TorchScript
# or AOTInductor files without importing softsign_ext.
library_path = os.path.join(os.path.dirname(_C.__file__), _build_info.OPERATOR_LIBRARY)

# The dtypes the kernels are compiled for, from the one list in csrc/operator/softsign.h.
SUPPORTED_DTYPES = tuple(getattr(torch, name) for name in _C.supported_dtypes())


def cuda_built() -> bool:
    """Whether this build holds the CUDA kernels (else only CPU tensors are supported)."""
    return build_info["cuda"] is not None


def cpu_capability() -> str:
    """The instruction set of the CPU kernels in use: "AVX512", "AVX2" (x86-64), "SVE256",
    "SVE128" (aarch64) or "DEFAULT" (the baseline), the one torch's own CPU kernels use (``torch.backends.cpu.get_cpu_capability()``,
    lowered by the environment variable ATEN_CPU_CAPABILITY) or the baseline."""
    return _C.cpu_capability()


if not cuda_built():
    _refusal = refuse_cuda_tensors(_build_info.CUDA_PLAN)
