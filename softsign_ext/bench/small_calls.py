"""The small-call section: wall time per call of small float32 tensors, back to back, where
the host's overhead is the cost."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..functional import softsign
from ..modules import ModelNew
from .common import device_name, format_shape
from .impls import forward_fn, fresh_compile
from .records import Record
from .timing import time_calls

SMALL_CALL_SHAPES = ((16, 16384), (1, 1024))
SMALL_CALLS_PER_ROUND, SMALL_CALL_ROUNDS = 500, 21


def candidates(impls: list[str]) -> dict[str, tuple[Callable, Callable]]:
    """name: (call, what it must equal). softsign_ext beside the cheapest native op and a
    native activation module, eager F.softsign, and compile when asked for."""
    found = {
        "softsign_ext": (softsign, F.softsign),
        "torch.neg": (torch.neg, lambda t: -t),
        "ModelNew()": (ModelNew(), F.softsign),
        "nn.Tanh()": (nn.Tanh(), torch.tanh),
        "eager": (F.softsign, F.softsign),
    }
    if "compile" in impls:
        found["compile"] = (forward_fn("compile"), F.softsign)
    return found


def small_call_records(impls: list[str], device: torch.device, progress) -> list[Record]:
    fresh_compile()
    fns = candidates(impls)
    records = []
    for shape in SMALL_CALL_SHAPES:
        progress.set_postfix_str(f"small calls {format_shape(shape)}")
        x = torch.rand(shape, device=device)
        for name, (fn, reference) in fns.items():
            torch.testing.assert_close(fn(x), reference(x))
        calls = {name: (lambda fn=fn: fn(x)) for name, (fn, _) in fns.items()}
        samples = time_calls(calls, device, "wall", rounds=SMALL_CALL_ROUNDS, calls_per_round=SMALL_CALLS_PER_ROUND)
        for name, times in samples.items():
            records.append(Record.from_samples(
                times, kind="small_call", impl=name, direction="forward", dtype="float32", shape=list(shape),
                device=device_name(device), timing="wall",
                extra={"calls_per_round": SMALL_CALLS_PER_ROUND, "rounds": SMALL_CALL_ROUNDS}))
            progress.update()
    return records
