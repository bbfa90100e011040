"""Runtime behaviour: CUDA streams, CUDA graphs, the device guard, run-to-run determinism,
and no memory growth over 10^5 calls. (torch.compile(mode="reduce-overhead") is in
test_compile.py.)"""

import pytest
import torch
from _helpers import (
    DEVICES,
    assert_same_values,
    bits,
    needs_cuda,
    random_input,
    softsign_grad_reference,
    softsign_reference,
)

import softsign_ext
# GPU clock cycles to stall a stream for: longer than the host takes to queue the calls
# that follow (the benchmark's device timing rests on the same), so that a kernel wrongly
# launched on another stream would run before the stalled write lands.
from softsign_ext.bench.timing import HOST_LEAD_CYCLES as STALL_CYCLES


@needs_cuda
def test_runs_on_the_current_stream_after_work_on_it():
    n = 1 << 20
    x = random_input((n,), torch.float32, "cuda")
    grad = random_input((n,), torch.float32, "cuda")
    strided = random_input((2 * n,), torch.float32, "cuda")[::2]
    new_values = [random_input((n,), torch.float32, "cuda") for _ in range(3)]
    # The first launch of a kernel loads it (CUDA's lazy loading), which can wait for the
    # device, stall included: launch each kernel once before.
    softsign_ext.softsign_backward(grad, softsign_ext.softsign(strided))
    softsign_ext.softsign_(x.clone())
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        # Each input is written on `stream` behind a stall, then used right away.
        torch.cuda._sleep(STALL_CYCLES)
        x.copy_(new_values[0])
        y = softsign_ext.softsign(x)
        torch.cuda._sleep(STALL_CYCLES)
        grad.copy_(new_values[1])
        dx = softsign_ext.softsign_backward(grad, x)
        torch.cuda._sleep(STALL_CYCLES)
        strided.copy_(new_values[2])
        y_strided = softsign_ext.softsign(strided)
        inplace = x.clone()
        softsign_ext.softsign_(inplace)
    stream.synchronize()
    assert_same_values(y, softsign_reference(new_values[0]))
    assert_same_values(dx, softsign_grad_reference(new_values[1], new_values[0]))
    assert_same_values(y_strided, softsign_reference(new_values[2]))
    assert_same_values(inplace, softsign_reference(new_values[0]))


