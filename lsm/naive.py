r"""The textbook formulas, computed literally. Kept on purpose: they overflow and underflow.

Every operation runs in the input's own dtype (torch rounds each op's result to it),
with no shift, so :math:`e^{x}` overflows to ``inf`` once :math:`x` passes about
:math:`\log f_{\max}` and underflows to 0 once :math:`x` falls below about
:math:`\log(f_{\mathrm{sub}} / 2)`, :math:`f_{\max}` and :math:`f_{\mathrm{sub}}` being the
format's largest finite and smallest subnormal numbers (notebook 2 derives both thresholds).
Compare :func:`lsm.softmax` and :func:`lsm.log_softmax`.
"""

from __future__ import annotations

import torch

from ._validation import as_floating, normalize_dim


def naive_softmax(x: torch.Tensor, dim: int, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Softmax straight from the definition, without the max-shift.

    .. math:: \operatorname{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}

    Returns ``nan`` where a term overflows (``inf / inf``) and ``nan`` where every
    term underflows (``0 / 0``).
    """
    x = as_floating(x, "x", "naive_softmax", dtype)
    dim = normalize_dim(dim, x.dim(), "naive_softmax")
    e = torch.exp(x)
    return e / e.sum(dim, keepdim=True)


def naive_log_softmax(x: torch.Tensor, dim: int, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""The logarithm of :func:`naive_softmax`.

    .. math:: \log \operatorname{softmax}(x)_i = \log \frac{e^{x_i}}{\sum_j e^{x_j}}

    Returns ``-inf`` wherever the probability underflowed to 0, even though the
    exact log-probability :math:`x_i - \log\sum_j e^{x_j}` is finite.
    """
    x = as_floating(x, "x", "naive_log_softmax", dtype)
    dim = normalize_dim(dim, x.dim(), "naive_log_softmax")
    return torch.log(naive_softmax(x, dim))
