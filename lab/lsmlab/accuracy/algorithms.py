r"""The formulas compared, written once for any :class:`~lsmlab.accuracy.arithmetic.Arithmetic`.

Each function takes a batch ``x`` of shape (R, n) in the arithmetic's carrier
dtype and reduces over the last dimension; :math:`a = \max_i x_i` and :math:`k`
is the (first) index of the maximum. Following Blanchard, Higham and Higham,
"Accurately computing the log-sum-exp and softmax functions", IMA J. Numer.
Anal. 41(4), 2021:

* logsumexp, unshifted: :math:`\log \sum_i e^{x_i}`
* logsumexp, shifted: :math:`a + \log \sum_i e^{x_i - a}`
* logsumexp, shifted with log1p: :math:`a + \operatorname{log1p}\big(\sum_{i \ne k} e^{x_i - a}\big)`
* softmax by division: :math:`e^{x_i - a} / \sum_j e^{x_j - a}`
* softmax, division-free: :math:`e^{x_i - \operatorname{lse}(x)}`
* log_softmax, shifted: :math:`(x_i - a) - \log \sum_j e^{x_j - a}`
* log_softmax, shifted with log1p: :math:`(x_i - a) - \operatorname{log1p}\big(\sum_{j \ne k} e^{x_j - a}\big)`
* log_softmax as :math:`x_i - \operatorname{lse}(x)`, with each logsumexp above.

Every operation is one call on the arithmetic, so it is rounded to the studied
format, and sums run in the arithmetic's fixed order.
"""

from __future__ import annotations

import torch

from .arithmetic import Arithmetic


def lse_unshifted(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`\log \sum_i e^{x_i}`: overflows once one :math:`e^{x_i}` (or the sum) exceeds :math:`r_{\max}`."""
    return ar.log(ar.sum(ar.exp(x)))


def lse_shifted(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`a + \log \sum_i e^{x_i - a}`: every exponent is :math:`\le 0` and the sum is in :math:`[1, n]`."""
    a = ar.max(x)
    return ar.add(a, ar.log(ar.sum(ar.exp(ar.sub(x, a)))))


def _rest(x, ar):
    """(a, s): the max and :math:`s = \\sum_{i \\ne k} e^{x_i - a}`, the sum without its exact 1."""
    a = ar.max(x)
    return a, ar.sum(ar.drop_max(ar.exp(ar.sub(x, a)), x))


def lse_log1p(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`a + \operatorname{log1p}(s)`, :math:`s = \sum_{i \ne k} e^{x_i - a}`: no rounding of :math:`1 + s`."""
    a, s = _rest(x, ar)
    return ar.add(a, ar.log1p(s))


def softmax_division(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`e^{x_i - a} / \sum_j e^{x_j - a}`."""
    e = ar.exp(ar.sub(x, ar.max(x)))
    return ar.div(e, ar.sum(e))


def softmax_division_free(x: torch.Tensor, ar: Arithmetic, lse=lse_shifted) -> torch.Tensor:
    r""":math:`e^{x_i - \operatorname{lse}(x)}` with the given logsumexp (shifted by default)."""
    return ar.exp(ar.sub(x, lse(x, ar)))


def log_softmax_shifted(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`(x_i - a) - \log \sum_j e^{x_j - a}`."""
    d = ar.sub(x, ar.max(x))
    return ar.sub(d, ar.log(ar.sum(ar.exp(d))))


def log_softmax_log1p(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`(x_i - a) - \operatorname{log1p}(s)`, :math:`s = \sum_{j \ne k} e^{x_j - a}`."""
    a, s = _rest(x, ar)
    return ar.sub(ar.sub(x, a), ar.log1p(s))


def log_softmax_via_lse(x: torch.Tensor, ar: Arithmetic, lse=lse_shifted) -> torch.Tensor:
    r""":math:`x_i - \operatorname{lse}(x)` with the given logsumexp."""
    return ar.sub(x, lse(x, ar))


LOGSUMEXP = {
    "unshifted": lse_unshifted,
    "shifted": lse_shifted,
    "shifted, log1p": lse_log1p,
}
SOFTMAX = {
    "division": softmax_division,
    "division-free (shifted lse)": softmax_division_free,
    "division-free (log1p lse)": lambda x, ar: softmax_division_free(x, ar, lse_log1p),
}
LOG_SOFTMAX = {
    "(x - a) - log sum": log_softmax_shifted,
    "(x - a) - log1p": log_softmax_log1p,
    "x - lse unshifted": lambda x, ar: log_softmax_via_lse(x, ar, lse_unshifted),
    "x - lse shifted": log_softmax_via_lse,
    "x - lse log1p": lambda x, ar: log_softmax_via_lse(x, ar, lse_log1p),
}
FUNCTIONS = {"logsumexp": LOGSUMEXP, "softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX}


def evaluate(algorithm, x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    """Run ``algorithm`` on ``x`` (numbers of the studied format) and return the result in float64."""
    return ar.output(algorithm(ar.input(x), ar)).to(torch.float64)
