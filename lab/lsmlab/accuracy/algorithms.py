r"""The formulas compared, written once for any :class:`~lsmlab.accuracy.arithmetic.Arithmetic`.

Each function takes a batch ``x`` of shape (R, n) in the arithmetic's carrier
dtype and reduces over the last dimension; :math:`c = \max_j x_j`, :math:`k` is
the (first) index of the maximum, :math:`D = \sum_j e^{x_j - c}` and
:math:`D_{\ne k} = \sum_{j \ne k} e^{x_j - c}` (D without its exact term
:math:`e^{0} = 1`). The log1p forms are those of P. Blanchard, D. J. Higham and
N. J. Higham, "Accurately computing the log-sum-exp and softmax functions",
IMA J. Numer. Anal. 41(4), 2021; "shifted" is the textbook baseline:

* logsumexp, unshifted: :math:`\log \sum_j e^{x_j}`
* logsumexp, shifted: :math:`c + \log D`
* logsumexp, shifted with log1p: :math:`c + \operatorname{log1p}(D_{\ne k})`
* softmax by division: :math:`e^{x_i - c} / D`
* softmax, division-free: :math:`e^{x_i - \operatorname{lse}(x)}`
* log_softmax, shifted: :math:`(x_i - c) - \log D`
* log_softmax, shifted with log1p: :math:`(x_i - c) - \operatorname{log1p}(D_{\ne k})`
* log_softmax as :math:`x_i - \operatorname{lse}(x)`, with each logsumexp above.

Every operation is one call on the arithmetic, so it is rounded to the studied
format, and sums run in the arithmetic's fixed order.
"""

from __future__ import annotations

import torch

from .arithmetic import Arithmetic


def lse_unshifted(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`\log \sum_j e^{x_j}`: overflows once one :math:`e^{x_j}` (or the sum) exceeds :math:`f_{\max}`."""
    return ar.log(ar.sum(ar.exp(x)))


def lse_shifted(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`c + \log D`: every exponent is :math:`\le 0` and :math:`D` is in :math:`[1, n]`."""
    c = ar.max(x)
    return ar.add(c, ar.log(ar.sum(ar.exp(ar.sub(x, c)))))


def _rest(x, ar):
    """(c, D without its exact 1): the max and :math:`D_{\\ne k} = \\sum_{j \\ne k} e^{x_j - c}`."""
    c = ar.max(x)
    return c, ar.sum(ar.drop_max(ar.exp(ar.sub(x, c)), x))


def lse_log1p(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`c + \operatorname{log1p}(D_{\ne k})`: no rounding of :math:`D = 1 + D_{\ne k}`."""
    c, rest = _rest(x, ar)
    return ar.add(c, ar.log1p(rest))


def softmax_division(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`e^{x_i - c} / D`."""
    e = ar.exp(ar.sub(x, ar.max(x)))
    return ar.div(e, ar.sum(e))


def softmax_division_free(x: torch.Tensor, ar: Arithmetic, lse=lse_shifted) -> torch.Tensor:
    r""":math:`e^{x_i - \operatorname{lse}(x)}` with the given logsumexp (shifted by default)."""
    return ar.exp(ar.sub(x, lse(x, ar)))


def log_softmax_shifted(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`(x_i - c) - \log D`."""
    d = ar.sub(x, ar.max(x))
    return ar.sub(d, ar.log(ar.sum(ar.exp(d))))


def log_softmax_log1p(x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    r""":math:`(x_i - c) - \operatorname{log1p}(D_{\ne k})`."""
    c, rest = _rest(x, ar)
    return ar.sub(ar.sub(x, c), ar.log1p(rest))


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
    "(x - c) - log D": log_softmax_shifted,
    "(x - c) - log1p": log_softmax_log1p,
    "x - lse unshifted": lambda x, ar: log_softmax_via_lse(x, ar, lse_unshifted),
    "x - lse shifted": log_softmax_via_lse,
    "x - lse log1p": lambda x, ar: log_softmax_via_lse(x, ar, lse_log1p),
}
FUNCTIONS = {"logsumexp": LOGSUMEXP, "softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX}


def evaluate(algorithm, x: torch.Tensor, ar: Arithmetic) -> torch.Tensor:
    """Run ``algorithm`` on ``x`` (numbers of the studied format) and return the result in float64."""
    return ar.output(algorithm(ar.input(x), ar)).to(torch.float64)
