"""Edge cases stated one by one: lsm gives exactly what torch gives."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import lsm

inf, nan = math.inf, math.nan

PAIRS = [
    (lsm.softmax, torch.softmax),
    (lsm.log_softmax, torch.log_softmax),
    (lsm.logsumexp, torch.logsumexp),
]


def same(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    torch.testing.assert_close(a, b, equal_nan=True, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("shape,dim", [((0,), 0), ((0, 3), 1), ((0, 3), 0), ((3, 0), 1), ((3, 0), 0), ((2, 0, 4), -1)])
def test_empty_tensors(ours, theirs, shape, dim):
    x = torch.empty(shape)
    same(ours(x, dim), theirs(x, dim))


def test_logsumexp_of_an_empty_slice_is_minus_inf():
    assert torch.equal(lsm.logsumexp(torch.empty(3, 0), 1), torch.full((3,), -inf))


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("dim", [0, -1])
def test_zero_dim_tensors(ours, theirs, dim):
    x = torch.tensor(2.5)
    same(ours(x, dim), theirs(x, dim))


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize(
    "row",
    [[-inf, -inf], [inf, 1.0], [inf, inf], [inf, -inf], [nan, 1.0], [-inf, 1.0], [1e4, -1e4], [-1e4, -1e4]],
)
def test_special_values(ours, theirs, row):
    x = torch.tensor([row, [0.0, 1.0]])
    same(ours(x, 1), theirs(x, 1))


def test_all_minus_inf_slice():
    """logsumexp is -inf (log of 0); softmax and log_softmax are NaN (0/0), as in torch."""
    x = torch.tensor([-inf, -inf])
    assert lsm.logsumexp(x, 0).item() == -inf
    assert lsm.softmax(x, 0).isnan().all() and lsm.log_softmax(x, 0).isnan().all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_half_precision_is_computed_in_float32(dtype, ours, theirs):
    """Inputs where the half format itself would overflow inside exp or sum.

    lsm computes in float32 and rounds once, so it equals torch's float32 result
    rounded to the half format. torch's own half kernels agree to within one ulp
    of the half format (its float16 log_softmax of [300, 299, -5] gives -0.3135
    where the correctly rounded value of -0.313262 is -0.3132).
    """
    x = torch.tensor([[11.0, 11.0, 11.0], [300.0, 299.0, -5.0]], dtype=dtype)
    a, b = ours(x, 1), theirs(x, 1)
    assert a.dtype == dtype
    assert torch.equal(a, theirs(x.float(), 1).to(dtype))
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(a.float(), b.float(), rtol=eps, atol=0)


def test_half_precision_log_sigmoid():
    x = torch.tensor([-20.0, -1.0, 0.0, 1.0, 20.0], dtype=torch.float16)
    assert torch.equal(lsm.log_sigmoid(x), F.logsigmoid(x.float()).half())


@pytest.mark.parametrize("ours,theirs", [(lsm.softmax, torch.softmax), (lsm.log_softmax, torch.log_softmax)])
def test_dtype_casts_first(ours, theirs):
    x = torch.tensor([[1, 2, 3]])
    a = ours(x, 1, dtype=torch.float64)
    assert a.dtype == torch.float64
    same(a, theirs(x, 1, dtype=torch.float64))
    # float16 input computed in float64 keeps more digits than computed in float16
    h = torch.tensor([0.1, 0.2], dtype=torch.float16)
    same(ours(h, 0, dtype=torch.float64), theirs(h.double(), 0))


def test_gradient_reaches_the_original_dtype_through_dtype_cast():
    x = torch.tensor([0.5, 1.5], dtype=torch.float32, requires_grad=True)
    lsm.log_softmax(x, 0, dtype=torch.float64)[0].backward()
    assert x.grad.dtype == torch.float32
    same(x.grad, torch.tensor([1 - torch.softmax(x.detach(), 0)[0].item(), -torch.softmax(x.detach(), 0)[1].item()]))


def test_log_sigmoid_extremes():
    x = torch.tensor([inf, -inf, nan, -100.0, 100.0, 0.0])
    same(lsm.log_sigmoid(x), F.logsigmoid(x))
    assert lsm.log_sigmoid(torch.tensor([-1e4])).item() == -1e4  # finite, no overflow in exp(-x)


def test_naive_formulas_fail_where_the_stable_ones_do_not():
    """exp(1000) overflows in float32 (and float64): inf/inf is NaN. exp(-1000) underflows: log(0) = -inf."""
    x = torch.tensor([1000.0, 0.0])
    assert lsm.naive_softmax(x, 0).isnan()[0]
    same(lsm.softmax(x, 0), torch.tensor([1.0, 0.0]))
    y = torch.tensor([0.0, -1000.0])
    assert lsm.naive_log_softmax(y, 0)[1].item() == -inf
    assert lsm.log_softmax(y, 0)[1].item() == -1000.0


def test_naive_softmax_in_float16_overflows_at_exp_12():
    """log(65504) = 11.09: exp(12) is inf in float16 although softmax([12, 0]) is perfectly representable."""
    x = torch.tensor([12.0, 0.0], dtype=torch.float16)
    assert lsm.naive_softmax(x, 0).isnan()[0]
    assert not lsm.softmax(x, 0).isnan().any()


def test_outputs_are_distributions():
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 10
    s = lsm.softmax(x, 1)
    assert ((s >= 0) & (s <= 1)).all()
    torch.testing.assert_close(s.sum(1), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(lsm.log_softmax(x, 1).exp(), s)
    torch.testing.assert_close(lsm.log_softmax(x, 1), x - lsm.logsumexp(x, 1, keepdim=True))


def test_inputs_are_not_modified():
    x = torch.tensor([[3.0, 1.0], [2.0, 5.0]])
    before = x.clone()
    for fn in (lsm.softmax, lsm.log_softmax, lsm.logsumexp, lsm.naive_softmax, lsm.naive_log_softmax):
        fn(x, 1)
    lsm.log_sigmoid(x)
    assert torch.equal(x, before)
