"""torch's semantics, kept by every public function: in-place use of outputs, autocast,
second derivatives at the kinks of a formula, and the losses under torch.func and forward AD.

References are torch's own functions on the same seeded float64 inputs.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, jacfwd, jacrev, vmap

import lsm

pytestmark = [
    # vmap runs the in-place scatter_ of the log-softmax forward through PyTorch's fallback,
    # which warns about speed; jacfwd goes through the deprecated torch.jit.script.
    pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]


def logits(*shape, seed=0):
    return 3 * torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


FORWARD = {
    "softmax": (lambda t: lsm.softmax(t, -1), lambda t: torch.softmax(t, -1)),
    "log_softmax": (lambda t: lsm.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1)),
    "logsumexp": (lambda t: lsm.logsumexp(t, -1), lambda t: torch.logsumexp(t, -1)),
    "log_sigmoid": (lsm.log_sigmoid, F.logsigmoid),
}


# ------------------------------------------------------------------ in-place on outputs


@pytest.mark.parametrize("name", FORWARD)
def test_in_place_on_an_output_behaves_as_in_torch(name):
    """``y += 1`` on an output that the backward saved fails at backward time in torch and
    in lsm alike (softmax, log_softmax and logsumexp save their output); where the backward
    saved the input (log_sigmoid), both succeed with the same gradient."""
    results = []
    for fn in FORWARD[name]:
        x = logits(3, 4).requires_grad_()
        y = fn(x)
        y += 1
        try:
            (g,) = torch.autograd.grad((y * y).sum(), x)
            results.append(("ok", g))
        except RuntimeError as error:
            assert "modified by an inplace operation" in str(error)
            results.append(("refused", None))
    (ours, g_ours), (theirs, g_theirs) = results
    assert ours == theirs
    if ours == "ok":
        close(g_ours, g_theirs)


IN_PLACE_LOSSES = {
    "nll_loss": (lambda t: lsm.nll_loss(t, torch.tensor([0, 2, 1])), lambda t: F.nll_loss(t, torch.tensor([0, 2, 1]))),
    "cross_entropy_none": (
        lambda t: lsm.cross_entropy(t, torch.tensor([0, 2, 1]), reduction="none"),
        lambda t: F.cross_entropy(t, torch.tensor([0, 2, 1]), reduction="none"),
    ),
    "cross_entropy_smoothed": (
        lambda t: lsm.cross_entropy(t, torch.tensor([0, 2, 1]), label_smoothing=0.1),
        lambda t: F.cross_entropy(t, torch.tensor([0, 2, 1]), label_smoothing=0.1),
    ),
    "cross_entropy_unbatched": (
        lambda t: lsm.cross_entropy(t[0], torch.tensor(2), reduction="none"),
        lambda t: F.cross_entropy(t[0], torch.tensor(2), reduction="none"),
    ),
    "softmax_jacobian": (  # against diag(s) - s s^T written with torch's softmax
        lsm.softmax_jacobian,
        lambda t: torch.diag_embed(torch.softmax(t, -1)) - torch.softmax(t, -1)[..., :, None] * torch.softmax(t, -1)[..., None, :],
    ),
}


@pytest.mark.parametrize("name", IN_PLACE_LOSSES)
def test_in_place_on_a_loss_is_allowed_and_keeps_the_gradient(name):
    """Losses and Jacobians are ordinary results: ``loss += 1`` and then a backward pass work."""
    grads = []
    for fn in IN_PLACE_LOSSES[name]:
        x = logits(3, 4, seed=8).requires_grad_()
        y = fn(x)
        y += 1
        grads.append(torch.autograd.grad((y * y).sum(), x)[0])
    close(*grads)


@pytest.mark.parametrize("name", FORWARD)
def test_in_place_on_an_output_without_grad_is_an_ordinary_tensor(name):
    ours, theirs = FORWARD[name]
    x = logits(3, 4)
    y, expected = ours(x), theirs(x)
    y.mul_(2).add_(1)
    close(y, 2 * expected + 1)


# ------------------------------------------------------------------------------ autocast

# lsm's policy under torch.autocast is torch's (lsm/_autocast.py): (device, name) -> float32?
AUTOCAST = {
    "softmax": (lambda t: lsm.softmax(t, 1), lambda t: torch.softmax(t, 1)),
    "log_softmax": (lambda t: lsm.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1)),
    "logsumexp": (lambda t: lsm.logsumexp(t, 1), lambda t: torch.logsumexp(t, 1)),
    "log_sigmoid": (lsm.log_sigmoid, F.logsigmoid),
    "nll_loss": (lambda t: lsm.nll_loss(t, TARGET), lambda t: F.nll_loss(t, TARGET)),
    "cross_entropy": (lambda t: lsm.cross_entropy(t, TARGET), lambda t: F.cross_entropy(t, TARGET)),
    "cross_entropy_probabilities": (
        lambda t: lsm.cross_entropy(t, torch.softmax(t, 1)),
        lambda t: F.cross_entropy(t, torch.softmax(t, 1)),
    ),
}
TARGET = torch.tensor([0, 3, 1])
FLOAT32_ON = {"cpu": {"nll_loss", "cross_entropy", "cross_entropy_probabilities"}}
FLOAT32_ON["cuda"] = FLOAT32_ON["cpu"] | {"softmax", "log_softmax", "logsumexp"}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", AUTOCAST)
@pytest.mark.parametrize("autocast_dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("input_dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_autocast_follows_torchs_policy_for_the_counterpart(device, name, autocast_dtype, input_dtype):
    """On the CPU, torch casts the losses to float32 and leaves the log-softmax family in the
    input's dtype; on CUDA the log-softmax family is cast to float32 too, log-sigmoid is
    not. lsm's result has torch's dtype and, in float32, torch's value to float32 rounding."""
    ours, theirs = AUTOCAST[name]
    x = logits(3, 5, seed=1).to(device=device, dtype=input_dtype)
    global TARGET
    TARGET = TARGET.to(device)
    with torch.autocast(device, dtype=autocast_dtype):
        got, expected = ours(x), theirs(x)
    assert got.dtype == expected.dtype
    promoted = input_dtype != torch.float32 and name in FLOAT32_ON[device]
    assert got.dtype == (torch.float32 if promoted else input_dtype)
    tol = {torch.float32: 1e-5, torch.bfloat16: 2e-2, torch.float16: 2e-3}[got.dtype]
    torch.testing.assert_close(got.float(), expected.float(), rtol=tol, atol=tol)


