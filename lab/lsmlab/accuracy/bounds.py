r"""Worst-case rounding bounds that the notebooks check measurements against.

With :math:`u` the unit roundoff of the format, :math:`\gamma_k = k u / (1 - k u)` bounds the
relative error of :math:`k` rounded operations (Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., 2002, §3.1). A softmax row computed as its exponentials divided by their
computed sum, in any order of summation and with any accuracy of ``exp``, sums to 1 within

.. math::
    \Big\lvert \sum_i \operatorname{fl}(s_i) - 1 \Big\rvert \le
    \frac{\gamma_2 + \gamma_{n-1}}{1 - \gamma_{n-1}} + \frac{n f_{\mathrm{sub}}}{2},

about :math:`(n + 1) u` (notebook 1 derives it; the last term covers subnormal entries).
"""

from __future__ import annotations

import torch


def gamma(k: int, dtype: torch.dtype) -> float:
    r""":math:`\gamma_k = k u / (1 - k u)` for the unit roundoff :math:`u` of ``dtype``."""
    u = torch.finfo(dtype).eps / 2
    return k * u / (1 - k * u)


def softmax_sum_bound(n: int, dtype: torch.dtype) -> float:
    """How far the entries of a computed softmax row of length ``n`` can sum from 1."""
    fi = torch.finfo(dtype)
    f_sub = fi.smallest_normal * fi.eps
    g2, gn = gamma(2, dtype), gamma(n - 1, dtype)
    return (g2 + gn) / (1 - gn) + n * f_sub / 2
