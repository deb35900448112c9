"""What the numbers were measured on: versions, CPU, threads, GPU, driver; no hostname.

Everything here is read, never set. Fields that cannot be found are ``None``.

Why not ``torch.utils.collect_env``: it writes a report for bug reports (``lscpu``'s text,
pip and conda package lists) and has none of the fields a timing depends on and the
notebooks read: torch's thread counts and parallel backend, the SIMD capability ATen
dispatches to, the load average before and after each session.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from pathlib import Path

import torch

import lsm

#: torch's intra-op thread count when lsmlab.bench was first imported: what "all" threads means.
DEFAULT_THREADS = torch.get_num_threads()


def cpu_model() -> str | None:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_gib() -> float | None:
    """Total RAM in GiB from /proc/meminfo, or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def usable_cpus() -> int | None:
    """CPUs this process may run on (its affinity mask), else os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: a busy machine makes noisy timings."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _command(args: list[str]) -> str | None:
    if shutil.which(args[0]) is None:
        return None
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=20, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0].strip() if out else None


def cpu_capability() -> str | None:
    """The SIMD level torch's CPU kernels dispatch to (e.g. AVX2, AVX512), if torch says."""
    fn = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    return fn() if fn else None


def cpu() -> dict:
    """The CPU side: model, counts, torch's threads and parallel backend, thread env vars."""
    backend = next((l.split(":", 1)[1].strip() for l in torch.__config__.parallel_info().splitlines()
                    if l.startswith("ATen parallel backend")), None)
    return {
        "model": cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "torch_default_threads": DEFAULT_THREADS,
        "torch_interop_threads": torch.get_num_interop_threads(),
        "parallel_backend": backend,
        "capability": cpu_capability(),
        "memory_gib": memory_gib(),
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
        "load_average": load_average(),
    }


def cuda() -> dict | None:
    """The GPU side (device 0): name, capability, memory, SMs, driver and CUDA versions."""
    if not torch.cuda.is_available():
        return None
    p = torch.cuda.get_device_properties(0)
    return {
        "name": p.name,
        "count": torch.cuda.device_count(),
        "capability": f"{p.major}.{p.minor}",
        "memory_gib": round(p.total_memory / 2**30, 1),
        "multiprocessors": p.multi_processor_count,
        "driver": _command(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", "--id=0"]),
        "cuda_runtime": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "triton": _version("triton"),
    }


def _version(package: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:
        return None


def git_commit() -> str | None:
    """The lsm checkout's commit, with "+dirty" if it has uncommitted changes; None outside git."""
    root = Path(lsm.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    head = _command(["git", "-C", str(root), "rev-parse", "HEAD"])
    dirty = _command(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"])
    return None if head is None else head + ("+dirty" if dirty else "")


def describe() -> dict:
    """The whole environment record written at the top of every results file."""
    return {
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "torch": torch.__version__,
        "lsm": lsm.__version__,
        "lsm_commit": git_commit(),
        "cxx_compiler": shutil.which("g++") or shutil.which("c++") or shutil.which("clang++"),
        "cpu": cpu(),
        "cuda": cuda(),
    }