def test_an_explicit_dtype_wins_over_autocast():
    x = logits(2, 3).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert lsm.log_softmax(x, 1, dtype=torch.float64).dtype == torch.float64
        assert torch.log_softmax(x, 1, dtype=torch.float64).dtype == torch.float64


def test_autocast_leaves_float64_alone():
    x = logits(3, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert lsm.cross_entropy(x, TARGET.cpu()).dtype == F.cross_entropy(x, TARGET.cpu()).dtype == torch.float64


# ---------------------------------------------------------- second derivatives at kinks


KINKS = {
    # log_sigmoid's backward chooses a branch at x = 0; the rows below hold 0, ties, -inf
    # entries and a maximum shared by several entries, where max() picks one index.
    "log_sigmoid": (lsm.log_sigmoid, torch.tensor([[0.0, -0.0, 1e-300, -1e-300, 30.0, -30.0]])),
    "softmax": (lambda t: lsm.softmax(t, -1), torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 2.0]])),
    "log_softmax": (lambda t: lsm.log_softmax(t, -1), torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 2.0]])),
    "logsumexp": (lambda t: lsm.logsumexp(t, -1), torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 2.0]])),
    "cross_entropy": (
        lambda t: lsm.cross_entropy(t, torch.tensor([0, 2]), label_smoothing=0.1),
        torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 2.0]]),
    ),
}


@pytest.mark.parametrize("name", KINKS)
def test_second_derivatives_are_exact_at_kinks_and_ties(name):
    fn, x = KINKS[name]
    x = x.double().requires_grad_()
    assert torch.autograd.gradgradcheck(fn, (x,), check_fwd_over_rev=True, check_rev_over_rev=True)


