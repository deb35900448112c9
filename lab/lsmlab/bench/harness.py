r"""The benchmark loop: every implementation x shape x dtype x device (x CPU thread count).

For each case the harness

1. draws the input ``x = randn(rows, width)`` (seeded, on the device, in the dtype),
2. allocates the implementation's state (its preallocated output, if it has one),
3. calls it once (for torch.compile this call compiles; its time is ``first_call_s``)
   and checks the output against ``torch.log_softmax(x.float(), -1)`` (:mod:`.checks`),
4. calls it once more (warm), to size the measurement so that even a slow case gets
   three timed blocks, and times it with :func:`lsmlab.bench.timing.measure`,
5. counts the minor page faults of three more calls (a fresh output's pages faulted in),

and records ``status: "ok"``, or ``status: "unavailable"`` with the exception as the
``reason`` (a failed torch.compile, an out-of-memory, an op missing from this torch),
so the grid in the output is always complete. A torch.compile failure is remembered
for the rest of its (device, threads, dtype) session rather than retried for every shape.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field

import torch

from . import analysis, checks, environment, grid
from .implementations import NAMES, CompiledComposite, Implementation, aten_ops, registry
from .progress import Progress
from .timing import TimingConfig, bandwidth_gbps, measure, minor_faults_per_call

SCHEMA = "lsm.bench/1"


@dataclass(frozen=True)
class BenchConfig:
    """Everything that defines a run; stored verbatim in the output's ``config``."""

    devices: tuple[str, ...] = ("cpu",)
    rows: tuple[int, ...] = grid.ROWS
    widths: tuple[int, ...] = grid.WIDTHS
    cap_mib: dict = field(default_factory=lambda: dict(grid.CAP_MIB))
    dtypes: dict = field(default_factory=lambda: dict(grid.DTYPES))
    threads: tuple[str, ...] = ("1", "all")
    implementations: tuple[str, ...] = NAMES
    timing: TimingConfig = TimingConfig()
    seed: int = 0


@dataclass(frozen=True)
class Session:
    """One device at one CPU thread count (None on CUDA); torch.compile restarts per dtype in it."""

    device: str
    threads: int | None


def sessions(config: BenchConfig) -> list[Session]:
    """The (device, threads) pairs to run, CPU thread counts resolved ("all": torch's default)."""
    out = []
    for device in config.devices:
        if device == "cpu":
            out += [Session("cpu", n) for n in grid.resolve_threads(config.threads, environment.DEFAULT_THREADS)]
        else:
            out.append(Session(device, None))
    return out


def plan(config: BenchConfig) -> list[tuple[Session, str, tuple[int, int], str]]:
    """Every case in run order: (session, dtype, (rows, width), implementation)."""
    cases = []
    for s in sessions(config):
        shapes = grid.shapes(config.rows, config.widths, config.cap_mib[s.device] * grid.MiB)
        for dtype in config.dtypes[s.device]:
            cases += [(s, dtype, shape, name) for shape in shapes for name in config.implementations]
    return cases


@contextlib.contextmanager
def cpu_threads(n: int | None):
    """Run the block with torch's intra-op thread count set to ``n`` (unchanged for None)."""
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def make_input(shape: tuple[int, int], dtype: torch.dtype, device: str, seed: int) -> torch.Tensor:
    """``randn(rows, width)`` from a generator seeded with ``seed`` on the device."""
    g = torch.Generator(device=device).manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=dtype, device=device)


def synchronize(device: str) -> None:
    """Wait for queued CUDA work (no-op on the CPU)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def reason_of(error: BaseException) -> str:
    """``"Type: first line of the message"``, at most 300 characters."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


def base_record(impl: Implementation, s: Session, dtype: str, shape: tuple[int, int]) -> dict:
    """The fields every record has, whatever happens to the case."""
    itemsize = grid.dtype_of(dtype).itemsize
    rows, width = shape
    return {
        "implementation": impl.name, "device": s.device, "threads": s.threads, "dtype": dtype,
        "rows": rows, "width": width, "numel": rows * width, "itemsize": itemsize,
        "bytes_per_tensor": rows * width * itemsize, "output_preallocated": impl.preallocated,
    }


