r"""Before anything is timed, its output is compared with torch.log_softmax.

The reference is ``torch.log_softmax(x.float(), -1)``, computed once per input in
float32 (so float16 and bfloat16 outputs are judged against a value more accurate than
their own format). An output passes when it is finite where the reference is and

.. math:: |y - r| \le \text{atol} + \text{rtol}\,|r|

element-wise, with the tolerances of :data:`TOLERANCES` for the output's dtype. A
softmax output is compared with :math:`e^{r}`; a copy must equal x exactly; a single op
(exp, max, sum, ...) is compared with the same op computed in float64 and rounded to the
output's dtype (its ``expected``). A row sum is judged against the size of what it adds,
:math:`|y - r| \le \text{rtol} \sum_j |x_j|`, since its rounding errors scale with that and
not with the sum, which cancellation can make near 0. Equal values (infinities too) agree.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

#: (rtol, atol) per output dtype: a few units of rounding of the format, the row sum's
#: rounding included (float32 eps 1.2e-7, float16 9.8e-4, bfloat16 7.8e-3).
TOLERANCES = {
    torch.float32: (1e-5, 1e-5),
    torch.float64: (1e-12, 1e-12),
    torch.float16: (4e-3, 4e-3),
    torch.bfloat16: (3.2e-2, 3.2e-2),
}


def reference(x: torch.Tensor) -> torch.Tensor:
    """``torch.log_softmax(x.float(), -1)``: what every log_softmax output is compared with."""
    return torch.log_softmax(x.to(torch.float32) if x.dtype != torch.float64 else x, -1)


def check(y: torch.Tensor, x: torch.Tensor, ref: torch.Tensor, computes: str,
          expected: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict:
    """Compare one implementation's output ``y`` with the reference; JSON-ready verdict.

    ``expected`` (for ``computes`` "op" and "sum") gives the op's float64 result from ``x``.

    Returns ``{"ok", "max_abs_err", "rtol", "atol", "against"}``; ``max_abs_err`` is
    ``None`` when y has a non-finite entry where the reference is finite (then ok is False).
    """
    if computes == "copy":
        same = bool(y.shape == x.shape and y.dtype == x.dtype and torch.equal(y, x))
        return {"ok": same, "max_abs_err": 0.0 if same else None, "rtol": 0.0, "atol": 0.0, "against": "x (exact)"}
    if computes in ("op", "sum"):
        target, against = expected(x), "the same op in float64"
    elif computes == "softmax":
        target, against = ref.exp(), "exp(torch.log_softmax(x.float(), -1))"
    else:
        target, against = ref, "torch.log_softmax(x.float(), -1)"
    rtol, atol = TOLERANCES[y.dtype]
    if y.shape != target.shape or y.dtype != x.dtype:
        return {"ok": False, "max_abs_err": None, "rtol": rtol, "atol": atol, "against": against,
                "problem": f"output has shape {tuple(y.shape)} and dtype {y.dtype}, "
                           f"expected {tuple(target.shape)} and {x.dtype}"}
    y = y.to(target.dtype)
    if computes == "sum":
        scale = x.abs().sum(-1, keepdim=True, dtype=torch.float64).to(target.dtype)
        close = bool(((y - target).abs() <= atol + rtol * scale).all())
    else:
        close = bool(torch.isclose(y, target, rtol=rtol, atol=atol).all())
    diff = torch.where(y == target, 0.0, y - target)  # full-size temporaries: these can be 1 GiB
    err = float(diff.abs_().max()) if diff.numel() else 0.0
    finite = math.isfinite(err)
    return {"ok": close and finite, "max_abs_err": err if finite else None,
            "rtol": rtol, "atol": atol, "against": against}
