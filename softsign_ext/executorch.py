"""ExecuTorch integration: programs that use softsign_ext, run by PyTorch's edge runtime.

A model holding ``softsign_ext.Softsign`` (or calling ``softsign_ext.softsign``) goes to
ExecuTorch as any model does (``torch.export.export``, then ``executorch.exir``'s
``to_edge_transform_and_lower`` or ``to_edge``, then ``.to_executorch()``). What its operator
becomes in the program is the user's choice:

- **core ATen** (the default): ``abs``, ``add`` and ``div``, the program nn.Softsign makes,
  which every ExecuTorch runtime runs and delegates take whole (with ``XnnpackPartitioner``
  the model is one XNNPACK call). ExecuTorch's lowering does it: softsign_ext adds its
  decomposition to the table that lowering starts from.
- **softsign_ext's fused kernel** (``set_fused_kernel(True)``, or ``with fused_kernel():``
  around the lowering): the program keeps ``softsign_ext::softsign`` and its runtime calls
  softsign_ext's ExecuTorch kernel, one pass over the tensor where nn.Softsign's program makes
  three. Only a runtime with that kernel loads such a program: a Python process that imported
  softsign_ext (it registers the kernel as soon as ExecuTorch's runtime is imported;
  ``load_kernels`` does it by hand), a C++ program that links ``kernel_library_path``.
  Turning the setting on raises, saying what to do, where this build has no such kernel.

The kernel library is built with softsign_ext where executorch is installed at build time
(``softsign_ext.build_info["executorch"]`` says which, or why not); it links only
ExecuTorch's runtime, not torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.metadata
import os
import warnings
from types import ModuleType
from typing import Callable, Iterator, Optional

import torch
import torch.nn.functional as F

from . import _build_info
from ._import_hook import when_imported
from ._library import _C, build_info
from ._metadata import HOW_TO_BUILD

# ExecuTorch's Python runtime (executorch.runtime and the pybindings load it): the process's
# kernel registry lives in the libexecutorch.so it loads.
RUNTIME_MODULE = "executorch.extension.pybindings.portable_lib"

# ExecuTorch's lowering (to_edge, to_edge_transform_and_lower, the older capture API)
# decomposes a program with the table this function of executorch.exir.tracer returns,
# afresh on each call; the other modules here import it by name. ExecuTorch has no public
# way to give its lowering a decomposition for another library's operator.
TABLE_FUNCTION = "_default_decomposition_table"
TABLE_MODULES = ("executorch.exir.tracer", "executorch.exir.program._program", "executorch.exir.capture._capture")

# The ExecuTorch kernel library, or None where this build has none.
kernel_library_path: Optional[str] = (
    os.path.join(os.path.dirname(_C.__file__), _build_info.EXECUTORCH_LIBRARY)
    if getattr(_build_info, "EXECUTORCH_LIBRARY", None) else None)

_loaded: Optional[ctypes.CDLL] = None
_fused_kernel = False


def kernels_built() -> bool:
    """Whether this build holds softsign_ext's ExecuTorch kernel."""
    return kernel_library_path is not None


def _not_built_message() -> str:
    return (f"softsign_ext was built without its ExecuTorch kernel ({build_info['executorch_reason']}). Install "
            "executorch and rebuild softsign_ext (SOFTSIGN_EXT_EXECUTORCH=1 makes a build without it fail): "
            + HOW_TO_BUILD + " Or leave softsign_ext.executorch.set_fused_kernel off: programs then call "
            "ExecuTorch's own abs, add and div, as nn.Softsign's do, which every runtime has.")


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


def fused_kernel_enabled() -> bool:
    """Whether ExecuTorch programs lowered now keep softsign_ext's operator (its fused kernel)
    rather than core ATen operators."""
    return _fused_kernel


