"""Loads the compiled library, whose import registers the torch.ops.softsign_ext operators."""

import importlib
from types import ModuleType

_HOW_TO_BUILD = (
    "softsign_ext's compiled library {name!r} could not be imported ({error}). "
    "Build it against the torch in this environment, from the source checkout:\n"
    "    pip install --no-build-isolation -e .\n"
    "(--no-build-isolation matters: the library must be compiled against the torch "
    "that imports it; rebuild after upgrading torch.)"
)


def load(name: str = "softsign_ext._C") -> ModuleType:
    """Imports the extension module ``name``; raises ImportError saying how to build it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(_HOW_TO_BUILD.format(name=name, error=error)) from error
