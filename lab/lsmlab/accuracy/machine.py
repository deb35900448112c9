"""Which CPU kernels produced a measurement, and whether they are the ones the notebooks stored.

PyTorch picks its CPU kernels by the vector unit it finds (``AVX512``, ``AVX2``, ``DEFAULT``
scalar code, ``NEON``/``SVE`` on ARM; ``ATEN_CPU_CAPABILITY`` overrides it). ``exp``, ``log``,
``log1p`` and the reductions differ between those kernels in their last bits, so a measured
error of a PyTorch kernel (its largest error in ulps, how often it ties, where it first
returns 0) is a fact about the kernel that ran, not about the formula. The notebooks print
such measurements in cells that nbval does not compare, and assert there what holds for every
kernel; the figures quoted in their prose were measured with :data:`STORED_CAPABILITY`, and a
notebook checks them only when it runs there (:func:`on_stored_kernels`).
"""

from __future__ import annotations

import torch

STORED_CAPABILITY = "AVX512"
"""The CPU capability with which the notebooks' stored outputs were computed (x86-64, AVX-512)."""


def cpu_capability() -> str:
    """The CPU kernels PyTorch dispatches to in this process: ``"AVX512"``, ``"AVX2"``, ``"DEFAULT"``, ..."""
    return torch.backends.cpu.get_cpu_capability()


def on_stored_kernels() -> bool:
    """True when this process runs the kernels that computed the notebooks' stored outputs."""
    return cpu_capability() == STORED_CAPABILITY