def set_fused_kernel(enabled: bool) -> bool:
    """Programs lowered from now on call softsign_ext's fused ExecuTorch kernel (True; the
    runtime that loads them needs it), or ExecuTorch's own abs, add and div as nn.Softsign's
    programs do (False, the default). Raises RuntimeError, saying what to do, when turning it
    on where this process could not run such a program. Returns the previous setting."""
    global _fused_kernel
    if not isinstance(enabled, bool):
        raise TypeError(f"set_fused_kernel takes True or False, not {enabled!r}")
    if enabled:
        check_runtime_kernels()
    previous, _fused_kernel = _fused_kernel, enabled
    return previous


@contextlib.contextmanager
def fused_kernel(enabled: bool = True) -> Iterator[None]:
    """set_fused_kernel(enabled) within a block; the previous setting comes back after it."""
    previous = set_fused_kernel(enabled)
    try:
        yield
    finally:
        set_fused_kernel(previous)


def softsign_decomposition(x: torch.Tensor) -> torch.Tensor:
    # F.softsign's own definition: the program nn.Softsign exports.
    return F.softsign(x)


def decompositions() -> dict[torch._ops.OpOverload, Callable]:
    """A table for ``ExportedProgram.run_decompositions``: softsign_ext's operators as core ATen
    operators (what ExecuTorch's lowering adds to its own table unless set_fused_kernel is on)."""
    return {torch.ops.softsign_ext.softsign.default: softsign_decomposition}


def _kept_where_the_kernel_takes_it(x: torch.Tensor) -> torch.Tensor:
    # The fused kernel takes every dtype softsign_ext takes but complex, which ExecuTorch's
    # own kernels do not take either (no complex abs). Complex inputs get nn.Softsign's
    # program, which ExecuTorch's lowering then refuses at export as it refuses nn.Softsign's,
    # instead of a program that fails on the device. NotImplemented keeps the operator.
    return F.softsign(x) if x.is_complex() else NotImplemented


def to_core_aten(exported_program: torch.export.ExportedProgram) -> torch.export.ExportedProgram:
    """The program with softsign_ext's operator written as abs, add and div (nn.Softsign's
    export), for consumers of exported programs other than ExecuTorch's lowering (which does
    this itself). Only softsign_ext's operators change."""
    return exported_program.run_decompositions(decompositions())


def _with_softsign_ext(table_function: Callable[..., dict]) -> Callable[..., dict]:
    @functools.wraps(table_function)
    def with_softsign_ext(*args, **kwargs):
        table = table_function(*args, **kwargs)
        if _fused_kernel:
            table[torch.ops.softsign_ext.softsign.default] = _kept_where_the_kernel_takes_it
        else:
            table.update(decompositions())
        return table

    with_softsign_ext.softsign_ext_decompositions = True
    return with_softsign_ext


def _add_decompositions(module: ModuleType) -> None:
    table_function = getattr(module, TABLE_FUNCTION, None)
    if table_function is None:
        if module.__name__ == TABLE_MODULES[0]:
            warnings.warn(f"softsign_ext cannot add its decomposition to ExecuTorch's lowering: {module.__name__} "
                          f"has no {TABLE_FUNCTION} (executorch {importlib.metadata.version('executorch')}). Programs "
                          "keep softsign_ext's operator and need its kernel; apply "
                          "softsign_ext.executorch.to_core_aten(exported_program) before lowering for other runtimes.",
                          stacklevel=2)
        return
    if not getattr(table_function, "softsign_ext_decompositions", False):
        setattr(module, TABLE_FUNCTION, _with_softsign_ext(table_function))


def _register_when_runtime_loads(_module: ModuleType) -> None:
    # Only where the kernel was built: otherwise only programs with set_fused_kernel off,
    # which do not need it, can be made here.
    if kernels_built():
        load_kernels()


# Importing softsign_ext imports this module: ExecuTorch's lowering, once imported, decomposes
# softsign_ext's operator by default, and its runtime has the kernel.
for _name in TABLE_MODULES:
    when_imported(_name, _add_decompositions)
when_imported(RUNTIME_MODULE, _register_when_runtime_loads)
