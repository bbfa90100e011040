"""Loads the compiled library, whose import registers the torch.ops.softsign_ext operators,
after checking that it was built against the torch that is importing it."""

import importlib
from types import ModuleType
from typing import Optional

import torch

_HOW_TO_BUILD = (
    "Build it against the torch in this environment, from the source checkout:\n"
    "    pip install --no-build-isolation -e .\n"
    "(--no-build-isolation matters: the library must be compiled against the torch "
    "that imports it; rebuild after upgrading torch.)"
)


def check_torch_version(built_against: Optional[str], running: str) -> None:
    """Raises ImportError when the library was built against another torch: loading it could
    crash the process instead of failing cleanly."""
    if built_against is None:
        raise ImportError("softsign_ext's compiled library has not been built (no softsign_ext/_build_info.py). "
                          + _HOW_TO_BUILD)
    if built_against != running:
        raise ImportError(f"softsign_ext was built against torch {built_against}, but torch {running} is importing "
                          "it; a C++ extension only works with the torch it was compiled against. " + _HOW_TO_BUILD)


def refuse_cuda_tensors(reason: str) -> torch.library.Library:
    """For a build without the CUDA kernels: CUDA tensors get an error that says so and how
    to build them, instead of the dispatcher's "could not run ... 'CUDA' backend". Returns
    the registration, which lives as long as it is referenced."""
    message = (f"softsign_ext was built without its CUDA kernels ({reason}), so it cannot take CUDA tensors. "
               "Rebuild where torch has CUDA and a CUDA toolkit of the same major version is installed "
               "(SOFTSIGN_EXT_CUDA=1 makes the build fail instead of leaving them out): " + _HOW_TO_BUILD)

    def refuse(*args, **kwargs):
        raise RuntimeError(message)

    library = torch.library.Library("softsign_ext", "IMPL")
    for name in ("softsign", "softsign.out", "softsign_", "softsign_backward"):
        library.impl(name, refuse, "CUDA")
    return library


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
                          + _HOW_TO_BUILD) from error
