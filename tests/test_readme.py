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


def _run(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"python -m {' '.join(args)}\n--- stderr:\n{done.stderr[-4000:]}"
    return done.stdout


def test_every_bench_option_the_readme_names_exists(tmp_path):
    text = README.read_text()
    assert "python -m softsign_ext.bench --help" in text
    options = set(re.findall(r"--[a-z][a-z-]+", _run("softsign_ext.bench", "--help", cwd=tmp_path)))
    named = {option for command in re.findall(r"python -m softsign_ext\.bench[^`\n]*", text)
             for option in re.findall(r"--[a-z][a-z-]+", command)}
    named |= set(re.findall(r"`(--[a-z][a-z-]+)", text[text.index("## Benchmark"):]))
    assert named and named <= options, f"README names options that --help lacks: {named - options}"


@pytest.mark.parametrize("backend", ["cuda", "triton"])
def test_readme_generator_command_writes_a_submission(backend, tmp_path):
    assert "python -m softsign_ext.kernelbench --backend cuda|triton [-o FILE]" in README.read_text()
    _run("softsign_ext.kernelbench", "--backend", backend, "-o", "submission.py", cwd=tmp_path)
    source = (tmp_path / "submission.py").read_text()
    compile(source, "submission.py", "exec")  # valid Python
    assert "class ModelNew(nn.Module)" in source