def run_case(impl: Implementation, x: torch.Tensor, ref: torch.Tensor, record: dict,
             s: Session, timing: TimingConfig) -> dict:
    """Allocate, call once, check, time; an exception makes the record "unavailable"."""
    try:
        state = impl.allocate(x)
        synchronize(s.device)
        start = time.perf_counter()
        y = impl.run(x, state)
        synchronize(s.device)
        first_call_s = time.perf_counter() - start
        verdict = checks.check(y, x, ref, impl.computes, impl.expected)
        del y
        start = time.perf_counter()
        impl.run(x, state)  # a warm call: how long one takes, without torch.compile's compiling
        synchronize(s.device)
        stats = measure(impl.run, x, state, s.threads, timing, call_s=time.perf_counter() - start)
        faults = minor_faults_per_call(impl.run, x, state)
    except Exception as error:  # record it and go on: the grid must stay complete
        if s.device.startswith("cuda"):
            torch.cuda.empty_cache()
        return {**record, "status": "unavailable", "reason": reason_of(error)}
    return {
        **record, "status": "ok", "reason": None, "check": verdict, "first_call_s": first_call_s,
        "time": stats, "minor_faults_per_call": faults,
        "gbps": bandwidth_gbps(record["numel"], record["itemsize"], stats["median_s"]),
    }


def run_dtype(s: Session, dtype: str, config: BenchConfig, impls: dict[str, Implementation],
              progress: Progress) -> list[dict]:
    """Every shape x implementation of one dtype in one (device, threads) session."""
    records = []
    failed: dict[str, str] = {}  # a torch.compile failure, not retried for later shapes
    for shape in grid.shapes(config.rows, config.widths, config.cap_mib[s.device] * grid.MiB):
        try:
            x = make_input(shape, grid.dtype_of(dtype), s.device, config.seed)
            ref = checks.reference(x)
            no_input = None
        except Exception as error:  # e.g. out of memory: every case of this shape is unavailable
            x = ref = None
            no_input = f"input or reference: {reason_of(error)}"
        where = f"{s.device}{'' if s.threads is None else f'/{s.threads}t'} {dtype} {shape[0]}x{shape[1]}"
        for name in config.implementations:
            impl = impls[name]
            progress.step(f"{where} {name}")
            record = base_record(impl, s, dtype, shape)
            if no_input or name in failed:
                records.append({**record, "status": "unavailable", "reason": no_input or failed[name]})
                continue
            started = time.perf_counter()
            records.append(run_case(impl, x, ref, record, s, config.timing))
            records[-1]["wall_s"] = time.perf_counter() - started  # check + measurement, for planning runs
            if impl.compiled and records[-1]["status"] != "ok":
                failed[name] = records[-1]["reason"]
        del x, ref
        if s.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return records


def run_session(s: Session, config: BenchConfig, impls: dict[str, Implementation],
                compiled: CompiledComposite, progress: Progress) -> list[dict]:
    """Every dtype of one (device, threads) session, torch.compile starting afresh per dtype."""
    records = []
    with cpu_threads(s.threads):
        for dtype in config.dtypes[s.device]:
            with compiled.session() if "compiled" in config.implementations else contextlib.nullcontext():
                records += run_dtype(s, dtype, config, impls, progress)
    return records


def check_devices(devices: tuple[str, ...]) -> None:
    """Raise ValueError for a device that is not "cpu" or a visible CUDA device."""
    for d in devices:
        if d == "cpu":
            continue
        if d != "cuda":
            raise ValueError(f"unknown device {d!r}: use cpu and/or cuda")
        if not torch.cuda.is_available():
            built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "built without CUDA"
            raise ValueError(
                f"no CUDA device is visible to PyTorch (torch.cuda.is_available() is False; torch "
                f"{torch.__version__} is {built}). Run on the CPU only with --device cpu."
            )


def run_benchmark(config: BenchConfig, progress: bool = True, stream=None) -> dict:
    """Run the whole grid; return the JSON-ready document (see :data:`SCHEMA`)."""
    check_devices(config.devices)
    unknown = set(config.implementations) - set(NAMES)
    if unknown:
        raise ValueError(f"unknown implementation(s) {sorted(unknown)}; choose from {', '.join(NAMES)}")
    compiled = CompiledComposite()
    impls = registry(compiled)
    cases = plan(config)
    bar = Progress([r * w for _, _, (r, w), _ in cases], stream=stream, enabled=progress)
    started = time.perf_counter()
    env = environment.describe()
    records, ran = [], []
    for s in sessions(config):
        load_before, t0 = environment.load_average(), time.perf_counter()
        records += run_session(s, config, impls, compiled, bar)
        ran.append({**asdict(s), "seconds": time.perf_counter() - t0,
                    "load_average_before": load_before, "load_average_after": environment.load_average()})
    bar.close()
    analysis.add_fractions(records)
    return {
        "schema": SCHEMA,
        "environment": env,
        "config": asdict(config),
        "sessions": ran,
        "implementations": {n: {**impls[n].describe(), "aten_ops": aten_ops(impls[n])} for n in config.implementations},
        "results": records,
        "summary": analysis.summarize(records),
        "elapsed_s": time.perf_counter() - started,
    }
