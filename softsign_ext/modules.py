"""nn.Module drop-ins for torch.nn.Softsign."""

import torch
from torch import nn

from .functional import softsign, softsign_


class Softsign(nn.Module):
    """Applies ``x / (1 + |x|)`` elementwise: a drop-in for :class:`torch.nn.Softsign`.

    No parameters or buffers; accepts any shape and returns the same shape.
    ``inplace=True`` overwrites the input, like ``nn.ReLU(inplace=True)``.

    >>> m = Softsign()
    >>> m(torch.tensor([-3.0, 1.0]))
    tensor([-0.7500,  0.5000])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return softsign_(x) if self.inplace else softsign(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ModelNew(Softsign):
    """The KernelBench problem's model (``x / (1 + torch.abs(x))``) on softsign_ext's kernels.

    Constructed with no arguments, as KernelBench does; ``forward(x)`` returns softsign of x.
    """

    def __init__(self) -> None:
        super().__init__()


def replace_softsign(model: nn.Module) -> int:
    """Swaps every :class:`torch.nn.Softsign` inside ``model`` for :class:`Softsign`, in place.

    Returns how many places were swapped (a module used in several places counts
    in each and stays one shared module). Neither has parameters or buffers, so
    the state_dict and the outputs are unchanged. Hooks registered on the old modules are not
    carried over. ``model`` itself cannot be swapped in place: if it is an
    ``nn.Softsign``, use ``Softsign()`` instead.
    """
    if isinstance(model, nn.Softsign):
        raise ValueError("replace_softsign swaps the submodules of a model in place; the model itself is an "
                         "nn.Softsign, so use softsign_ext.Softsign() in its place")
    replacements: dict[int, Softsign] = {}
    swapped = 0
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Softsign):
                if id(child) not in replacements:
                    replacements[id(child)] = Softsign().train(child.training)
                setattr(parent, name, replacements[id(child)])
                swapped += 1
    return swapped
