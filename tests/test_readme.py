"""Every Python block in README.md and docs/*.md runs as written, each in a fresh interpreter
in an empty folder, so that the documentation cannot drift from the code. A block preceded by
the line `*Not run by the docs tests: REASON*` (shown as such where the page is rendered) is
reported as skipped with its reason; one preceded by `*Needs MODULE (how to get it).*` runs
where MODULE is installed and is skipped, saying so, elsewhere."""

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ ]*)```python\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"^\s*\*Not run by the docs tests: (?P<reason>.+)\*\s*$")
# A block preceded by `*Needs MODULE (how to get it).*` runs where MODULE is installed (CI's
# executorch step has executorch) and skips elsewhere, saying so.
NEEDS = re.compile(r"^\s*\*Needs (?P<module>[\w.]+) \((?P<how>.+)\)\.\*\s*$")

pytestmark = pytest.mark.skipif(not (ROOT / "docs").is_dir(), reason="needs the source checkout's documents")


def _blocks(document: Path) -> list:
    text = document.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip, needs = SKIP.search(before), NEEDS.search(before)
        where = f"{document.relative_to(ROOT)}:{line}"
        marks = [pytest.mark.skip(reason=f"{where}: {skip['reason']}")] if skip else []
        if needs and importlib.util.find_spec(needs["module"]) is None:
            marks.append(pytest.mark.skip(reason=f"{where}: needs {needs['module']} ({needs['how']})"))
        blocks.append(pytest.param(textwrap.dedent(match["body"]), id=where, marks=marks))
    return blocks


@pytest.mark.parametrize("code", [block for document in DOCUMENTS for block in _blocks(document)])
def test_python_block_runs(code, tmp_path):
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{code}\n--- stderr:\n{done.stderr[-4000:]}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_is_found(document):
    # A fence the pattern missed (another spelling of the language, say) would go untested.
    assert len(_blocks(document)) == document.read_text().count("```python")


def test_every_document_is_linked_from_the_readme():
    linked = set(re.findall(r"\]\((docs/[^)#]+)", README.read_text()))
    assert sorted(str(p.relative_to(ROOT)) for p in DOCUMENTS[1:] if str(p.relative_to(ROOT)) not in linked) == []


def test_readme_fits_a_first_read():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    # The first screen: what this is, then how to install, run and test it.
    first_screen = "\n".join(text.splitlines()[:60])
    for command in ("pip install --no-build-isolation", "python -m softsign_ext.bench", "python -m pytest"):
        assert command in first_screen, command


def _run(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"python -m {' '.join(args)}\n--- stderr:\n{done.stderr[-4000:]}"
    return done.stdout


def test_every_bench_option_the_docs_name_exists(tmp_path):
    text = (ROOT / "docs" / "benchmark.md").read_text()
    assert "python -m softsign_ext.bench --help" in text
    options = set(re.findall(r"--[a-z][a-z-]+", _run("softsign_ext.bench", "--help", cwd=tmp_path)))
    named = {option for command in re.findall(r"python -m softsign_ext\.bench[^`\n]*", text)
             for option in re.findall(r"--[a-z][a-z-]+", command)}
    named |= set(re.findall(r"`(--[a-z][a-z-]+)", text[text.index("## Benchmark"):]))
    assert named and named <= options, f"docs/benchmark.md names options that --help lacks: {named - options}"


@pytest.mark.parametrize("backend", ["cuda", "triton"])
def test_documented_generator_command_writes_a_submission(backend, tmp_path):
    documented = (ROOT / "docs" / "kernelbench.md").read_text()
    assert "python -m softsign_ext.kernelbench --backend cuda|triton [-o FILE]" in documented
    _run("softsign_ext.kernelbench", "--backend", backend, "-o", "submission.py", cwd=tmp_path)
    source = (tmp_path / "submission.py").read_text()
    compile(source, "submission.py", "exec")  # valid Python
    assert "class ModelNew(nn.Module)" in source
