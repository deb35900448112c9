"""lsmlab.accuracy.ulps: the spacing ulp(v), errors in ulps, steps between floats.

Checked against torch.nextafter on every float16 and bfloat16 bit pattern and on a
seeded million float32 values, and on the edge cases that the notebooks rely on:
subnormals, zero of either sign, infinities, NaN.
"""

from __future__ import annotations

import pytest
import torch

from lsmlab.accuracy import every_value
from lsmlab.accuracy.ulps import ulp, ulp_error, ulps_between

HALF = [torch.float16, torch.bfloat16]
ALL = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def every_finite(dtype: torch.dtype) -> torch.Tensor:
    values = every_value(dtype)
    return values[torch.isfinite(values)]


def seeded(dtype: torch.dtype, count: int = 1_000_000) -> torch.Tensor:
    g = torch.Generator().manual_seed(20261201)
    info = torch.iinfo(torch.int32 if dtype == torch.float32 else torch.int64)
    bits = torch.randint(info.min, info.max, (count,), generator=g,
                         dtype=torch.int32 if dtype == torch.float32 else torch.int64)
    values = bits.view(dtype)
    return values[torch.isfinite(values)]


def values_for(dtype):
    return every_finite(dtype) if dtype in HALF else seeded(dtype)


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_ulp_is_the_gap_to_the_next_number_away_from_zero(dtype):
    v = values_for(dtype).abs()
    v = v[v < torch.finfo(dtype).max]  # the largest finite number has no finite successor
    up = torch.nextafter(v, torch.full_like(v, float("inf")))
    torch.testing.assert_close(ulp(v, dtype), (up.double() - v.double()), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_neighbours_are_one_step_apart_and_equal_values_none(dtype):
    v = values_for(dtype)
    v = v[v.abs() < torch.finfo(dtype).max]
    up = torch.nextafter(v, torch.full_like(v, float("inf")))
    assert (ulps_between(v, up) == 1).all()
    assert (ulps_between(v, v) == 0).all()


def test_signed_zeros_are_equal_and_the_smallest_subnormals_two_steps_apart():
    tiny = torch.finfo(torch.float32).smallest_normal * torch.finfo(torch.float32).eps
    a = torch.tensor([0.0, -tiny, tiny])
    b = torch.tensor([-0.0, tiny, -tiny])
    assert ulps_between(a, b).tolist() == [0, 2, 2]


def test_ulp_error_of_known_errors():
    one_plus = torch.tensor([1.0 + 2.0**-25], dtype=torch.float64)  # a quarter ulp above 1
    assert ulp_error(torch.tensor([1.0]), one_plus).item() == 0.25
    # below 1 the spacing halves: 1 - 2^-24 is one float32 ulp below 1 measured at 1 - 2^-24
    below = torch.tensor([1.0 - 2.0**-24], dtype=torch.float64)
    assert ulp_error(torch.tensor([1.0]), below).item() == 1.0


def test_ulp_error_of_non_finite_values():
    inf = float("inf")
    computed = torch.tensor([inf, inf, 1.0, float("nan")])
    exact = torch.tensor([inf, -inf, inf, 1.0], dtype=torch.float64)
    assert ulp_error(computed, exact).tolist() == [0.0, inf, inf, inf]


def test_ulp_of_a_value_the_format_cannot_hold_is_its_binade_spacing():
    # 1 + 2^-30 is no float32, but lies in float32's binade [1, 2): spacing 2^-23
    v = torch.tensor([1.0 + 2.0**-30, 3e-46], dtype=torch.float64)
    f32 = torch.finfo(torch.float32)
    assert ulp(v, torch.float32).tolist() == [2.0**-23, f32.smallest_normal * f32.eps]


@pytest.mark.parametrize("bad", [[1.0], torch.tensor([1, 2])], ids=["list", "int64"])
def test_non_float_input_is_refused_with_the_fix(bad):
    with pytest.raises(TypeError, match="must be a float16, bfloat16, float32 or float64"):
        ulps_between(bad, bad)


def test_mixed_formats_are_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"convert one with \.to"):
        ulps_between(torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64))


def test_the_kernel_capability_is_reported_and_compared_with_the_stored_one():
    from lsmlab.accuracy import machine

    assert machine.cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert machine.on_stored_kernels() == (machine.cpu_capability() == machine.STORED_CAPABILITY)


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_every_value_holds_each_bit_pattern_once(dtype):
    bits = every_value(dtype).view(torch.int16).to(torch.int32)
    assert bits.unique().numel() == 2**16 and bits[0] == -(2**15) and bits[-1] == 2**15 - 1
    assert (bits.diff() == 1).all()


def test_every_value_refuses_a_format_too_large_to_enumerate():
    with pytest.raises(TypeError, match="sample it instead"):
        every_value(torch.float32)


def test_softmax_sum_bound_is_about_n_plus_one_u_and_holds():
    from lsmlab.accuracy.bounds import softmax_sum_bound

    u = 2.0**-24
    for n in (2, 5, 1000):
        assert (n + 1) * u < softmax_sum_bound(n, torch.float32) < 1.01 * (n + 1) * u
    rows = torch.softmax(3 * torch.randn(1000, 50, generator=torch.Generator().manual_seed(1)), 1)
    assert ((rows.double().sum(1) - 1).abs() <= softmax_sum_bound(50, torch.float32)).all()
