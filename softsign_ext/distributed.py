"""DTensor sharding rules for the softsign_ext operators.

Importing this module registers them (``import softsign_ext`` does it for you when
``torch.distributed.tensor`` was imported first). Softsign is elementwise, so every
operator runs on each rank's local shard with no communication and keeps the input's
placement: ``Shard(d)`` stays ``Shard(d)`` and ``Replicate()`` stays ``Replicate()`` on
every mesh dimension. A ``Partial`` input (a pending sum) is reduced first, since
softsign of a sum is not the sum of softsigns.
"""

import torch
from torch.distributed.tensor import Replicate, Shard
from torch.distributed.tensor.experimental import register_sharding

from . import _library  # noqa: F401  (loads the operators given rules here)

_ops = torch.ops.softsign_ext


def _same_placement_everywhere(tensor_args: int):
    """Sharding strategies of an elementwise op with one output and `tensor_args` tensor
    inputs of one shape: all replicated, or all sharded along the same dimension."""

    def strategies(*args):
        ndim = args[-1].ndim
        placements = [Replicate()] + [Shard(d) for d in range(ndim)]
        return [([p], [p] * tensor_args) for p in placements]

    return strategies


register_sharding([_ops.softsign.default, _ops.softsign_.default])(_same_placement_everywhere(1))
register_sharding(_ops.softsign_backward.default)(_same_placement_everywhere(2))
