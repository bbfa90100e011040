"""The ONNX section: what exporting softsign as one ONNX Softsign node buys. The same model
exported with nn.Softsign (Abs, Add and Div nodes) and with softsign_ext.Softsign (one
Softsign node), by each of torch.onnx.export's exporters, run by onnxruntime on the CPU, in
the same run; nn.Softsign's model in a second session is the A/A. Two models: an MLP (its
matrix products take most of the time) and the activation alone on a large tensor (where
the node count is all there is). Needs onnx, onnxscript and onnxruntime."""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings

import torch
from torch import nn

from ..modules import Softsign
from .common import check_agreement, dtype_name, timed_against
from .records import Record

EXPORTERS = {"dynamo": True, "torchscript": False}
# The models' inputs: the MLP's (batch, width), a batch of inference requests; the
# activation's, a tensor well beyond the caches.
SHAPES = {"mlp": (256, 1024), "activation": (1024, 16384)}
AGAIN = "nn.Softsign again"
AGREEMENT = {torch.float32: 1e-5, torch.float16: 2e-3}
ONNX_DTYPES = tuple(AGREEMENT)


def _model(name: str, activation: type[nn.Module], width: int, dtype: torch.dtype) -> nn.Module:
    if name == "activation":
        return activation()
    torch.manual_seed(0)  # the same parameters for both activations
    return nn.Sequential(nn.Linear(width, width), activation(), nn.Linear(width, width), activation(),
                         nn.Linear(width, 10)).to(dtype).eval()


def _session(model: nn.Module, x: torch.Tensor, dynamo: bool, path: str):
    import onnxruntime

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the TorchScript-based exporter's deprecation warning)
        torch.onnx.export(model, (x,), path, dynamo=dynamo, **({"verbose": False} if dynamo else {}))
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


def onnx_jobs(dtypes) -> int:
    return len(SHAPES) * len(EXPORTERS) * len(dtypes)


def onnx_records(dtypes, progress) -> list[Record]:
    """For each model, exporter and dtype: onnxruntime's time per call for the model with
    nn.Softsign, softsign_ext.Softsign and nn.Softsign again, each record's time over
    nn.Softsign's in extra["vs_nn_softsign"], after checking that the outputs agree."""
    records = []
    with tempfile.TemporaryDirectory() as folder:
        for (name, (rows, width)), (exporter, dynamo), dtype in itertools.product(SHAPES.items(), EXPORTERS.items(),
                                                                                  dtypes):
            x = torch.randn(rows, width, dtype=dtype)
            sessions = {impl: _session(_model(name, activation, width, dtype), x, dynamo,
                                       os.path.join(folder, f"{name}-{exporter}-{dtype_name(dtype)}-{i}.onnx"))
                        for i, (impl, activation) in enumerate(
                            (("nn.Softsign", nn.Softsign), ("softsign_ext", Softsign), (AGAIN, nn.Softsign)))}
            # (The input's name is the forward's argument's: they differ.)
            calls = {impl: (lambda s=session: s.run(None, {s.get_inputs()[0].name: x.numpy()})[0])
                     for impl, session in sessions.items()}
            outputs = {impl: torch.from_numpy(call()) for impl, call in calls.items()}
            check_agreement(f"onnxruntime, {name}, {exporter} exporter, {dtype_name(dtype)}", "softsign_ext",
                            [outputs["softsign_ext"]], "nn.Softsign", [outputs["nn.Softsign"]], AGREEMENT[dtype])
            records += timed_against("nn.Softsign", "vs_nn_softsign", calls, torch.device("cpu"), "wall",
                                     {"model": name, "exporter": exporter}, kind="onnx", direction="forward",
                                     dtype=dtype_name(dtype), shape=[rows, width])
            progress.update()
    return records
