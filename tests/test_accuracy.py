"""lsmlab.accuracy, the machinery of notebook 9: reference, emulated rounding, metrics, proposals.

The reference is checked against mpmath on known values and seeded vectors; the
emulated float16/bfloat16 arithmetic against torch's native operations bit for bit
and, for exp, log and log1p, against correct rounding for every one of the 2^16
arguments; the metrics on errors of known size; the proposed lsm forward passes
against torch with the tolerances of tests/tolerances.py.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import torch

from lsmlab.accuracy import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, HALF_FORMATS, algorithms, candidates, inputs, study
from lsmlab.accuracy import doubledouble as dd
from lsmlab.accuracy import reference as ref_mod
from lsmlab.accuracy.arithmetic import Emulated, Half, Native, _all_values
from lsmlab.accuracy.metrics import (
    log_softmax_error,
    log_softmax_rest_error,
    log_softmax_top_error,
    logsumexp_error,
    softmax_error,
)
from lsmlab.accuracy.reference import mp_log_softmax, mp_logsumexp, mp_softmax, reference
from lsmlab.accuracy.rounding import _scale, round_dd_to, round_to
from tolerances import assert_close_to_torch, forward_tol

F64 = torch.float64
HALF_IDS = [f.name for f in HALF_FORMATS]


def mpf_of(hi: float, lo: float):
    with mpmath.workprec(200):
        return mpmath.mpf(hi) + mpmath.mpf(lo)


def rel_diff(a, b) -> float:
    with mpmath.workprec(200):
        return float(abs((a - b) / b))


# --- the reference ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 1000])
def test_reference_known_values(n):
    """lse of n equal entries c is c + log n, softmax is 1/n, log_softmax is -log n."""
    with mpmath.workprec(200):
        for c in (0.0, 1000.0, -1000.0):
            row = [c] * n
            exact_lse = c + mpmath.log(n)
            assert rel_diff(mp_logsumexp(row), exact_lse) < 2.0**-180
            assert all(rel_diff(s, mpmath.mpf(1) / n) < 2.0**-180 for s in mp_softmax(row))
            r = reference(torch.full((1, n), c, dtype=F64))
            assert rel_diff(mpf_of(r.lse[0].item(), r.lse[1].item()), exact_lse) < 2.0**-95
            assert rel_diff(mpf_of(r.softmax[0][0, 0].item(), r.softmax[1][0, 0].item()), mpmath.mpf(1) / n) < 2.0**-80
            assert rel_diff(mpf_of(r.log_softmax[0][0, 0].item(), r.log_softmax[1][0, 0].item()), -mpmath.log(n)) < 2.0**-80


def test_reference_named_values():
    with mpmath.workprec(200):
        assert rel_diff(mp_logsumexp([0.0, 0.0]), mpmath.log(2)) < 2.0**-190
        assert rel_diff(mp_logsumexp([1000.0, 1000.0]), 1000 + mpmath.log(2)) < 2.0**-190
    r = reference(torch.tensor([[0.0, 0.0], [1000.0, 1000.0]], dtype=F64))
    assert r.lse[0].flatten().tolist() == [math.log(2), 1000 + math.log(2)]


def test_reference_matches_mpmath_on_seeded_vectors():
    """Double-double reference against mpmath at 200 bits: lse relative, log_softmax absolute, softmax relative."""
    rows = torch.cat([
        inputs.normal(3, 40, 0.1, 1), inputs.normal(3, 40, 10.0, 2),
        inputs.peaked(3, 40, 3), inputs.wide(3, 40, 700.0, 4),
        inputs.peaked(3, 40, 9) - inputs.peaked(3, 40, 9).amax(-1, keepdim=True),  # lse near 0
    ])
    r = reference(rows)
    worst = [0.0, 0.0, 0.0]
    for i, row in enumerate(rows.tolist()):
        lse = mp_logsumexp(row)
        worst[0] = max(worst[0], rel_diff(mpf_of(r.lse[0][i, 0].item(), r.lse[1][i, 0].item()), lse))
        for j, (ls, s) in enumerate(zip(mp_log_softmax(row), mp_softmax(row))):
            got = mpf_of(r.log_softmax[0][i, j].item(), r.log_softmax[1][i, j].item())
            worst[1] = max(worst[1], float(abs(got - ls)))
            if s >= ref_mod.FLOOR:
                worst[2] = max(worst[2], rel_diff(mpf_of(r.softmax[0][i, j].item(), r.softmax[1][i, j].item()), s))
    assert worst[0] < 2.0**-85 and worst[1] < 2.0**-78 and worst[2] < 2.0**-78, [math.log2(w) for w in worst]


def test_exp_and_log_dd_against_mpmath():
    g = torch.Generator().manual_seed(0)
    h = torch.cat([-660 * torch.rand(400, generator=g, dtype=F64), torch.randn(200, generator=g, dtype=F64),
                   700 * torch.rand(100, generator=g, dtype=F64), 1e-5 * torch.randn(100, generator=g, dtype=F64)])
    h, lo = dd.two_sum(h, h * 2.0**-55 * torch.randn(h.shape, generator=g, dtype=F64))
    eh, el = dd.exp_dd((h, lo))
    x = torch.exp(20 * torch.randn(300, generator=g, dtype=F64))
    lh, ll = dd.log_dd(x)
    p = torch.cat([2 * torch.rand(200, generator=g, dtype=F64) - 1, torch.exp(8 * torch.randn(100, generator=g, dtype=F64))])
    ph, pl = dd.log1p_dd(p)
    with mpmath.workprec(200):
        worst_exp = max(rel_diff(mpf_of(a, b), mpmath.exp(mpf_of(c, d)))
                        for a, b, c, d in zip(eh.tolist(), el.tolist(), h.tolist(), lo.tolist()))
        worst_log = max(rel_diff(mpf_of(a, b), mpmath.log(c)) for a, b, c in zip(lh.tolist(), ll.tolist(), x.tolist()))
        worst_log1p = max(float(abs(mpf_of(a, b) - mpmath.log1p(c))) for a, b, c in zip(ph.tolist(), pl.tolist(), p.tolist()))
    assert worst_exp < 2.0**-80 and worst_log < 2.0**-80 and worst_log1p < 2.0**-80


def test_reference_blocks_and_study_chunks_change_no_bit(monkeypatch):
    x = inputs.normal(3, 1000, 3.0, 5)
    before = reference(x)
    monkeypatch.setattr(ref_mod, "BLOCK", 64)
    after = reference(x)
    for field in ("lse", "softmax", "log_softmax"):
        assert all(torch.equal(a, b) for a, b in zip(getattr(before, field), getattr(after, field)))
    monkeypatch.undo()
    whole = study.errors(x, FLOAT16)
    monkeypatch.setattr(study, "CHUNK", 1000)
    pieces = study.errors(x, FLOAT16)
    assert all(torch.equal(whole[k], pieces[k]) for k in whole)


# --- rounding and emulated arithmetic ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", HALF_FORMATS, ids=HALF_IDS)
def test_round_to_matches_torch_from_float32(fmt):
    """float32 -> half in torch is a single correct rounding; round_to must agree bit for bit."""
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(100_000, generator=g) * torch.exp(8 * torch.randn(100_000, generator=g))).float()
    x = torch.cat([x, torch.tensor([0.0, -0.0, math.inf, -math.inf, 65504.0, 65519.0, 65520.0, 2.0**-25, 3 * 2.0**-26])])
    assert torch.equal(round_to(x.double(), fmt).to(fmt.dtype).view(torch.int16), x.to(fmt.dtype).view(torch.int16))


@pytest.mark.parametrize("fmt", HALF_FORMATS, ids=HALF_IDS)
def test_round_to_is_numpys_and_ml_dtypes_rounding_from_float64(fmt):
    """float64 -> float16 by numpy's cast and -> bfloat16 by ml_dtypes round once, correctly:
    round_to must agree bit for bit on 3.6 to 4 million float64 values of every magnitude, including
    values just off each format's midpoints, where a detour through float32 would round twice.
    (round_to stays hand-written: its scaling also serves round_dd_to, which no cast provides.)"""
    import ml_dtypes
    import numpy as np

    g = torch.Generator().manual_seed(3)
    x = torch.randn(2_000_000, generator=g, dtype=F64) * torch.exp(12 * torch.randn(2_000_000, generator=g, dtype=F64))
    # points between neighbouring numbers of the format (for a power of 2, exactly the midpoint
    # above it), nudged by far less than a float32 ulp either way
    grid = round_to(x[:1_000_000], fmt)
    step = torch.where(grid == 0, torch.full_like(grid, 2.0**-40), grid.abs() * 2.0 ** -(fmt.precision))
    mid = (grid + step)[torch.isfinite(grid)]  # not the overflowed ones: inf - inf is NaN
    x = torch.cat([x, mid * (1 + 2.0**-40), mid * (1 - 2.0**-40)])
    target = np.float16 if fmt == FLOAT16 else ml_dtypes.bfloat16
    with np.errstate(over="ignore"):  # values beyond the format's range become +-inf, as intended
        expected = torch.from_numpy(x.numpy().astype(target).astype(np.float64))
    assert not x.isnan().any() and x.numel() > 3_600_000
    assert torch.equal(round_to(x, fmt), expected)


def test_round_to_rounds_once_where_torch_rounds_twice():
    """torch's float64 -> float16 goes through float32: 1 + 2^-11 + 2^-40 becomes 1, not 1 + 2^-10."""
    x = torch.tensor([1 + 2.0**-11 + 2.0**-40], dtype=F64)
    assert x.to(torch.float16).item() == 1.0
    assert round_to(x, FLOAT16).item() == 1 + 2.0**-10
    assert round_to(torch.tensor([1 + 2.0**-8 + 2.0**-40], dtype=F64), BFLOAT16).item() == 1 + 2.0**-7


