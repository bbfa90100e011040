"""What torch.compile's Inductor makes of softsign_ext's operators.

By default Inductor decomposes ``softsign_ext.softsign`` and ``softsign_ext.softsign_backward``
into ordinary pointwise operations, which it fuses with their neighbours (pointwise ops,
reductions such as LayerNorm, matmul epilogues, the backward graph) exactly as it fuses
``F.softsign``: one kernel where an opaque operator would cost a round trip through memory
on each side. The in-place and ``out=`` forms become the functional op during compilation,
so they are covered too. Eager calls keep softsign_ext's kernels, and ``torch.export`` keeps
``softsign_ext.softsign`` as one node (AOTInductor, compiling that program, decomposes it
like torch.compile does).

With fusion off, compiled graphs call softsign_ext's own kernels instead: eager's bits
inside compiled code, or for a kernel study::

    softsign_ext.inductor.set_fusion(False)        # for compilations from now on
    with softsign_ext.inductor.fusion(False):      # ... or within a block
        ...
    SOFTSIGN_EXT_INDUCTOR_FUSION=0 python ...      # the default, read at import

The setting, softsign_ext's version, its compiled library's sources and the decompositions'
code are part of torch.compile's cache key (``torch.compiler.config.cache_key_tag``), so the
FX graph and AOTAutograd caches never hand back code compiled under another of them.
Functions compiled before a change keep their code until they are compiled again (after
``torch._dynamo.reset()``, or in a new process), as with Inductor's own settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
from types import CodeType
from typing import Iterator

import torch
import torch.nn.functional as F

from . import _build_info, _library  # noqa: F401  (_library: loads the operators decomposed here)
from ._import_hook import when_imported
from ._metadata import __version__

ENV_VARIABLE = "SOFTSIGN_EXT_INDUCTOR_FUSION"
_INDUCTOR_DECOMPOSITIONS = "torch._inductor.decomposition"
_ops = torch.ops.softsign_ext


def softsign_decomposition(x: torch.Tensor) -> torch.Tensor:
    # F.softsign's own definition, so that a compiled graph computes what compiled
    # F.softsign computes (integers promote to the default float dtype in both).
    if x.is_complex():
        return _complex_softsign_decomposition(x)
    return F.softsign(x)


def _complex_softsign_decomposition(x: torch.Tensor) -> torch.Tensor:
    # Inductor runs complex operations (F.softsign's abs and division) as ATen calls, one
    # pass each; on the real and imaginary parts (views of x) it fuses. The kernels' math
    # (csrc/softsign_math.h): (a + b * 0) / c and (b - a * 0) / c with 1 / c = 1 / (1 + |z|)
    # taken as 0.5 / (0.5 + |z / 2|), which does not overflow, whose
    # terms b * 0 Inductor would fold to 0; written out as what they add (nan where the other
    # part is infinite, the sign of a zero), the compiled result is F.softsign's bit for bit.
    a, b = torch.view_as_real(x).unbind(-1)
    reciprocal = 0.5 / (0.5 + torch.hypot(a * 0.5, b * 0.5))  # 1 / (1 + |z|), finite |z / 2|

    def part(p: torch.Tensor, q: torch.Tensor, q_sign: int) -> torch.Tensor:  # (p + q_sign * q * 0) / c
        plus_zero = p + torch.copysign(torch.zeros_like(q), q_sign * q)
        return torch.where(q.isinf(), math.nan, plus_zero * reciprocal)

    return torch.view_as_complex(torch.stack((part(a, b, 1), part(b, a, -1)), -1))


def softsign_backward_decomposition(grad_output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # grad / (1 + |x|)^2 with one division, as the kernels (csrc/softsign_math.h), but
    # dividing by the square rather than multiplying by the reciprocal twice: where the
    # gradient fuses into a LayerNorm's backward reduction, Inductor's kernel for this form
    # keeps pace with F.softsign's and the reciprocal form's does not (benchmarks/README.md).
    # The square overflows for |x| > 1.8e19 in float32, giving 0
    # where the kernels give grad * r * r: below 3e-39 of grad, and 0 from compiled
    # F.softsign too (its two terms cancel). |x| is written max(x, -x) (the same value for
    # every x, nan included) so that x has two users, as in autograd's formula for
    # F.softsign: where x is costly to recompute (a LayerNorm's output), Inductor then
    # stores x in its own dtype, as it does for F.softsign, instead of this function's
    # float32 result (twice the bytes in bfloat16).
    if x.is_complex():
        return _complex_softsign_backward_decomposition(grad_output, x)
    denominator = 1 + torch.maximum(x, -x)
    return grad_output / (denominator * denominator)


def _complex_softsign_backward_decomposition(grad_output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # The kernels' conjugate Wirtinger gradient (csrc/softsign_math.h) on the real and
    # imaginary parts, fused as the forward is: r u (r Re(g conj(u)) + i Im(g conj(u))) with
    # r = 1 / (1 + |x|) and u the unit vector of x / 2 with its real part pushed FLT_MIN away
    # from 0.
    xa, xb = torch.view_as_real(x).unbind(-1)
    half_real, b = xa * 0.5, xb * 0.5
    a = half_real + torch.copysign(torch.full_like(half_real, torch.finfo(torch.float32).tiny), half_real)
    ga, gb = torch.view_as_real(grad_output).unbind(-1)
    magnitude = torch.hypot(a, b)
    reciprocal = 0.5 / (0.5 + magnitude)
    ur, ui = a / magnitude, b / magnitude
    along = reciprocal * (ga * ur + gb * ui)
    # The kernels take the difference of products gb a - ga b with a fused multiply-add,
    # which torch has no op for; float32 parts take it in float64 instead, where both
    # products are exact (complex128's parts keep the cancellation).
    wide = torch.float64
    across = ((gb.to(wide) * a.to(wide) - ga.to(wide) * b.to(wide)) / magnitude.to(wide)).to(a.dtype)
    return torch.view_as_complex(torch.stack((reciprocal * (ur * along - ui * across),
                                              reciprocal * (ur * across + ui * along)), -1))


DECOMPOSITIONS = {
    _ops.softsign.default: softsign_decomposition,
    _ops.softsign_backward.default: softsign_backward_decomposition,
}


def _fusion_from_environment() -> bool:
    value = os.environ.get(ENV_VARIABLE, "1")
    if value not in ("0", "1"):
        raise ValueError(f"{ENV_VARIABLE} must be 1 (fuse softsign in compiled graphs, the default) or 0 "
                         f"(call softsign_ext's kernels), not {value!r}")
    return value == "1"


_fusion = _fusion_from_environment()
_cache_token = ""


def fusion_enabled() -> bool:
    """Whether Inductor compiles softsign_ext's operators into fused pointwise code."""
    return _fusion


