r"""Errors against the reference, in units of the studied format's unit roundoff :math:`u`.

For a computed :math:`\hat y` and reference :math:`y` (a double-double),

.. math::
    \text{logsumexp:}\;\; \frac{|\hat y - y|}{|y|\,u}, \qquad
    \text{softmax:}\;\; \max_{i:\, s_i \ge t} \frac{|\hat s_i - s_i|}{s_i\, u}, \qquad
    \text{log\_softmax:}\;\; \max_i \frac{|\hat y_i - y_i|}{u},
    \qquad \text{and at the top entry } k = \operatorname{argmax}_i x_i:\;\;
    \frac{|\hat y_k - y_k|}{|y_k|\, u}, \qquad
    \text{and elsewhere:}\;\; \max_{i \ne k} \frac{|\hat y_i - y_i|}{|y_i|\, u},

with :math:`t` the format's smallest normal number (and at least the
reference's :data:`~lsmlab.accuracy.reference.FLOOR`): below it the format itself
has fewer significant bits, so every formula has large relative errors there.
For the same reason a relative error whose exact value is below :math:`t` is
not measured (NaN).
A correctly rounded result has relative error at most :math:`u/(1+u) < 1` in these
units. A non-finite result (overflow, NaN) counts as an infinite error; a row
whose softmax entries are all below :math:`t` has no softmax error (NaN).
Each function returns one number per row of the batch.
"""

from __future__ import annotations

import torch

from .formats import Format
from .reference import FLOOR


def _abs_error(computed: torch.Tensor, ref) -> torch.Tensor:
    """|computed - (hi + lo)| in float64, inf where computed is not finite."""
    err = ((computed.to(torch.float64) - ref[0]) - ref[1]).abs()
    return torch.where(torch.isfinite(computed), err, torch.full_like(err, float("inf")))


def _relative(err: torch.Tensor, exact: torch.Tensor, fmt: Format) -> torch.Tensor:
    """err / |exact| / u, NaN where |exact| is below the format's smallest normal number."""
    rel = err / exact.abs() / fmt.u
    return torch.where(exact.abs() >= fmt.tiny, rel, torch.full_like(rel, float("nan")))


def logsumexp_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Relative error of logsumexp per row, in units of u; ``computed`` and ref[0] (R, 1) or (R,)."""
    ref = (ref[0].reshape(-1), ref[1].reshape(-1))
    return _relative(_abs_error(computed.reshape(-1), ref), ref[0], fmt)


def softmax_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Largest relative error over the softmax entries not below the format's smallest normal number, in u."""
    rel = _abs_error(computed, ref) / ref[0]
    counted = ref[0] >= max(fmt.tiny, FLOOR)
    worst = torch.where(counted, rel, torch.zeros_like(rel)).amax(dim=-1) / fmt.u
    return torch.where(counted.any(dim=-1), worst, torch.full_like(worst, float("nan")))


def log_softmax_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Largest absolute error over the log_softmax entries, in units of u."""
    return _abs_error(computed, ref).amax(dim=-1) / fmt.u


def log_softmax_top_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    r"""Relative error of log_softmax at the largest entry, in units of u.

    :math:`-\operatorname{log\_softmax}(x)_k = \log(1 + s)`, :math:`s = \sum_{j \ne k} e^{x_j - x_k}`,
    is the cross-entropy loss of a classifier that is right; it is small when the
    classifier is confident, so an absolute error that is harmless elsewhere can be
    a large relative one here.
    """
    k = ref[0].argmax(dim=-1, keepdim=True)
    top = tuple(r.gather(-1, k) for r in ref)
    return _relative(_abs_error(computed.gather(-1, k), top), top[0], fmt).squeeze(-1)


def log_softmax_rest_error(computed: torch.Tensor, ref, fmt: Format) -> torch.Tensor:
    """Largest relative error over the log_softmax entries other than the top one, in units of u."""
    rel = _relative(_abs_error(computed, ref), ref[0], fmt)
    rel = rel.scatter(-1, ref[0].argmax(dim=-1, keepdim=True), float("nan"))
    worst = torch.where(rel.isnan(), torch.full_like(rel, -1.0), rel).amax(dim=-1)
    return torch.where(worst < 0, torch.full_like(worst, float("nan")), worst)


# For each function, the metrics measured on its result: (name, metric, field of the Reference).
METRICS = {
    "logsumexp": [("logsumexp", logsumexp_error, "lse")],
    "softmax": [("softmax", softmax_error, "softmax")],
    "log_softmax": [
        ("log_softmax", log_softmax_error, "log_softmax"),
        ("log_softmax, top entry", log_softmax_top_error, "log_softmax"),
        ("log_softmax, others rel.", log_softmax_rest_error, "log_softmax"),
    ],
}
