"""softsign_ext's Triton kernel: the forward, written for bandwidth, for contiguous CUDA
tensors of float32, bfloat16 and float16. It is an alternative implementation (the
package's operators run the CUDA kernels in csrc/): ``python -m softsign_ext.bench
--impls triton`` times it, and ``python -m softsign_ext.kernelbench --backend triton``
copies the text between the markers below into a KernelBench submission.

Needs Triton (``import softsign_ext.kernelbench.triton_kernel`` raises ImportError without it).
"""

# kernelbench: begin
import torch
import triton
import triton.language as tl

# One 16-byte vector per thread (VEC elements: 4 in float32, 8 in half types): the widest
# load a thread issues, where this kernel reached a copy's bandwidth and more elements per
# thread, or fewer, fell short (benchmarks/README.md). The autotuner (keyed on the element
# count and the dtype) picks the threads per program; each size keeps enough bytes in
# flight to cover memory latency on a large GPU.
SOFTSIGN_CONFIGS = [triton.Config({"THREADS": threads}, num_warps=threads // 32) for threads in (128, 256, 512)]


@triton.jit
def softsign_math(x):
    # csrc/softsign_math.h's softsign_forward in Triton: IEEE division in float32.
    return x / (1.0 + tl.abs(x))


@triton.autotune(configs=SOFTSIGN_CONFIGS, key=["n_elements"])
@triton.jit
def softsign_kernel(x_ptr, y_ptr, n_elements, VEC: tl.constexpr, THREADS: tl.constexpr):
    BLOCK_SIZE: tl.constexpr = VEC * THREADS
    # 64 bits for the program's start only (the KernelBench input has 1.6e9 elements);
    # the offsets within a program stay 32-bit.
    start = tl.program_id(0).to(tl.int64) * BLOCK_SIZE
    x_block = x_ptr + start
    y_block = y_ptr + start
    offsets = tl.arange(0, BLOCK_SIZE)
    if start + BLOCK_SIZE <= n_elements:
        # Every program but the last: no mask, so loads and stores are full vectors.
        x = tl.load(x_block + offsets).to(tl.float32)
        tl.store(y_block + offsets, softsign_math(x).to(y_ptr.dtype.element_ty))
    else:
        mask = offsets < n_elements - start
        x = tl.load(x_block + offsets, mask=mask).to(tl.float32)
        tl.store(y_block + offsets, softsign_math(x).to(y_ptr.dtype.element_ty), mask=mask)


# (device, dtype, element count, whether x is 16-byte aligned): the kernel the autotuner
# chose for them, compiled, with its launch arguments and Triton's lookup of a device's
# current stream. Every later call launches it through CompiledKernel.run (Triton 3's
# launcher: grid, stream, function, packed metadata, launch metadata, enter and exit hooks,
# then the kernel's arguments) with no launch metadata or hooks, skipping the autotuner's
# and the JIT's argument handling and the dict of arguments Triton builds for launch hooks
# on every launch: host time that KernelBench's timing (CUDA events on an idle GPU)
# counts. So Triton's launch hooks (its profiler's) do not see these launches. The key
# holds everything the compiled kernel was specialized on.
_LAUNCHES = {}


def triton_softsign(x: torch.Tensor) -> torch.Tensor:
    """x / (1 + |x|) of a CUDA tensor of float32, bfloat16 or float16 on the current CUDA
    device (as every Triton launch), through softsign_kernel (a non-contiguous x is made
    contiguous first)."""
    if not x.is_cuda or x.dtype not in (torch.float32, torch.bfloat16, torch.float16):
        raise ValueError(f"triton_softsign takes a CUDA tensor of float32, bfloat16 or float16, not {x.dtype} "
                         f"on {x.device}")
    x = x.contiguous()
    y = torch.empty_like(x)
    n_elements = x.numel()
    if n_elements == 0:
        return y
    key = (x.device, x.dtype, n_elements, x.data_ptr() % 16 == 0)
    launch = _LAUNCHES.get(key)
    if launch is not None:
        kernel, grid, vec, threads, current_stream = launch
        kernel.run(grid[0], grid[1], grid[2], current_stream(x.get_device()), kernel.function, kernel.packed_metadata,
                   None, None, None, x, y, n_elements, vec, threads)
        return y
    driver = triton.runtime.driver.active
    if x.get_device() != driver.get_current_device():
        raise ValueError(f"triton_softsign runs on the current CUDA device (cuda:{driver.get_current_device()}), "
                         f"and x is on {x.device}: call it inside `with torch.cuda.device(x.device):`")
    vec = 16 // x.element_size()
    softsign_kernel[lambda meta: (triton.cdiv(n_elements, vec * meta["THREADS"]),)](x, y, n_elements, VEC=vec)
    best = softsign_kernel.best_config
    threads = best.kwargs["THREADS"]
    grid = (triton.cdiv(n_elements, vec * threads), 1, 1)
    kernel = softsign_kernel.fn.warmup(x, y, n_elements, VEC=vec, THREADS=threads, num_warps=best.num_warps,
                                       num_stages=best.num_stages, grid=grid)
    kernel._init_handles()  # loads the kernel: sets kernel.run and kernel.function
    _LAUNCHES[key] = (kernel, grid, vec, threads, driver.get_current_stream)
    return y
# kernelbench: end
