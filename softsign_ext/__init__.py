"""softsign_ext: a bandwidth-bound Softsign, ``x / (1 + |x|)``, for PyTorch.

Importing this package loads the compiled operators ``torch.ops.softsign_ext.softsign``
and ``torch.ops.softsign_ext.softsign_backward`` (CPU, CUDA and Meta kernels, C++ autograd),
and tells torch.compile's Inductor to fuse them (``softsign_ext.inductor``).
"""

import sys

import torch  # (the compiled library needs torch's libraries loaded first)

__version__ = "0.1.0"

from . import _library  # noqa: E402

_C = _library.load()

from . import _build_info  # noqa: E402  (written by setup.py; load() checked it exists)

# What this install was built with: the torch it was compiled against, the CUDA toolkit
# (None for a CPU-only build), the GPU architectures it holds code for and the CPU
# instruction sets its CPU kernels were compiled for.
build_info = {
    "torch": _build_info.TORCH_VERSION,
    "cuda": _build_info.CUDA_VERSION,
    "cuda_arch_list": _build_info.CUDA_ARCH_LIST,
    "cpu_capabilities": _build_info.CPU_CAPABILITIES,
}


def cuda_built() -> bool:
    """Whether this build holds the CUDA kernels (else only CPU tensors are supported)."""
    return build_info["cuda"] is not None


def cpu_capability() -> str:
    """The instruction set of the CPU kernels in use: "AVX512", "AVX2" or "DEFAULT" (the
    baseline), the one torch's own CPU kernels use (``torch.backends.cpu.get_cpu_capability()``,
    lowered by the environment variable ATEN_CPU_CAPABILITY) or the best one built below it."""
    return _C.cpu_capability()


if not cuda_built():
    _refusal = _library.refuse_cuda_tensors(_build_info.CUDA_PLAN)

# The dtypes the kernels are compiled for (float32, float64, float16, bfloat16), from
# the one list in csrc/softsign.h.
SUPPORTED_DTYPES = tuple(getattr(torch, name) for name in _C.supported_dtypes())

from . import inductor  # noqa: E402
from .modules import ModelNew, Softsign, replace_softsign  # noqa: E402
from .ops import softsign, softsign_, softsign_backward  # noqa: E402

__all__ = ["softsign", "softsign_", "softsign_backward", "Softsign", "ModelNew", "replace_softsign",
           "SUPPORTED_DTYPES", "inductor", "build_info", "cuda_built", "cpu_capability"]

inductor._install()

# DTensor already in use: register the sharding rules now (otherwise importing
# softsign_ext.distributed does; DTensor's import is too slow to pay always).
if "torch.distributed.tensor" in sys.modules:
    from . import distributed  # noqa: E402, F401
