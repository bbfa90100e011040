"""ExecuTorch integration: programs that use softsign_ext, run by PyTorch's edge runtime.

A model holding ``softsign_ext.Softsign`` (or calling ``softsign_ext.softsign``) goes to
ExecuTorch as any model does (``torch.export.export``, ``executorch.exir.to_edge_transform_and_lower``,
``.to_executorch()``), in one of two forms, the user's choice:

- **softsign_ext's kernel** (what ``torch.export`` gives): the program keeps
  ``softsign_ext::softsign`` and its runtime calls softsign_ext's ExecuTorch kernel, one pass
  over the tensor (nn.Softsign's program makes three or four). The runtime needs that kernel:
  in Python it is registered as soon as ExecuTorch's runtime is imported in a process that
  imported softsign_ext (``load_kernels`` does it by hand); a C++ program links
  ``kernel_library_path``. ``check_runtime_kernels()`` raises before export where it is missing.
- **core ATen** (``to_core_aten(exported_program)``): softsign_ext's operator becomes
  ``abs``, ``add`` and ``div``, as nn.Softsign exports, which any ExecuTorch runtime runs and
  which delegates take whole: with ``XnnpackPartitioner`` the model is one XNNPACK call.

The kernel library is built with softsign_ext where executorch is installed at build time
(``softsign_ext.build_info["executorch"]`` says which, or why not); it links only
ExecuTorch's runtime, not torch.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from . import _build_info
from ._import_hook import when_imported
from ._library import _C, build_info
from ._metadata import HOW_TO_BUILD

# ExecuTorch's Python runtime (executorch.runtime and the pybindings load it): the process's
# kernel registry lives in the libexecutorch.so it loads.
RUNTIME_MODULE = "executorch.extension.pybindings.portable_lib"

# The ExecuTorch kernel library, or None where this build has none.
kernel_library_path: Optional[str] = (
    os.path.join(os.path.dirname(_C.__file__), _build_info.EXECUTORCH_LIBRARY)
    if getattr(_build_info, "EXECUTORCH_LIBRARY", None) else None)

_loaded: Optional[ctypes.CDLL] = None


def kernels_built() -> bool:
    """Whether this build holds softsign_ext's ExecuTorch kernel."""
    return kernel_library_path is not None


def _not_built_message() -> str:
    return (f"softsign_ext was built without its ExecuTorch kernel ({build_info['executorch_reason']}). Install "
            "executorch and rebuild softsign_ext (SOFTSIGN_EXT_EXECUTORCH=1 makes a build without it fail): "
            + HOW_TO_BUILD + " Or export for a stock runtime: softsign_ext.executorch.to_core_aten(exported_program)")


def load_kernels() -> None:
    """Registers softsign_ext's kernel in this process's ExecuTorch runtime (once); raises
    RuntimeError where this build has none or was built against another executorch release."""
    global _loaded
    if _loaded is not None:
        return
    if not kernels_built():
        raise RuntimeError(_not_built_message())
    installed = importlib.metadata.version("executorch")
    if installed != build_info["executorch"]:
        raise RuntimeError(f"softsign_ext's ExecuTorch kernel was built against executorch "
                           f"{build_info['executorch']}, but executorch {installed} is installed; rebuild "
                           "softsign_ext: " + HOW_TO_BUILD)
    _loaded = ctypes.CDLL(kernel_library_path)


def check_runtime_kernels() -> None:
    """Raises RuntimeError, saying what to do, where a program that keeps softsign_ext's operator
    could not run in this process's ExecuTorch runtime."""
    load_kernels()


def softsign_decomposition(x: torch.Tensor) -> torch.Tensor:
    # F.softsign's own definition: the program nn.Softsign exports.
    return F.softsign(x)


def decompositions() -> dict[torch._ops.OpOverload, Callable]:
    """A table for ``ExportedProgram.run_decompositions``: softsign_ext's operators as core ATen
    operators."""
    return {torch.ops.softsign_ext.softsign.default: softsign_decomposition}


def to_core_aten(exported_program: torch.export.ExportedProgram) -> torch.export.ExportedProgram:
    """The program with softsign_ext's operator written as abs, add and div (nn.Softsign's
    export): for a runtime with ExecuTorch's own kernels only, and for delegates such as
    XNNPACK, which then take the whole model. Only softsign_ext's operators change."""
    return exported_program.run_decompositions(decompositions())


def _register_when_runtime_loads(_module) -> None:
    # Only where the kernel was built: otherwise a program that needs it fails to load, and
    # check_runtime_kernels() says why before export.
    if kernels_built():
        load_kernels()


# Importing softsign_ext imports this module: ExecuTorch's runtime, once imported, has the kernel.
when_imported(RUNTIME_MODULE, _register_when_runtime_loads)
