r"""Round float64 numbers to a narrower format, once and correctly.

:func:`round_to` is round-to-nearest, ties-to-even, straight from float64:

.. math::
    \operatorname{fl}(x) = q \cdot \operatorname{round\_half\_even}(x / q),
    \qquad q = 2^{\max(e, e_{\min}) - p + 1}, \quad 2^{e} \le |x| < 2^{e+1},

where :math:`q` is the spacing of the format's numbers around :math:`x` (the
subnormal spacing below :math:`2^{e_{\min}}`); a result beyond :math:`r_{\max}`
becomes :math:`\pm\infty`. Every step is exact in float64 (scaling by a power
of two, rounding to an integer), so the only rounding is the one intended.

torch's own ``x.to(torch.float16)`` from float64 goes through float32 and can
round twice: :math:`1 + 2^{-11} + 2^{-40}` becomes 1 instead of
:math:`1 + 2^{-10}`. That is why the emulation does not use it. numpy's float64 →
float16 cast and ml_dtypes' float64 → bfloat16 round once and give the same bits as
:func:`round_to` (``tests/test_accuracy.py`` checks it on about 4 million values,
values just off a million midpoints included); they are not used because
:func:`round_dd_to` needs the same scaling for a double-double, which no library rounds,
and :func:`round_to` is two lines on top of it.

Results stay in float64 ("carried" in float64): every value is exactly
representable in the target format, so ``.to(fmt.dtype)`` is then exact.
"""

from __future__ import annotations

import math

import torch

from .formats import FLOAT64, Format


def pow2(k: torch.Tensor) -> torch.Tensor:
    """:math:`2^{k}` in float64, exactly, built from its bits; ``k`` integer in [-1022, 1023]."""
    return ((k.to(torch.int64) + 1023) << 52).view(torch.float64)


def _scale(x: torch.Tensor, fmt: Format):
    """(x / q, k) with q = 2^k the spacing of ``fmt``'s numbers at x: x / q is an integer iff x is in ``fmt``."""
    _, e = torch.frexp(x)  # |x| = m 2^e with m in [1/2, 1), so 2^(e-1) <= |x| < 2^e
    k = torch.clamp(e - 1, min=fmt.emin) - (fmt.precision - 1)
    return x * pow2(-k), k


def _finish(n: torch.Tensor, k: torch.Tensor, fmt: Format) -> torch.Tensor:
    r = n * pow2(k)
    return torch.where(r.abs() > fmt.max, r * math.inf, r)  # beyond r_max: +-inf


def round_to(x: torch.Tensor, fmt: Format) -> torch.Tensor:
    """Round float64 ``x`` to ``fmt`` (nearest, ties to even), result carried in float64."""
    if x.dtype != torch.float64:
        raise TypeError(f"round_to takes float64, got {x.dtype}")
    if fmt == FLOAT64:
        return x
    y, k = _scale(x, fmt)
    return _finish(torch.round(y), k, fmt)  # torch.round is ties-to-even


def round_dd_to(hi: torch.Tensor, lo: torch.Tensor, fmt: Format) -> torch.Tensor:
    r"""The double-double :math:`h + l` correctly rounded to ``fmt`` (carried in float64).

    For ``fmt`` narrower than float64 the rounding boundaries (midpoints) of
    ``fmt`` are float64 numbers, so :math:`h = \operatorname{fl}_{64}(h + l)` rounds
    like :math:`h + l` unless :math:`h` is a midpoint; then the sign of :math:`l`
    says on which side :math:`h + l` lies.
    """
    if fmt == FLOAT64:
        return hi + lo
    y, k = _scale(hi, fmt)
    low = torch.floor(y)
    tie = (y - low) == 0.5
    n = torch.where(tie & (lo > 0), low + 1, torch.where(tie & (lo < 0), low, torch.round(y)))
    return _finish(n, k, fmt)
