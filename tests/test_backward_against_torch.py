"""Property tests: the hand-written backward passes agree with torch's autograd."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import lsm
from strategies import finite_element, reduced_length, tensors, tensors_and_dims
from tolerances import assert_close_to_torch, backward_tol


def input_grads(fn, x, grad_out_seed):
    """d(sum(fn(x) * g))/dx for a seeded random g; returns (grad, max |g|)."""
    x = x.detach().requires_grad_(True)
    y = fn(x)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(grad_out_seed), dtype=torch.float64).to(y.dtype)
    (grad,) = torch.autograd.grad(y, x, g)
    return grad, (g.abs().max().item() if g.numel() else 0.0)


seeds = st.integers(0, 2**31 - 1)
# Finite inputs up to +-1e4: the gradient of a slice holding inf or NaN is NaN in both.
finite_cases = tensors_and_dims(elements=finite_element)


@given(finite_cases, seeds)
def test_softmax_backward_matches_torch(case, seed):
    x, dim = case
    ours, scale = input_grads(lambda t: lsm.softmax(t, dim), x, seed)
    theirs, _ = input_grads(lambda t: torch.softmax(t, dim), x, seed)
    assert_close_to_torch(ours, theirs, *backward_tol(x.dtype, reduced_length(x, dim), scale))


@given(finite_cases, seeds)
def test_log_softmax_backward_matches_torch(case, seed):
    x, dim = case
    ours, scale = input_grads(lambda t: lsm.log_softmax(t, dim), x, seed)
    theirs, _ = input_grads(lambda t: torch.log_softmax(t, dim), x, seed)
    assert_close_to_torch(ours, theirs, *backward_tol(x.dtype, reduced_length(x, dim), scale))


@given(finite_cases, st.booleans(), seeds)
def test_logsumexp_backward_matches_torch(case, keepdim, seed):
    x, dim = case
    ours, scale = input_grads(lambda t: lsm.logsumexp(t, dim, keepdim), x, seed)
    theirs, _ = input_grads(lambda t: torch.logsumexp(t, dim, keepdim), x, seed)
    assert_close_to_torch(ours, theirs, *backward_tol(x.dtype, reduced_length(x, dim), scale))


@given(tensors(), seeds)
def test_log_sigmoid_backward_matches_torch(x, seed):
    """Element-wise, so inf and NaN inputs are included: the gradient is 0 at +inf, 1 at -inf."""
    ours, scale = input_grads(lsm.log_sigmoid, x, seed)
    theirs, _ = input_grads(F.logsigmoid, x, seed)
    assert_close_to_torch(ours, theirs, *backward_tol(x.dtype, 1, scale))


@given(tensors_and_dims(dtypes=(torch.float32,), elements=st.sampled_from([float("inf"), float("-inf"), float("nan"), 0.0, 3.0])), seeds)
def test_backward_special_value_pattern_matches_torch(case, seed):
    """With inf and NaN in a slice, our backward formulas give NaN exactly where torch's do."""
    x, dim = case
    for ours_fn, theirs_fn in (
        (lambda t: lsm.softmax(t, dim), lambda t: torch.softmax(t, dim)),
        (lambda t: lsm.log_softmax(t, dim), lambda t: torch.log_softmax(t, dim)),
        (lambda t: lsm.logsumexp(t, dim), lambda t: torch.logsumexp(t, dim)),
    ):
        ours, scale = input_grads(ours_fn, x, seed)
        theirs, _ = input_grads(theirs_fn, x, seed)
        assert_close_to_torch(ours, theirs, *backward_tol(x.dtype, reduced_length(x, dim), scale))
