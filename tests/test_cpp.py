"""softsign_ext from C++ without Python (tests/cpp/): a program built with CMake against the
Torch package of the torch wheel links the operator library, calls the operator and its
backward, and runs TorchScript files and AOTInductor packages (softsign fused, and calling
softsign_ext's kernel) saved here. Its results are checked here against float64 F.softsign
and against the same model with nn.Softsign (CPU here, CUDA on a GPU machine)."""

import os
import subprocess

import pytest
import torch
from _helpers import DEVICES, aoti_package, assert_same_values, cmake_program, random_input
from torch import nn

import softsign_ext
from softsign_ext.reference import softsign_grad_reference, softsign_reference

EXAMPLE = os.path.join(os.path.dirname(__file__), "cpp")


@pytest.fixture(scope="module")
def example_program(tmp_path_factory):
    return cmake_program(EXAMPLE, tmp_path_factory.mktemp("cpp_build"), "softsign_example",
                         CMAKE_PREFIX_PATH=torch.utils.cmake_prefix_path, SOFTSIGN_EXT_LIBRARY=softsign_ext.library_path)


def _models(device):
    """The same MLP with softsign_ext.Softsign and with nn.Softsign (the reference)."""
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Linear(32, 64), softsign_ext.Softsign(), nn.Linear(64, 8)).to(device).eval()
    reference = nn.Sequential(ours[0], nn.Softsign(), ours[2])
    return ours, reference


@pytest.mark.parametrize("device", DEVICES)
def test_cpp_program_runs_op_backward_torchscript_and_aoti(example_program, device, tmp_path):
    ours, reference = _models(device)
    x = random_input((64, 33), torch.float32, device)
    model_input = random_input((16, 32), torch.float32, device, with_specials=False)
    models = [tmp_path / "scripted.pt", tmp_path / "traced.pt"]
    torch.jit.script(ours).save(str(models[0]))
    torch.jit.trace(ours, model_input).save(str(models[1]))
    # A batch size other than the one compiled for: the packages keep the batch dynamic.
    models += [aoti_package(ours, model_input[:4], fusion, tmp_path / f"aoti_{name}.pt2")
               for fusion, name in ((True, "fused"), (False, "kernel"))]
    torch.save([x.cpu(), model_input.cpu()], tmp_path / "inputs.pt")

    env = {**os.environ, "PYTHONPATH": ""}  # (nothing of Python runs in the program)
    done = subprocess.run([str(example_program), device, str(tmp_path / "inputs.pt"), str(tmp_path / "outputs.pt"),
                           *map(str, models)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = [t.to(device) for t in torch.load(tmp_path / "outputs.pt")]
    assert len(results) == 2 + len(models)
    assert_same_values(results[0], softsign_reference(x))
    assert_same_values(results[1], softsign_grad_reference(torch.ones_like(x), x))
    with torch.no_grad():
        expected = reference(model_input)
    for path, result in zip(models, results[2:]):
        torch.testing.assert_close(result, expected, msg=lambda m: f"{path.name}: {m}")