def test_round_dd_to_breaks_ties_with_the_low_part():
    h = torch.tensor([1 + 2.0**-11] * 3, dtype=F64)
    lo = torch.tensor([2.0**-60, -(2.0**-60), 0.0], dtype=F64)
    assert round_dd_to(h, lo, FLOAT16).tolist() == [1 + 2.0**-10, 1.0, 1.0]


def _random_pairs(fmt, n=100_000):
    g = torch.Generator().manual_seed(2)
    spread = 6.0 if fmt == FLOAT16 else 30.0
    a = torch.randn(n, generator=g, dtype=F64) * torch.exp(spread * torch.randn(n, generator=g, dtype=F64))
    b = torch.randn(n, generator=g, dtype=F64) * torch.exp(spread * torch.randn(n, generator=g, dtype=F64))
    return round_to(a, fmt).to(fmt.dtype), round_to(b, fmt).to(fmt.dtype)


def same_bits(a, b):
    return (a.view(torch.int16) == b.view(torch.int16)) | (a.isnan() & b.isnan())


@pytest.mark.parametrize("fmt", HALF_FORMATS, ids=HALF_IDS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_emulated_basic_ops_equal_torch_native_bit_for_bit(fmt, op):
    a, b = _random_pairs(fmt)
    emulated = getattr(Emulated(fmt), op)(a.double(), b.double()).to(fmt.dtype)
    assert bool(same_bits(emulated, getattr(torch, op)(a, b)).all())
    assert bool(same_bits(getattr(Half(fmt), op)(a, b), emulated).all())


def _correctly_rounded(fmt, name, x):
    """(mask, value): dd-accurate f(x) rounded to fmt, where the double-double functions apply."""
    x64 = x.double()
    if name == "exp":
        mask = (x64 > -660) & (x64 < 700)
        exact = dd.exp_dd((x64[mask], torch.zeros_like(x64[mask])))
    elif name == "log":
        mask = x64 > 0
        exact = dd.log_dd(x64[mask])
    else:
        mask = x64 > -1
        exact = dd.log1p_dd(x64[mask])
    return mask, exact, round_dd_to(*exact, fmt)


def _midpoint_distance(exact, fmt):
    """|exact - nearest rounding boundary of fmt| / |exact|."""
    y, k = _scale(exact[0], fmt)
    return (y - torch.floor(y) - 0.5).abs() * torch.ldexp(torch.ones_like(y), k.double()) / exact[0].abs()


@pytest.mark.parametrize("fmt", HALF_FORMATS, ids=HALF_IDS)
@pytest.mark.parametrize("name", ["exp", "log", "log1p"])
def test_emulated_functions_are_correctly_rounded_for_every_argument(fmt, name):
    """All 2^16 arguments: Emulated and Half give the correctly rounded value (decided by double-double
    values accurate to 2^-80, and no exact value lies within 2^-28 of a rounding boundary, so any float64
    implementation accurate to 2^-28 decides the same). Torch's own half functions compute in float32:
    they differ exactly where the exact value lies within one float32 rounding (2^-24) of a boundary."""
    x = _all_values(fmt)
    x = x[torch.isfinite(x)]
    mask, exact, cr = _correctly_rounded(fmt, name, x)
    emulated = getattr(Emulated(fmt), name)(x.double())
    tabulated = getattr(Half(fmt), name)(x)
    assert bool(same_bits(tabulated, emulated.to(fmt.dtype)).all())
    assert torch.equal(emulated[mask], cr)
    if name == "exp":  # outside the double-double range: overflow or underflow in every format
        assert bool(((x[~mask] > 0) & emulated[~mask].isinf() | (x[~mask] < 0) & (emulated[~mask] == 0)).all())
    normal = torch.isfinite(cr) & (cr.abs() >= fmt.tiny)
    distance = _midpoint_distance(exact, fmt)[normal]
    assert distance.min() > 2.0**-28
    native = getattr(torch, name)(x)
    differ = ~same_bits(native, emulated.to(fmt.dtype))
    near_tie = torch.zeros_like(differ)
    near_tie[mask.nonzero().flatten()[normal]] = distance < 2.0**-24
    assert torch.equal(differ, near_tie & differ)  # every difference is at a near-tie
    assert int(differ.sum()) <= 3  # float16: exp at 2 arguments, log at 1, log1p at 2; bfloat16: none


def test_native_float32_and_float64_arithmetic_is_torch():
    x = torch.tensor([[1.0, 2.0, 3.0]], dtype=F64)
    for fmt in (FLOAT32, FLOAT64):
        ar = Native(fmt)
        y = algorithms.evaluate(algorithms.lse_shifted, x.to(fmt.dtype), ar)
        torch.testing.assert_close(y, torch.logsumexp(x, -1, keepdim=True), rtol=4 * fmt.u, atol=0)


def test_summation_orders():
    t = torch.arange(1.0, 8.0, dtype=F64).reshape(1, 7)
    ar = Emulated(FLOAT16, "pairwise")
    assert ar.sum(t).item() == 28.0
    assert Emulated(FLOAT16, "recursive").sum(t).item() == 28.0
    # 4096 + 1 + 1 + ... (exactly 4112) stagnates left to right in float16, where the spacing at 4096
    # is 4 and 4097 rounds to 4096; pairwise adds the ones to each other first and gets 4108:
    # (4096 + 1) -> 4096, (4096 + 2) -> 4096 (a tie, to even), then + 4 + 8 exactly, + 1 -> 4108.
    t = torch.tensor([[4096.0] + [1.0] * 16], dtype=F64)
    assert Emulated(FLOAT16, "recursive").sum(t).item() == 4096.0
    assert ar.sum(t).item() == 4108.0


# --- metrics ----------------------------------------------------------------------------------------


def test_metrics_units():
    one = (torch.ones(1, 1, dtype=F64), torch.zeros(1, 1, dtype=F64))
    # one float16 ulp above 1 is 2^-10 = 2 u
    assert logsumexp_error(torch.tensor([[1 + 2.0**-10]], dtype=F64), one, FLOAT16).item() == 2.0
    assert logsumexp_error(torch.tensor([[1 + 2.0**-52]], dtype=F64), one, FLOAT64).item() == 2.0
    assert logsumexp_error(torch.tensor([[math.inf]], dtype=F64), one, FLOAT16).item() == math.inf
    # softmax: relative, largest over entries >= the smallest normal number; smaller ones are skipped
    s = (torch.tensor([[0.5, 0.25, 2.0**-20]], dtype=F64), torch.zeros(1, 3, dtype=F64))
    got = torch.tensor([[0.5, 0.25 * (1 + 3 * 2.0**-11), 0.0]], dtype=F64)
    assert softmax_error(got, s, FLOAT16).item() == 3.0
    assert softmax_error(got, s, FLOAT32).item() == math.inf or softmax_error(got, s, FLOAT32).item() > 2**20
    tiny_only = (torch.full((1, 2), 2.0**-20, dtype=F64), torch.zeros(1, 2, dtype=F64))
    assert softmax_error(torch.zeros(1, 2, dtype=F64), tiny_only, FLOAT16).isnan().all()
    # log_softmax: absolute, in u; the top-entry error is relative
    y = (torch.tensor([[-0.001, -8.0]], dtype=F64), torch.zeros(1, 2, dtype=F64))
    got = torch.tensor([[-0.001 + 2.0**-24, -8.0 - 2.0**-20]], dtype=F64)
    assert log_softmax_error(got, y, FLOAT32).item() == 16.0
    assert log_softmax_top_error(got, y, FLOAT32).item() == pytest.approx(1000.0)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_correctly_rounded_results_have_error_below_one_u(fmt):
    e = study.errors(inputs.normal(8, 50, 2.0, 6), fmt)
    for metric in ("logsumexp", "softmax", "log_softmax, top entry"):
        v = e[metric, "correctly rounded"]
        assert bool((v[~v.isnan()] <= 1.0).all())


# --- the proposal for lsm ---------------------------------------------------------------------------

inf, nan = math.inf, math.nan
SPECIAL_ROWS = [[-inf, -inf], [inf, 1.0], [inf, inf], [inf, -inf], [nan, 1.0], [-inf, 1.0], [1e4, -1e4], [-1e4, -1e4],
                [1.0, nan], [-inf, nan], [inf, nan], [2.0, 2.0]]


@pytest.mark.parametrize("row", SPECIAL_ROWS)
def test_candidates_keep_torch_special_values(row):
    x = torch.tensor([row, [0.0, 1.0]])
    torch.testing.assert_close(candidates.logsumexp_forward(x, 1).squeeze(1), torch.logsumexp(x, 1), equal_nan=True)
    torch.testing.assert_close(candidates.log_softmax_forward(x, 1), torch.log_softmax(x, 1), equal_nan=True)


def test_candidates_on_a_0_dim_tensor():
    x = torch.tensor(2.5)
    assert candidates.logsumexp_forward(x, 0).item() == 2.5 and candidates.log_softmax_forward(x, 0).item() == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_candidates_agree_with_torch_within_the_test_tolerances(dtype):
    g = torch.Generator().manual_seed(7)
    x = (torch.randn(16, 3, 50, generator=g, dtype=F64) * torch.tensor([0.1, 3.0, 30.0], dtype=F64)[:, None]).to(dtype)
    for dim in (0, 1, -1):
        n = x.shape[dim]
        rtol, atol = forward_tol(dtype, n, log_domain=True)
        assert_close_to_torch(candidates.logsumexp_forward(x, dim), torch.logsumexp(x, dim, keepdim=True), rtol, atol)
        assert_close_to_torch(candidates.log_softmax_forward(x, dim), torch.log_softmax(x, dim), rtol, atol)


def test_candidates_are_accurate_where_the_current_formula_is_not():
    """Max 0, the rest 30 below: lse = log1p(s), s about 1e-13; log(1 + s) in float32 gives 0."""
    x = torch.tensor([[0.0, -30.0, -31.0]])
    exact = float(mp_logsumexp([0.0, -30.0, -31.0]))
    assert torch.logsumexp(x, 1).item() == 0.0
    assert candidates.logsumexp_forward(x, 1).item() == pytest.approx(exact, rel=2**-22)
    assert candidates.log_softmax_forward(x, 1)[0, 0].item() == pytest.approx(-exact, rel=2**-22)


def test_log_softmax_rest_error_skips_the_top_entry():
    y = (torch.tensor([[-1e-6, -1.0, -4.0]], dtype=F64), torch.zeros(1, 3, dtype=F64))
    got = torch.tensor([[0.0, -1.0 - 2.0**-23, -4.0]], dtype=F64)
    assert log_softmax_top_error(got, y, FLOAT32).item() == 2**24  # the top entry lost completely
    assert log_softmax_rest_error(got, y, FLOAT32).item() == 2.0  # one float32 ulp at 1 is 2 u


def test_measure_summarize_and_merge():
    x = inputs.normal(4, 20, 1.0, 8)
    impl = {"torch": {"logsumexp": lambda t: torch.logsumexp(t, -1), "softmax": lambda t: torch.softmax(t, -1)}}
    got = study.measure(x, FLOAT64, impl)
    assert set(got) == {("logsumexp", "torch"), ("softmax", "torch")} and got["logsumexp", "torch"].shape == (4,)
    assert bool((got["logsumexp", "torch"] < 4).all())
    both = study.merge(got, got)
    assert both["softmax", "torch"].shape == (8,)
    median, worst, bad = study.summarize(torch.tensor([1.0, 3.0, math.inf, math.nan], dtype=F64))
    assert (median, worst) == (3.0, math.inf) and bad == pytest.approx(1 / 3)
