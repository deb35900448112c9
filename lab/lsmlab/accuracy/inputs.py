r"""Seeded test vectors, as float64 batches of shape (R, n); the study rounds them to each format.

* :func:`normal`: :math:`x_i = \sigma z_i`, :math:`z_i \sim N(0, 1)`: logits at scale :math:`\sigma`.
* :func:`peaked`: a trained classifier's logits: one entry, at a random index,
  uniform in [``top_low``, ``top_high``], the others :math:`N(0, 1)`.
* :func:`wide`: uniform on :math:`[-w, w]`, wider than the format's exponent range.
* :func:`near_overflow`: uniform on :math:`[\log r_{\max} - 4, \log r_{\max} + 1]`, where
  :math:`e^{x}` overflows for about a fifth of the entries, and the unshifted sum always.

Each function takes an integer ``seed`` and draws from its own ``torch.Generator``.
"""

from __future__ import annotations

import torch

from .formats import Format


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def normal(rows: int, n: int, scale: float, seed: int) -> torch.Tensor:
    """Standard normal logits times ``scale``."""
    return scale * torch.randn(rows, n, generator=_gen(seed), dtype=torch.float64)


def peaked(rows: int, n: int, seed: int, top_low: float = 5.0, top_high: float = 20.0) -> torch.Tensor:
    """N(0, 1) logits with one entry per row replaced by a uniform draw from [top_low, top_high]."""
    g = _gen(seed)
    x = torch.randn(rows, n, generator=g, dtype=torch.float64)
    top = top_low + (top_high - top_low) * torch.rand(rows, 1, generator=g, dtype=torch.float64)
    where = torch.randint(0, n, (rows, 1), generator=g)
    return x.scatter(1, where, top)


def wide(rows: int, n: int, width: float, seed: int) -> torch.Tensor:
    """Uniform on [-width, width]."""
    return width * (2 * torch.rand(rows, n, generator=_gen(seed), dtype=torch.float64) - 1)


def near_overflow(rows: int, n: int, fmt: Format, seed: int) -> torch.Tensor:
    """Uniform on [log(r_max) - 4, log(r_max) + 1] of ``fmt``: exp overflows for the top fifth."""
    u = torch.rand(rows, n, generator=_gen(seed), dtype=torch.float64)
    return fmt.exp_overflow - 4 + 5 * u