@needs_cuda
def test_cuda_graph_capture_and_replay():
    x = random_input((4099,), torch.float32, "cuda")
    misaligned = random_input((4100,), torch.float16, "cuda")[1:]
    grad = random_input((4099,), torch.float32, "cuda")
    # Warm up on a side stream, as CUDA graph capture requires.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            softsign_ext.softsign(x)
            softsign_ext.softsign(misaligned)
            softsign_ext.softsign_backward(grad, x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        y = softsign_ext.softsign(x)
        y_half = softsign_ext.softsign(misaligned)
        dx = softsign_ext.softsign_backward(grad, x)
        inplace = x.clone()
        softsign_ext.softsign_(inplace)
    for _ in range(3):
        for static in (x, misaligned, grad):
            static.copy_(random_input(static.shape, static.dtype, "cuda"))
        graph.replay()
        torch.cuda.synchronize()
        assert_same_values(y, softsign_reference(x))
        assert_same_values(y_half, softsign_reference(misaligned))
        assert_same_values(dx, softsign_grad_reference(grad, x))
        assert_same_values(inplace, softsign_reference(x))


@needs_cuda
def test_graphed_callable_forward_and_backward():
    module = softsign_ext.Softsign()
    sample = random_input((64, 33), torch.float32, "cuda", with_specials=False).requires_grad_()
    graphed = torch.cuda.make_graphed_callables(module, (sample,))
    for _ in range(3):
        x = random_input((64, 33), torch.float32, "cuda", with_specials=False).requires_grad_()
        y = graphed(x)
        grad = random_input(y.shape, torch.float32, "cuda", with_specials=False)
        y.backward(grad)
        assert_same_values(y, softsign_reference(x.detach()))
        assert_same_values(x.grad, softsign_grad_reference(grad, x.detach()))


@pytest.mark.skipif(torch.cuda.device_count() < 2 or not softsign_ext.cuda_built(),
                    reason="needs 2 CUDA GPUs and the CUDA kernels")
def test_tensor_on_second_gpu_runs_there():
    # With cuda:0 the current device, the kernels must follow the tensor to cuda:1 and run on
    # cuda:1's current stream, here not its default one: each input is written on that stream
    # behind a stall, so a kernel on another device or stream would read the old values.
    # (torch.cuda.stream() would make cuda:1 the current device too; set_stream and
    # set_device leave cuda:1's current stream set while cuda:0 is current.)
    x, grad, new_x, new_grad = (random_input((3, 4099), torch.float32, "cuda:1") for _ in range(4))
    # The first launch of a kernel loads it (CUDA's lazy loading), which can wait for the
    # device, stall included: launch each kernel on cuda:1 once before.
    softsign_ext.softsign(x.detach().requires_grad_()).backward(grad)
    softsign_ext.softsign(x[:, ::2])
    stream = torch.cuda.Stream(device="cuda:1")
    stream.wait_stream(torch.cuda.current_stream("cuda:1"))
    try:
        torch.cuda.set_stream(stream)  # cuda:1 current, `stream` its current stream
        torch.cuda._sleep(STALL_CYCLES)
        x.copy_(new_x)
        torch.cuda.set_device(0)
        leaf = x.detach().requires_grad_()
        y = softsign_ext.softsign(leaf)
        strided = softsign_ext.softsign(x[:, ::2])
        with torch.cuda.device(1):
            torch.cuda._sleep(STALL_CYCLES)
        grad.copy_(new_grad)
        y.backward(grad)
        assert torch.cuda.current_device() == 0
        stream.synchronize()
    finally:
        torch.cuda.set_stream(torch.cuda.default_stream("cuda:1"))
        torch.cuda.set_device(0)
    assert y.device == leaf.grad.device == strided.device == torch.device("cuda:1")
    assert_same_values(y, softsign_reference(new_x))
    assert_same_values(leaf.grad, softsign_grad_reference(new_grad, new_x))
    assert_same_values(strided, softsign_reference(new_x[:, ::2]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_identical_bits_run_to_run(dtype, device):
    x = random_input((3, 100_003), dtype, device)
    grad = random_input((3, 100_003), dtype, device)
    runs = [
        (
            softsign_ext.softsign(x),
            softsign_ext.softsign(x[:, 1::3]),
            softsign_ext.softsign_backward(grad, x),
            softsign_ext.softsign_backward(grad.t().contiguous().t(), x),
        )
        for _ in range(3)
    ]
    for later in runs[1:]:
        for first, again in zip(runs[0], later):
            assert torch.equal(bits(first), bits(again))


CALLS = 100_000


def _memory_in_use(device) -> int:
    if device == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.memory_allocated()
    with open("/proc/self/statm") as statm:  # resident pages
        return int(statm.read().split()[1]) * 4096


@pytest.mark.parametrize("device", DEVICES)
def test_no_memory_growth_over_many_calls(device):
    x = random_input((1024,), torch.float32, device, with_specials=False).requires_grad_()
    grad = torch.ones_like(x)

    def forward_and_backward():
        y = softsign_ext.softsign(x.detach())
        (dx,) = torch.autograd.grad(softsign_ext.softsign(x), x, grad)
        return y, dx

    for _ in range(1000):  # warm up allocator caches
        forward_and_backward()
    before = _memory_in_use(device)
    for _ in range(CALLS):
        forward_and_backward()
    growth = _memory_in_use(device) - before
    if device == "cuda":
        # A leak of one tensor per call would be 100000 of them. The last call's gradient may
        # still be held when its bytes are counted: backward runs on the autograd engine's CUDA
        # thread, which drops its finished task (the captured gradient with it) after
        # autograd.grad has returned. Seen once, under 8 test processes: one tensor (4096 bytes).
        assert growth <= 2 * x.nbytes, f"{growth} bytes still allocated after {CALLS} calls"
    else:
        # One leaked 4 KiB tensor per call would be ~400 MiB; allow the host
        # allocator a few MiB of noise.
        assert growth < 8 << 20, f"resident memory grew by {growth} bytes over {CALLS} calls"
