"""softsign_ext: a bandwidth-bound Softsign, ``x / (1 + |x|)``, for PyTorch.

Importing this package loads the compiled operators ``torch.ops.softsign_ext.softsign``
and ``torch.ops.softsign_ext.softsign_backward`` (CPU, CUDA and Meta kernels, C++ autograd;
``_library``), tells torch.compile's Inductor to fuse them (``inductor``), and ExecuTorch's
lowering and runtime, once imported, to decompose and to run them (``executorch``). This file
only gathers the public names; each module does its own work on import.
"""

import sys

from . import executorch, inductor
from ._library import SUPPORTED_DTYPES, build_info, cpu_capability, cuda_built, library_path
from ._metadata import __version__
from .functional import softsign, softsign_, softsign_backward
from .modules import ModelNew, Softsign, replace_softsign

__all__ = ["softsign", "softsign_", "softsign_backward", "Softsign", "ModelNew", "replace_softsign",
           "SUPPORTED_DTYPES", "inductor", "executorch", "build_info", "cuda_built", "cpu_capability", "library_path",
           "__version__"]

# DTensor already in use: register the sharding rules now (otherwise importing
# softsign_ext.distributed does; DTensor's import is too slow to pay always).
if "torch.distributed.tensor" in sys.modules:
    from . import distributed  # noqa: F401
