"""lsmlab.accuracy, the machinery of notebooks 9 and 10: reference, correctly rounded arithmetic, metrics.

The reference is checked against mpmath on known values and seeded vectors; the
emulated float16/bfloat16 arithmetic against torch's native operations bit for bit
and, for exp, log and log1p, against correct rounding for every one of the 2^16
arguments; the correctly rounded float32/float64 arithmetic against mpmath; the
metrics (in ulps) on errors of known size; the condition numbers against mpmath.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import torch

from lsmlab.accuracy import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, HALF_FORMATS, algorithms, inputs, study
from lsmlab.accuracy import doubledouble as dd
from lsmlab.accuracy import reference as ref_mod
from lsmlab.accuracy.arithmetic import CorrectlyRounded, Emulated, Half, Native, _all_values, exp_dd_wide
from lsmlab.accuracy.conditioning import kappa_lse, kappa_softmax
from lsmlab.accuracy.metrics import (
    log_softmax_rest_error,
    log_softmax_top_error,
    logsumexp_error,
    softmax_error,
)
from lsmlab.accuracy.reference import mp_dd, mp_log_softmax, mp_logsumexp, mp_softmax, reference
from lsmlab.accuracy.rounding import _scale, round_dd_to, round_to

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
    """Double-double reference against mpmath at 200 bits: lse relative, log_softmax absolute, softmax relative.
    Where lse = c + L cancels (c < 0, lse near 0), L's absolute error becomes a relative one of lse
    divided by |lse|: still below 2^-76 for |lse| >= 10^-6."""
    groups = {
        "ordinary": torch.cat([
            inputs.normal(3, 40, 0.1, 1), inputs.normal(3, 40, 10.0, 2),
            inputs.peaked(3, 40, 3), inputs.wide(3, 40, 700.0, 4),
            inputs.max_at_zero(3, 40, 9),  # c = 0, lse = log1p(D - 1) small
        ]),
        "cancelling": inputs.lse_near_zero(6, 40, 10),  # c < 0, lse = c + L near 0
    }
    for group, rows in groups.items():
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
        lse_bound = 2.0**-85 if group == "ordinary" else 2.0**-76
        assert worst[0] < lse_bound and worst[1] < 2.0**-78 and worst[2] < 2.0**-78, (group, [math.log2(w) for w in worst])


def test_exp_dd_against_mpmath():
    g = torch.Generator().manual_seed(0)
    h = torch.cat([-660 * torch.rand(400, generator=g, dtype=F64), torch.randn(200, generator=g, dtype=F64),
                   700 * torch.rand(100, generator=g, dtype=F64), 1e-5 * torch.randn(100, generator=g, dtype=F64)])
    h, lo = dd.two_sum(h, h * 2.0**-55 * torch.randn(h.shape, generator=g, dtype=F64))
    eh, el = dd.exp_dd((h, lo))
    with mpmath.workprec(200):
        worst_exp = max(rel_diff(mpf_of(a, b), mpmath.exp(mpf_of(c, d)))
                        for a, b, c, d in zip(eh.tolist(), el.tolist(), h.tolist(), lo.tolist()))
    assert worst_exp < 2.0**-80


def test_exp_dd_wide_covers_the_float64_range():
    """Below 2^-80 on [-660, 709.78] (above 700 through e^(x - 16 log 2) 2^16), then inf, 0 and nan."""
    g = torch.Generator().manual_seed(11)
    x = torch.cat([700 + 9.78 * torch.rand(200, generator=g, dtype=F64), -660 + 1360 * torch.rand(200, generator=g, dtype=F64)])
    eh, el = exp_dd_wide(x)
    with mpmath.workprec(200):
        worst = max(rel_diff(mpf_of(a, b), mpmath.exp(c)) for a, b, c in zip(eh.tolist(), el.tolist(), x.tolist()))
    assert worst < 2.0**-80
    special = torch.tensor([709.8, math.inf, -720.5, -math.inf, math.nan], dtype=F64)
    eh, el = exp_dd_wide(special)
    assert eh[:4].tolist() == [math.inf, math.inf, 0.0, 0.0] and eh[4].isnan() and el[:4].tolist() == [0.0] * 4


def test_mp_dd_is_correctly_rounded_plus_the_rest():
    x = torch.tensor([2.0, 1e-300, 0.5, 3.0], dtype=F64)
    hi, lo = mp_dd("log", (x, torch.zeros_like(x)))
    with mpmath.workprec(300):
        for h, l, v in zip(hi.tolist(), lo.tolist(), x.tolist()):
            exact = mpmath.log(v)
            assert h == float(exact) and abs(mpf_of(h, l) - exact) < abs(exact) * mpmath.mpf(2) ** -100
    hi, lo = mp_dd("log1p", (torch.tensor([1e-20], dtype=F64), torch.tensor([1e-37], dtype=F64)))
    with mpmath.workprec(300):
        assert rel_diff(mpf_of(hi.item(), lo.item()), mpmath.log1p(mpmath.mpf(1e-20) + mpmath.mpf(1e-37))) < 2.0**-100


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
    """(mask, exact, rounded): f(x) as a double-double accurate to 2^-80 or better, and rounded to fmt,
    where the reference's functions apply: exp_dd, and for log and log1p mpmath (mp_dd, as the
    reference takes its logarithm), at 80 bits to keep the 10^5 calls short."""
    x64 = x.double()
    if name == "exp":
        mask = (x64 > -660) & (x64 < 700)
        exact = dd.exp_dd((x64[mask], torch.zeros_like(x64[mask])))
    else:
        mask = x64 > 0 if name == "log" else (x64 > -1) & (x64 != 0)
        exact = mp_dd(name, (x64[mask], torch.zeros_like(x64[mask])), prec=80)
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
    if name == "log1p":  # log1p(+-0) = +-0, exactly
        assert torch.equal(emulated[(x == 0)].view(torch.int64), x[x == 0].double().view(torch.int64))
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


@pytest.mark.parametrize("fmt", [FLOAT32, FLOAT64], ids=["float32", "float64"])
def test_correctly_rounded_arithmetic_against_mpmath(fmt):
    """exp, log, log1p of CorrectlyRounded are the exact values rounded once (mpmath decides),
    on seeded arguments of every magnitude, subnormal results of float32 included."""
    g = torch.Generator().manual_seed(12)
    ar = CorrectlyRounded(fmt)
    x = (torch.randn(3000, generator=g, dtype=F64) * torch.exp(3 * torch.randn(3000, generator=g, dtype=F64)))
    x = x.clamp(-745, 709).to(fmt.dtype)
    cases = {"exp": x, "log": x.abs(), "log1p": x.abs() - 0.5}
    with mpmath.workprec(200):
        for name, arg in cases.items():
            got = getattr(ar, name)(arg)
            for a, y in zip(arg.tolist(), got.tolist()):
                if name == "log" and a <= 0 or name == "log1p" and a <= -1:
                    continue
                exact = getattr(mpmath, name)(a)
                want = round_to(torch.tensor([float(exact)], dtype=F64), fmt).item() if fmt == FLOAT32 else float(exact)
                if fmt == FLOAT64 and name == "exp" and float(exact) < 2.0**-1022:
                    continue  # float64 subnormal results below e^-720 are 0 (documented, never measured)
                assert y == want, (name, a, y, want)


def test_float32_exp_takes_the_fast_route_to_the_same_bits():
    """CorrectlyRounded(FLOAT32).exp rounds torch's float64 exp except near a rounding boundary: it must
    equal the double-double exp rounded once everywhere, the overflow and underflow edges included."""
    g = torch.Generator().manual_seed(13)
    x = torch.cat([200 * torch.rand(200_000, generator=g, dtype=F64) - 110,
                   torch.tensor([88.72283935546875, 88.7228469848633, -103.97, -103.28, -87.34, 0.0], dtype=F64)])
    x = x.float()
    hi, lo = exp_dd_wide(x.double())
    assert torch.equal(CorrectlyRounded(FLOAT32).exp(x), round_dd_to(hi, lo, FLOAT32).float())


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


def test_metrics_are_in_ulps():
    one = (torch.ones(1, 1, dtype=F64), torch.zeros(1, 1, dtype=F64))
    # one float16 ulp above 1 is 2^-10; one float64 ulp 2^-52
    assert logsumexp_error(torch.tensor([[1 + 2.0**-10]], dtype=F64), one, FLOAT16).item() == 1.0
    assert logsumexp_error(torch.tensor([[1 + 2.0**-52]], dtype=F64), one, FLOAT64).item() == 1.0
    assert logsumexp_error(torch.tensor([[math.inf]], dtype=F64), one, FLOAT16).item() == math.inf
    # softmax: largest over entries >= 2^-950, subnormal ones in ulps of the subnormal spacing 2^-24
    s = (torch.tensor([[0.5, 0.25, 2.0**-20]], dtype=F64), torch.zeros(1, 3, dtype=F64))
    got = torch.tensor([[0.5, 0.25 * (1 + 3 * 2.0**-11), 2.0**-20 + 2.0**-24]], dtype=F64)
    assert softmax_error(got, s, FLOAT16).item() == 1.5  # 3 * 2^-13 / 2^-12 (the ulp at 0.25)
    got[0, 1] = 0.25
    assert softmax_error(got, s, FLOAT16).item() == 1.0  # the subnormal entry, one step off
    below_floor = (torch.full((1, 2), 2.0**-960, dtype=F64), torch.zeros(1, 2, dtype=F64))
    assert softmax_error(torch.zeros(1, 2, dtype=F64), below_floor, FLOAT64).isnan().all()
    # log_softmax: the top entry (relative, in ulps of its own binade) and the others
    y = (torch.tensor([[-0.001, -8.0]], dtype=F64), torch.zeros(1, 2, dtype=F64))
    got = torch.tensor([[-0.001 + 2.0**-24, -8.0 - 2.0**-20]], dtype=F64)
    assert log_softmax_top_error(got, y, FLOAT32).item() == 2.0**-24 / 2.0**-33  # ulp at 0.001 is 2^-33
    assert log_softmax_rest_error(got, y, FLOAT32).item() == 2.0**-20 / 2.0**-20  # ulp at 8 is 2^-20


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_correctly_rounded_results_are_within_half_an_ulp(fmt):
    e = study.errors(inputs.normal(8, 50, 2.0, 6), fmt)
    for metric in ("logsumexp", "softmax", "log_softmax, top entry", "log_softmax, other entries"):
        v = e[metric, "correctly rounded"]
        assert bool((v[~v.isnan()] <= 0.5).all())


def test_study_gives_the_same_bits_with_torch_scalar_kernels(tmp_path):
    """study.errors uses none of torch's exp, log and log1p kernels, which differ in the last bit between
    AVX-512, AVX2 and scalar code: ATEN_CPU_CAPABILITY=default (scalar) gives the same errors, bit for bit."""
    import os
    import subprocess
    import sys

    def run():
        x = torch.cat([inputs.normal(8, 64, 3.0, 14), inputs.lse_near_zero(8, 64, 18)])
        return {f.name: study.errors(x, f) for f in (FLOAT32, FLOAT64)}

    path = tmp_path / "scalar.pt"
    code = (
        "import sys, torch\ntorch.set_num_threads(1)\n"
        "from lsmlab.accuracy import FLOAT32, FLOAT64, inputs, study\n"
        "x = torch.cat([inputs.normal(8, 64, 3.0, 14), inputs.lse_near_zero(8, 64, 18)])\n"
        "torch.save({f.name: study.errors(x, f) for f in (FLOAT32, FLOAT64)}, sys.argv[1])\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env={**os.environ, "ATEN_CPU_CAPABILITY": "default"})
    here, scalar = run(), torch.load(path)
    for fmt in here:
        for key, v in here[fmt].items():
            assert torch.equal(v.nan_to_num(-1.0), scalar[fmt][key].nan_to_num(-1.0)), (fmt, key)


# --- condition numbers -----------------------------------------------------------------------------


def test_condition_numbers_against_mpmath_and_their_bounds():
    x = torch.cat([inputs.lse_near_zero(4, 30, 15), inputs.normal(4, 30, 3.0, 16)])
    k_lse, k_sm = kappa_lse(x), kappa_softmax(x)
    with mpmath.workprec(200):
        for row, k, ks in zip(x.tolist(), k_lse.tolist(), k_sm.tolist()):
            e = [mpmath.exp(v) for v in row]
            total = mpmath.fsum(e)
            s = [t / total for t in e]
            exact = mpmath.fsum(abs(v) * t for v, t in zip(row, s)) / abs(mpmath.log(total))
            assert rel_diff(mpmath.mpf(k), exact) < 1e-12
            for i, v in enumerate(row):
                ki = abs(v) * (1 - s[i]) + mpmath.fsum(s[j] * abs(w) for j, w in enumerate(row) if j != i)
                assert rel_diff(mpmath.mpf(ks[i]), ki) < 1e-12
    assert (k_lse <= x.abs().amax(-1) / reference(x).lse[0].flatten().abs() * (1 + 1e-12)).all()
    assert (k_sm <= 2 * x.abs().amax(-1, keepdim=True)).all()


def test_lse_near_zero_has_a_negative_maximum_and_a_small_lse():
    x = inputs.lse_near_zero(64, 100, 17)
    lse = reference(x).lse[0].flatten()
    assert (x.amax(-1) < 0).all() and (lse.abs() <= 0.1 * (1 + 1e-12)).all() and (lse.abs() >= 1e-6 * (1 - 1e-9)).all()
    assert (lse > 0).any() and (lse < 0).any()


def test_log_softmax_rest_error_skips_the_top_entry():
    y = (torch.tensor([[-2.0**-20, -1.0, -4.0]], dtype=F64), torch.zeros(1, 3, dtype=F64))
    got = torch.tensor([[0.0, -1.0 - 2.0**-23, -4.0]], dtype=F64)
    assert log_softmax_top_error(got, y, FLOAT32).item() == 2**23  # lost completely: 2^-20 / 2^-43
    assert log_softmax_rest_error(got, y, FLOAT32).item() == 1.0  # one float32 ulp at 1 is 2^-23


def test_measure_summarize_and_merge():
    x = inputs.normal(4, 20, 1.0, 8)
    impl = {"torch": {"logsumexp": lambda t: torch.logsumexp(t, -1), "softmax": lambda t: torch.softmax(t, -1)}}
    got = study.measure(x, FLOAT64, impl)
    assert set(got) == {("logsumexp", "torch"), ("softmax", "torch")} and got["logsumexp", "torch"].shape == (4,)
    assert bool((got["logsumexp", "torch"] < 2).all())
    both = study.merge(got, got)
    assert both["softmax", "torch"].shape == (8,)
    median, worst, bad = study.summarize(torch.tensor([1.0, 3.0, math.inf, math.nan], dtype=F64))
    assert (median, worst) == (3.0, math.inf) and bad == pytest.approx(1 / 3)
