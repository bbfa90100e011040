import os
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
