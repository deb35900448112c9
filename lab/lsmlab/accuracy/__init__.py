r"""lsmlab.accuracy: how accurate is each formula for logsumexp, softmax and log_softmax?

The error study of notebooks 9 (the method) and 10 (the findings), after P. Blanchard,
D. J. Higham and N. J. Higham, "Accurately computing the log-sum-exp and softmax functions",
IMA J. Numer. Anal. 41(4), 2021. One idea per module:

* :mod:`~lsmlab.accuracy.formats`: float16, bfloat16, float32, float64, their unit roundoff u, and
  every value of a 16-bit format (:func:`~lsmlab.accuracy.formats.every_value`);
* :mod:`~lsmlab.accuracy.rounding`: correct rounding of float64 numbers to a narrower format;
* :mod:`~lsmlab.accuracy.arithmetic`: a format's arithmetic, every operation correctly rounded
  (emulated for float16/bfloat16) or torch's own, with a fixed summation order;
* :mod:`~lsmlab.accuracy.doubledouble`: about 106-bit arithmetic and exp for the reference;
* :mod:`~lsmlab.accuracy.reference`: reference values, checked against mpmath;
* :mod:`~lsmlab.accuracy.algorithms`: the formulas compared;
* :mod:`~lsmlab.accuracy.metrics`: errors against the reference, in ulps;
* :mod:`~lsmlab.accuracy.ulps`: errors in ulps and the distance between floats in steps;
* :mod:`~lsmlab.accuracy.bounds`: worst-case rounding bounds (:math:`\gamma_k`, a softmax row's sum);
* :mod:`~lsmlab.accuracy.conditioning`: the condition numbers of logsumexp and softmax;
* :mod:`~lsmlab.accuracy.machine`: which CPU kernels ran, and whether they computed the stored outputs;
* :mod:`~lsmlab.accuracy.inputs`: seeded test vectors;
* :mod:`~lsmlab.accuracy.study`: all formulas on a batch, all metrics.

Not imported by ``import lsm``; it needs mpmath (a dependency of torch, via sympy).
"""

from .formats import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FORMATS, HALF_FORMATS, Format, every_value
from .ulps import ulp, ulp_error, ulps_between

__all__ = [
    "Format", "FLOAT16", "BFLOAT16", "FLOAT32", "FLOAT64", "FORMATS", "HALF_FORMATS",
    "every_value", "ulp", "ulp_error", "ulps_between",
]