def test_log_sigmoid_second_derivative_at_zero_is_minus_a_quarter():
    """d²/dx² log σ(x) = -σ(x)σ(-x), -1/4 at 0: exact, not the -1/2 of the |x| form."""
    x = torch.tensor([0.0, -0.0, 2.0, -2.0], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(lsm.log_sigmoid(x).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    close(h, -torch.sigmoid(x.detach()) * torch.sigmoid(-x.detach()))
    assert h[0] == h[1] == -0.25


# ------------------------------------------------------ the losses under torch.func


LOSSES = {
    "nll_loss": (
        lambda x, t: lsm.nll_loss(lsm.log_softmax(x, -1), t),
        lambda x, t: F.nll_loss(torch.log_softmax(x, -1), t),
    ),
    "cross_entropy": (lsm.cross_entropy, F.cross_entropy),
    "cross_entropy_smoothed": (
        lambda x, t: lsm.cross_entropy(x, t, label_smoothing=0.2),
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
    ),
}


def _samples(probabilities=False):
    x = logits(6, 5, seed=3)
    if probabilities:
        return x, torch.softmax(logits(6, 5, seed=4), -1)
    return x, torch.tensor([0, 4, 2, 1, 3, 0])


CASES = [(name, False) for name in LOSSES] + [("cross_entropy", True), ("cross_entropy_smoothed", True)]
IDS = [f"{name}{'-probabilities' if p else ''}" for name, p in CASES]


@pytest.mark.parametrize("name,probabilities", CASES, ids=IDS)
def test_per_sample_loss_gradients_match_torch(name, probabilities):
    ours, theirs = LOSSES[name]
    x, t = _samples(probabilities)
    close(vmap(grad(ours))(x, t), vmap(grad(theirs))(x, t))
    close(vmap(ours)(x, t), vmap(theirs)(x, t))


@pytest.mark.parametrize("name,probabilities", CASES, ids=IDS)
def test_the_batch_loss_gradient_and_hessian_match_torch(name, probabilities):
    """grad and hessian of the whole batch's loss (a mean over the samples), not per sample."""
    ours, theirs = LOSSES[name]
    x, t = _samples(probabilities)
    close(grad(ours)(x, t), grad(theirs)(x, t))
    close(torch.func.hessian(ours)(x, t), torch.func.hessian(theirs)(x, t))


@pytest.mark.parametrize("name,probabilities", CASES, ids=IDS)
@pytest.mark.parametrize("transform", [jacrev, jacfwd], ids=["jacrev", "jacfwd"])
def test_loss_jacobians_match_torch(name, probabilities, transform):
    ours, theirs = LOSSES[name]
    x, t = _samples(probabilities)
    close(transform(ours)(x, t), transform(theirs)(x, t))


@pytest.mark.parametrize("name,probabilities", CASES, ids=IDS)
def test_loss_gradcheck_with_forward_ad_and_batched_gradients(name, probabilities):
    ours, _ = LOSSES[name]
    x, t = _samples(probabilities)
    x.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda v: ours(v, t), (x,), check_forward_ad=True, check_batched_grad=True, check_batched_forward_grad=True
    )
    assert torch.autograd.gradgradcheck(lambda v: ours(v, t), (x,), check_fwd_over_rev=True)


def test_the_gradient_of_a_probability_target_matches_torch():
    """F.cross_entropy differentiates a probability target too (d loss / d q = -log s / N)."""
    x, q = _samples(probabilities=True)
    q.requires_grad_()
    ours = torch.autograd.grad(lsm.cross_entropy(x, q, label_smoothing=0.1), q)[0]
    theirs = torch.autograd.grad(F.cross_entropy(x, q, label_smoothing=0.1), q)[0]
    close(ours, theirs)
    assert torch.autograd.gradcheck(
        lambda v, p: lsm.cross_entropy(v, p), (x.requires_grad_(), q), check_forward_ad=True
    )


@pytest.mark.parametrize(
    "ours,theirs",
    [(lsm.softmax_jacobian, torch.softmax), (lsm.log_softmax_jacobian, torch.log_softmax)],
    ids=["softmax_jacobian", "log_softmax_jacobian"],
)
def test_the_jacobian_helpers_under_vmap_and_grad(ours, theirs):
    """vmap of the helper is the batched call; its gradient is that of torch's Jacobian."""
    x = logits(4, 5, seed=6)
    close(vmap(ours)(x), ours(x))
    close(ours(x), vmap(jacrev(lambda r: theirs(r, 0)))(x))
    weights = logits(5, 5, seed=7)

    def scalar(f):
        return lambda r: (f(r) * weights).sum()

    close(vmap(grad(scalar(ours)))(x), vmap(grad(scalar(jacrev(lambda r: theirs(r, 0)))))(x))


@pytest.mark.parametrize(
    "ours,theirs",
    [(lsm.softmax_jacobian, torch.softmax), (lsm.log_softmax_jacobian, torch.log_softmax)],
    ids=["softmax_jacobian", "log_softmax_jacobian"],
)
def test_the_jacobian_helpers_under_jacrev_jacfwd_hessian_and_forward_ad(ours, theirs):
    """The helper's own derivatives are those of torch's Jacobian (second derivatives of
    torch's function), by reverse and forward mode; gradcheck with forward AD and batched
    gradients, and gradgradcheck, hold."""
    x = logits(5, seed=8)

    def reference(r):
        return jacrev(lambda v: theirs(v, 0))(r)

    close(jacrev(ours)(x), jacrev(reference)(x))
    close(jacfwd(ours)(x), jacfwd(reference)(x))
    close(torch.func.hessian(lambda r: ours(r).sum())(x), torch.func.hessian(lambda r: reference(r).sum())(x))
    x.requires_grad_()
    assert torch.autograd.gradcheck(
        ours, (x,), check_forward_ad=True, check_batched_grad=True, check_batched_forward_grad=True
    )
    assert torch.autograd.gradgradcheck(ours, (x,))
