r"""Condition numbers: how much of an error no formula can avoid.

If every logit carries a relative error, :math:`x_i (1 + \delta_i)` with
:math:`|\delta_i| \le \varepsilon` (the logits are themselves rounded results), then to first
order :math:`\operatorname{lse}(x)` changes by :math:`\sum_i s_i x_i \delta_i` and its relative
change is at most :math:`\kappa_{\operatorname{lse}}(x)\, \varepsilon`, with the relative condition
number of Blanchard, Higham and Higham ("Accurately computing the log-sum-exp and softmax
functions", IMA J. Numer. Anal. 41(4), 2021)

.. math::
    \kappa_{\operatorname{lse}}(x) = \frac{\sum_i |x_i| e^{x_i}}{|\operatorname{lse}(x)| \sum_i e^{x_i}}
    = \frac{\sum_i |x_i| s_i}{|\operatorname{lse}(x)|} \le \frac{\max_i |x_i|}{|\operatorname{lse}(x)|}.

For softmax, :math:`\delta \log s_i = \delta x_i - \sum_j s_j\, \delta x_j` (the Jacobian :math:`J`
divided by :math:`s_i`), whose largest value over such perturbations is :math:`\varepsilon` times

.. math::
    \kappa_{\operatorname{softmax}}(x)_i = |x_i| (1 - s_i) + \sum_{j \ne i} s_j |x_j| \le 2 \max_j |x_j|,

the componentwise relative condition number of :math:`s_i` (and the absolute one of
:math:`\log s_i`). All are exact-arithmetic quantities, computed here in float64 from the
double-double reference: a few correct digits are all a condition number needs.
"""

from __future__ import annotations

import torch

from .reference import Reference, reference


def kappa_lse(x: torch.Tensor, ref: Reference | None = None) -> torch.Tensor:
    """:math:`\\kappa_{\\operatorname{lse}}` of each row of ``x`` (R, n), shape (R,)."""
    x = x.to(torch.float64)
    ref = reference(x) if ref is None else ref
    return (x.abs() * ref.softmax[0]).sum(-1) / ref.lse[0].reshape(-1).abs()


def kappa_softmax(x: torch.Tensor, ref: Reference | None = None) -> torch.Tensor:
    """:math:`\\kappa_{\\operatorname{softmax}}(x)_i` of every entry of ``x`` (R, n), shape (R, n)."""
    x = x.to(torch.float64)
    ref = reference(x) if ref is None else ref
    s = ref.softmax[0]
    weighted = (s * x.abs()).sum(-1, keepdim=True)
    return x.abs() * (1 - s) + weighted - s * x.abs()
