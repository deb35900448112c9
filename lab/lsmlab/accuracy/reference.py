r"""Reference values of logsumexp, softmax and log_softmax, far more accurate than any studied format.

Two routes, checked against each other (tests/test_accuracy.py, notebook 9):

* :func:`mp_logsumexp`, :func:`mp_softmax`, :func:`mp_log_softmax`: mpmath at
  200 bits, term by term. Exact up to :math:`2^{-190}`, but about 10 µs a term.
* :func:`reference`: the same quantities for a whole batch in double-double
  arithmetic, as follows.

With :math:`c = \max_j x_j` and :math:`d_i = x_i - c` (exact as a double-double),

.. math::
    D = \sum_i e^{d_i}, \qquad L = \log D, \qquad
    \operatorname{lse}(x) = c + L, \qquad
    \operatorname{log\_softmax}(x)_i = d_i - L, \qquad
    \operatorname{softmax}(x)_i = e^{d_i} e^{-L}.

Each :math:`e^{d_i}` comes from :func:`~lsmlab.accuracy.doubledouble.exp_dd`
(relative error below :math:`2^{-80}`; the largest term, :math:`e^{0} = 1`, is
exact), :math:`D = 1 + D_{\ne k}` from a double-double pairwise sum (below :math:`2^{-100}`
for up to :math:`2^{20}` terms, all positive), :math:`L` from mpmath's log of
:math:`D`. So :math:`L` is within about :math:`2^{-80} D_{\ne k}/D + 2^{-100}`
absolutely: within about :math:`2^{-80}` relatively even when it is tiny
(:math:`L \approx D_{\ne k}`). lse and log_softmax inherit that error, softmax entries
add another :math:`2^{-80}` or so relatively. Where :math:`c + L` cancels
(:math:`c < 0`, lse near 0), L's absolute error becomes a relative error of lse
divided by :math:`|\operatorname{lse}(x)|`. Checked against mpmath at 200 bits
on every kind of input used (tests/test_accuracy.py, notebook 9): below
:math:`2^{-80}` (:math:`2^{-27}` units of float64's :math:`u = 2^{-53}`), and
below :math:`2^{-76}` for a cancelling lse with :math:`|\operatorname{lse}(x)| \ge 10^{-6}`.

Terms with :math:`d_i < -720` are dropped (:math:`e^{-720} < 2^{-1038}`, nothing
next to the term :math:`e^{0} = 1`); softmax entries below :data:`FLOOR`
(:math:`2^{-950}`, where a double-double's low part would be subnormal) are
not accurate and the metrics skip them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import doubledouble as dd

FLOOR = 2.0**-950
BLOCK = 2**16
MP_PREC = 200


@dataclass
class Reference:
    """Double-double (hi, lo) references for a batch (R, n): lse is (R, 1)."""

    lse: dd.DD
    softmax: dd.DD
    log_softmax: dd.DD


def mp_dd(function: str, s: dd.DD, prec: int = MP_PREC) -> dd.DD:
    r"""``function`` ("log" or "log1p") of each double-double h + l, by mpmath at ``prec`` bits,
    returned as a double-double: hi is the correctly rounded float64 value, lo the rest.

    One mpmath call per entry (about 15 µs, through mpmath's low-level ``libmp`` functions):
    meant for one value per row, as here for :math:`\log D`, and for the per-row logarithms
    of :class:`~lsmlab.accuracy.arithmetic.CorrectlyRounded`. :math:`h + l` (and
    :math:`1 + h + l` for log1p) is formed exactly before the one rounding of the logarithm.
    """
    from mpmath.libmp import fone, from_float, mpf_add, mpf_log, mpf_sub, round_nearest, to_float

    if function not in ("log", "log1p"):
        raise ValueError(f"mp_dd: function must be 'log' or 'log1p', got {function!r}")
    hi, lo = [], []
    for h, l in zip(s[0].flatten().tolist(), s[1].flatten().tolist()):
        v = mpf_add(from_float(h), from_float(l), 0)  # precision 0: exact
        if function == "log1p":
            v = mpf_add(v, fone, 0)
        y = mpf_log(v, prec, round_nearest)
        first = to_float(y, rnd=round_nearest)
        hi.append(first)
        lo.append(to_float(mpf_sub(y, from_float(first), prec, round_nearest), rnd=round_nearest))
    shape = s[0].shape
    f64 = torch.float64
    return torch.tensor(hi, dtype=f64).reshape(shape), torch.tensor(lo, dtype=f64).reshape(shape)


def reference(x: torch.Tensor) -> Reference:
    """Reference lse, softmax and log_softmax of each row of ``x`` (R, n), finite values, any float dtype."""
    x = x.to(torch.float64)
    if x.dim() != 2 or x.shape[-1] == 0 or not bool(torch.isfinite(x).all()):
        raise ValueError("reference: x must be a finite (R, n) tensor with n >= 1")
    a = x.amax(dim=-1, keepdim=True)
    # Long rows go in column blocks of BLOCK (a power of two) entries: the pairwise tree
    # is the same, and every tensor stays small enough for the cache.
    d = [dd.two_sum(x[:, j : j + BLOCK], -a) for j in range(0, x.shape[-1], BLOCK)]
    e = [dd.exp_dd(b) for b in d]
    big_l = mp_dd("log", dd.pairwise_sum(_cat([dd.pairwise_sum(b) for b in e])))
    e_minus_l = dd.exp_dd(dd.neg(big_l))
    return Reference(
        lse=dd.add((a, torch.zeros_like(a)), big_l),
        softmax=_cat([dd.mul(b, e_minus_l) for b in e]),
        log_softmax=_cat([dd.add(b, dd.neg(big_l)) for b in d]),
    )


def _cat(blocks: list) -> dd.DD:
    """Concatenate double-double blocks along the last dim."""
    return torch.cat([b[0] for b in blocks], -1), torch.cat([b[1] for b in blocks], -1)


def mp_logsumexp(row, prec: int = MP_PREC):
    r""":math:`\log \sum_i e^{x_i}` of a list of floats, in mpmath at ``prec`` bits (an mpf)."""
    import mpmath

    with mpmath.workprec(prec):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in row))


def mp_log_softmax(row, prec: int = MP_PREC):
    r""":math:`x_i - \operatorname{lse}(x)` for each entry, in mpmath (a list of mpf)."""
    import mpmath

    with mpmath.workprec(prec):
        lse = mp_logsumexp(row, prec + 20)
        return [mpmath.mpf(v) - lse for v in row]


def mp_softmax(row, prec: int = MP_PREC):
    r""":math:`e^{x_i} / \sum_j e^{x_j}` for each entry, in mpmath (a list of mpf)."""
    import mpmath

    with mpmath.workprec(prec):
        return [mpmath.exp(v) for v in mp_log_softmax(row, prec + 20)]
