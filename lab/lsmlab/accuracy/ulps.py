r"""Errors in ulps, and the distance between two floats counted in representable numbers.

For a format with precision :math:`p` and smallest normal number :math:`f_{\min}`,

.. math::
    \operatorname{ulp}(v) = 2^{e - p + 1} \quad (2^e \le |v| < 2^{e+1},\ |v| \ge f_{\min}),
    \qquad \operatorname{ulp}(v) = f_{\mathrm{sub}} \quad (|v| < f_{\min}),

the spacing of the format's numbers at :math:`v`. An error in ulps is
:math:`|\hat v - v| / \operatorname{ulp}(v)`; a correctly rounded :math:`\hat v` is
within 0.5 ulp of :math:`v`. This is not the relative error in units of :math:`u`
(:mod:`~lsmlab.accuracy.metrics`), which for normal :math:`v` is between 1 and 2 times it.
"""

from __future__ import annotations

import math

import torch

_INT_VIEW = {
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.float32: torch.int32,
    torch.float64: torch.int64,
}


def _check_float(t: torch.Tensor, name: str) -> None:
    if not isinstance(t, torch.Tensor) or t.dtype not in _INT_VIEW:
        got = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
        raise TypeError(
            f"lsmlab.accuracy.ulps: `{name}` must be a float16, bfloat16, float32 or float64 "
            f"tensor, got {got}."
        )


def ulp(v: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The spacing of ``dtype``'s numbers at each value of ``v`` (float64 result).

    ``v`` may hold values that ``dtype`` cannot represent (an exact reference in
    float64): the spacing is that of the binade of ``dtype`` containing ``|v|``.
    Infinite or NaN ``v`` gives NaN.
    """
    _check_float(v, "v")
    fi = torch.finfo(dtype)
    p = 1 - round(math.log2(fi.eps))  # eps = 2^(1-p)
    v = v.to(torch.float64).abs()
    _, e = torch.frexp(v)  # v = m 2^e with m in [0.5, 1): the binade is 2^(e-1)
    spacing = torch.ldexp(torch.ones_like(v), (e - p).to(torch.int64))
    spacing = torch.where(v < fi.tiny, torch.full_like(v, fi.smallest_normal * fi.eps), spacing)
    return torch.where(torch.isfinite(v), spacing, torch.full_like(v, float("nan")))


def ulp_error(computed: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    r""":math:`|\hat v - v| / \operatorname{ulp}(v)` in the format of ``computed`` (float64).

    ``exact`` is the reference, in float64 or wider than ``computed``: for float64
    results pass a reference computed in higher precision and rounded, and read errors
    below about 1 ulp with that in mind. Equal values (the same infinity included) give 0;
    a non-finite value where the other is finite, or different ones, gives ``inf``.
    """
    _check_float(computed, "computed")
    _check_float(exact, "exact")
    c, e = torch.broadcast_tensors(computed.to(torch.float64), exact.to(torch.float64))
    err = (c - e).abs() / ulp(e, computed.dtype)
    same = c == e
    finite = torch.isfinite(c) & torch.isfinite(e)
    err = torch.where(finite, err, torch.full_like(err, float("inf")))
    return torch.where(same, torch.zeros_like(err), err)


def _ordered(t: torch.Tensor) -> torch.Tensor:
    """Each float's bit pattern as an integer that orders like the floats (±0 both 0)."""
    i = t.view(_INT_VIEW[t.dtype]).to(torch.int64)
    sign_min = -(2 ** (8 * t.element_size() - 1))
    return torch.where(i < 0, sign_min - i, i)


def ulps_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """How many steps of the format separate ``a`` and ``b``: 0 when equal, 1 for neighbours.

    ``a`` and ``b`` have the same floating-point dtype; +0 and -0 count as equal.
    The result is an int64 tensor (for float64 it saturates for values of opposite sign
    near the format's limits).
    """
    _check_float(a, "a")
    _check_float(b, "b")
    if a.dtype != b.dtype:
        raise TypeError(
            f"lsmlab.accuracy.ulps.ulps_between: `a` has dtype {a.dtype} and `b` {b.dtype}; "
            "pass two tensors of one format (convert one with .to(other.dtype))."
        )
    return (_ordered(a) - _ordered(b)).abs()
