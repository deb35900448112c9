r"""Seeded test vectors, as float64 batches of shape (R, n); the study rounds them to each format.

* :func:`normal`: :math:`x_i = \sigma z_i`, :math:`z_i \sim N(0, 1)`: logits at scale :math:`\sigma`.
* :func:`peaked`: a trained classifier's logits: one entry, at a random index,
  uniform in [``top_low``, ``top_high``], the others :math:`N(0, 1)`.
* :func:`wide`: uniform on :math:`[-w, w]`, wider than the format's exponent range.
* :func:`near_overflow`: uniform on :math:`[\log f_{\max} - 4, \log f_{\max} + 1]`, where
  :math:`e^{x}` overflows for about a fifth of the entries, and the unshifted sum always.
* :func:`max_at_zero`: peaked logits minus their maximum: :math:`c = \max_j x_j = 0` and
  :math:`\operatorname{lse}(x) = \operatorname{log1p}(D_{\ne k})` small.
* :func:`lse_near_zero`: a maximum :math:`c < 0` and :math:`\operatorname{lse}(x)` near 0,
  where :math:`c + \log D` cancels.
* :func:`standard`: the standard inputs of notebooks 9 and 10.

Each function takes an integer ``seed`` and draws from its own ``torch.Generator``.
"""

from __future__ import annotations

import torch

from .doubledouble import exp_dd
from .formats import Format
from .reference import reference


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
    """Uniform on [log(f_max) - 4, log(f_max) + 1] of ``fmt``: exp overflows for the top fifth."""
    u = torch.rand(rows, n, generator=_gen(seed), dtype=torch.float64)
    return fmt.exp_overflow - 4 + 5 * u


def max_at_zero(rows: int, n: int, seed: int) -> torch.Tensor:
    """:func:`peaked` logits minus their maximum: the top logit is exactly 0, the others 5 to 20 below (and spread by N(0, 1))."""
    x = peaked(rows, n, seed)
    return x - x.amax(-1, keepdim=True)


def lse_near_zero(rows: int, n: int, seed: int, scale: float = 1.0, smallest: float = 1e-6,
                  largest: float = 1e-1) -> torch.Tensor:
    r"""``scale`` times N(0, 1) logits shifted so that :math:`\operatorname{lse}(x) = \pm t`, :math:`t`
    log-uniform in [``smallest``, ``largest``], random sign: then :math:`c = \max_j x_j < 0` (for these
    sizes) and :math:`c + \log D` is a small difference of two numbers of size :math:`|c|`. Rounding the logits to a format moves lse by up to about :math:`u \max_i |x_i|`."""
    g = _gen(seed)
    x = scale * torch.randn(rows, n, generator=g, dtype=torch.float64)
    import mpmath

    # exp_dd and reference (lse to about 2^-80) use IEEE +, -, * only: the same bits on every
    # machine, where torch's own exp and logsumexp differ in the last bit between CPU kernels.
    low, span = float(mpmath.log(smallest)), float(mpmath.log(largest / smallest))
    t = low + span * torch.rand(rows, 1, generator=g, dtype=torch.float64)
    size = exp_dd((t, torch.zeros_like(t)))[0]
    sign = torch.where(torch.rand(rows, 1, generator=g, dtype=torch.float64) < 0.5, -1.0, 1.0)
    return x - reference(x).lse[0] + sign * size


def standard(seed: int = 900) -> list:
    """The standard inputs: for n = 10, 100 and 1000, 64 rows each of :func:`normal` logits at
    scales 0.1, 1 and 10 and of :func:`peaked` ones (12 batches, 768 rows)."""
    batches = []
    for i, n in enumerate((10, 100, 1000)):
        batches += [
            normal(64, n, 0.1, seed + 10 * i),
            normal(64, n, 1.0, seed + 10 * i + 1),
            normal(64, n, 10.0, seed + 10 * i + 2),
            peaked(64, n, seed + 10 * i + 3),
        ]
    return batches
