"""``python -m lsmlab.bench``: run the grid, show progress on stderr, write JSON, print a table.

Examples::

    python -m lsmlab.bench --device cpu --out results/cpu.json
    python -m lsmlab.bench --device cpu cuda --out results/h100.json
    python -m lsmlab.bench --quick                      # seconds: a tiny grid, no torch.compile
    python -m lsmlab.bench --list                       # what each implementation is

Exit status 0 on success, 2 for a bad command line (including asking for CUDA where no
CUDA device is visible).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import grid, report
from .harness import BenchConfig, check_devices, run_benchmark
from .implementations import NAMES, registry
from .timing import TimingConfig

QUICK_IMPLEMENTATIONS = tuple(n for n in NAMES if n != "compiled")


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m lsmlab.bench",
        description="Time torch's log_softmax and softmax, lsm's composite, the naive composite, "
        "torch.compile of the composite, a plain copy and the composites' single ops, on the CPU and on CUDA.",
        epilog="Every rows x width pair under the device's cap is run, in float32, float16 and "
        "bfloat16 unless --dtypes says otherwise.",
    )
    p.add_argument("--device", "--devices", dest="devices", nargs="+", default=["cpu"], choices=["cpu", "cuda"],
                   metavar="DEVICE",
                   help="cpu and/or cuda (default: cpu)")
    p.add_argument("--out", type=Path, help="write the results JSON here (parent folders are created)")
    p.add_argument("--quick", action="store_true",
                   help=f"a tiny grid (rows {grid.QUICK_ROWS}, widths {grid.QUICK_WIDTHS}), one thread, short timing, "
                   "no torch.compile: checks that everything runs")
    p.add_argument("--rows", type=int, nargs="+", metavar="N",
                   help=f"row counts (default: powers of 4, {grid.ROWS[0]}..{grid.ROWS[-1]})")
    p.add_argument("--widths", type=int, nargs="+", metavar="N",
                   help=f"row widths, the softmax dimension (default: {grid.WIDTHS})")
    p.add_argument("--max-mib-cpu", type=float, default=grid.CAP_MIB["cpu"],
                   help="largest float32 tensor on the CPU, MiB (default: %(default)s)")
    p.add_argument("--max-mib-cuda", type=float, default=grid.CAP_MIB["cuda"],
                   help="largest float32 tensor on CUDA, MiB (default: %(default)s)")
    p.add_argument("--dtypes", nargs="+", choices=list(grid.DTYPE_NAMES), metavar="DTYPE",
                   help=f"dtypes on every device, of {', '.join(grid.DTYPE_NAMES)} "
                   "(default: float32 float16 bfloat16)")
    p.add_argument("--threads", nargs="+", default=None, metavar="N",
                   help='CPU thread counts, ints or "all" (torch\'s default count) (default: 1 all)')
    p.add_argument("--impl", "--implementations", dest="implementations", nargs="+", choices=NAMES, metavar="NAME",
                   help="implementations to time (default: all; --list describes them): " + ", ".join(NAMES))
    p.add_argument("--min-run-time", type=float, help="adaptive_autorange min_run_time, s (default 0.1; quick 0.01)")
    p.add_argument("--max-run-time", type=float,
                   help="adaptive_autorange max_run_time, s (default 1.0, raised to 2.5 calls for slow ones; quick 0.05)")
    p.add_argument("--threshold", type=float, default=0.1, help="stop once IQR/median is below this (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the randn inputs (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress line and no table")
    p.add_argument("--list", action="store_true", help="describe the implementations and exit")
    return p


def config_from(args: argparse.Namespace) -> BenchConfig:
    """Turn parsed arguments into a :class:`BenchConfig` (--quick supplies the defaults it changes)."""
    quick = args.quick
    timing = TimingConfig(
        min_run_time=args.min_run_time if args.min_run_time is not None else (0.01 if quick else 0.1),
        max_run_time=args.max_run_time if args.max_run_time is not None else (0.05 if quick else 1.0),
        threshold=args.threshold,
    )
    dtypes = dict(grid.DTYPES)
    if args.dtypes:
        dtypes = {d: tuple(args.dtypes) for d in dtypes}
    return BenchConfig(
        devices=tuple(dict.fromkeys(args.devices)),
        rows=tuple(args.rows or (grid.QUICK_ROWS if quick else grid.ROWS)),
        widths=tuple(args.widths or (grid.QUICK_WIDTHS if quick else grid.WIDTHS)),
        cap_mib={"cpu": args.max_mib_cpu, "cuda": args.max_mib_cuda},
        dtypes=dtypes,
        threads=tuple(args.threads or (("1",) if quick else ("1", "all"))),
        implementations=tuple(args.implementations or (QUICK_IMPLEMENTATIONS if quick else NAMES)),
        timing=timing,
        seed=args.seed,
    )


def validate(config: BenchConfig) -> None:
    """Refuse, before any work, a command line that cannot give a useful run (ValueError)."""
    grid.resolve_threads(config.threads, 1)
    if min(config.rows) < 1 or min(config.widths) < 1:
        raise ValueError("--rows and --widths must be 1 or more")
    t = config.timing
    if not 0 < t.min_run_time <= t.max_run_time or t.threshold <= 0:
        raise ValueError("need 0 < --min-run-time <= --max-run-time and --threshold > 0")
    for device in config.devices:
        if not grid.shapes(config.rows, config.widths, config.cap_mib[device] * grid.MiB):
            raise ValueError(f"no rows x width fits under the {device} cap of {config.cap_mib[device]} MiB; "
                             f"raise --max-mib-{device} or choose smaller --rows/--widths")


def write_json(doc: dict, path: Path) -> None:
    """Write ``doc`` to ``path`` whole or not at all: a temporary file beside it, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    p = parser()
    args = p.parse_args(argv)
    if args.list:
        for name, impl in registry().items():
            print(f"{name:26} {'preallocated' if impl.preallocated else 'allocates   '}  {impl.description}")
        return 0
    try:
        check_devices(tuple(args.devices))
        config = config_from(args)
        validate(config)
    except ValueError as error:
        p.error(str(error))  # exit status 2, with the usage line
    doc = run_benchmark(config, progress=not args.quiet)
    doc["config"]["command"] = ["python", "-m", "lsmlab.bench"] + list(sys.argv[1:] if argv is None else argv)
    if args.out:
        write_json(doc, args.out)
    if not args.quiet:
        print(report.table(doc))
        if args.out:
            print(f"wrote {args.out}")
    return 0