def set_fusion(enabled: bool) -> bool:
    """Fuse softsign_ext's operators in graphs compiled from now on (True, the default), or
    call softsign_ext's kernels there (False). Returns the previous setting."""
    global _fusion
    if not isinstance(enabled, bool):
        raise TypeError(f"set_fusion takes True or False, not {enabled!r}")
    previous, _fusion = _fusion, enabled
    _apply()
    return previous


@contextlib.contextmanager
def fusion(enabled: bool) -> Iterator[None]:
    """set_fusion(enabled) within a block; the previous setting comes back after it."""
    previous = set_fusion(enabled)
    try:
        yield
    finally:
        set_fusion(previous)


def _apply() -> None:
    """Brings the cache key and, once Inductor is loaded, its decomposition table in line
    with the setting."""
    _update_cache_key()
    table_module = sys.modules.get(_INDUCTOR_DECOMPOSITIONS)
    if table_module is not None:
        _update_table(table_module)


def _update_cache_key() -> None:
    global _cache_token
    # Every cached artifact records which form softsign compiled to, with which release
    # of softsign_ext, which compiled library (its sources' hash: AOTAutograd traces the C++
    # autograd formulas into the graphs it caches) and which decompositions' code: a cache
    # written under the other setting, another release, library or decompositions (an
    # edited checkout keeps its version) is never read back. (A tag the user set is kept in
    # front of ours.)
    config = torch.compiler.config
    tag = config.cache_key_tag
    if _cache_token and tag.endswith(_cache_token):
        tag = tag[: -len(_cache_token)]
    code = hashlib.sha256("".join(_code_fingerprint(fn.__code__) for fn in DECOMPOSITIONS.values()).encode()).hexdigest()
    library = getattr(_build_info, "SOURCE_HASH", "unknown")  # (a build older than the hash)
    _cache_token = f"softsign_ext-{__version__}-{library}-{code[:16]}-{'fused' if _fusion else 'kernel'}"
    config.cache_key_tag = tag + _cache_token


def _code_fingerprint(code: CodeType, seen: frozenset = frozenset()) -> str:
    """What a function computes: its bytecode, names and constants, with those of the
    functions it nests and of this module's functions it calls (a decomposition's helpers),
    the same in every process. (Reading its source with inspect would cost import
    softsign_ext about a millisecond.)"""
    seen = seen | {code}
    constants = [_code_fingerprint(c, seen) if isinstance(c, CodeType)
                 else repr(sorted(c) if isinstance(c, frozenset) else c) for c in code.co_consts]
    helpers = [_code_fingerprint(helper.__code__, seen) for name in code.co_names
               if callable(helper := globals().get(name)) and getattr(helper, "__module__", None) == __name__
               and hasattr(helper, "__code__") and helper.__code__ not in seen]
    return repr((code.co_code.hex(), code.co_names, code.co_varnames, constants, helpers))


def _update_table(table_module) -> None:
    # No public API gives Inductor a decomposition for a custom operator (torch.library's
    # registrations run in eager too, or keep the operator opaque). This is the table
    # Inductor's own decomposition.py fills and AOTInductor reads; torch.export does not
    # use it, so exported programs keep the operator.
    for op, decomposition in DECOMPOSITIONS.items():
        if _fusion:
            table_module.decompositions[op] = decomposition
        else:
            table_module.decompositions.pop(op, None)
    # Inductor keeps a copy of the table made on its first compilation.
    table_module.fast_random_decomps.cache_clear()


# Importing this module (import softsign_ext does) applies the setting: the cache key now,
# Inductor's table now or as soon as Inductor loads it.
_update_cache_key()
when_imported(_INDUCTOR_DECOMPOSITIONS, _update_table)
