"""Every Python block in README.md runs as written, each in a fresh interpreter in an empty
folder, so that the README cannot drift from the code. A block preceded by a line
`<!-- readme-test: skip (REASON) -->` is reported as skipped with its reason."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
FENCE = re.compile(r"^(?P<indent>[ ]*)```python\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"<!-- readme-test: skip \((?P<reason>.+)\) -->\s*$")


def _blocks() -> list:
    text = README.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        marks = [pytest.mark.skip(reason=f"README.md:{line}: {skip['reason']}")] if skip else []
        blocks.append(pytest.param(textwrap.dedent(match["body"]), id=f"line{line}", marks=marks))
    return blocks


@pytest.mark.parametrize("code", _blocks())
def test_readme_python_block_runs(code, tmp_path):
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{code}\n--- stderr:\n{done.stderr[-4000:]}"


def test_every_python_block_is_found():
    # A fence the pattern missed (another spelling of the language, say) would go untested.
    assert len(_blocks()) == README.read_text().count("```python")
