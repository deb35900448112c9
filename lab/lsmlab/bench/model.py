r"""The cost model of notebook 8: every implementation's time predicted from three measured
quantities of the same run, and set beside its measured time.

An implementation is a sequence of steps (ATen ops) over a tensor of :math:`n` elements.
Step :math:`k` moves :math:`b_k` bytes per element (reads plus writes, in the dtype it
works in) and does :math:`c_k` seconds of arithmetic per element beyond moving them.
On one core the two do not overlap, so the times add (the *additive* model):

.. math:: \hat t = \sum_k \big(o + \mu(S)\, n\, b_k + n\, c_k\big) + F \varphi

- :math:`o`, the cost of dispatching one op: copy's time at the smallest shape (one row
  of 128 entries, where no byte costs anything worth measuring), times the number of
  ATen ops a call dispatches (row-sized ops included);
- :math:`\mu(S)`, seconds per byte at the shape :math:`S` (its working set decides
  which cache or DRAM serves it): :math:`(t_\text{copy}(S) - o) / (2 n s)`, a copy moving
  :math:`2 s` bytes per element of item size :math:`s`;
- :math:`c_k`, measured once per op, dtype and thread count, on the cache-resident
  reference shape :data:`REFERENCE_SHAPE`: the op's own time there less its dispatch
  and its bytes, :math:`c_k = (t_k - o - \mu\, n\, b_k) / n`;
- :math:`F`, the minor page faults of one call, counted on the case itself (how many of
  its fresh outputs' pages come from the OS rather than from memory the allocator reuses
  depends on the allocator's state, not on the formula), and :math:`\varphi`, the cost of
  one fault, from clone against copy at :data:`FAULT_SHAPE`:
  :math:`\varphi = (t_\text{clone} - t_\text{copy}) / F_\text{clone}`.

The *roofline* alternative lets memory and arithmetic overlap, each step taking the
larger of the two: :math:`\sum_k \big(o + \max(\mu(S)\, n\, b_k,\ \tau_k n)\big) + F\varphi`
with :math:`\tau_k = c_k + \mu(S_\text{ref}) b_k` the step's time per element in cache.

float16/bfloat16 inputs of lsm's composite are converted to float32 first and back last
(two conversion steps of :math:`s + 4` bytes and no arithmetic worth counting); its
float32 steps are costed with float32's :math:`\mu` and :math:`c_k` at the same shape.
``compiled`` has no model: its kernels are whatever inductor generates.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import analysis

#: The shape (rows, width) on which each op's arithmetic cost is measured: 1 MiB of
#: float32, input and output together in this machine's caches, far from the overhead floor.
REFERENCE_SHAPE = (64, 4096)
ITEMSIZE = {"float32": 4, "float16": 2, "bfloat16": 2}
#: The shape whose copy time is the dispatch cost of one op.
OVERHEAD_SHAPE = (1, 128)
#: The shape (256 MiB of float32) whose clone against copy gives the cost of one page fault.
FAULT_SHAPE = (16384, 4096)

#: Each modelled implementation: its steps as (timed op, "io" or "float32": the dtype it works in).
COMPOSITE_STEPS = (("op_max_index", "float32"), ("op_sub", "float32"), ("op_exp", "float32"),
                   ("op_sum", "float32"), ("op_sub", "float32"))
PLANS = {
    "native_log_softmax": (("native_log_softmax", "io"),),
    "native_softmax": (("native_softmax", "io"),),
    "native_log_softmax_alloc": (("native_log_softmax", "io"),),
    "composite_out": COMPOSITE_STEPS,
    "composite": COMPOSITE_STEPS,
    "lsm": COMPOSITE_STEPS,
    "naive": (("op_exp", "io"), ("op_sum", "io"), ("op_div", "io"), ("op_log", "io")),
}
#: The implementations whose time calibrates c_k at the reference shape (their prediction there is exact).
CALIBRATION = {"native_log_softmax", "native_softmax"}


@dataclass(frozen=True)
class Prediction:
    """One predicted time and its parts (seconds per call)."""

    overhead_s: float
    memory_s: float
    compute_s: float
    allocation_s: float
    roofline_s: float

    @property
    def total_s(self) -> float:
        """The additive model's time: overhead + memory + compute + allocation."""
        return self.overhead_s + self.memory_s + self.compute_s + self.allocation_s


