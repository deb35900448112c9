"""lsmlab.bench on tiny CPU sizes: the results schema, a complete grid, finite positive figures,
correct outputs, a torch.compile failure recorded instead of raised, the CLI's errors.

Nothing here asserts a speed: timings only have to be positive and finite. torch.compile is
never compiled for real (too slow for a unit test); its failure path is injected.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import runpy
import socket
import sys

import pytest
import torch

import lsm
from lsmlab.bench import BenchConfig, TimingConfig, analysis, checks, cli, grid, run_benchmark
from lsmlab.bench.environment import describe
from lsmlab.bench.implementations import NAMES, aten_ops, composite, registry
from lsmlab.bench.progress import Progress
from lsmlab.bench.report import table

FAST = TimingConfig(min_run_time=0.001, max_run_time=0.004, threshold=0.1)
EAGER = tuple(n for n in NAMES if n != "compiled")
RECORD_FIELDS = {"implementation", "device", "threads", "dtype", "rows", "width", "numel", "itemsize",
                 "bytes_per_tensor", "output_preallocated", "status", "reason"}
TIME_FIELDS = {"median_s", "iqr_s", "p25_s", "p75_s", "min_s", "mean_s", "blocks", "calls_per_block", "steady"}
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error for a machine without CUDA")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def tiny_config(**kw) -> BenchConfig:
    settings = dict(devices=("cpu",), rows=(1, 3), widths=(40,), threads=("1",),
                    implementations=EAGER, timing=FAST)
    settings.update(kw)
    return BenchConfig(**settings)


@pytest.fixture(scope="module")
def doc():
    return run_benchmark(tiny_config(), progress=False)


# --- the results document --------------------------------------------------------------------


def test_document_schema(doc):
    assert doc["schema"] == "lsm.bench/1"
    assert {"schema", "environment", "config", "sessions", "implementations", "results", "summary",
            "elapsed_s"} <= doc.keys()
    env = doc["environment"]
    assert {"timestamp_utc", "python", "torch", "platform", "cpu", "cuda", "lsm"} <= env.keys()
    assert {"model", "logical_cpus", "torch_default_threads", "parallel_backend"} <= env["cpu"].keys()
    assert env["torch"] == torch.__version__
    assert set(doc["implementations"]) == set(EAGER)
    for meta in doc["implementations"].values():
        assert {"label", "computes", "output_preallocated", "description", "bytes_per_element_read_written",
                "aten_ops"} <= meta.keys()
    for r in doc["results"]:
        assert RECORD_FIELDS <= r.keys()
        if r["status"] == "ok":
            assert TIME_FIELDS <= r["time"].keys()
            assert {"ok", "max_abs_err", "rtol", "atol", "against"} <= r["check"].keys()
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN or infinity anywhere


def test_grid_is_complete(doc):
    expected = set(itertools.product(EAGER, ["cpu"], [1], ["float32", "float16", "bfloat16"], [1, 3], [40]))
    seen = [(r["implementation"], r["device"], r["threads"], r["dtype"], r["rows"], r["width"]) for r in doc["results"]]
    assert len(seen) == len(set(seen)) and set(seen) == expected
    for r in doc["results"]:
        assert r["status"] == "ok" or (r["status"] == "unavailable" and r["reason"])


def test_figures_are_positive_and_finite(doc):
    for r in analysis.ok(doc["results"]):
        t = r["time"]
        assert all(math.isfinite(t[k]) and t[k] > 0 for k in ("median_s", "p25_s", "p75_s", "min_s", "mean_s"))
        assert 0 <= t["iqr_s"] < math.inf and t["p25_s"] <= t["median_s"] <= t["p75_s"]
        assert t["blocks"] >= 1 and t["calls_per_block"] >= 1
        assert math.isfinite(r["gbps"]) and r["gbps"] > 0
        assert math.isfinite(r["fraction_of_copy"]) and r["fraction_of_copy"] > 0
        assert r["gbps"] == pytest.approx(2 * r["numel"] * r["itemsize"] / t["median_s"] / 1e9)
        assert r["minor_faults_per_call"] is None or r["minor_faults_per_call"] >= 0


def test_every_output_was_checked_and_correct(doc):
    assert all(r["check"]["ok"] for r in analysis.ok(doc["results"]))
    assert doc["summary"]["failed_checks"] == []


def test_preallocation_is_recorded(doc):
    prealloc = {r["implementation"]: r["output_preallocated"] for r in doc["results"]}
    assert prealloc["copy"] and prealloc["native_log_softmax"] and prealloc["composite_out"]
    assert not (prealloc["clone"] or prealloc["native_log_softmax_alloc"] or prealloc["composite"])


def test_summary_tables(doc):
    summary = doc["summary"]
    clone = summary["allocation_clone_vs_copy"]
    assert len(clone) == 6 and all(row["ratio"] > 0 for row in clone)  # one per shape and dtype
    assert summary["cuda_over_cpu_speedup"] == [] and summary["crossover"] == []  # no CUDA in this run
    assert "4096" not in table(doc) and "copy" in table(doc)


def test_each_thread_count_is_a_session():
    config = tiny_config(rows=(2,), widths=(8,), threads=("1", "2", "1"), implementations=("copy", "composite"),
                         dtypes={"cpu": ("float32",)})
    result = run_benchmark(config, progress=False)
    assert [(r["threads"], r["implementation"]) for r in result["results"]] == [
        (1, "copy"), (1, "composite"), (2, "copy"), (2, "composite")]
    assert [(s["device"], s["threads"]) for s in result["sessions"]] == [("cpu", 1), ("cpu", 2)]
    assert all(s["seconds"] > 0 for s in result["sessions"])
    assert torch.get_num_threads() == 1  # restored afterwards (conftest sets one thread)


# --- implementations and checks -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", EAGER)
def test_each_implementation_matches_torch(name, dtype):
    impl = registry()[name]
    x = torch.randn(5, 300, generator=torch.Generator().manual_seed(1)).to(dtype)
    y = impl.run(x, impl.allocate(x))
    verdict = checks.check(y, x, checks.reference(x), impl.computes, impl.expected)
    assert verdict["ok"], verdict


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_composite_is_lsm_log_softmax_bit_for_bit(dtype):
    x = torch.randn(7, 513, generator=torch.Generator().manual_seed(2)).to(dtype)
    impls = registry()
    out = impls["composite_out"].run(x, impls["composite_out"].allocate(x))
    assert torch.equal(composite(x), lsm.log_softmax(x, -1))
    assert torch.equal(out, lsm.log_softmax(x, -1))


def test_check_rejects_wrong_and_non_finite_outputs():
    x = torch.randn(3, 16)
    ref = checks.reference(x)
    assert checks.check(ref.clone(), x, ref, "log_softmax")["ok"]
    assert not checks.check(ref + 1e-3, x, ref, "log_softmax")["ok"]
    bad = ref.clone()
    bad[0, 0] = float("-inf")
    verdict = checks.check(bad, x, ref, "log_softmax")
    assert not verdict["ok"] and verdict["max_abs_err"] is None
    assert checks.check(ref.exp(), x, ref, "softmax")["ok"]
    assert checks.check(x.clone(), x, ref, "copy")["ok"] and not checks.check(x + 1, x, ref, "copy")["ok"]
    assert not checks.check(ref.double(), x, ref, "log_softmax")["ok"]


def test_op_checks_judge_sums_by_the_sum_of_magnitudes_and_agree_on_infinities():
    impls = registry()
    x = torch.randn(3, 4096, generator=torch.Generator().manual_seed(3))
    x[:, 0] = 1e4
    x[:, 1] = -1e4  # the sum cancels to about 0: an error of ulp(1e4) is fine
    s = impls["op_sum"]
    exact = s.expected(x)
    off = exact + 2e-3 * exact.sign()
    assert checks.check(off, x, None, "sum", s.expected)["ok"]
    assert not checks.check(exact + 1.0, x, None, "sum", s.expected)["ok"]
    log = impls["op_log"]
    x[0, 5] = 0.0  # log(|0|) = -inf in both
    verdict = checks.check(log.run(x, log.allocate(x)), x, None, "op", log.expected)
    assert verdict["ok"] and verdict["max_abs_err"] is not None


def test_cost_model_counts_passes():
    impls = registry()
    assert impls["copy"].bytes_per_element(torch.float32) == (4, 4)
    assert impls["native_log_softmax"].bytes_per_element(torch.float16) == (2, 2)
    assert impls["composite"].bytes_per_element(torch.float32) == (20, 12)  # 5 reads, 3 writes
    assert impls["composite"].bytes_per_element(torch.bfloat16) == (2 + 20 + 4, 4 + 12 + 2)  # + up/down casts
    assert impls["naive"].bytes_per_element(torch.float32) == (16, 12)  # 4 reads, 3 writes
    assert impls["compiled"].bytes_per_element(torch.float32) is None


def test_aten_ops_count_the_kernels():
    impls = registry()
    assert aten_ops(impls["native_log_softmax"]) == ["log_softmax.int_out"]
    assert aten_ops(impls["composite"]) == ["max.dim", "sub.Tensor", "exp", "scatter_.value", "sum.dim_IntList",
                                            "sub.Tensor", "add.Tensor", "log1p", "sub.Tensor"]
    assert len(aten_ops(impls["naive"])) == 4 and aten_ops(impls["compiled"]) is None


# --- torch.compile failing ---------------------------------------------------------------------


def test_each_single_op_is_the_aten_op_it_names():
    from lsmlab.bench.implementations import OPS

    impls = registry()
    for name, aten, _, (reads, writes) in OPS:
        impl = impls["op_" + name]
        assert impl.computes == ("sum" if name == "sum" else "op") and impl.preallocated and aten_ops(impl) == [aten]
        assert impl.bytes_per_element(torch.float16) == (2 * reads, 2 * writes)


def test_compile_failure_is_recorded_not_raised(monkeypatch):
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler found (injected by the test)\nsecond line")

    monkeypatch.setattr(torch, "compile", broken_compile)
    config = tiny_config(rows=(1, 2), widths=(8,), threads=("1",), implementations=("copy", "compiled"),
                         dtypes={"cpu": ("float32",)})
    result = run_benchmark(config, progress=False)
    compiled = [r for r in result["results"] if r["implementation"] == "compiled"]
    assert len(compiled) == 2
    for r in compiled:
        assert r["status"] == "unavailable"
        assert r["reason"] == "RuntimeError: no C++ compiler found (injected by the test)"
    assert all(r["status"] == "ok" for r in result["results"] if r["implementation"] == "copy")
    assert len(result["summary"]["unavailable"]) == 2


def test_an_input_that_cannot_be_made_marks_its_cases_unavailable(monkeypatch):
    from lsmlab.bench import harness

    real = harness.make_input

    def fails_for_wide_rows(shape, dtype, device, seed):
        if shape[1] > 8:
            raise RuntimeError("out of memory (injected)")
        return real(shape, dtype, device, seed)

    monkeypatch.setattr(harness, "make_input", fails_for_wide_rows)
    result = run_benchmark(tiny_config(rows=(1,), widths=(8, 16), implementations=("copy", "naive")), progress=False)
    status = {(r["width"], r["implementation"]): (r["status"], r["reason"]) for r in result["results"]}
    assert status[(8, "copy")] == ("ok", None) and status[(8, "naive")] == ("ok", None)
    for name in ("copy", "naive"):
        assert status[(16, name)] == ("unavailable", "input or reference: RuntimeError: out of memory (injected)")


# --- grid, analysis, progress, environment ----------------------------------------------------------


def test_shapes_respect_the_cap():
    assert grid.shapes((1, 4, 16), (8, 1024), cap_bytes=4 * 4 * 1024) == [(1, 8), (4, 8), (16, 8), (1, 1024), (4, 1024)]
    cpu = grid.shapes(grid.ROWS, grid.WIDTHS, grid.CAP_MIB["cpu"] * grid.MiB)
    cuda = grid.shapes(grid.ROWS, grid.WIDTHS, grid.CAP_MIB["cuda"] * grid.MiB)
    assert (4096, 4096) in cpu and set(cpu) < set(cuda)
    assert max(4 * r * w for r, w in cpu) == 256 * grid.MiB and max(4 * r * w for r, w in cuda) == 1024 * grid.MiB


def test_threads_resolve():
    assert grid.resolve_threads(["1", "all", "1"], all_threads=8) == [1, 8]
    assert grid.resolve_threads(["all"], all_threads=1) == [1]
    for bad in (["0"], ["two"]):
        with pytest.raises(ValueError, match="thread count"):
            grid.resolve_threads(bad, all_threads=2)


def fake(impl, device, threads, rows, seconds, width=64):
    return {"implementation": impl, "device": device, "threads": threads, "dtype": "float32", "rows": rows,
            "width": width, "bytes_per_tensor": 4 * rows * width, "status": "ok", "time": {"median_s": seconds}}


def test_speedup_and_crossover():
    cpu = {1: 1e-6, 4: 2e-6, 16: 8e-6, 64: 32e-6}
    cuda = {1: 5e-6, 4: 5e-6, 16: 5e-6, 64: 6e-6}
    records = [fake("x", "cpu", 1, r, 10 * t) for r, t in cpu.items()]  # one thread: slower, not compared
    records += [fake("x", "cpu", 4, r, t) for r, t in cpu.items()]
    records += [fake("x", "cuda", None, r, t) for r, t in cuda.items()]
    speed = analysis.speedups(records)
    assert [p["rows"] for p in speed] == [1, 4, 16, 64] and all(p["cpu_threads"] == 4 for p in speed)
    assert speed[0]["speedup"] == pytest.approx(0.2)
    (cross,) = analysis.crossovers(records)
    assert cross["cuda_wins"] == "from" and cross["from_rows"] == 16 and cross["from_bytes"] == 4 * 16 * 64
    assert analysis.crossover_of([{"speedup": 2.0, "rows": 1, "bytes_per_tensor": 4}])["cuda_wins"] == "everywhere"
    assert analysis.crossover_of([{"speedup": 0.5, "rows": 1, "bytes_per_tensor": 4}])["cuda_wins"] == "never"
    # a win that does not last to the largest size is not a crossover
    dip = [{"speedup": s, "rows": i, "bytes_per_tensor": i} for i, s in enumerate([2.0, 0.5, 3.0])]
    assert analysis.crossover_of(dip)["from_rows"] == 2


def test_load_all_reads_only_benchmark_files(tmp_path, doc):
    (tmp_path / "run.json").write_text(json.dumps(doc))
    (tmp_path / "other.json").write_text(json.dumps({"something": "else"}))
    assert list(analysis.load_all(tmp_path)) == ["run"]


def test_progress_line_without_a_terminal():
    stream = io.StringIO()
    bar = Progress([10, 10, 10], stream=stream)
    for label in "abc":
        bar.step(label)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("[1/3]") and "done: 3 cases" in text and "\r" not in text


def test_environment_has_no_hostname():
    env = json.dumps(describe())
    host = socket.gethostname()
    assert len(host) < 4 or host not in env


# --- the command line -----------------------------------------------------------------------------


def test_cli_writes_the_json(tmp_path, capsys):
    out = tmp_path / "sub" / "quick.json"
    status = cli.main(["--quick", "--rows", "2", "--widths", "8", "--impl", "copy", "native_log_softmax",
                       "--min-run-time", "0.001", "--max-run-time", "0.004", "--out", str(out)])
    assert status == 0
    result = json.loads(out.read_text())
    assert result["schema"] == "lsm.bench/1" and len(result["results"]) == 2 * 3  # float32, float16, bfloat16
    assert result["config"]["command"][:3] == ["python", "-m", "lsmlab.bench"]
    captured = capsys.readouterr()
    assert "native_log_softmax" in captured.out and "done: 6 cases" in captured.err


@no_cuda
def test_cli_refuses_cuda_without_a_gpu(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--device", "cpu", "cuda", "--quick"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "no CUDA device is visible" in err and "--device cpu" in err


@no_cuda
def test_python_m_lsm_bench_cuda_error_is_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["lsmlab.bench", "--device", "cuda"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("lsmlab.bench", run_name="__main__")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m lsmlab.bench") and "Traceback" not in err


@pytest.mark.parametrize("args, words", [
    (["--threads", "0"], "thread count"),
    (["--rows", "0"], "--rows and --widths"),
    (["--min-run-time", "1", "--max-run-time", "0.5"], "--min-run-time"),
    (["--widths", "4096", "--max-mib-cpu", "0.001"], "no rows x width fits"),
])
def test_cli_refuses_bad_arguments(args, words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--quick", *args])
    assert info.value.code == 2 and words in capsys.readouterr().err


# --- CUDA, where there is one --------------------------------------------------------------------------


@needs_cuda
def test_cuda_grid_with_half_dtypes():
    config = tiny_config(devices=("cpu", "cuda"), rows=(1, 4), widths=(64,), threads=("1",))
    result = run_benchmark(config, progress=False)
    cuda = [r for r in result["results"] if r["device"] == "cuda"]
    assert {r["dtype"] for r in cuda} == {"float32", "float16", "bfloat16"}
    assert len(cuda) == len(EAGER) * 3 * 2 and all(r["status"] == "ok" and r["check"]["ok"] for r in cuda)
    assert result["environment"]["cuda"]["name"]
    assert len(result["summary"]["cuda_over_cpu_speedup"]) == len(EAGER) * 2  # float32 is on both devices
    assert {c["implementation"] for c in result["summary"]["crossover"]} == set(EAGER)
