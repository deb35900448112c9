"""A plain-text table of a run: one shape per (device, threads, dtype), then the crossovers.

The shape shown is the one closest to 4096 x 4096 (64 MiB in float32): big enough to be
bandwidth-bound on a CPU, the size the project's write-up quotes.
"""

from __future__ import annotations

import math

from .analysis import ok

HEADLINE = (4096, 4096)


def headline_shape(records: list[dict]) -> tuple[int, int] | None:
    """The (rows, width) among the records nearest to 4096 x 4096 (log distance)."""
    shapes = {(r["rows"], r["width"]) for r in records}
    if not shapes:
        return None
    return min(shapes, key=lambda s: (abs(math.log(s[0] / HEADLINE[0])) + abs(math.log(s[1] / HEADLINE[1])), s))


def fmt_seconds(s: float) -> str:
    """Seconds in ms with three significant figures (or µs below 0.1 ms)."""
    return f"{s * 1e6:8.2f} us" if s < 1e-4 else f"{s * 1e3:8.3f} ms"


def table(doc: dict) -> str:
    """The text printed at the end of ``python -m lsmlab.bench``."""
    records = doc["results"]
    shape = headline_shape(records)
    lines = []
    groups = dict.fromkeys((r["device"], r["threads"], r["dtype"]) for r in records)
    for device, threads, dtype in groups:
        where = f"{device}" + ("" if threads is None else f", {threads} thread{'s' if threads > 1 else ''}")
        lines.append(f"\n{where}, {dtype}, {shape[0]} x {shape[1]}:")
        lines.append(f"  {'implementation':26} {'median':>11} {'IQR':>11} {'GB/s':>8} {'of copy':>8}  check")
        for r in records:
            if (r["device"], r["threads"], r["dtype"], r["rows"], r["width"]) != (device, threads, dtype, *shape):
                continue
            if r["status"] != "ok":
                lines.append(f"  {r['implementation']:26} unavailable: {r['reason']}")
                continue
            frac = r.get("fraction_of_copy")
            lines.append(
                f"  {r['implementation']:26} {fmt_seconds(r['time']['median_s'])} {fmt_seconds(r['time']['iqr_s'])} "
                f"{r['gbps']:8.2f} {'' if frac is None else f'{100 * frac:7.0f}%':>8}  "
                f"{'ok' if r['check']['ok'] else 'FAILED'}"
            )
    for c in doc["summary"]["crossover"]:
        if c["implementation"] in ("native_log_softmax", "composite", "copy"):
            where = {"never": "never", "everywhere": "at every size"}.get(
                c["cuda_wins"], f"from {c['from_rows']} x {c['width']} ({c['from_bytes'] / 2**20:.3g} MiB)")
            lines.append(f"CUDA faster than CPU, {c['implementation']} {c['dtype']} width {c['width']}: {where}")
    failed = doc["summary"]["failed_checks"]
    if failed:
        lines.append(f"\n{len(failed)} output check(s) failed, e.g. {failed[0]}")
    n_ok = len(ok(records))
    lines.append(f"\n{n_ok} of {len(records)} cases timed; {len(records) - n_ok} unavailable; {doc['elapsed_s']:.0f} s")
    return "\n".join(lines)
