"""How softsign_ext was built and loads: the compiled library, the CUDA kernels, the
supported dtypes."""

import os

import pytest
import torch
from torch.utils.cpp_extension import CUDA_HOME

import softsign_ext
from softsign_ext import _library


def test_missing_library_says_how_to_build():
    with pytest.raises(ImportError, match="pip install --no-build-isolation") as info:
        _library.load("softsign_ext._not_built")
    assert "softsign_ext._not_built" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


def test_cuda_kernels_are_built_when_possible():
    """CI has nvcc and a CUDA torch but no GPU: the CUDA kernels must still be compiled in."""
    if torch.version.cuda is None or CUDA_HOME is None or os.environ.get("SOFTSIGN_EXT_CUDA") == "0":
        pytest.skip("this torch/toolkit cannot build CUDA kernels, or SOFTSIGN_EXT_CUDA=0")
    for op in ("softsign", "softsign_backward"):
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"softsign_ext::{op}", "CUDA")


def test_supported_dtypes_come_from_the_compiled_kernels():
    assert softsign_ext.SUPPORTED_DTYPES == (torch.float32, torch.float64, torch.float16, torch.bfloat16)
    for dtype in softsign_ext.SUPPORTED_DTYPES:  # each one has a kernel
        assert torch.equal(softsign_ext.softsign(torch.ones(3, dtype=dtype)), torch.full((3,), 0.5, dtype=dtype))
