r"""What is timed: torch's fused kernels, lsm's composite, the naive composite, a compiled
composite, two copies of the same bytes (the bandwidth ceiling and the allocation cost),
and the single ops the composites are made of (the cost model's compute terms).

Every implementation works on the last dimension of a contiguous (rows, width) tensor and
is called as ``run(x, state)``, where ``state = allocate(x)`` holds whatever the
implementation keeps between calls (its preallocated output and scratch buffers, or
``None`` when every call allocates its own output).

Each one also states its cost model: the bytes it reads and writes per element when
every pass goes to memory (:func:`Implementation.bytes_per_element`). A fused kernel
reads ``x`` once and writes ``y`` once, 2 tensor-sized passes, as a copy does; the
composite makes 8 such passes (5 reads, 3 writes); the naive composite 7.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

import lsm

from lsm._validation import compute_dtype
from lsmlab.aten import aten_calls

#: What an implementation's output is compared with (see :mod:`lsmlab.bench.checks`);
#: "op" means one ATen op, compared with the same op in float64 (its ``expected``), and
#: "sum" a row sum, compared in the same way with a tolerance scaled by the sum of |x|.
COMPUTES = ("log_softmax", "softmax", "copy", "op", "sum")


def _no_state(x: torch.Tensor) -> None:
    return None


def _like(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


@dataclass(frozen=True)
class Implementation:
    """One timed way of computing (log-)softmax over the last dimension, or copying x.

    ``passes`` lists the memory passes in order as ``(op, reads, writes)``, where reads
    and writes count tensor-sized passes in the *compute* dtype (float32 for float16 and
    bfloat16 inputs where the implementation upcasts), and ``io_passes`` those in the
    input dtype; ``None`` means the pass structure is not known in advance (torch.compile).
    """

    name: str
    label: str
    computes: str
    preallocated: bool
    description: str
    run: Callable[[torch.Tensor, Any], torch.Tensor]
    allocate: Callable[[torch.Tensor], Any] = _no_state
    passes: tuple[tuple[str, int, int], ...] | None = ()
    io_passes: tuple[tuple[str, int, int], ...] = ()
    upcasts_half: bool = False
    compiled: bool = False
    notes: tuple[str, ...] = field(default=())
    expected: Callable[[torch.Tensor], torch.Tensor] | None = None

    def bytes_per_element(self, dtype: torch.dtype) -> tuple[int, int] | None:
        r"""Bytes (read, written) per element of x if every pass streams from memory.

        .. math:: R = \sum_{p} r_p\, s_p, \qquad W = \sum_p w_p\, s_p

        with :math:`s_p` the item size of the dtype pass :math:`p` works in (the input
        dtype, or float32 for the upcast passes of a float16/bfloat16 input).
        """
        if self.passes is None:
            return None
        io = dtype.itemsize
        work = compute_dtype(dtype).itemsize if self.upcasts_half else io
        passes = [(r * work, w * work) for _, r, w in self.passes]
        if work != io:
            passes += [(io, work), (work, io)]  # x.to(float32) first, y.to(dtype) last
        passes += [(r * io, w * io) for _, r, w in self.io_passes]
        return sum(p[0] for p in passes), sum(p[1] for p in passes)

    def describe(self) -> dict:
        """The JSON-ready metadata of this implementation (no callables)."""
        per_dtype = {
            str(d).replace("torch.", ""): self.bytes_per_element(d)
            for d in (torch.float32, torch.float16, torch.bfloat16)
        }
        return {
            "label": self.label,
            "computes": self.computes,
            "output_preallocated": self.preallocated,
            "description": self.description,
            "passes": None if self.passes is None else [list(p) for p in self.passes + self.io_passes],
            "upcasts_half_to_float32": self.upcasts_half,
            "bytes_per_element_read_written": {k: (None if v is None else list(v)) for k, v in per_dtype.items()},
            "notes": list(self.notes),
        }


# --- the copies: the ceiling, and what allocating the output costs -----------------------


def copy_into(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``out.copy_(x)``: read x once, write a preallocated out once (the ceiling)."""
    return out.copy_(x)


def clone(x: torch.Tensor, state: None) -> torch.Tensor:
    """``x.clone()``: the same bytes as :func:`copy_into` plus allocating the output."""
    return x.clone()


