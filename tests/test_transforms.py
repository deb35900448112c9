"""lsm under torch.func and forward-mode AD: the modern autograd.Function form.

softmax, log_softmax, logsumexp and log_sigmoid define ``setup_context``, a hand-derived
``jvp`` and a generated vmap rule. Each transform is checked against the same transform of
torch's own function (float64, seeded), the hand-written jvp against forward-mode AD of
the literal formula, and gradcheck runs with forward AD and batched gradients.
"""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, hessian, jacfwd, jacrev, jvp, vmap

import lsm
from lsm.log_softmax import log_softmax_jvp
from lsm.logsumexp import logsumexp_jvp
from lsm.softmax import softmax_jvp

CASES = {
    "softmax": (lambda t: lsm.softmax(t, -1), lambda t: torch.softmax(t, -1)),
    "log_softmax": (lambda t: lsm.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1)),
    "logsumexp": (lambda t: lsm.logsumexp(t, -1), lambda t: torch.logsumexp(t, -1)),
    "logsumexp_keepdim": (
        lambda t: lsm.logsumexp(t, -1, keepdim=True),
        lambda t: torch.logsumexp(t, -1, keepdim=True),
    ),
    "log_sigmoid": (lsm.log_sigmoid, F.logsigmoid),
}
# vmap has no batching rule for the in-place scatter_ of log_softmax_forward and logsumexp_forward
# and runs PyTorch's fallback, which warns about speed; the results are checked below.
# torch itself warns twice more: jacfwd goes through the deprecated torch.jit.script, and
# the reference F.logsigmoid's double backward resizes an output under vmap.
pytestmark = [
    pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:An output with one or more elements was resized:UserWarning"),
]
RTOL = 1e-12  # float64; the hand-derived formulas and torch's differ in rounding only


def logits(*shape, seed=0):
    return 3 * torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def close(a, b):
    torch.testing.assert_close(a, b, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("name", CASES)
def test_vmap_matches_the_batched_call(name):
    ours, _ = CASES[name]
    x = logits(6, 4, 5)
    close(vmap(ours)(x), ours(x))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("transform", [jacrev, jacfwd], ids=["jacrev", "jacfwd"])
def test_per_sample_jacobians_match_torch(name, transform):
    ours, theirs = CASES[name]
    x = logits(6, 5, seed=1)
    close(vmap(transform(ours))(x), vmap(transform(theirs))(x))


@pytest.mark.parametrize("name", CASES)
def test_per_sample_gradients_and_hessians_match_torch(name):
    ours, theirs = CASES[name]
    x = logits(6, 5, seed=2)
    weights = logits(5, seed=3)

    def scalar(f):
        # a weighted sum, so that every output entry counts differently
        return lambda t: (f(t) * weights[: f(t).numel()].reshape(f(t).shape)).sum()

    close(vmap(grad(scalar(ours)))(x), vmap(grad(scalar(theirs)))(x))
    close(vmap(hessian(scalar(ours)))(x), vmap(hessian(scalar(theirs)))(x))


@pytest.mark.parametrize("name", CASES)
def test_gradcheck_with_forward_ad_and_batched_gradients(name):
    ours, _ = CASES[name]
    x = logits(3, 4, seed=4).requires_grad_()
    assert torch.autograd.gradcheck(
        ours, (x,), check_forward_ad=True, check_batched_grad=True, check_batched_forward_grad=True
    )
    assert torch.autograd.gradgradcheck(ours, (x,), check_fwd_over_rev=True, check_rev_over_rev=True)


def test_forward_ad_dual_numbers_give_the_jacobian_vector_product():
    import torch.autograd.forward_ad as fwAD

    x, v = logits(3, 5, seed=5), logits(3, 5, seed=6)
    with fwAD.dual_level():
        y = lsm.log_softmax(fwAD.make_dual(x, v), -1)
        tangent = fwAD.unpack_dual(y).tangent
    _, expected = jvp(lambda t: t - torch.log(torch.exp(t).sum(-1, keepdim=True)), (x,), (v,))
    close(tangent, expected)


LITERAL = {
    "softmax": (softmax_jvp, lambda t: torch.exp(t) / torch.exp(t).sum(-1, keepdim=True)),
    "log_softmax": (log_softmax_jvp, lambda t: t - torch.log(torch.exp(t).sum(-1, keepdim=True))),
}


@pytest.mark.parametrize("name", LITERAL)
def test_hand_derived_jvp_equals_forward_ad_of_the_literal_formula(name):
    formula, literal = LITERAL[name]
    x, v = logits(4, 6, seed=7), logits(4, 6, seed=8)
    y, expected = jvp(literal, (x,), (v,))
    close(formula(v, y, -1), expected)


def test_logsumexp_jvp_equals_forward_ad_of_the_literal_formula():
    x, v = logits(4, 6, seed=9), logits(4, 6, seed=10)
    out, expected = jvp(lambda t: torch.log(torch.exp(t).sum(-1, keepdim=True)), (x,), (v,))
    close(logsumexp_jvp(v, x, out, -1), expected)


def test_the_hand_written_jvp_is_what_forward_mode_runs(monkeypatch):
    module = importlib.import_module("lsm.log_softmax")  # lsm.log_softmax is also the function
    calls = []
    original = module.log_softmax_jvp
    monkeypatch.setattr(module, "log_softmax_jvp", lambda *a: calls.append(1) or original(*a))
    jvp(lambda t: lsm.log_softmax(t, -1), (logits(2, 3),), (logits(2, 3, seed=1),))
    assert calls == [1]


def test_per_sample_gradients_of_a_loss_built_on_log_softmax():
    x, y = logits(8, 5, seed=11), torch.arange(8) % 5

    def loss(row, target):
        return -lsm.log_softmax(row, -1).gather(0, target.unsqueeze(0)).squeeze(0)

    per_sample = vmap(grad(loss))(x, y)
    expected = torch.softmax(x, -1) - F.one_hot(y, 5).double()
    close(per_sample, expected)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "log_sigmoid"])
def test_torch_compile_traces_the_whole_function_and_its_hand_derived_backward(name, monkeypatch):
    ours, theirs = CASES[name]
    x = logits(3, 5, seed=12).requires_grad_()
    (expected,) = torch.autograd.grad((theirs(x) ** 2).sum(), x)

    def compiled_gradient():
        torch._dynamo.reset()
        compiled = torch.compile(ours, fullgraph=True, backend="aot_eager")  # no graph break allowed
        y = compiled(x)
        close(y, theirs(x))
        return torch.autograd.grad((y * y).sum(), x)[0]

    close(compiled_gradient(), expected)
    # The compiled backward is lsm's formula: doubling the formula doubles the gradient.
    module = importlib.import_module(f"lsm.{name}")
    backward = getattr(module, f"{name}_backward")
    monkeypatch.setattr(module, f"{name}_backward", lambda *a: 2 * backward(*a))
    close(compiled_gradient(), 2 * expected)
