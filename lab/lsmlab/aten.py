"""Which ATen operators a call reaches: one recorder for the notebooks and the benchmark.

A :class:`~torch.utils._python_dispatch.TorchDispatchMode` (PyTorch's debugging hook below
autograd) sees every ATen operator call inside its ``with`` block, after the Python-level
functions (``F.cross_entropy``, ``lsm.log_softmax``) have been decomposed into them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode


@dataclass(frozen=True)
class Call:
    """One operator call: ``op`` (``"sum"``), its ``overload`` (``"dim_IntList"``, or
    ``"default"``) and ``numel``, the elements of the tensors it returned."""

    op: str
    overload: str
    numel: int

    @property
    def qualified(self) -> str:
        """``op.overload``, or ``op`` for the default overload: ``sum.dim_IntList``, ``neg``."""
        return self.op if self.overload == "default" else f"{self.op}.{self.overload}"


class RecordOps(TorchDispatchMode):
    """Records each ATen operator called inside the block, in order, as :class:`Call`\\ s.

    ``with RecordOps() as rec: F.log_softmax(x, 1)`` leaves ``rec.ops == ["_log_softmax"]``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # By default torch wraps __torch_dispatch__ in torch._disable_dynamo, which imports
        # torch._dynamo on the first call (1.4 s). This mode is only used eagerly.
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        outputs = out if isinstance(out, (tuple, list)) else (out,)  # max.dim: (values, indices)
        numel = sum(o.numel() for o in outputs if isinstance(o, torch.Tensor))
        self.calls.append(Call(func.overloadpacket.__name__, func._overloadname, numel))
        return out

    @property
    def ops(self) -> list[str]:
        """The operators' names, in call order."""
        return [call.op for call in self.calls]


def aten_calls(fn, *args, **kwargs) -> list[Call]:
    """The ATen operator calls of ``fn(*args, **kwargs)``, in order."""
    with RecordOps() as recorder:
        fn(*args, **kwargs)
    return recorder.calls
