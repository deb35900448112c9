r"""Floating-point arithmetic in one format: every operation correctly rounded, or torch's own.

An :class:`Arithmetic` supplies the operations the algorithms use (``sub``, ``div``,
``exp``, ``log``, ``log1p``, ``add``, ``max``, ``sum``) on a batch of vectors of
shape (R, n), reducing over the last dimension. Each operation obeys the
standard model of floating-point arithmetic,

.. math:: \operatorname{fl}(a \mathbin{op} b) = (a \mathbin{op} b)(1 + \delta), \qquad |\delta| \le u,

with every operation correctly rounded (:class:`Emulated`, :class:`Half` for float16 and
bfloat16, :class:`CorrectlyRounded` for float32 and float64: the same bits on every
machine), or torch's own operations (:class:`Native`, whose exp, log and log1p are within
about one ulp, :math:`2u`, and differ in the last bit between CPU kernels), and a sum of
n terms is accumulated in a fixed order:

* ``"pairwise"`` (the default): add neighbours, then neighbours of the partial
  sums, and so on, :math:`\lceil \log_2 n \rceil` levels; the error bound is
  :math:`\lceil \log_2 n \rceil u` (relative, for terms of one sign), small
  enough that a sum of :math:`10^6` terms stays meaningful even in bfloat16.
* ``"recursive"``: left to right, :math:`s_{k} = \operatorname{fl}(s_{k-1} + t_k)`,
  bound :math:`(n - 1) u`; in a half format it stagnates once the partial sum is
  :math:`2^{p}` to :math:`2^{p+1}` times the terms (summing ones stops at 2048 in
  float16 and at 256 in bfloat16).
* ``"torch"`` (native only): ``torch.sum``, whose order depends on the CPU's
  vector width and which accumulates float16/bfloat16 in float32.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from . import doubledouble as dd
from .formats import FLOAT32, HALF_FORMATS, Format
from .reference import mp_dd
from .rounding import _scale, round_dd_to, round_to

SUMMATIONS = ("pairwise", "recursive", "torch")


def pairwise_sum(t: torch.Tensor, add: Callable) -> torch.Tensor:
    """Sum over the last dim by adding neighbours level by level (an odd tail is padded with an exact 0)."""
    while t.shape[-1] > 1:
        if t.shape[-1] % 2:
            t = torch.cat([t, torch.zeros_like(t[..., :1])], dim=-1)
        t = add(t[..., 0::2], t[..., 1::2])
    return t


def recursive_sum(t: torch.Tensor, add: Callable) -> torch.Tensor:
    """Sum over the last dim left to right: s = t_1, then s = fl(s + t_k) for k = 2..n."""
    s = t[..., :1]
    for k in range(1, t.shape[-1]):
        s = add(s, t[..., k : k + 1])
    return s


class Arithmetic:
    """Operations of one format; ``input`` takes numbers of the format (any dtype that holds them
    exactly) to the carrier dtype, ``output`` returns a result in the format's dtype."""

    fmt: Format
    summation: str

    def __init__(self, fmt: Format, summation: str = "pairwise"):
        if summation not in SUMMATIONS:
            raise ValueError(f"summation must be one of {SUMMATIONS}, got {summation!r}")
        self.fmt, self.summation = fmt, summation

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fmt.name}, {self.summation})"

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """Sum over the last dim, keepdim, in the order named by ``summation``."""
        if self.summation == "pairwise":
            return pairwise_sum(t, self.add)
        if self.summation == "recursive":
            return recursive_sum(t, self.add)
        return self._torch_sum(t)

    def _torch_sum(self, t):
        raise ValueError(f"{self!r}: torch.sum is available only natively")

    @staticmethod
    def max(t: torch.Tensor) -> torch.Tensor:
        """max over the last dim, keepdim: exact in every format."""
        return t.amax(dim=-1, keepdim=True)

    @staticmethod
    def drop_max(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``t`` with the entry at the (first) argmax of ``x`` set to an exact 0."""
        return t.scatter(-1, x.argmax(dim=-1, keepdim=True), 0.0)


class Emulated(Arithmetic):
    r"""Every operation computed in float64 and rounded once to ``fmt`` (:func:`round_to`).

    For +, -, *, / the float64 result is itself correctly rounded and
    :math:`53 \ge 2p + 2`, so rounding it again to :math:`p` bits gives the
    correctly rounded :math:`p`-bit result (double rounding is innocuous). For
    exp, log and log1p the float64 value is within about one float64 ulp of the
    exact one, which decides the rounding to :math:`p` bits unless the exact value
    lies that close to a midpoint; tests/test_accuracy.py checks every float16 and
    bfloat16 argument against double-double values (themselves checked against mpmath):
    no exact value lies within :math:`2^{-28}` of a midpoint.
    """

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return round_to(x.to(torch.float64), self.fmt)

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y.to(self.fmt.dtype)  # exact: y holds numbers of the format

    def _r(self, y):
        return round_to(y, self.fmt)

    def add(self, a, b):
        return self._r(a + b)

    def sub(self, a, b):
        return self._r(a - b)

    def mul(self, a, b):
        return self._r(a * b)

    def div(self, a, b):
        return self._r(a / b)

    def exp(self, a):
        return self._r(torch.exp(a))

    def log(self, a):
        return self._r(torch.log(a))

    def log1p(self, a):
        return self._r(torch.log1p(a))


def _all_values(fmt: Format) -> torch.Tensor:
    """Every one of the 2^16 bit patterns of a 16-bit format, as a tensor of that dtype, indexed by its bits."""
    return torch.arange(2**16, dtype=torch.int32).to(torch.int16).view(fmt.dtype)


def _bits(x: torch.Tensor) -> torch.Tensor:
    return x.view(torch.int16).to(torch.int64) & 0xFFFF


class Half(Arithmetic):
    r"""The same numbers as :class:`Emulated` for float16 and bfloat16, computed faster.

    * +, -, *, /: torch's own float16/bfloat16 operations, which compute in
      float32 and round once to the format; as :math:`24 \ge 2p + 2`, that is
      the correctly rounded result.
    * exp, log, log1p: a 16-bit format has only :math:`2^{16}` numbers, so each
      function is a table of its :class:`Emulated` values, one per bit pattern,
      looked up by the argument's bits.

    tests/test_accuracy.py checks that both give the same bits.
    """

    _tables: dict = {}

    def __init__(self, fmt: Format, summation: str = "pairwise"):
        if fmt not in HALF_FORMATS:
            raise ValueError(f"Half arithmetic is for float16 and bfloat16, not {fmt.name}")
        super().__init__(fmt, summation)

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.dtype == self.fmt.dtype else round_to(x.to(torch.float64), self.fmt).to(self.fmt.dtype)

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def _table(self, name: str) -> torch.Tensor:
        key = (self.fmt.name, name)
        if key not in self._tables:
            every = _all_values(self.fmt).to(torch.float64)
            self._tables[key] = round_to(getattr(torch, name)(every), self.fmt).to(self.fmt.dtype)
        return self._tables[key]

    def _lookup(self, name, a):
        return self._table(name)[_bits(a)]

    add = staticmethod(torch.add)
    sub = staticmethod(torch.sub)
    mul = staticmethod(torch.mul)
    div = staticmethod(torch.div)

    def exp(self, a):
        return self._lookup("exp", a)

    def log(self, a):
        return self._lookup("log", a)

    def log1p(self, a):
        return self._lookup("log1p", a)


class Native(Arithmetic):
    """torch's own element-wise operations in ``fmt.dtype``, with the summation order named."""

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.fmt.dtype)

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def _torch_sum(self, t):
        return t.sum(dim=-1, keepdim=True)

    add = staticmethod(torch.add)
    sub = staticmethod(torch.sub)
    mul = staticmethod(torch.mul)
    div = staticmethod(torch.div)
    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    log1p = staticmethod(torch.log1p)


