import torch
import torch.nn as nn

import softsign_ext


class ModelNew(nn.Module):
    """
    Softsign, x / (1 + |x|), on softsign_ext's CUDA kernel: one 16-byte vector per
    thread, so it runs at copy bandwidth. Install softsign_ext first (see README.md).
    """

    def __init__(self):
        super(ModelNew, self).__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Applies Softsign to the input tensor (any shape, CUDA or CPU).
        """
        return softsign_ext.softsign(x)
