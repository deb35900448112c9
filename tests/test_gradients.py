"""The hand-derived backward passes: gradcheck, gradgradcheck, Jacobians, and that they are used."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.autograd.functional import jacobian

import lsm

SHAPES_AND_DIMS = [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2), ((), 0)]


def random_input(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (3 * torch.randn(shape, generator=g, dtype=torch.float64)).requires_grad_(True)


FUNCTIONS = {
    "softmax": lambda x, dim: lsm.softmax(x, dim),
    "log_softmax": lambda x, dim: lsm.log_softmax(x, dim),
    "logsumexp": lambda x, dim: lsm.logsumexp(x, dim),
    "logsumexp_keepdim": lambda x, dim: lsm.logsumexp(x, dim, keepdim=True),
    "log_sigmoid": lambda x, dim: lsm.log_sigmoid(x),
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
def test_gradcheck_and_gradgradcheck(name, shape, dim):
    """Finite differences in float64 agree with the analytic first and second derivatives."""
    fn = FUNCTIONS[name]
    x = random_input(shape)
    assert gradcheck(lambda t: fn(t, dim), (x,))
    assert gradgradcheck(lambda t: fn(t, dim), (x,))


@pytest.mark.parametrize(
    "fn,node",
    [
        (lambda x: lsm.softmax(x, -1), "SoftmaxFunctionBackward"),
        (lambda x: lsm.log_softmax(x, -1), "LogSoftmaxFunctionBackward"),
        (lambda x: lsm.logsumexp(x, -1), "LogSumExpFunctionBackward"),
        (lambda x: lsm.log_sigmoid(x), "LogSigmoidFunctionBackward"),
    ],
)
def test_backward_runs_our_formula(fn, node):
    """The output's grad_fn is our autograd.Function, not a chain of autograd's own nodes."""
    y = fn(random_input((2, 3)))
    assert type(y.grad_fn).__name__ == node


def test_backward_formulas_are_the_documented_ones():
    """The public *_backward helpers compute the vector-Jacobian products stated in their docstrings."""
    x = random_input((4, 5)).detach()
    g = random_input((4, 5), seed=1).detach()
    s = torch.softmax(x, 1)
    torch.testing.assert_close(lsm.softmax_backward(g, s, 1), s * (g - (g * s).sum(1, keepdim=True)))
    torch.testing.assert_close(lsm.log_softmax_backward(g, s.log(), 1), g - s * g.sum(1, keepdim=True))
    lse = torch.logsumexp(x, 1, keepdim=True)
    torch.testing.assert_close(lsm.logsumexp_backward(g[:, :1], x, lse, 1), g[:, :1] * s)
    torch.testing.assert_close(lsm.log_sigmoid_backward(g, x), g * torch.sigmoid(-x))


@pytest.mark.parametrize("shape", [(1,), (4,), (7,), (2, 3, 5)])
def test_softmax_jacobian_matches_autograd(shape):
    x = random_input(shape).detach()
    J = lsm.softmax_jacobian(x)
    flat = x.reshape(-1, shape[-1])
    expected = torch.stack([jacobian(lambda v: torch.softmax(v, 0), v) for v in flat]).reshape(J.shape)
    torch.testing.assert_close(J, expected)
    s = torch.softmax(x, -1)
    torch.testing.assert_close(J, torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2))


@pytest.mark.parametrize("shape", [(1,), (4,), (7,), (2, 3, 5)])
def test_log_softmax_jacobian_matches_autograd(shape):
    x = random_input(shape).detach()
    J = lsm.log_softmax_jacobian(x)
    flat = x.reshape(-1, shape[-1])
    expected = torch.stack([jacobian(lambda v: torch.log_softmax(v, 0), v) for v in flat]).reshape(J.shape)
    torch.testing.assert_close(J, expected)


def test_softmax_jacobian_properties():
    """Rows sum to 0; symmetric; positive semi-definite with the all-ones vector in its null space."""
    x = random_input((6,)).detach()
    J = lsm.softmax_jacobian(x)
    ones = torch.ones(6, dtype=torch.float64)
    torch.testing.assert_close(J.sum(1), torch.zeros(6, dtype=torch.float64), atol=1e-15, rtol=0)
    torch.testing.assert_close(J, J.T)
    torch.testing.assert_close(J @ ones, torch.zeros(6, dtype=torch.float64), atol=1e-15, rtol=0)
    eigenvalues = torch.linalg.eigvalsh(J)
    assert eigenvalues.min() > -1e-15
    assert (eigenvalues > 1e-12).sum() == 5  # rank n - 1


def test_jacobian_vector_products_match_backward():
    """What backward computes is J^T g, without ever forming J."""
    x = random_input((5,)).detach().requires_grad_(True)
    g = random_input((5,), seed=3).detach()
    (vjp,) = torch.autograd.grad(lsm.softmax(x, 0), x, g)
    torch.testing.assert_close(vjp, lsm.softmax_jacobian(x.detach()).T @ g)
    (vjp,) = torch.autograd.grad(lsm.log_softmax(x, 0), x, g)
    torch.testing.assert_close(vjp, lsm.log_softmax_jacobian(x.detach()).T @ g)
