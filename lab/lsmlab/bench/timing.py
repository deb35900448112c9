r"""One measurement: torch.utils.benchmark's adaptive_autorange around ``run(x, state)``.

:class:`torch.utils.benchmark.Timer` runs the statement in blocks of ``number`` calls,
sized so that the timer's own overhead is under 0.01 % of a block, synchronises CUDA
before reading the clock at both ends of a block, and sets the CPU thread count for the
duration. ``adaptive_autorange`` keeps adding blocks until at least four have run, the
total exceeds ``min_run_time`` and the spread is small (IQR / median < ``threshold``),
or until ``max_run_time`` has been spent. Each block gives one per-call time (block
time / number); the statistics below are over those.

Achieved bandwidth counts each tensor once: input read once and output written once,

.. math:: \text{GB/s} = \frac{2 \cdot \text{numel} \cdot \text{itemsize}}{t_{\text{median}}} \cdot 10^{-9},

the traffic of an ideal fused kernel, whatever the implementation really moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.benchmark import Timer


@dataclass(frozen=True)
class TimingConfig:
    """How long to measure: adaptive_autorange's ``threshold``, ``min_run_time``, ``max_run_time`` (s)."""

    min_run_time: float = 0.1
    max_run_time: float = 1.0
    threshold: float = 0.1


def quantile(sorted_times: list[float], q: float) -> float:
    """Linear-interpolation quantile of sorted values (as torch.quantile and Measurement do)."""
    return float(torch.tensor(sorted_times, dtype=torch.float64).quantile(q))


def max_run_time(config: TimingConfig, call_s: float) -> float:
    """``max_run_time``, raised to 2.5 calls where one call is that slow, so that at least
    three blocks (one call each) are timed and the IQR means something."""
    return max(config.max_run_time, 2.5 * call_s)


def measure(run, x: torch.Tensor, state, threads: int | None, config: TimingConfig, call_s: float = 0.0) -> dict:
    """Time ``run(x, state)``; return per-call seconds: median, IQR, quartiles and counts.

    ``threads`` is the CPU intra-op thread count to time with (None on CUDA: torch's current);
    ``call_s`` a rough time of one call, for :func:`max_run_time`.
    """
    timer = Timer(
        stmt="run(x, state)",
        globals={"run": run, "x": x, "state": state},
        num_threads=threads if threads is not None else torch.get_num_threads(),
    )
    m = timer.adaptive_autorange(
        threshold=config.threshold, min_run_time=config.min_run_time, max_run_time=max_run_time(config, call_s)
    )
    times = sorted(m.times)
    return {
        "median_s": float(m.median),
        "iqr_s": float(m.iqr),
        "p25_s": quantile(times, 0.25),
        "p75_s": quantile(times, 0.75),
        "min_s": times[0],
        "mean_s": float(m.mean),
        "blocks": len(times),
        "calls_per_block": int(m.number_per_run),
        "steady": bool(m.iqr / m.median < config.threshold) if m.median > 0 else False,
    }


def minor_faults_per_call(run, x: torch.Tensor, state, calls: int = 3) -> float | None:
    """Minor page faults of this process per call of ``run(x, state)``, over ``calls`` calls
    (None where the OS does not count them). A fresh output whose pages come from the OS
    faults once per page on its first write; an output reused from the allocator does not.
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        run(x, state)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def bandwidth_gbps(numel: int, itemsize: int, seconds: float) -> float:
    """2 * numel * itemsize / seconds / 1e9: one read of x and one write of y, in GB/s."""
    return 2 * numel * itemsize / seconds / 1e9
