r"""Errors against the reference, in ulps of the studied format.

For a computed :math:`\hat v` and the reference :math:`v` (a double-double), the error is

.. math:: \frac{|\hat v - v|}{\operatorname{ulp}(v)},

with :math:`\operatorname{ulp}(v)` the spacing of the format's numbers at :math:`v`
(:func:`~lsmlab.accuracy.ulps.ulp`; the subnormal spacing :math:`f_{\mathrm{sub}}` below
:math:`f_{\min}`). A correctly rounded result is within 0.5 ulp. For a normal :math:`v`,
the relative error in units of :math:`u` lies between 1 and 2 times the error in ulps, so
a bound :math:`c\,u` on the relative error bounds the error in ulps by :math:`c`.

One number per row of the batch:

* logsumexp: the error of :math:`\operatorname{lse}(x)`;
* softmax: the largest error over the entries :math:`s_i \ge 2^{-950}`
  (:data:`~lsmlab.accuracy.reference.FLOOR`, below which the reference is not accurate;
  float64's subnormals lie below it, those of the other formats above). Entries below
  :math:`f_{\min}` are measured in ulps of the subnormal spacing: within 0.5 ulp can
  still be a large *relative* error there;
* log_softmax, top entry: the error at :math:`k = \operatorname{argmax}_i x_i`, where
  :math:`-\log s_k = \log(1 + \sum_{j \ne k} e^{x_j - x_k})` is the cross-entropy loss of a
  classifier that is right, small when it is confident;
* log_softmax, other entries: the largest error over :math:`i \ne k` (NaN when n = 1).

A non-finite result (overflow, NaN) counts as an infinite error.
"""

from __future__ import annotations

import torch

from .formats import Format
from .reference import FLOOR
from .ulps import ulp


def _abs_error(computed: torch.Tensor, ref) -> torch.Tensor:
    """|computed - (hi + lo)| in float64, inf where computed is not finite."""
    err = ((computed.to(torch.float64) - ref[0]) - ref[1]).abs()
    return torch.where(torch.isfinite(computed), err, torch.full_like(err, float("inf")))


def _ulps(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """|computed - exact| / ulp(exact) in ``fmt``, entry by entry."""
    return _abs_error(computed, ref) / ulp(ref[0], fmt.dtype)


def logsumexp_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Error of logsumexp per row, in ulps; ``computed`` and ref[0] (R, 1) or (R,)."""
    ref = (ref[0].reshape(-1), ref[1].reshape(-1))
    return _ulps(computed.reshape(-1), ref, fmt)


def softmax_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Largest error over the softmax entries at least :data:`FLOOR`, in ulps (NaN if there are none)."""
    err = _ulps(computed, ref, fmt)
    counted = ref[0] >= FLOOR
    worst = torch.where(counted, err, torch.zeros_like(err)).amax(dim=-1)
    return torch.where(counted.any(dim=-1), worst, torch.full_like(worst, float("nan")))


def log_softmax_top_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Error of log_softmax at the largest entry, in ulps."""
    k = ref[0].argmax(dim=-1, keepdim=True)
    top = tuple(r.gather(-1, k) for r in ref)
    return _ulps(computed.gather(-1, k), top, fmt).squeeze(-1)


def log_softmax_rest_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Largest error over the log_softmax entries other than the top one, in ulps (NaN if n = 1)."""
    err = _ulps(computed, ref, fmt)
    err = err.scatter(-1, ref[0].argmax(dim=-1, keepdim=True), -1.0)
    worst = err.amax(dim=-1)
    return torch.where(worst < 0, torch.full_like(worst, float("nan")), worst)


# For each function, the metrics measured on its result: (name, metric, field of the Reference).
METRICS = {
    "logsumexp": [("logsumexp", logsumexp_error, "lse")],
    "softmax": [("softmax", softmax_error, "softmax")],
    "log_softmax": [
        ("log_softmax, top entry", log_softmax_top_error, "log_softmax"),
        ("log_softmax, other entries", log_softmax_rest_error, "log_softmax"),
    ],
}
