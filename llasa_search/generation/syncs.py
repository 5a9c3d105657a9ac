"""Count device -> host synchronisations (tests and benchmarks): every tensor call that needs a value on the host."""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

# Calls that read a value, or whose output size depends on values (the host must wait to know it).
SYNC_CALLS = {"item", "tolist", "cpu", "numpy", "nonzero", "argwhere", "masked_select", "unique", "__bool__",
              "__int__", "__float__", "__index__", "equal", "is_nonzero"}


class HostSyncCounter(TorchFunctionMode):
    """Use as a context manager; `calls` lists the names of syncing calls seen (torch.nonzero, tensor.item...)."""

    def __init__(self):
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in SYNC_CALLS or (name == "to" and _to_host(args, kwargs)) or \
                (name in ("__getitem__", "__setitem__") and _bool_index(args)):
            self.calls.append(name)
        return func(*args, **(kwargs or {}))


def _to_host(args, kwargs) -> bool:
    """tensor.to(<cpu device>) from an accelerator is a sync; on a CPU-only run it is free but still counted."""
    target = (kwargs or {}).get("device", args[1] if len(args) > 1 else None)
    return isinstance(target, (str, torch.device)) and torch.device(target).type == "cpu" \
        and isinstance(args[0], torch.Tensor) and args[0].device.type != "cpu"


def _bool_index(args) -> bool:
    """x[mask] with a bool tensor gathers a value-dependent number of elements."""
    index = args[1] if len(args) > 1 else None
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, torch.Tensor) and p.dtype == torch.bool for p in parts)
