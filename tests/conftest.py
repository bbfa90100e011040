import os
import sys
import zlib

import pytest
import torch


def pytest_configure(config):
    config.addinivalue_line("markers", "large: needs several GiB of memory (tensors of > 2**31 elements)")
    # The GPU check script sets this so that a missing GPU fails the run
    # instead of quietly skipping every CUDA test.
    if os.environ.get("SOFTSIGN_EXT_REQUIRE_CUDA") == "1" and not torch.cuda.is_available():
        raise pytest.UsageError("SOFTSIGN_EXT_REQUIRE_CUDA=1 but torch sees no CUDA GPU")


@pytest.fixture(autouse=True)
def fresh_random_inputs(request):
    """A different seed per test (but reproducible from its name) so inputs are never shared."""
    torch.manual_seed(zlib.crc32(request.node.nodeid.encode()))


def pytest_terminal_summary(terminalreporter):
    """Reports how many fuzz cases ran (tests/test_fuzz.py), all parametrizations together."""
    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and fuzz.cases_run:
        counts = ", ".join(f"{name}: {n}" for name, n in fuzz.cases_run.items())
        terminalreporter.write_line(f"fuzz cases run ({counts}); total {sum(fuzz.cases_run.values())}")
