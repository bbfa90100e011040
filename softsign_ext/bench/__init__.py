"""The softsign_ext benchmark, ``python -m softsign_ext.bench`` (``--help`` lists the options).

One module per concern: ``common`` (names of dtypes, shapes and devices, relative error),
``cases`` (dtypes, shapes, layouts, memory), ``impls`` (what is compared and the float64
check), ``timing`` (the one timing function every section uses), ``records`` (the JSON
record), the sections ``bandwidth``, ``small_calls``, ``kernelbench_timing``, ``graphs``,
``transforms``, ``onnx_runtime``, ``executorch_runtime`` and ``ncu`` (with ``ncu_target``, what ncu profiles),
``report`` (tables and plot) and ``cli``.
"""

from .cli import main

__all__ = ["main"]
