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
from .common import check_agreement, records_against, timed_against
from .records import Record

AGAIN = "nn.Softsign again"
CORE_ATEN, KERNEL = "softsign_ext core ATen", "softsign_ext kernel"  # the two forms (softsign_ext.executorch)
# (case, backend, batch/shape): the model's input.
CASES = {"mlp": ("xnnpack", (256, 64)), "activation": ("portable", (1024, 1024)),
         "activation 4M": ("portable", (4096, 1024)), "activation x8": ("portable", (1024, 1024))}
# Activations one after another in a case's model, where more than one.
IN_A_ROW = {"activation x8": 8}
AGREEMENT = 1e-6
# Runs of each program under ExecuTorch's own timing (ETDump).
ETDUMP_RUNS = 50


def _model(case: str, activation: type[nn.Module]) -> nn.Module:
    if case.startswith("activation"):
        return nn.Sequential(*(activation() for _ in range(IN_A_ROW.get(case, 1))))
    torch.manual_seed(0)  # the same parameters for both activations
    return nn.Sequential(nn.Linear(64, 64), activation(), nn.Linear(64, 8), activation()).eval()


def _program_bytes(model: nn.Module, x: torch.Tensor, backend: str, fused: bool) -> bytes:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    exported = torch.export.export(model, (x,))
    with fused_kernel(fused):
        edge = to_edge_transform_and_lower(exported,
                                           partitioner=[XnnpackPartitioner()] if backend == "xnnpack" else [])
    return edge.to_executorch().buffer


def _method(program_bytes: bytes, etdump: bool = False):
    from executorch.runtime import Runtime

    program = Runtime.get().load_program(program_bytes, enable_etdump=etdump, debug_buffer_size=0)
    # The method runs on its program's memory: the program must outlive it.
    return program, program.load_method("forward")


def _execute_times(methods: dict, x: torch.Tensor) -> dict[str, list[float]]:
    """ExecuTorch's own time of Method::execute (ETDump, ms) for each run of each program:
    its operators, without the Python bindings' taking in of x and handing back of the output.
    The programs run round robin, as in timed_against."""
    import tempfile

    from executorch.devtools import Inspector

    for _ in range(ETDUMP_RUNS):
        for _program, method in methods.values():
            method.execute([x])
    times = {}
    with tempfile.TemporaryDirectory() as folder:
        for impl, (program, _) in methods.items():
            path = f"{folder}/{len(times)}.etdp"
            program.write_etdump_result_to_file(path, f"{folder}/debug.bin")
            events = [event for block in Inspector(etdump_path=path).event_blocks for event in block.events
                      if event.name == "Method::execute"]
            times[impl] = events[0].perf_data.raw
    return times


def executorch_jobs() -> int:
    return len(CASES)


def executorch_records(progress) -> list[Record]:
    """For each case: ExecuTorch's time per call of nn.Softsign's program, softsign_ext's
    (both forms where a delegate takes the model) and nn.Softsign's again, each record's
    time over nn.Softsign's in extra["vs_nn_softsign"], after checking the outputs agree;
    timed by the host's clock around the Python call, and by ExecuTorch's own timing of the
    program's execution (timing "etdump")."""
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
        program_bytes = {impl: _program_bytes(_model(case, activation), x, backend, fused)
                         for impl, (activation, fused) in programs.items()}
        methods = {impl: _method(data) for impl, data in program_bytes.items()}
        calls = {impl: (lambda m=method: m.execute([x])[0]) for impl, (_program, method) in methods.items()}
        outputs = {impl: call() for impl, call in calls.items()}
        for impl in programs:
            check_agreement(f"ExecuTorch, {case}", impl, [outputs[impl]], "nn.Softsign", [outputs["nn.Softsign"]],
                            AGREEMENT)
        fields = dict(kind="executorch", direction="forward", dtype="float32", shape=list(shape))
        extra = {"model": case, "backend": backend, "threads": torch.get_num_threads()}
        records += timed_against("nn.Softsign", "vs_nn_softsign", calls, torch.device("cpu"), "wall", extra, **fields)
        traced = {impl: _method(data, etdump=True) for impl, data in program_bytes.items()}
        records += records_against("nn.Softsign", "vs_nn_softsign", _execute_times(traced, x), torch.device("cpu"),
                                   "etdump", extra, **fields)
        progress.update()
    return records
