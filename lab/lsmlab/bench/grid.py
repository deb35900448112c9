r"""The sizes, dtypes and thread counts a run covers.

A shape is ``(rows, width)``: softmax normalises each row of ``width`` entries. The grid
is every ``rows`` x ``width`` pair whose float32 tensor fits under a device's cap,

.. math:: 4 \cdot \text{rows} \cdot \text{width} \le \text{cap},

so every dtype on a device uses the same shapes, and the CPU's shapes are a subset of
the GPU's (CUDA over CPU ratios and the crossover are taken on the shared ones).
Rows grow by factors of 4, from launch-overhead-bound single rows to bandwidth-bound
tensors of 256 MiB (CPU) and 1 GiB (CUDA).
"""

from __future__ import annotations

import torch

MiB = 1 << 20

ROWS = tuple(4**k for k in range(11))  # 1 ... 1 048 576
WIDTHS = (128, 4096, 32768)
CAP_MIB = {"cpu": 256, "cuda": 1024}
DTYPES = {"cpu": ("float32", "float16", "bfloat16"), "cuda": ("float32", "float16", "bfloat16")}

QUICK_ROWS = (1, 8)
QUICK_WIDTHS = (32, 256)

DTYPE_NAMES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


def shapes(rows: tuple[int, ...], widths: tuple[int, ...], cap_bytes: int) -> list[tuple[int, int]]:
    """Every (rows, width) with 4 * rows * width <= cap_bytes, by width then rows."""
    return [(r, w) for w in sorted(set(widths)) for r in sorted(set(rows)) if 4 * r * w <= cap_bytes]


def dtype_of(name: str) -> torch.dtype:
    """The torch dtype for a name such as "float16"; ValueError naming the choices otherwise."""
    try:
        return DTYPE_NAMES[name]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; choose from {', '.join(DTYPE_NAMES)}") from None


def resolve_threads(requested: list[str] | tuple[str, ...], all_threads: int) -> list[int]:
    """Thread counts as ints, "all" meaning ``all_threads``; duplicates dropped, order kept."""
    out: list[int] = []
    for item in requested:
        try:
            n = all_threads if str(item) == "all" else int(item)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"a thread count is an integer of 1 or more, or \"all\"; got {item!r}")
        if n not in out:
            out.append(n)
    return out
