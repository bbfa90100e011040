import os
import platform
import sys
import zlib
from collections import Counter

import pytest
import torch


def pytest_addoption(parser):
    parser.addoption(
        "--run-large", action="store_true",
        help="also run the tests marked large (tensors of > 2**31 elements: about 10 GB of memory)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "large: needs several GiB of memory (tensors of > 2**31 elements); "
                                       "runs only with --run-large")
    # The GPU check script sets this so that a missing GPU fails the run
    # instead of quietly skipping every CUDA test.
    if os.environ.get("SOFTSIGN_EXT_REQUIRE_CUDA") == "1":
        if not torch.cuda.is_available():
            raise pytest.UsageError("SOFTSIGN_EXT_REQUIRE_CUDA=1 but torch sees no CUDA GPU")
        import softsign_ext
        if not softsign_ext.cuda_built():
            raise pytest.UsageError("SOFTSIGN_EXT_REQUIRE_CUDA=1 but this softsign_ext build has no CUDA kernels "
                                    f"({softsign_ext.build_info})")


def pytest_report_header(config):
    """What runs the tests: the machine, torch and its CPU level, the build's CPU levels and
    the one in use, and where softsign_ext was imported from (a wheel or the checkout)."""
    machine = f"{platform.machine()}: torch {torch.__version__} at CPU level {torch.backends.cpu.get_cpu_capability()}"
    try:
        import softsign_ext
    except Exception as error:  # its message says how to build; the tests that import it fail with it
        return f"{machine}; softsign_ext cannot be imported: {error}"
    return (f"{machine}; softsign_ext CPU builds {', '.join(softsign_ext.build_info['cpu_capabilities'])}, "
            f"{softsign_ext.cpu_capability()} in use; softsign_ext from {os.path.dirname(softsign_ext.__file__)}")


def pytest_collection_finish(session):
    # CI's executorch step sets this so that a missing executorch fails the run instead of
    # skipping its tests.
    if os.environ.get("SOFTSIGN_EXT_REQUIRE_EXECUTORCH") == "1":
        import importlib.util
        if importlib.util.find_spec("executorch") is None:
            raise pytest.UsageError("SOFTSIGN_EXT_REQUIRE_EXECUTORCH=1 but executorch is not installed")
        ran = [item for item in session.items if item.module.__name__ == "test_executorch"]
        if not ran:
            raise pytest.UsageError("SOFTSIGN_EXT_REQUIRE_EXECUTORCH=1 but no ExecuTorch test was collected")


def pytest_collection_modifyitems(config, items):
    """Large tests are opt-in, so that the default run fits a small machine."""
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="needs about 10 GB of memory: run with --run-large")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_random_inputs(request):
    """A different seed per test (but reproducible from its name) so inputs are never shared."""
    torch.manual_seed(zlib.crc32(request.node.nodeid.encode()))


def pytest_terminal_summary(terminalreporter):
    """One line per reason a test skipped, and how many fuzz cases ran (tests/test_fuzz.py)."""
    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"skipped {count}: {reason}")
    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and fuzz.cases_run:
        counts = ", ".join(f"{name}: {n}" for name, n in fuzz.cases_run.items())
        terminalreporter.write_line(f"fuzz cases run ({counts}); total {sum(fuzz.cases_run.values())}")
