"""The tree keeps the shape docs/layout.md describes: no module imports from the package that
holds it, and the layout tables name every source file and nothing that is gone."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "softsign_ext"
GENERATED = {"_build_info.py"}

pytestmark = pytest.mark.skipif(not (ROOT / "csrc").is_dir(), reason="needs the source checkout (not a wheel's test copy)")


def _modules() -> list[Path]:
    """Every module but the packages' __init__ files, which gather their own names."""
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name not in GENERATED | {"__init__.py"})


def _holders(path: Path) -> list[Path]:
    """The package folders that hold the module at `path`, innermost first."""
    holders, folder = [], path.parent
    while folder != ROOT:
        holders.append(folder)
        folder = folder.parent
    return holders


def _imports_from_a_holder(path: Path) -> list[str]:
    """Each `from <package> import name` where <package> holds this module and name is not
    one of its submodules (a name its __init__ defines), and each `import softsign_ext`."""
    found = []
    holders = _holders(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name == PACKAGE.name]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = path.parent
                for _ in range(node.level - 1):
                    target = target.parent
                target = target.joinpath(*(node.module or "").split(".")) if node.module else target
            elif node.module and node.module.split(".")[0] == PACKAGE.name:
                target = ROOT.joinpath(*node.module.split("."))
            else:
                continue
            if target not in holders:
                continue
            for alias in node.names:
                submodule = target / alias.name
                if not (submodule.with_suffix(".py").exists() or submodule.is_dir()):
                    found.append(f"from {node.module or '.' * node.level} import {alias.name}")
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_from_the_package_that_holds_it(path):
    assert _imports_from_a_holder(path) == []


def _documented_paths() -> set[str]:
    return set(re.findall(r"`((?:csrc|softsign_ext)/[^`\s]*)`", (ROOT / "docs" / "layout.md").read_text()))


def test_layout_names_every_source_file():
    named = _documented_paths()
    sources = [p for p in (ROOT / "csrc").rglob("*") if p.is_file()]
    sources += [p for p in PACKAGE.glob("*.py") if p.name not in GENERATED]
    missing = sorted(str(p.relative_to(ROOT)) for p in sources if str(p.relative_to(ROOT)) not in named)
    missing += sorted(f"softsign_ext/{p.name}/" for p in PACKAGE.iterdir()
                      if (p / "__init__.py").exists() and f"softsign_ext/{p.name}/" not in named)
    assert missing == []


def test_layout_names_no_path_that_is_gone():
    assert sorted(path for path in _documented_paths() if not (ROOT / path).exists()) == []


def test_subpackages_list_their_modules():
    for package in ("bench", "kernelbench"):
        docstring = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
        modules = [p.stem for p in (PACKAGE / package).glob("*.py") if not p.stem.startswith("__")]
        assert [m for m in modules if f"``{m}``" not in docstring] == [], package
