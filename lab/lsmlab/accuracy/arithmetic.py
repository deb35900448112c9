r"""Floating-point arithmetic in one format: emulated (rounded after every operation) or native.

An :class:`Arithmetic` supplies the operations the algorithms use (``sub``, ``div``,
``exp``, ``log``, ``log1p``, ``add``, ``max``, ``sum``) on a batch of vectors of
shape (R, n), reducing over the last dimension. Each operation obeys the
standard model of floating-point arithmetic,

.. math:: \operatorname{fl}(a \mathbin{op} b) = (a \mathbin{op} b)(1 + \delta), \qquad |\delta| \le u,

(for torch's own float32/float64 exp, log and log1p, within about one ulp,
:math:`2u`), and a sum of n terms is accumulated in a fixed order:

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

from typing import Callable

import torch

from .formats import FLOAT32, HALF_FORMATS, Format
from .rounding import round_to

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


class Upcast(Native):
    """Compute natively in float32, round the result once to ``fmt``: what torch and lsm do for halves."""

    def __init__(self, fmt: Format, summation: str = "pairwise"):
        super().__init__(FLOAT32, summation)
        self.fmt_out = fmt

    def __repr__(self) -> str:
        return f"Upcast({self.fmt_out.name} via float32, {self.summation})"

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y.to(self.fmt_out.dtype)  # float32 to float16/bfloat16: one correct rounding
