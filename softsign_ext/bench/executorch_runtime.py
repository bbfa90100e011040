"""The ExecuTorch section (``--executorch``): ExecuTorch's runtime (Python bindings, the host
CPU) on programs exported with nn.Softsign and with softsign_ext, in the same run;
nn.Softsign's program loaded a second time is the A/A. The cases:

- ``mlp``, XNNPACK: ``nn.Sequential(Linear(64, 64), act, Linear(64, 8), act)`` at a batch of
  256 lowered with ``XnnpackPartitioner``: softsign_ext in both forms of
  ``softsign_ext.executorch``, core ATen (the default: one XNNPACK call, as nn.Softsign's) and
  its fused kernel (``set_fused_kernel``: the delegate split around softsign_ext's kernel).
- ``activation``, portable: the activation alone on a tensor of 2^20 and more elements, no
  delegate: softsign_ext's fused kernel against nn.Softsign's abs, add and div.
- ``activation x8``: eight activations in a row at 2^20 elements, so that what the runtime
  does once per call for both programs (taking the input, handing back the output) weighs an
  eighth as much against the activations themselves.

Needs executorch, and softsign_ext built with its ExecuTorch kernel."""

from __future__ import annotations

import torch
from torch import nn

from ..executorch import fused_kernel, load_kernels
from ..modules import Softsign
from .common import check_agreement, timed_against
from .records import Record

AGAIN = "nn.Softsign again"
CORE_ATEN, KERNEL = "softsign_ext core ATen", "softsign_ext kernel"  # the two forms (softsign_ext.executorch)
# (case, backend, batch/shape): the model's input.
CASES = {"mlp": ("xnnpack", (256, 64)), "activation": ("portable", (1024, 1024)),
         "activation 4M": ("portable", (4096, 1024)), "activation x8": ("portable", (1024, 1024))}
# Activations one after another in a case's model, where more than one.
IN_A_ROW = {"activation x8": 8}
AGREEMENT = 1e-6


def _model(case: str, activation: type[nn.Module]) -> nn.Module:
    if case.startswith("activation"):
        return nn.Sequential(*(activation() for _ in range(IN_A_ROW.get(case, 1))))
    torch.manual_seed(0)  # the same parameters for both activations
    return nn.Sequential(nn.Linear(64, 64), activation(), nn.Linear(64, 8), activation()).eval()


def _method(model: nn.Module, x: torch.Tensor, backend: str, fused: bool):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    exported = torch.export.export(model, (x,))
    with fused_kernel(fused):
        edge = to_edge_transform_and_lower(exported,
                                           partitioner=[XnnpackPartitioner()] if backend == "xnnpack" else [])
    program = Runtime.get().load_program(edge.to_executorch().buffer)
    # The method runs on its program's memory: the program must outlive it.
    return program, program.load_method("forward")


def executorch_jobs() -> int:
    return len(CASES)


def executorch_records(progress) -> list[Record]:
    """For each case: ExecuTorch's time per call of nn.Softsign's program, softsign_ext's
    (both forms where a delegate takes the model) and nn.Softsign's again, each record's
    time over nn.Softsign's in extra["vs_nn_softsign"], after checking the outputs agree."""
    load_kernels()
    records = []
    for case, (backend, shape) in CASES.items():
        progress.set_postfix_str(f"executorch {case} ({backend})")
        x = torch.randn(shape)
        programs = {"nn.Softsign": (nn.Softsign, False)}  # (activation, fused kernel)
        if backend == "xnnpack":
            programs[CORE_ATEN] = (Softsign, False)
        programs[KERNEL] = (Softsign, True)
        programs[AGAIN] = (nn.Softsign, False)
        methods = {impl: _method(_model(case, activation), x, backend, fused)
                   for impl, (activation, fused) in programs.items()}
        calls = {impl: (lambda m=method: m.execute([x])[0]) for impl, (_program, method) in methods.items()}
        outputs = {impl: call() for impl, call in calls.items()}
        for impl in programs:
            check_agreement(f"ExecuTorch, {case}", impl, [outputs[impl]], "nn.Softsign", [outputs["nn.Softsign"]],
                            AGREEMENT)
        records += timed_against("nn.Softsign", "vs_nn_softsign", calls, torch.device("cpu"), "wall",
                                 {"model": case, "backend": backend, "threads": torch.get_num_threads()},
                                 kind="executorch", direction="forward", dtype="float32", shape=list(shape))
        progress.update()
    return records
