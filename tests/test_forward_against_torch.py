"""Property tests: every stable forward formula agrees with torch, inf/NaN pattern included."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import lsm
from strategies import reduced_length, tensors, tensors_and_dims
from tolerances import assert_close_to_torch, forward_tol


@given(tensors_and_dims())
def test_softmax_matches_torch(case):
    x, dim = case
    rtol, atol = forward_tol(x.dtype, reduced_length(x, dim), log_domain=False)
    assert_close_to_torch(lsm.softmax(x, dim), torch.softmax(x, dim), rtol, atol)


@given(tensors_and_dims())
def test_log_softmax_matches_torch(case):
    x, dim = case
    rtol, atol = forward_tol(x.dtype, reduced_length(x, dim), log_domain=True)
    assert_close_to_torch(lsm.log_softmax(x, dim), torch.log_softmax(x, dim), rtol, atol)


@given(tensors_and_dims(), st.booleans())
def test_logsumexp_matches_torch(case, keepdim):
    x, dim = case
    rtol, atol = forward_tol(x.dtype, reduced_length(x, dim), log_domain=True)
    assert_close_to_torch(lsm.logsumexp(x, dim, keepdim), torch.logsumexp(x, dim, keepdim), rtol, atol)


@given(tensors())
def test_log_sigmoid_matches_torch(x):
    rtol, atol = forward_tol(x.dtype, 1, log_domain=True)
    assert_close_to_torch(lsm.log_sigmoid(x), F.logsigmoid(x), rtol, atol)


@given(tensors_and_dims(dtypes=(torch.float16, torch.bfloat16, torch.float32)),
       st.sampled_from((torch.float32, torch.float64)))
def test_dtype_argument_casts_before_computing(case, dtype):
    x, dim = case
    n = reduced_length(x, dim)
    for ours, theirs, log_domain in (
        (lsm.softmax, torch.softmax, False),
        (lsm.log_softmax, torch.log_softmax, True),
    ):
        rtol, atol = forward_tol(dtype, n, log_domain)
        assert_close_to_torch(ours(x, dim, dtype=dtype), theirs(x, dim, dtype=dtype), rtol, atol)


@given(tensors_and_dims(dtypes=(torch.float32, torch.float64), elements=st.floats(-30, 30), min_side=1))
def test_naive_formulas_agree_where_nothing_overflows(case):
    """On moderate inputs the naive formulas are fine: they differ only by rounding."""
    x, dim = case
    n = reduced_length(x, dim)
    rtol, _ = forward_tol(x.dtype, n, log_domain=False)
    torch.testing.assert_close(lsm.naive_softmax(x, dim), torch.softmax(x, dim), rtol=8 * rtol, atol=0.0)
    rtol, atol = forward_tol(x.dtype, n, log_domain=True)
    torch.testing.assert_close(lsm.naive_log_softmax(x, dim), torch.log_softmax(x, dim), rtol=8 * rtol, atol=8 * atol)