class Model:
    """The additive cost model fitted to one results document (see the module docstring)."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.records = {(r["implementation"], r["threads"], r["dtype"], r["rows"], r["width"]): r
                        for r in analysis.ok(doc["results"], device="cpu")}
        self.meta = doc["implementations"]

    def time(self, impl: str, threads: int, dtype: str, shape: tuple[int, int]) -> float:
        """The measured median seconds per call (KeyError if that case was not timed)."""
        return self.records[(impl, threads, dtype) + tuple(shape)]["time"]["median_s"]

    def steady(self, impl: str, threads: int, dtype: str, shape: tuple[int, int]) -> bool:
        """Whether that timing is steady (IQR under the threshold of the run)."""
        return bool(self.records[(impl, threads, dtype) + tuple(shape)]["time"]["steady"])

    def overhead(self, threads: int, dtype: str) -> float:
        """o: the dispatch cost of one op, copy's time at :data:`OVERHEAD_SHAPE`."""
        return self.time("copy", threads, dtype, OVERHEAD_SHAPE)

    def seconds_per_byte(self, threads: int, dtype: str, shape: tuple[int, int]) -> float:
        r"""μ(S) = (t_copy(S) − o) / (2 n s)."""
        n = shape[0] * shape[1]
        return (self.time("copy", threads, dtype, shape) - self.overhead(threads, dtype)) / (2 * n * ITEMSIZE[dtype])

    def bytes_per_element(self, impl: str, dtype: str) -> int:
        """b_k: bytes read plus written per element by a step."""
        read, written = self.meta[impl]["bytes_per_element_read_written"][dtype]
        return read + written

    def compute_per_element(self, impl: str, threads: int, dtype: str) -> float:
        """c_k, measured at :data:`REFERENCE_SHAPE` (may be slightly negative: a step at copy speed)."""
        n = REFERENCE_SHAPE[0] * REFERENCE_SHAPE[1]
        t = self.time(impl, threads, dtype, REFERENCE_SHAPE)
        moved = self.seconds_per_byte(threads, dtype, REFERENCE_SHAPE) * n * self.bytes_per_element(impl, dtype)
        return (t - self.overhead(threads, dtype) - moved) / n

    def fault_cost(self, threads: int) -> float:
        """φ: seconds per minor page fault, (t_clone − t_copy) / F_clone at :data:`FAULT_SHAPE`."""
        clone = self.records[("clone", threads, "float32") + FAULT_SHAPE]
        extra = clone["time"]["median_s"] - self.time("copy", threads, "float32", FAULT_SHAPE)
        return extra / clone["minor_faults_per_call"]

    def faults(self, impl: str, threads: int, dtype: str, shape: tuple[int, int]) -> float:
        """F: the minor page faults per call counted on the case (0 where none were counted)."""
        return self.records[(impl, threads, dtype) + tuple(shape)].get("minor_faults_per_call") or 0.0

    def plan(self, impl: str, dtype: str) -> list[tuple[str, str]]:
        """The steps of ``impl`` for an input of ``dtype``, as (timed op, dtype it works in)."""
        half_composite = dtype != "float32" and any(w == "float32" for _, w in PLANS[impl])
        resolve = {"io": dtype, "float32": "float32" if half_composite else dtype}
        return [(name, resolve[w]) for name, w in PLANS[impl]]

    def predict(self, impl: str, threads: int, dtype: str, shape: tuple[int, int]) -> Prediction:
        """The model's time for one case, in parts."""
        n = shape[0] * shape[1]
        steps = self.plan(impl, dtype)
        ops = len(self.meta[impl]["aten_ops"] or ()) or len(steps)
        overhead = ops * self.overhead(threads, dtype)
        memory = compute = roofline = 0.0
        for name, work in steps:
            b = self.bytes_per_element(name, work)
            c = self.compute_per_element(name, threads, work)
            mu = self.seconds_per_byte(threads, work, shape)
            memory += mu * n * b
            compute += c * n
            in_cache = c + self.seconds_per_byte(threads, work, REFERENCE_SHAPE) * b
            roofline += max(mu * n * b, in_cache * n)
        if steps[0][1] != dtype:  # x.to(float32) first, y.to(dtype) last
            convert = 2 * self.seconds_per_byte(threads, "float32", shape) * n * (4 + ITEMSIZE[dtype])
            memory += convert
            roofline += convert
        alloc = self.faults(impl, threads, dtype, shape) * self.fault_cost(threads)
        return Prediction(overhead, memory, compute, alloc, overhead + roofline + alloc)

    def passes(self, impl: str, threads: int, dtype: str, shape: tuple[int, int]) -> float:
        """The pass-count model: every byte at copy's speed, t_copy(S) (R + W) / (2 s)."""
        return self.time("copy", threads, dtype, shape) * self.bytes_per_element(impl, dtype) / (2 * ITEMSIZE[dtype])

    def comparison(self, implementations=tuple(PLANS)) -> list[dict]:
        """Predicted against measured for every modelled case of the run, one row each.

        ``steady`` is true when the timing and every timing the prediction uses are steady
        (the dispatch cost's too, unless it is under 5 % of the prediction);
        ``calibration`` marks the cases that fix a c_k (predicted exactly by construction).
        """
        rows = []
        for (impl, threads, dtype, r, w), record in sorted(self.records.items(), key=str):
            if impl not in implementations:
                continue
            shape = (r, w)
            try:
                p = self.predict(impl, threads, dtype, shape)
            except KeyError:  # a case the model needs was not timed
                continue
            measured = record["time"]["median_s"]
            used = {("copy", dtype, shape)}
            if p.overhead_s >= 0.05 * p.total_s:
                used.add(("copy", dtype, OVERHEAD_SHAPE))
            for name, work in self.plan(impl, dtype):
                used |= {(name, work, REFERENCE_SHAPE), ("copy", work, shape), ("copy", work, REFERENCE_SHAPE)}
            if p.allocation_s:
                used |= {("clone", "float32", FAULT_SHAPE), ("copy", "float32", FAULT_SHAPE)}
            steady = record["time"]["steady"] and all(self.steady(i, threads, d, s) for i, d, s in used)
            rows.append({
                "implementation": impl, "threads": threads, "dtype": dtype, "rows": r, "width": w,
                "bytes_per_tensor": record["bytes_per_tensor"], "measured_s": measured,
                "predicted_s": p.total_s, "roofline_s": p.roofline_s, "ratio": p.total_s / measured,
                "roofline_ratio": p.roofline_s / measured,
                "passes_ratio": self.passes(impl, threads, dtype, shape) / measured,
                "overhead_s": p.overhead_s, "memory_s": p.memory_s,
                "compute_s": p.compute_s, "allocation_s": p.allocation_s,
                "faults_per_call": self.faults(impl, threads, dtype, shape), "steady": steady,
                "calibration": impl in CALIBRATION and shape == REFERENCE_SHAPE,
            })
        return rows
