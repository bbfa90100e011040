"""DTensor: softsign on sharded and replicated DTensors runs on the local shards with no
communication and keeps the placement, forward and backward. Two processes: gloo on CPU
(always), NCCL on CUDA (where two GPUs exist)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import softsign_ext
from softsign_ext.reference import softsign_grad_reference, softsign_reference

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
        _check_placements(device_type)
        # Both ranks are past their last collective before either process ends.
        dist.barrier()
    finally:
        dist.destroy_process_group()
    # End the process without CPython's finalization, as multiprocessing ends a forked child.
    # Gloo's worker threads outlive destroy_process_group (they are joined only when the
    # ProcessGroup is garbage-collected) and free each finished collective's tensors on the
    # worker thread; a tensor whose Python object died first needs the GIL for that. Once
    # the interpreter is finalizing, taking the GIL ends the thread (pthread_exit), whose
    # unwinding through a noexcept destructor is std::terminate ("terminate called without
    # an active exception"). Joining the threads first is no cure: the ProcessGroup's
    # destructor runs under the GIL and would deadlock with a worker waiting for it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _check_placements(device_type: str) -> None:
    import softsign_ext.distributed  # noqa: F401  (registers the sharding rules)
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor, init_device_mesh
    from torch.distributed.tensor.debug import CommDebugMode

    mesh = init_device_mesh(device_type, (WORLD_SIZE,))
    torch.manual_seed(0)  # the same full tensors on every rank
    full = torch.randn(6, 10, dtype=torch.float64, device=device_type)
    full_grad = torch.randn(6, 10, dtype=torch.float64, device=device_type)
    expected = softsign_reference(full)
    expected_grad = softsign_grad_reference(full_grad, full)
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
        torch.testing.assert_close(y.to_local(), softsign_reference(x.to_local().detach()))
        torch.testing.assert_close(y.full_tensor(), expected)
        torch.testing.assert_close(x.grad.full_tensor(), expected_grad)

        inplace = distribute_tensor(full.clone(), mesh, [placement])  # may share full's memory
        with CommDebugMode() as inplace_comms:
            softsign_ext.softsign_(inplace)
        assert inplace_comms.get_total_counts() == 0 and inplace.placements == (placement,)
        torch.testing.assert_close(inplace.full_tensor(), expected)

    # A pending sum is reduced first (softsign(a + b) is not softsign(a) + softsign(b)):
    # that redistribution is the one communication softsign needs.
    partial = DTensor.from_local(full / WORLD_SIZE, mesh, [Partial()])
    with CommDebugMode() as partial_comms:
        reduced = softsign_ext.softsign(partial)
    assert partial_comms.get_total_counts() == 1, partial_comms.get_comm_counts()
    assert not reduced.placements[0].is_partial(), reduced.placements
    torch.testing.assert_close(reduced.full_tensor(), expected)


@pytest.mark.parametrize(
    "backend,device_type",
    [
        ("gloo", "cpu"),
        pytest.param(
            "nccl", "cuda", marks=pytest.mark.skipif(torch.cuda.device_count() < 2 or not softsign_ext.cuda_built(),
                                                 reason="needs 2 CUDA GPUs and the CUDA kernels")
        ),
    ],
)
def test_dtensor_placements_without_communication(backend, device_type, tmp_path):
    if not dist.is_available() or not dist.is_backend_available(backend):
        pytest.skip(f"torch.distributed with {backend} is not available")
    store_path = os.fspath(tmp_path / "store")
    mp.spawn(_check_rank, args=(backend, device_type, store_path), nprocs=WORLD_SIZE, join=True)


def test_dtensor_rules_register_when_dtensor_was_imported_first():
    # In a fresh interpreter: import DTensor, then softsign_ext, and look for the rules.
    code = (
        "import torch.distributed.tensor as dt, softsign_ext, torch\n"
        "funcs = dt.DTensor._op_dispatcher.sharding_propagator.op_strategy_funcs\n"
        "ops = torch.ops.softsign_ext\n"
        "assert all(op in funcs for op in (ops.softsign.default, ops.softsign_.default, "
        "ops.softsign_backward.default))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
