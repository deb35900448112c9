"""lsmlab.bench.model on a synthetic run whose times obey the additive model exactly, with
known parameters: the model must recover them and predict every implementation exactly;
the roofline variant must equal max(memory, in-cache time) per step."""

from __future__ import annotations

import pytest

from lsmlab.bench.implementations import registry
from lsmlab.bench.model import FAULT_SHAPE, ITEMSIZE, OVERHEAD_SHAPE, PLANS, REFERENCE_SHAPE, Model

O = 1e-6  # dispatch cost of one op, s
BIG = (4096, 4096)
MU = {OVERHEAD_SHAPE: 0.0, REFERENCE_SHAPE: 1e-11, BIG: 5e-11, FAULT_SHAPE: 6e-11}  # s per byte
PHI = 2.5e-7  # s per page fault
FAULTS = {"clone": 1.0, "composite": 3.0, "lsm": 3.1, "naive": 2.5, "native_log_softmax_alloc": 1.0}  # per page
C = {"native_log_softmax": 6e-10, "native_softmax": 6e-10, "op_exp": 9e-10, "op_log": 1.5e-9,
     "op_max_index": 1.6e-9, "op_amax": 0.0, "op_sub": 0.0, "op_div": 1e-11, "op_sum": 0.0}
DTYPES = ("float32", "float16")


def meta():
    impls = registry()
    out = {}
    for name, impl in impls.items():
        described = impl.describe()
        described["aten_ops"] = ["op"] * {"composite": 9, "composite_out": 9, "lsm": 9, "naive": 4}.get(name, 1)
        out[name] = described
    return out


def bytes_of(m, name, dtype):
    return sum(m[name]["bytes_per_element_read_written"][dtype])


def synthetic_doc():
    m = meta()
    records = []

    def add(name, dtype, shape, t, faults=0.0):
        records.append({"implementation": name, "device": "cpu", "threads": 1, "dtype": dtype, "rows": shape[0],
                        "width": shape[1], "status": "ok", "bytes_per_tensor": shape[0] * shape[1] * ITEMSIZE[dtype],
                        "time": {"median_s": t, "steady": True}, "minor_faults_per_call": faults})

    for shape in MU:
        n = shape[0] * shape[1]
        for dtype in DTYPES:
            add("copy", dtype, shape, O + MU[shape] * n * 2 * ITEMSIZE[dtype])
            pages = pages_of(shape, dtype)
            add("clone", dtype, shape, O + MU[shape] * n * 2 * ITEMSIZE[dtype] + pages * PHI, pages)
            for name, c in C.items():
                add(name, dtype, shape, O + MU[shape] * n * bytes_of(m, name, dtype) + c * n)
            for name in PLANS:  # times are irrelevant here: only the counted faults are read
                if name not in C:
                    add(name, dtype, shape, 1.0, FAULTS.get(name, 0.0) * pages)
    return {"implementations": m, "results": records}


def pages_of(shape, dtype):
    return shape[0] * shape[1] * ITEMSIZE[dtype] / 4096


def expected_time(m, impl, dtype, shape):
    n = shape[0] * shape[1]
    steps = PLANS[impl]
    work = "float32" if any(w == "float32" for _, w in steps) else dtype
    t = len(m[impl]["aten_ops"]) * O
    t += sum(MU[shape] * n * bytes_of(m, name, work) + C[name] * n for name, _ in steps)
    t += FAULTS.get(impl, 0.0) * pages_of(shape, dtype) * PHI
    if work != dtype:  # the half composite converts x to float32 and y back
        t += 2 * MU[shape] * n * (4 + ITEMSIZE[dtype])
    return t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", sorted(PLANS))
def test_the_model_recovers_an_additive_machine(impl, dtype):
    doc = synthetic_doc()
    model = Model(doc)
    shape = BIG
    assert model.seconds_per_byte(1, dtype, shape) == pytest.approx(MU[shape])
    assert model.compute_per_element("op_exp", 1, dtype) == pytest.approx(C["op_exp"])
    assert model.fault_cost(1) == pytest.approx(PHI)
    p = model.predict(impl, 1, dtype, shape)
    assert p.total_s == pytest.approx(expected_time(doc["implementations"], impl, dtype, shape), rel=1e-9)


def test_the_roofline_takes_the_larger_of_memory_and_in_cache_time_per_step():
    doc = synthetic_doc()
    model = Model(doc)
    shape, n = BIG, BIG[0] * BIG[1]
    p = model.predict("native_log_softmax", 1, "float32", shape)
    b = bytes_of(doc["implementations"], "native_log_softmax", "float32")
    in_cache = C["native_log_softmax"] + MU[REFERENCE_SHAPE] * b
    assert p.roofline_s == pytest.approx(O + max(MU[shape] * n * b, in_cache * n))
    assert p.roofline_s < p.total_s  # overlap can only be faster
    t_copy = O + MU[shape] * n * 8
    assert model.passes("composite_out", 1, "float32", shape) == pytest.approx(4 * t_copy)  # 32 bytes, copy moves 8


def test_comparison_marks_calibration_and_steadiness():
    doc = synthetic_doc()
    for r in doc["results"]:
        if (r["implementation"], r["dtype"], r["rows"]) == ("composite_out", "float32", 4096):
            r["time"] = {"median_s": 1.0, "steady": False}
    rows = Model(doc).comparison()
    by = {(r["implementation"], r["dtype"], r["rows"]): r for r in rows}
    assert by[("native_log_softmax", "float32", REFERENCE_SHAPE[0])]["calibration"]
    assert by[("native_log_softmax", "float32", REFERENCE_SHAPE[0])]["ratio"] == pytest.approx(1)
    assert not by[("composite_out", "float32", 4096)]["steady"]
    assert all(r["steady"] for r in rows if r["implementation"] != "composite_out")
