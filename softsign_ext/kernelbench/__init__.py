"""KernelBench level 1 problem 30 (Softsign): everything softsign_ext makes for it.

- ``submission``: generates self-contained submission files from softsign_ext's own kernels
  (``python -m softsign_ext.kernelbench --backend cuda|triton``);
- ``triton_kernel``: softsign_ext's Triton kernel, the triton submission's source and a
  benchmark row (needs Triton).

The benchmark's KernelBench section (``softsign_ext.bench.kernelbench_timing``) times them
by KernelBench's own protocol.
"""
