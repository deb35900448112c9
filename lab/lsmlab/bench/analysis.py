r"""Figures derived from a run's records: fraction of copy bandwidth, allocation cost,
CUDA over CPU speedup and the crossover size. Also loads results files.

All comparisons are between records of the same results file, at the same shape and
dtype, so they compare the same bytes on machines measured together.

- fraction of copy: :math:`f = t_{\text{copy}} / t` (= GB/s over copy's GB/s at that
  device, thread count, dtype and shape; 1 means as fast as moving the bytes once).
- allocation cost: :math:`t_{\text{clone}} / t_{\text{copy}}` (same bytes, fresh output vs
  preallocated one), and the same for torch.log_softmax without and with ``out=``.
- speedup: :math:`t_{\text{CPU}} / t_{\text{CUDA}}`, the CPU at its largest thread count.
- crossover: for one implementation, dtype and width, the smallest tensor (bytes) from
  which CUDA is faster at that size and at every larger one measured.
"""

from __future__ import annotations

import json
from pathlib import Path

KEY = ("device", "threads", "dtype", "rows", "width")


def ok(records: list[dict], **match) -> list[dict]:
    """The records with status "ok" whose fields equal every ``match`` value."""
    return [r for r in records if r["status"] == "ok" and all(r.get(k) == v for k, v in match.items())]


def index(records: list[dict]) -> dict[tuple, float]:
    """{(implementation, device, threads, dtype, rows, width): median seconds} for ok records."""
    return {(r["implementation"],) + tuple(r[k] for k in KEY): r["time"]["median_s"] for r in ok(records)}


def sweep(records: list[dict], implementation: str, device: str, threads: int | None, dtype: str,
          width: int) -> list[dict]:
    """One implementation's ok records along rows at a fixed width, smallest tensor first."""
    return sorted(ok(records, implementation=implementation, device=device, threads=threads, dtype=dtype, width=width),
                  key=lambda r: r["rows"])


def sessions(records: list[dict]) -> list[tuple[str, int | None]]:
    """The (device, threads) pairs present in the records, in run order."""
    return list(dict.fromkeys((r["device"], r["threads"]) for r in records))


def add_fractions(records: list[dict]) -> None:
    """Set ``fraction_of_copy`` = t_copy / t on each ok record (None where copy is missing)."""
    times = index(records)
    for r in ok(records):
        t_copy = times.get(("copy",) + tuple(r[k] for k in KEY))
        r["fraction_of_copy"] = None if t_copy is None else t_copy / r["time"]["median_s"]


def ratios(records: list[dict], slow: str, fast: str) -> list[dict]:
    """t_slow / t_fast at every (device, threads, dtype, shape) where both were timed."""
    times = index(records)
    out = []
    for key, t_fast in times.items():
        if key[0] != fast:
            continue
        t_slow = times.get((slow,) + key[1:])
        if t_slow is not None:
            out.append({**dict(zip(KEY, key[1:])), "bytes_per_tensor": None, slow + "_s": t_slow,
                        fast + "_s": t_fast, "ratio": t_slow / t_fast, "extra_s": t_slow - t_fast})
    _fill_bytes(out, records)
    return out


def _fill_bytes(rows: list[dict], records: list[dict]) -> None:
    sizes = {(r["dtype"], r["rows"], r["width"]): r["bytes_per_tensor"] for r in records}
    for row in rows:
        row["bytes_per_tensor"] = sizes[(row["dtype"], row["rows"], row["width"])]


def cpu_threads_for_comparison(records: list[dict]) -> int | None:
    """The largest CPU thread count in the records: the CPU side of every CUDA comparison."""
    counts = [r["threads"] for r in ok(records, device="cpu")]
    return max(counts) if counts else None


def speedups(records: list[dict]) -> list[dict]:
    """t_CPU / t_CUDA per implementation, dtype and shape timed on both."""
    threads = cpu_threads_for_comparison(records)
    times = index(records)
    out = []
    for (impl, device, _, dtype, rows, width), t_cuda in times.items():
        if device != "cuda":
            continue
        t_cpu = times.get((impl, "cpu", threads, dtype, rows, width))
        if t_cpu is not None:
            out.append({"implementation": impl, "dtype": dtype, "rows": rows, "width": width,
                        "cpu_threads": threads, "cpu_s": t_cpu, "cuda_s": t_cuda, "speedup": t_cpu / t_cuda})
    _fill_bytes(out, records)
    return sorted(out, key=lambda r: (r["implementation"], r["dtype"], r["width"], r["rows"]))


def crossover_of(points: list[dict]) -> dict:
    """Where CUDA starts to win along one size sweep (points sorted by size).

    Returns ``{"from_bytes", "from_rows", "cuda_wins"}``: the first point from which
    every speedup is > 1, and "everywhere", "from", or "never" (then from_* are None).
    """
    start = len(points)
    while start > 0 and points[start - 1]["speedup"] > 1:
        start -= 1
    if start == len(points):
        return {"from_bytes": None, "from_rows": None, "cuda_wins": "never"}
    first = points[start]
    return {"from_bytes": first["bytes_per_tensor"], "from_rows": first["rows"],
            "cuda_wins": "everywhere" if start == 0 else "from"}


def crossovers(records: list[dict]) -> list[dict]:
    """The crossover (see :func:`crossover_of`) per implementation, dtype and width."""
    groups: dict[tuple, list[dict]] = {}
    for p in speedups(records):
        groups.setdefault((p["implementation"], p["dtype"], p["width"]), []).append(p)
    out = []
    for (impl, dtype, width), points in sorted(groups.items()):
        points.sort(key=lambda p: p["rows"])
        out.append({"implementation": impl, "dtype": dtype, "width": width, **crossover_of(points)})
    return out


def summarize(records: list[dict]) -> dict:
    """The derived tables stored in a results file's ``summary``."""
    return {
        "allocation_clone_vs_copy": ratios(records, "clone", "copy"),
        "allocation_log_softmax_alloc_vs_out": ratios(records, "native_log_softmax_alloc", "native_log_softmax"),
        "allocation_composite_vs_out": ratios(records, "composite", "composite_out"),
        "cuda_over_cpu_speedup": speedups(records),
        "crossover": crossovers(records),
        "failed_checks": [{k: r[k] for k in ("implementation",) + KEY}
                          for r in ok(records) if not r["check"]["ok"]],
        "unavailable": [{**{k: r[k] for k in ("implementation",) + KEY}, "reason": r["reason"]}
                        for r in records if r["status"] != "ok"],
    }


def load(path: str | Path) -> dict:
    """One results file."""
    return json.loads(Path(path).read_text())


def load_all(directory: str | Path) -> dict[str, dict]:
    """{file stem: document} for every ``*.json`` results file in ``directory`` with our schema."""
    docs = {}
    for path in sorted(Path(directory).glob("*.json")):
        doc = load(path)
        if isinstance(doc, dict) and str(doc.get("schema", "")).startswith("lsm.bench/"):
            docs[path.stem] = doc
    return docs
