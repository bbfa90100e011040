"""softsign_ext: a bandwidth-bound Softsign, ``x / (1 + |x|)``, for PyTorch.

Importing this package loads the compiled operators ``torch.ops.softsign_ext.softsign``
and ``torch.ops.softsign_ext.softsign_backward`` (CPU, CUDA and Meta kernels, C++ autograd).
"""

import sys

import torch  # noqa: F401  (the compiled library needs torch's libraries loaded first)

from . import _library

_library.load()

from .modules import ModelNew, Softsign, replace_softsign  # noqa: E402
from .ops import softsign, softsign_, softsign_backward  # noqa: E402

__all__ = ["softsign", "softsign_", "softsign_backward", "Softsign", "ModelNew", "replace_softsign"]

# DTensor already in use: register the sharding rules now (otherwise importing
# softsign_ext.distributed does; DTensor's import costs ~1 s, too much to pay always).
if "torch.distributed.tensor" in sys.modules:
    from . import distributed  # noqa: E402, F401
__version__ = "0.1.0"
