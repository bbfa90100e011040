"""DTensor: softsign on sharded and replicated DTensors runs on the local shards with no
communication and keeps the placement, forward and backward. Two processes: gloo on CPU
(always), NCCL on CUDA (where two GPUs exist)."""

import os
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

WORLD_SIZE = 2


def _check_rank(rank: int, backend: str, device_type: str, store_path: str) -> None:
    """Runs in each process; any failed assertion fails the spawn in the parent."""
    if device_type == "cuda":
        torch.cuda.set_device(rank)
    # A short timeout: a rank left waiting by a failed one fails in a minute, not half an hour.
    dist.init_process_group(
        backend, init_method=f"file://{store_path}", rank=rank, world_size=WORLD_SIZE, timeout=timedelta(seconds=60)
    )
    try:
        import softsign_ext
        import softsign_ext.distributed  # noqa: F401  (registers the sharding rules)
        from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor, init_device_mesh
        from torch.distributed.tensor.debug import CommDebugMode

        mesh = init_device_mesh(device_type, (WORLD_SIZE,))
        torch.manual_seed(0)  # the same full tensors on every rank
        full = torch.randn(6, 10, dtype=torch.float64, device=device_type)
        full_grad = torch.randn(6, 10, dtype=torch.float64, device=device_type)
        expected = F.softsign(full)
        expected_grad = full_grad / (1 + full.abs()) ** 2
        for placement in (Shard(0), Shard(1), Replicate()):
            x = distribute_tensor(full, mesh, [placement]).requires_grad_()
            grad = distribute_tensor(full_grad, mesh, [placement])
            with CommDebugMode() as forward_comms:
                y = softsign_ext.softsign(x)
            with CommDebugMode() as backward_comms:
                y.backward(grad)
            assert forward_comms.get_total_counts() == 0, (placement, forward_comms.get_comm_counts())
            assert backward_comms.get_total_counts() == 0, (placement, backward_comms.get_comm_counts())
            assert y.placements == (placement,) and x.grad.placements == (placement,)
            # The local shard is softsign of the local shard.
            torch.testing.assert_close(y.to_local(), F.softsign(x.to_local()))
            torch.testing.assert_close(y.full_tensor(), expected)
            torch.testing.assert_close(x.grad.full_tensor(), expected_grad)

            inplace = distribute_tensor(full.clone(), mesh, [placement])  # may share full's memory
            with CommDebugMode() as inplace_comms:
                softsign_ext.softsign_(inplace)
            assert inplace_comms.get_total_counts() == 0 and inplace.placements == (placement,)
            torch.testing.assert_close(inplace.full_tensor(), expected)

        # A pending sum is reduced first (softsign(a + b) is not softsign(a) + softsign(b)):
        # that redistribution is the one communication softsign may need.
        partial = DTensor.from_local(full / WORLD_SIZE, mesh, [Partial()])
        torch.testing.assert_close(softsign_ext.softsign(partial).full_tensor(), expected)
        # No rank tears its process group down while the other may still be using it: twice
        # in CI one rank aborted ("terminate called without an active exception") while the
        # other was still running, and this ordering is the suspected cause.
        dist.barrier()
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize(
    "backend,device_type",
    [
        ("gloo", "cpu"),
        pytest.param(
            "nccl", "cuda", marks=pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA GPUs")
        ),
    ],
)
def test_dtensor_placements_without_communication(backend, device_type, tmp_path):
    if not dist.is_available() or not dist.is_backend_available(backend):
        pytest.skip(f"torch.distributed with {backend} is not available")
    store_path = os.fspath(tmp_path / "store")
    mp.spawn(_check_rank, args=(backend, device_type, store_path), nprocs=WORLD_SIZE, join=True)