class CorrectlyRounded(Arithmetic):
    r"""float32 or float64 with every operation correctly rounded, exp, log and log1p included.

    * +, -, *, /: torch's own operations in ``fmt.dtype`` (IEEE: correctly rounded, and
      the same bits on every machine);
    * exp: :func:`exp_dd_wide` (relative error below :math:`2^{-80}`, built from IEEE +, -
      and * alone) rounded once to the format (:func:`~lsmlab.accuracy.rounding.round_dd_to`);
      for float32, faster and to the same bits, torch's float64 exp rounded once wherever it
      is not within :math:`2^{-44}` of a rounding boundary (:func:`_exp_float32`);
    * log, log1p: mpmath at 128 bits, rounded once (one mpmath call per entry: the
      formulas take them of one number per row).

    So each operation obeys the standard model with :math:`|\delta| \le u`, like the
    emulated half formats, and every result is the same on every machine, whatever vector
    unit torch's CPU kernels use. (torch's own float32/float64 ``exp``, ``log`` and
    ``log1p`` are within about one ulp and differ between its AVX-512, AVX2 and scalar
    kernels in the last bit: :class:`Native` computes with those.)
    """

    def __init__(self, fmt: Format, summation: str = "pairwise"):
        if fmt.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"CorrectlyRounded is for float32 and float64, not {fmt.name}")
        super().__init__(fmt, summation)
        self._recent: list = []  # (operation, argument, result) of the last few calls

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.fmt.dtype)

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y

    add = staticmethod(torch.add)
    sub = staticmethod(torch.sub)
    mul = staticmethod(torch.mul)
    div = staticmethod(torch.div)

    def _memo(self, name, a, compute):
        # The formulas take exp of the same x - a, and log of the same sum, again and again:
        # reuse a result whose argument is equal entry for entry (torch.equal): no bit changes.
        for op, arg, result in self._recent:
            if op == name and arg.shape == a.shape and arg.dtype == a.dtype and torch.equal(arg, a):
                return result
        result = compute(a)
        self._recent = [(name, a, result)] + self._recent[:5]
        return result

    def exp(self, a):
        def compute(a):
            x = a.to(torch.float64)
            if self.fmt == FLOAT32:
                return _exp_float32(x)
            hi, lo = exp_dd_wide(x)
            return round_dd_to(hi, lo, self.fmt).to(self.fmt.dtype)

        return self._memo("exp", a, compute)

    def _mp(self, name, a, regular):
        def compute(a):
            x = a.to(torch.float64)
            use = torch.isfinite(x) & regular(x)
            out = getattr(torch, name)(x)  # the exact special values: -inf, inf, nan, log1p(0) = 0
            if bool(use.any()):
                value = mp_dd(name, (x[use], torch.zeros_like(x[use])), prec=128)
                out[use] = round_dd_to(*value, self.fmt)
            return out.to(self.fmt.dtype)

        return self._memo(name, a, compute)

    def log(self, a):
        return self._mp("log", a, lambda x: x > 0)

    def log1p(self, a):
        return self._mp("log1p", a, lambda x: (x > -1) & (x != 0))


