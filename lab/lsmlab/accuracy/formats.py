r"""The four floating-point formats of the study and their parameters.

A binary format with precision :math:`p` (significand bits, the implicit one
included) and exponent range :math:`[e_{\min}, e_{\max}]` has

.. math::
    u = 2^{-p}, \qquad
    f_{\max} = (2 - 2^{1-p})\, 2^{e_{\max}}, \qquad
    f_{\min} = 2^{e_{\min}}, \qquad
    f_{\mathrm{sub}} = 2^{e_{\min} - p + 1},

the unit roundoff, the largest finite number, the smallest normal and the
smallest subnormal number. :math:`e^{x}` overflows once :math:`x > \log f_{\max}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Format:
    """One binary floating-point format: name, torch dtype, precision and exponent range."""

    name: str
    dtype: torch.dtype
    precision: int
    emin: int
    emax: int

    @property
    def u(self) -> float:
        """Unit roundoff :math:`2^{-p}`: the largest relative error of one rounding (normal range)."""
        return 2.0 ** -self.precision

    @property
    def max(self) -> float:
        """Largest finite number :math:`(2 - 2^{1-p})\\, 2^{e_{\\max}}`."""
        return (2.0 - 2.0 ** (1 - self.precision)) * 2.0 ** self.emax

    @property
    def tiny(self) -> float:
        """Smallest positive normal number :math:`2^{e_{\\min}}`."""
        return 2.0 ** self.emin

    @property
    def smallest_subnormal(self) -> float:
        """Smallest positive subnormal number :math:`2^{e_{\\min} - p + 1}`."""
        return 2.0 ** (self.emin - self.precision + 1)

    @property
    def exp_overflow(self) -> float:
        """:math:`\\log f_{\\max}`: :math:`e^{x}` is finite in this format only for smaller ``x`` (up to rounding)."""
        return math.log(self.max)


FLOAT16 = Format("float16", torch.float16, 11, -14, 15)
BFLOAT16 = Format("bfloat16", torch.bfloat16, 8, -126, 127)
FLOAT32 = Format("float32", torch.float32, 24, -126, 127)
FLOAT64 = Format("float64", torch.float64, 53, -1022, 1023)
FORMATS = (FLOAT16, BFLOAT16, FLOAT32, FLOAT64)
HALF_FORMATS = (FLOAT16, BFLOAT16)



def every_value(dtype: torch.dtype) -> torch.Tensor:
    """All 65,536 values of a 16-bit format (float16 or bfloat16), NaNs and infinities included.

    In the order of their bit patterns read as signed 16-bit integers: first ``-0`` and the
    negative numbers by increasing magnitude (then ``-inf`` and the negative NaNs), then
    ``+0`` and the positive ones. Filter as needed: ``v[v.isfinite()]``, ``v[~v.isnan()]``.
    Checking a claim on every value of the format is cheaper than arguing about a sample.
    """
    if dtype not in (torch.float16, torch.bfloat16):
        raise TypeError(
            f"lsmlab.accuracy.every_value: {dtype} is not a 16-bit floating-point format; "
            "pass torch.float16 or torch.bfloat16 (float32 has 2^32 values: sample it instead)."
        )
    return torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(dtype)
