r"""The forward passes lsm uses since notebook 9's study, and lsm 0.1.0's for comparison.

Both keep lsm's semantics (computing float16/bfloat16 in float32 and rounding once,
``-inf``/``+inf``/NaN exactly as today, empty and 0-dim tensors handled by the
callers as today) and change one thing: the log of the shifted sum
:math:`\sum_i e^{x_i - a} = 1 + s`, whose largest term is exactly :math:`e^{0} = 1`,
is taken as :math:`\operatorname{log1p}(s)`, :math:`s = \sum_{i \ne k} e^{x_i - a}`
(:math:`k` the first index of the maximum), instead of :math:`\log(\operatorname{fl}(1 + s))`.
The rounding of :math:`1 + s` costs up to :math:`u` absolutely, which is a large
*relative* error when the result is small: the logsumexp of logits whose maximum
is near 0, and the log-probability of the top class of a confident classifier
(its cross-entropy loss when it is right). Special values come out as before.
"""

from __future__ import annotations

import torch

# The proposal has landed: these are lsm's own forward formulas now.
from lsm.log_softmax import log_softmax_forward
from lsm.logsumexp import logsumexp_forward

__all__ = ["logsumexp_forward", "log_softmax_forward", "logsumexp_forward_v010", "log_softmax_forward_v010"]


def logsumexp_forward_v010(xc: torch.Tensor, dim: int) -> torch.Tensor:
    r"""lsm 0.1.0's lse, for comparison: :math:`m + \log \sum_i e^{x_i - m}` (keepdim)."""
    m = xc.amax(dim, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    return m + torch.log(torch.exp(xc - m).sum(dim, keepdim=True))


def log_softmax_forward_v010(xc: torch.Tensor, dim: int) -> torch.Tensor:
    r"""lsm 0.1.0's log_softmax, for comparison: :math:`(x_i - m) - \log \sum_j e^{x_j - m}`."""
    shifted = xc - xc.amax(dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim, keepdim=True))
