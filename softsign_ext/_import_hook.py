"""Runs a function on a module of torch's as soon as that module is imported, so that
importing softsign_ext does not import it (Inductor, torch.onnx: each slower to import than
softsign_ext itself)."""

import importlib.util
import sys
from types import ModuleType
from typing import Callable


class _RunAfterImport:
    """A finder on sys.meta_path (and the loader it returns) that finds the module through the
    regular finders, and runs `callback` on it once loaded. (Not derived from importlib.abc's
    classes, which import slower than softsign_ext.)"""

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self._name = name
        self._callback = callback
        self._loader = None

    def find_spec(self, fullname, path, target=None):
        if fullname != self._name:
            return None
        sys.meta_path.remove(self)  # one shot; the regular finders locate the module
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        self._loader, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        self._callback(module)

    def __getattr__(self, name):  # get_source, get_code, ... of the module's own loader
        return getattr(self._loader, name)


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """callback(module) now if the module `name` is imported already, else right after its import."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
    else:
        sys.meta_path.insert(0, _RunAfterImport(name, callback))
