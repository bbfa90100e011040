"""What ONNX export makes of softsign_ext's operators: the standard ONNX ``Softsign``
operator (opset 1 onward, no custom domain), one node where ``nn.Softsign`` exports three
(Abs, Add, Div). Both of ``torch.onnx.export``'s exporters, with no step from the user:

- ``dynamo=True`` (torch.export and onnxscript): ``softsign_ext.softsign``, ``softsign_`` and
  the modules emit the node through ``torch.onnx.ops.symbolic`` while an export runs (the
  pattern torch.onnx documents for operators it does not know). A model that calls
  ``torch.ops.softsign_ext.softsign`` itself bypasses them: pass
  ``custom_translation_table=softsign_ext.onnx.translation_table()`` then.
- ``dynamo=False`` (the TorchScript-based exporter): a symbolic function for each operator,
  registered with ``torch.onnx.register_custom_op_symbolic``.

Importing torch.onnx takes longer than importing softsign_ext, so this is set up when
torch.onnx is imported (as ``torch.onnx.export`` needs), not before.
"""

import importlib.util

import torch

from ._import_hook import when_imported

# What exporting and running ONNX models takes beyond torch (the test extra installs them).
ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")

# The ONNX operator and the first opset that has it.
ONNX_OPERATOR = "Softsign"
ONNX_OPSET = 1

_torch_onnx = None  # torch.onnx once imported


def missing_onnx_packages() -> list[str]:
    """Those of ONNX_PACKAGES that are not installed."""
    return [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]


def in_onnx_export() -> bool:
    """Whether a torch.onnx.export is running (False, at no cost, before torch.onnx is imported)."""
    return _torch_onnx is not None and _torch_onnx.is_in_onnx_export()


def _float_input(x: torch.Tensor) -> torch.Tensor:
    # ONNX's Softsign takes floating-point tensors; integers promote as in softsign_ext.softsign.
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def softsign_node(x: torch.Tensor) -> torch.Tensor:
    """softsign(x) as the ONNX Softsign node, for the torch.export-based exporter."""
    x = _float_input(x)
    y = _torch_onnx.ops.symbolic(ONNX_OPERATOR, (x,), dtype=x.dtype, shape=x.shape)
    # torch.onnx.ops.symbolic's result is on the CPU whatever its inputs' device; moved back
    # to x's (no node for a CPU model; ONNX has no devices, so the move leaves none either).
    return y.to(x.device)


def translation_table() -> dict:
    """For ``torch.onnx.export(..., dynamo=True, custom_translation_table=...)``, where a model
    calls ``torch.ops.softsign_ext.softsign`` directly (softsign_ext's functions and modules
    need none): the operator as the ONNX Softsign node."""
    from onnxscript import opset18

    def softsign(x):
        return opset18.Softsign(x)

    return {torch.ops.softsign_ext.softsign.default: softsign}


# ONNX's element type numbers (TensorProto.DataType) of torch's floating-point dtypes.
_ONNX_FLOAT_TYPES = {torch.float32: 1, torch.float16: 10, torch.float64: 11, torch.bfloat16: 16}
_TORCHSCRIPT_FLOAT_TYPES = ("Float", "Half", "Double", "BFloat16")


def _torchscript_symbolic(g, x):
    if x.type().scalarType() not in _TORCHSCRIPT_FLOAT_TYPES:
        x = g.op("Cast", x, to_i=_ONNX_FLOAT_TYPES[torch.get_default_dtype()])
    return g.op(ONNX_OPERATOR, x)


def _register(torch_onnx) -> None:
    global _torch_onnx
    _torch_onnx = torch_onnx
    for name in ("softsign", "softsign_"):
        torch_onnx.register_custom_op_symbolic(f"softsign_ext::{name}", _torchscript_symbolic, ONNX_OPSET)


when_imported("torch.onnx", _register)