# --- torch's fused kernels ---------------------------------------------------------------


def native_log_softmax_out(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``torch.log_softmax(x, -1, out=out)``: aten::log_softmax.int_out, the fused kernel."""
    return torch.log_softmax(x, -1, out=out)


def native_log_softmax_alloc(x: torch.Tensor, state: None) -> torch.Tensor:
    """``torch.log_softmax(x, -1)``: the fused kernel, allocating its output each call."""
    return torch.log_softmax(x, -1)


def native_softmax_out(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``torch.softmax(x, -1, out=out)``: aten::softmax.int_out, the fused kernel."""
    return torch.softmax(x, -1, out=out)


# --- lsm's stable composite ----------------------------------------------------------------


def composite(x: torch.Tensor, state: None = None) -> torch.Tensor:
    r"""The forward of :func:`lsm.log_softmax`, op for op, with no autograd.Function around it.

    .. math:: y = (x - m) - \operatorname{log1p}\Big(\textstyle\sum_{j \ne k} e^{x_j - m}\Big),
        \qquad m = \max_j x_j = x_k

    Tensor-sized ops: max (the value and its index in one pass), sub, exp, sum, sub; the
    term :math:`e^{x_k - m} = 1` is zeroed in place (scatter_, one write per row) and the
    log1p is row-sized (float16/bfloat16 are computed in float32 and rounded once at the
    end, as lsm does); every op allocates its result.
    """
    return lsm.log_softmax_forward(x.to(compute_dtype(x.dtype)), -1).to(x.dtype)


def allocate_composite(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The buffers :func:`composite_into` writes, allocated once.

    ``y`` and ``e`` (the exponentials) are full-size in the compute dtype, ``m`` and ``s``
    (row max, row log-sum) one value per row and ``k`` the max's index; a float16/bfloat16
    input also gets ``xc`` (its float32 copy) and ``out`` (the result rounded back to the
    input dtype).
    """
    work = compute_dtype(x.dtype)
    y = torch.empty(x.shape, dtype=work, device=x.device)
    rows = torch.empty(x.shape[:-1] + (1,), dtype=work, device=x.device)
    buffers = {"y": y, "e": torch.empty_like(y), "m": rows, "s": torch.empty_like(rows),
               "k": torch.empty(rows.shape, dtype=torch.int64, device=x.device)}
    if work != x.dtype:
        buffers.update(xc=torch.empty_like(y), out=torch.empty_like(x))
    return buffers


def composite_into(x: torch.Tensor, buffers: dict[str, torch.Tensor]) -> torch.Tensor:
    """The same ops as :func:`composite`, each writing into a preallocated buffer (out=) or in place."""
    y, e, m, s, k = (buffers[n] for n in ("y", "e", "m", "s", "k"))
    xc = buffers["xc"].copy_(x) if "xc" in buffers else x
    torch.max(xc, -1, keepdim=True, out=(m, k))
    torch.sub(xc, m, out=y)
    torch.exp(y, out=e)
    e.scatter_(-1, k, 0.0)
    torch.sum(e, -1, keepdim=True, out=s)
    s.add_(m - m).log1p_()
    y.sub_(s)
    return buffers["out"].copy_(y) if "out" in buffers else y


def lsm_log_softmax(x: torch.Tensor, state: None = None) -> torch.Tensor:
    """``lsm.log_softmax(x, -1)`` itself: the same nine ops as :func:`composite`, after
    lsm's input checks and inside its autograd.Function (no graph is recorded: x does not
    require grad)."""
    return lsm.log_softmax(x, -1)


# --- the single ops of the composites, timed alone -----------------------------------------
#
# Each writes into a preallocated output, so its time is its own compute and memory
# traffic; the cost model (:mod:`lsmlab.bench.model`) adds them up. The row vectors
# (the row max m, the row sum s) are computed once in ``allocate``.


def _row_buffers(x: torch.Tensor) -> dict[str, torch.Tensor]:
    rows = x.shape[:-1] + (1,)
    return {"out": torch.empty_like(x), "row": torch.empty(rows, dtype=x.dtype, device=x.device),
            "index": torch.empty(rows, dtype=torch.int64, device=x.device),
            "m": x.amax(-1, keepdim=True), "s": x.abs().sum(-1, keepdim=True), "pos": x.abs()}


def op_exp(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.exp(x, out=out)``: one exp per element, one read and one write."""
    return torch.exp(x, out=b["out"])


def op_log(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.log(|x|, out=out)`` (|x| made once, so no NaN path is timed): one log per element."""
    return torch.log(b["pos"], out=b["out"])


def op_max_index(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.max(x, -1, keepdim=True, out=(m, k))``: the row max *and its index*, as lsm's composite needs."""
    return torch.max(x, -1, keepdim=True, out=(b["row"], b["index"]))[0]


def op_amax(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.amax(x, -1, keepdim=True, out=m)``: the row max without its index."""
    return torch.amax(x, -1, keepdim=True, out=b["row"])


def op_sub(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.sub(x, m, out=out)``: subtract a row vector (broadcast), one read and one write."""
    return torch.sub(x, b["m"], out=b["out"])


def op_div(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.div(x, s, out=out)``: divide by a row vector (broadcast), as the naive composite does."""
    return torch.div(x, b["s"], out=b["out"])


def op_sum(x: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """``torch.sum(x, -1, keepdim=True, out=s)``: a row sum, one read."""
    return torch.sum(x, -1, keepdim=True, out=b["row"])


def _in_float64(op: Callable[[torch.Tensor, dict], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    def expected(x: torch.Tensor) -> torch.Tensor:
        return op(x.double(), _row_buffers(x.double())).to(x.dtype)
    return expected


#: The single ops: (name, ATen op, function, memory passes (reads, writes) in tensor sizes).
OPS = (
    ("exp", "exp.out", op_exp, (1, 1)),
    ("log", "log.out", op_log, (1, 1)),
    ("max_index", "max.dim_max", op_max_index, (1, 0)),
    ("amax", "amax.out", op_amax, (1, 0)),
    ("sub", "sub.out", op_sub, (1, 1)),
    ("div", "div.out", op_div, (1, 1)),
    ("sum", "sum.IntList_out", op_sum, (1, 0)),
)


# --- the naive composite -------------------------------------------------------------------


def naive(x: torch.Tensor, state: None = None) -> torch.Tensor:
    r"""``log(exp(x) / sum exp(x))`` in the input dtype, as :func:`lsm.naive_log_softmax`.

    .. math:: y = \log \frac{e^{x}}{\sum_j e^{x_j}}

    Ops: exp, sum, div, log; it overflows for large x on purpose (float16: once the row
    sum passes 65504, which randn input reaches at widths near 40 000).
    """
    e = torch.exp(x)
    return torch.log(e / e.sum(-1, keepdim=True))


# --- torch.compile of the composite ------------------------------------------------------


class CompiledComposite:
    """``torch.compile(composite, dynamic=True)``, compiled afresh for each session.

    A session is one device, CPU thread count and dtype (:meth:`session`). Inductor bakes
    the thread count into the C++ kernels it generates for the CPU, and dynamo keeps at
    most 8 graphs per function before it silently falls back to eager, so each session
    starts from ``torch._dynamo.reset()``. ``dynamic=True`` compiles one graph for every
    row count and width except the specialisations inductor asks for itself (one row;
    widths up to 4096 and above), so a session compiles about four graphs, not one per
    shape. Where torch has ``fail_on_recompile_limit_hit`` it is switched on, so that a
    fallback to eager raises (and is recorded) instead of being timed as compiled code.
    """

    def __init__(self) -> None:
        self._fn: Callable | None = None

    @contextlib.contextmanager
    def session(self):
        """Compile from scratch inside the block; forget the compiled graphs after it."""
        import torch._dynamo

        config = torch._dynamo.config
        saved = {k: getattr(config, k) for k in ("fail_on_recompile_limit_hit",) if hasattr(config, k)}
        torch._dynamo.reset()
        self._fn = None
        try:
            for k in saved:
                setattr(config, k, True)
            yield self
        finally:
            for k, v in saved.items():
                setattr(config, k, v)
            torch._dynamo.reset()
            self._fn = None

    def __call__(self, x: torch.Tensor, state: None = None) -> torch.Tensor:
        if self._fn is None:
            self._fn = torch.compile(composite, dynamic=True)
        return self._fn(x)


_COMPOSITE_PASSES = (("max", 1, 0), ("sub", 1, 1), ("exp", 1, 1), ("sum", 1, 0), ("sub", 1, 1))
_FUSED = (("fused", 1, 1),)


def registry(compiled: CompiledComposite | None = None) -> dict[str, Implementation]:
    """Every implementation, keyed by name, in the order they are timed and reported."""
    compiled = compiled or CompiledComposite()
    impls = [
        Implementation(
            "copy", "copy_ (ceiling)", "copy", True,
            "out.copy_(x): the same bytes as a fused kernel, read once and written once",
            copy_into, _like, (), _FUSED),
        Implementation(
            "clone", "clone (allocates)", "copy", False,
            "x.clone(): copy_ plus allocating a fresh output every call",
            clone, _no_state, (), _FUSED,
            notes=("Large CPU allocations are fresh pages from the OS, so the first write faults each page in.",)),
        Implementation(
            "native_log_softmax", "torch.log_softmax(out=)", "log_softmax", True,
            "torch.log_softmax(x, -1, out=out): one fused kernel into a preallocated output",
            native_log_softmax_out, _like, (), _FUSED),
        Implementation(
            "native_log_softmax_alloc", "torch.log_softmax", "log_softmax", False,
            "torch.log_softmax(x, -1): the fused kernel, allocating its output every call",
            native_log_softmax_alloc, _no_state, (), _FUSED),
        Implementation(
            "native_softmax", "torch.softmax(out=)", "softmax", True,
            "torch.softmax(x, -1, out=out): one fused kernel into a preallocated output",
            native_softmax_out, _like, (), _FUSED),
        Implementation(
            "composite", "lsm composite", "log_softmax", False,
            "lsm.log_softmax_forward: max, sub, exp, scatter_, sum, sub, add, log1p, sub; each op allocates",
            composite, _no_state, _COMPOSITE_PASSES, upcasts_half=True),
        Implementation(
            "composite_out", "lsm composite (out=)", "log_softmax", True,
            "the same nine ops writing into preallocated buffers (max/sub/exp/sum with out=, scatter_, add_, log1p_, sub_)",
            composite_into, allocate_composite, _COMPOSITE_PASSES, upcasts_half=True),
        Implementation(
            "lsm", "lsm.log_softmax", "log_softmax", False,
            "lsm.log_softmax(x, -1): the composite's nine ops after lsm's input checks, inside its autograd.Function",
            lsm_log_softmax, _no_state, _COMPOSITE_PASSES, upcasts_half=True),
        Implementation(
            "naive", "naive composite", "log_softmax", False,
            "log(exp(x) / exp(x).sum()): exp, sum, div, log in the input dtype; each op allocates",
            naive, _no_state, (), (("exp", 1, 1), ("sum", 1, 0), ("div", 1, 1), ("log", 1, 1))),
        Implementation(
            "compiled", "torch.compile(composite)", "log_softmax", False,
            "torch.compile(composite, dynamic=True), default mode; allocates its output",
            compiled, _no_state, None, compiled=True,
            notes=("The pass structure is whatever inductor fuses; ideally one read and one write.",)),
    ]
    impls += [
        Implementation(
            "op_" + name, name, "sum" if name == "sum" else "op", True,
            f"{aten}: one op alone, into a preallocated output",
            fn, _row_buffers, (), ((name, *rw),), expected=_in_float64(fn))
        for name, aten, fn, rw in OPS
    ]
    return {impl.name: impl for impl in impls}


def aten_ops(impl: Implementation) -> list[str] | None:
    """The ATen operators one call dispatches, in order, traced on a small CPU input.

    On CUDA each is (at least) one kernel launch, so their number is the launch-overhead
    term of the cost model. ``None`` for torch.compile (its kernels are generated code)
    or when tracing fails.
    """
    if impl.compiled:
        return None
    x = torch.randn(2, 8)
    try:
        state = impl.allocate(x)
        calls = aten_calls(impl.run, x, state)
    except Exception:
        return None
    return [call.qualified for call in calls]


#: Names in reporting order.
NAMES = tuple(registry())
