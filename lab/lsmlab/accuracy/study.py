r"""Run every formula on a batch of vectors in one format and measure its error against the reference.

:func:`errors` returns, for each function and algorithm, one error (in ulps of the
format, :mod:`~lsmlab.accuracy.metrics`) per vector. The formulas run in
:func:`arithmetic`: every operation correctly rounded to the format, so every number
is the same on every machine. Besides the formulas of
:mod:`~lsmlab.accuracy.algorithms` it measures two fixed points:

* ``"correctly rounded"``: the reference rounded once to the format, the best
  any formula can do (at most 0.5 ulp);
* ``"float32 inside"`` (float16 and bfloat16 only): the shifted formula computed
  in float32 and rounded once to the format, as torch's softmax and lsm do.

The work is split into pieces of at most :data:`CHUNK` numbers, which keeps
every tensor in cache (this machine's large allocations are slow) without
changing a single bit: every operation is element-wise or a sum along a row,
and each row stays whole.
"""

from __future__ import annotations

import math

import torch

from . import algorithms
from .arithmetic import CorrectlyRounded, Half, Upcast
from .formats import HALF_FORMATS, Format
from .metrics import METRICS
from .reference import reference
from .rounding import round_dd_to, round_to

CHUNK = 2**17
UPCAST = {
    "logsumexp": algorithms.lse_shifted,
    "softmax": algorithms.softmax_division,
    "log_softmax": algorithms.log_softmax_shifted,
}


def arithmetic(fmt: Format, summation: str = "pairwise"):
    """The studied arithmetic, every operation correctly rounded: :class:`~lsmlab.accuracy.arithmetic.Half`
    for float16/bfloat16, :class:`~lsmlab.accuracy.arithmetic.CorrectlyRounded` for float32/float64."""
    return Half(fmt, summation) if fmt in HALF_FORMATS else CorrectlyRounded(fmt, summation)


def _measure(out, function, name, y, ref, fmt):
    for metric, measure, field in METRICS[function]:
        out[metric, name] = measure(y, getattr(ref, field), fmt)


def _errors_of_chunk(x, fmt, functions, summation, extras):
    ref = reference(x)
    ar, up = arithmetic(fmt, summation), Upcast(fmt, summation)
    out = {}
    for function in functions:
        for name, alg in algorithms.FUNCTIONS[function].items():
            _measure(out, function, name, algorithms.evaluate(alg, x, ar), ref, fmt)
        if extras:
            exact = round_dd_to(*getattr(ref, METRICS[function][0][2]), fmt)
            _measure(out, function, "correctly rounded", exact, ref, fmt)
            if fmt in HALF_FORMATS:
                y = algorithms.evaluate(UPCAST[function], x, up)
                _measure(out, function, "float32 inside", y, ref, fmt)
    return out


def errors(x: torch.Tensor, fmt: Format, functions=tuple(algorithms.FUNCTIONS), summation: str = "pairwise",
           extras: bool = True) -> dict:
    """{(metric, algorithm): errors in ulps, one per row} for the float64 batch ``x`` rounded to ``fmt``.

    The metrics are those of :data:`~lsmlab.accuracy.metrics.METRICS` for each function named.
    """
    x = round_to(x.to(torch.float64), fmt).to(fmt.dtype)
    rows = max(1, CHUNK // x.shape[-1])
    pieces = [_errors_of_chunk(x[i : i + rows], fmt, functions, summation, extras) for i in range(0, x.shape[0], rows)]
    return {key: torch.cat([p[key] for p in pieces]) for key in pieces[0]}


def measure(x: torch.Tensor, fmt: Format, implementations: dict) -> dict:
    """{(metric, name): errors in ulps per row} of other implementations, e.g. torch's own functions.

    ``implementations`` maps a name to {function: callable}; each callable takes the batch in
    ``fmt.dtype`` (reducing over the last dim) and returns its result in any dtype; a
    logsumexp may drop the reduced dim.
    """
    x = round_to(x.to(torch.float64), fmt).to(fmt.dtype)
    rows = max(1, CHUNK // x.shape[-1])
    pieces = []
    for i in range(0, x.shape[0], rows):
        chunk, out = x[i : i + rows], {}
        ref = reference(chunk)
        for name, functions in implementations.items():
            for function, fn in functions.items():
                y = fn(chunk).to(torch.float64)
                _measure(out, function, name, y.reshape(chunk.shape[0], -1), ref, fmt)
        pieces.append(out)
    return {key: torch.cat([p[key] for p in pieces]) for key in pieces[0]}


def summarize(v: torch.Tensor) -> tuple[float, float, float]:
    """(median, worst, share not finite) of one algorithm's errors; unmeasured (NaN) entries are skipped.

    An overflow counts as an infinite error, so it raises the median if it happens in more than
    half of the vectors and the worst case as soon as it happens once.
    """
    v = v[~torch.isnan(v)]
    if v.numel() == 0:
        return math.nan, math.nan, math.nan
    return v.median().item(), v.max().item(), (~torch.isfinite(v)).double().mean().item()


def merge(*results: dict) -> dict:
    """Concatenate the per-vector errors of several :func:`errors` results, key by key."""
    return {key: torch.cat([r[key] for r in results]) for key in results[0]}