def _exp_float32(x: torch.Tensor) -> torch.Tensor:
    r"""The correctly rounded float32 :math:`e^{x}` of float64 ``x``, faster than double-double alone.

    torch's float64 exp is within about one float64 ulp (:math:`2^{-52}` relatively) on every
    CPU kernel, far less than :math:`2^{-44}`. Wherever its value lies farther than
    :math:`2^{-44}` (relatively) from a float32 rounding boundary, rounding it once gives the
    correctly rounded float32 number, whichever kernel computed it; the few values nearer a
    boundary are recomputed with :func:`exp_dd_wide` (relative error below :math:`2^{-80}`).
    """
    e = torch.exp(x)
    finite = torch.isfinite(e)
    e_finite = torch.where(finite, e, torch.zeros_like(e))
    y, _ = _scale(e_finite, FLOAT32)  # e in units of float32's spacing there
    near = finite & ((y - torch.floor(y) - 0.5).abs() <= 2.0**-44 * y)
    out = torch.where(finite, round_to(e_finite, FLOAT32), e)
    if bool(near.any()):
        hi, lo = exp_dd_wide(x[near])
        out[near] = round_dd_to(hi, lo, FLOAT32)
    return out.to(torch.float32)


_SHIFT = 16  # e^x = e^(x - 16 log 2) 2^16 for 700 < x <= 709.79
_LOG2_SHIFT: tuple = ()


def exp_dd_wide(x: torch.Tensor) -> tuple:
    r""":math:`e^{x}` of float64 ``x`` as a double-double, on the whole float64 range.

    :func:`~lsmlab.accuracy.doubledouble.exp_dd` (relative error below :math:`2^{-80}` on
    :math:`[-660, 700]`, up to about :math:`2^{-66}` down to :math:`-720`) with three
    extensions: :math:`+\infty` for :math:`x > 709.79` (float64 overflows at 709.78),
    :math:`e^{x - 16 \log 2}\, 2^{16}` for :math:`700 < x \le 709.79`, and 0 for
    :math:`x < -720` (and :math:`-\infty`). Only float64 has numbers below :math:`e^{-720}`,
    subnormal ones: a formula's term that small is added to a sum that holds a term
    :math:`\ge 1`, or is a softmax entry below the reference's floor :math:`2^{-950}`,
    which no metric measures.
    """
    global _LOG2_SHIFT
    if not _LOG2_SHIFT:
        import mpmath

        with mpmath.workprec(200):
            c = _SHIFT * mpmath.log(2)
            _LOG2_SHIFT = (float(c), float(c - float(c)))
    nan, over, under = torch.isnan(x), x > 709.79, x < dd.EXP_MIN
    big = (x > 700) & ~over
    zero = torch.zeros_like(x)
    safe = torch.where(nan | over | under, zero, x)
    h, l = dd.two_sum(safe, torch.where(big, -_LOG2_SHIFT[0], zero))  # x - 16 log 2, exactly
    h, l = dd.fast_two_sum(h, l - torch.where(big, _LOG2_SHIFT[1], zero))
    e_h, e_l = dd.exp_dd((h, l))
    scale = torch.where(big, 2.0**_SHIFT, zero + 1)
    e_h = torch.where(over, math.inf, torch.where(nan, x, torch.where(under, zero, e_h * scale)))
    return e_h, torch.where(over | nan | under, zero, e_l * scale)


class Upcast(CorrectlyRounded):
    """The shifted formulas in float32 (correctly rounded operations) and the result rounded once
    to ``fmt``: the way torch's softmax and lsm compute float16 and bfloat16."""

    def __init__(self, fmt: Format, summation: str = "pairwise"):
        super().__init__(FLOAT32, summation)
        self.fmt_out = fmt

    def __repr__(self) -> str:
        return f"Upcast({self.fmt_out.name} via float32, {self.summation})"

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float32)

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y.to(self.fmt_out.dtype)  # float32 to float16/bfloat16: one correct rounding
