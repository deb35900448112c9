r"""A one-line progress report on stderr: count, percent, what runs now, elapsed, ETA.

The ETA weighs each case by its cost, roughly proportional to ``numel + overhead``:

.. math:: \text{eta} = \text{elapsed} \cdot \frac{\sum_{\text{left}} w}{\sum_{\text{done}} w},
    \qquad w = \text{numel} + 2^{16}

On a terminal the line is rewritten in place (carriage return); otherwise (a log file,
CI) a line is printed at most every 5 % of the work. (tqdm, the usual choice, writes its
carriage-return updates into a log file too, which is why this is written by hand.)
"""

from __future__ import annotations

import sys
import time

OVERHEAD_ELEMENTS = 1 << 16


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Call :meth:`step` before each case and :meth:`close` at the end."""

    def __init__(self, weights: list[int], stream=None, enabled: bool = True) -> None:
        self.weights = [w + OVERHEAD_ELEMENTS for w in weights]
        self.total = sum(self.weights)
        self.done = 0
        self.index = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self._last_reported = -1.0

    def line(self, label: str) -> str:
        """The progress text for the case about to run."""
        elapsed = time.perf_counter() - self.start
        frac = self.done / self.total if self.total else 1.0
        eta = f"eta {clock(elapsed * (1 - frac) / frac)}" if frac > 0 else "eta ?"
        n = len(self.weights)
        return f"[{self.index + 1:>{len(str(n))}}/{n}] {100 * frac:5.1f}% {label}  {clock(elapsed)} {eta}"

    def step(self, label: str) -> None:
        """Report the case that is about to run, then count the previous one as done."""
        if self.enabled:
            frac = self.done / self.total if self.total else 1.0
            if self.tty:
                self.stream.write("\r\033[K" + self.line(label))
                self.stream.flush()
            elif frac - self._last_reported >= 0.05 or self.index == 0:
                self._last_reported = frac
                self.stream.write(self.line(label) + "\n")
                self.stream.flush()
        if self.index < len(self.weights):
            self.done += self.weights[self.index]
            self.index += 1

    def close(self) -> None:
        """Finish the line with the total time."""
        if self.enabled:
            elapsed = clock(time.perf_counter() - self.start)
            self.stream.write(("\r\033[K" if self.tty else "") + f"done: {len(self.weights)} cases in {elapsed}\n")
            self.stream.flush()
