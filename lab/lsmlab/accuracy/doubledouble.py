r"""Double-double arithmetic on float64 tensors: about 106 significant bits, vectorised.

A double-double is an unevaluated sum :math:`h + l` of two float64 numbers with
:math:`|l| \le \tfrac12 \operatorname{ulp}(h)`. The building blocks are exact
error-free transformations (Knuth, Dekker):

.. math::
    a + b = s + e \;\; (\texttt{two\_sum}), \qquad
    a \times b = p + e \;\; (\texttt{two\_prod}),

which use only IEEE +, - and * and so give the same bits on every machine.
:func:`exp_dd` evaluates :math:`e^{h + l}` with a relative error below
:math:`2^{-80}`, the only non-elementary ingredient of the reference
(:mod:`lsmlab.accuracy.reference`, which takes its one logarithm per row from
mpmath). Its constants come from mpmath.
"""

from __future__ import annotations

import torch

from .rounding import pow2

DD = tuple  # (hi, lo), two float64 tensors of one shape

_SPLITTER = 2.0**27 + 1.0
TABLE_BITS = 10  # exp reduction: x = (N / 2^10) log 2 + r, |r| <= log(2) / 2^11
EXP_MIN = -720.0  # e^x for x below this is returned as 0 (float64 would be subnormal there)


def two_sum(a: torch.Tensor, b: torch.Tensor) -> DD:
    """s + e = a + b exactly, s = fl(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a: torch.Tensor, b: torch.Tensor) -> DD:
    """s + e = a + b exactly, valid when |a| >= |b| or a = 0 (Dekker)."""
    s = a + b
    return s, b - (s - a)


def _split(a):
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def two_prod(a: torch.Tensor, b: torch.Tensor) -> DD:
    """p + e = a b exactly, p = fl(a b) (Dekker, Veltkamp splitting; |a|, |b| < 2^995)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def add(a: DD, b: DD) -> DD:
    """Double-double sum, relative error about 2^-104 (the 'accurate' QD-library addition)."""
    s, e = two_sum(a[0], b[0])
    t, f = two_sum(a[1], b[1])
    s, e = fast_two_sum(s, e + t)
    return fast_two_sum(s, e + f)


def neg(a: DD) -> DD:
    return -a[0], -a[1]


def mul(a: DD, b: DD) -> DD:
    """Double-double product, relative error about 2^-104."""
    p, e = two_prod(a[0], b[0])
    return fast_two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def to_float(a: DD) -> torch.Tensor:
    """h + l rounded to float64."""
    return a[0] + a[1]


def pairwise_sum(a: DD) -> DD:
    """Sum over the last dim, keepdim, adding neighbours level by level (relative error below 2^-100 for n <= 2^20 terms of one sign)."""
    h, l = a
    while h.shape[-1] > 1:
        if h.shape[-1] % 2:
            h = torch.cat([h, torch.zeros_like(h[..., :1])], dim=-1)
            l = torch.cat([l, torch.zeros_like(l[..., :1])], dim=-1)
        h, l = add((h[..., 0::2], l[..., 0::2]), (h[..., 1::2], l[..., 1::2]))
    return h, l


def _constants():
    import mpmath

    with mpmath.workprec(300):
        step = mpmath.log(2) / 2**TABLE_BITS
        c1 = float(mpmath.mpf(mpmath.nint(step * 2**41)) / 2**41)  # 32 significant bits
        c2 = float(mpmath.mpf(mpmath.nint((step - c1) * 2**73)) / 2**73)  # 32 more bits
        c3 = float(step - c1 - c2)
        hi, lo = [], []
        for j in range(2**TABLE_BITS):
            v = mpmath.mpf(2) ** (mpmath.mpf(j) / 2**TABLE_BITS)
            hi.append(float(v))
            lo.append(float(v - float(v)))
        inv_step = float(1 / step)
    f64 = torch.float64
    return (c1, c2, c3, inv_step), (torch.tensor(hi, dtype=f64), torch.tensor(lo, dtype=f64))


_CONST = None


def exp_dd(a: DD) -> DD:
    r"""e^(h + l) as a double-double, relative error below 2^-80 for -660 <= h + l <= 700.

    Reduction: :math:`N = \operatorname{round}(h \cdot 2^{10} / \log 2)`,
    :math:`r = (h + l) - N \log(2) / 2^{10}` with the constant split in three
    so that :math:`N c_1` and :math:`N c_2` are exact, :math:`|r| \le 3.4 \cdot 10^{-4}`;
    then :math:`e^{h + l} = 2^{\lfloor N / 2^{10} \rfloor}\, 2^{j / 2^{10}}\, e^{r}`,
    :math:`j = N \bmod 2^{10}`, with the table :math:`2^{j/2^{10}}` from mpmath and

    .. math:: e^{r} = 1 + r + \tfrac{r^2}{2} + r^3 \left(\tfrac16 + \tfrac{r}{24}
              + \tfrac{r^2}{120} + \tfrac{r^3}{720}\right) + O(r^7),

    :math:`1 + r + r^2/2` in double-double, the rest in float64 (its rounding
    error, about :math:`2^{-53} r^3/6 < 2^{-90}`, and the truncation,
    :math:`r^7/7! < 2^{-92}`, are far below the double-double roundings).
    Below :math:`h = -660` the low part becomes subnormal and the error grows
    (to about :math:`2^{-53}` at :data:`EXP_MIN`); below :data:`EXP_MIN` the result is 0.
    """
    global _CONST
    if _CONST is None:
        _CONST = _constants()
    (c1, c2, c3, inv_step), (t_hi, t_lo) = _CONST
    h, l = a
    if bool((h > 700).any()):
        raise ValueError("exp_dd: argument above 700 would overflow float64")
    underflow = h < EXP_MIN
    h = torch.where(underflow, torch.zeros_like(h), h)
    l = torch.where(underflow, torch.zeros_like(l), l)
    n = torch.round(h * inv_step)
    r = two_sum(h - n * c1, -(n * c2))  # both exact (Sterbenz; 21-bit N times 32-bit c)
    r = fast_two_sum(r[0], r[1] + (l - n * c3))
    rh = r[0]
    sq_h, sq_l = two_prod(rh, rh)
    half_sq = (0.5 * sq_h, 0.5 * sq_l + rh * r[1])  # r^2 / 2 as a double-double
    tail = rh * rh * rh * (1 / 6 + rh * (1 / 24 + rh * (1 / 120 + rh / 720)))
    one = (torch.ones_like(rh), torch.zeros_like(rh))
    er = add(add(one, r), add(half_sq, (tail, torch.zeros_like(tail))))
    j = torch.remainder(n, 2**TABLE_BITS)
    m = ((n - j) / 2**TABLE_BITS).to(torch.int64)
    idx = j.to(torch.int64)
    y = mul((t_hi[idx], t_lo[idx]), er)
    m1 = torch.div(m, 2, rounding_mode="floor")  # 2^m = 2^m1 2^(m - m1), each factor in range
    s1, s2 = pow2(m1), pow2(m - m1)
    out_h, out_l = y[0] * s1 * s2, y[1] * s1 * s2
    zero = torch.zeros_like(out_h)
    return torch.where(underflow, zero, out_h), torch.where(underflow, zero, out_l)
