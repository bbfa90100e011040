"""torch.export keeps softsign_ext.softsign as one node; the exported program and an
AOTInductor package built from it (fused, or calling softsign_ext's kernel) match eager
(CPU here, CUDA on a GPU machine)."""

import zipfile

import pytest
import torch
from _helpers import DEVICES, aoti_package, exported, random_input
from torch import nn

import softsign_ext

SOFTSIGN = torch.ops.softsign_ext.softsign.default


def _model(device):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(32, 64), softsign_ext.ModelNew(), nn.Linear(64, 8)).to(device).eval()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("strict", [False, True], ids=["non_strict", "strict"])
def test_export_keeps_one_softsign_node(strict, device):
    model = _model(device)
    x = random_input((16, 32), torch.float32, device, with_specials=False)
    program = exported(model, x, strict)
    targets = [node.target for node in program.graph.nodes if node.op == "call_function"]
    assert targets.count(SOFTSIGN) == 1, targets
    for batch in (16, 5, 300):
        x = random_input((batch, 32), torch.float32, device, with_specials=False)
        torch.testing.assert_close(program.module()(x), model(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fusion", [True, False], ids=["fused", "kernel"])
def test_aoti_package_loads_and_matches(fusion, device, tmp_path):
    """AOTInductor fuses softsign like torch.compile does; with fusion off the package calls
    softsign_ext's kernel through PyTorch's proxy executor."""
    model = _model(device)
    x = random_input((16, 32), torch.float32, device, with_specials=False)
    path = aoti_package(model, x, fusion, tmp_path / "softsign.pt2")
    with zipfile.ZipFile(path) as package:
        wrapper = "".join(package.read(name).decode() for name in package.namelist() if name.endswith("wrapper.cpp"))
    assert ("aoti_torch_proxy_executor_call_function" in wrapper) != fusion
    loaded = torch._inductor.aoti_load_package(path)
    for batch in (16, 7):
        x = random_input((batch, 32), torch.float32, device, with_specials=False)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), model(x))
