"""nll_loss and cross_entropy against torch: values and gradients, every reduction and layout."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import lsm

LAYOUTS = [((6, 4), (6,)), ((3, 5, 2), (3, 2)), ((2, 3, 4, 2), (2, 4, 2)), ((5,), ())]


def make_case(scores_shape, target_shape, seed, ignore=False):
    g = torch.Generator().manual_seed(seed)
    classes = scores_shape[1] if len(scores_shape) > 1 else scores_shape[0]
    logits = 4 * torch.randn(scores_shape, generator=g, dtype=torch.float64)
    target = torch.randint(0, classes, target_shape, generator=g)
    if ignore and target.numel() > 1:
        target.view(-1)[0] = -100
    weight = torch.rand(classes, generator=g, dtype=torch.float64) + 0.5
    return logits, target, weight


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("scores_shape,target_shape", LAYOUTS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_and_nll_match_torch(reduction, scores_shape, target_shape, use_weight, ignore):
    logits, target, weight = make_case(scores_shape, target_shape, seed=len(scores_shape), ignore=ignore)
    w = weight if use_weight else None
    kwargs = dict(weight=w, reduction=reduction)

    ours_x = logits.clone().requires_grad_(True)
    theirs_x = logits.clone().requires_grad_(True)
    ours = lsm.cross_entropy(ours_x, target, **kwargs)
    theirs = F.cross_entropy(theirs_x, target, **kwargs)
    torch.testing.assert_close(ours, theirs)
    g = torch.ones_like(ours) if reduction != "none" else torch.randn(ours.shape, dtype=torch.float64)
    ours.backward(g)
    theirs.backward(g)
    torch.testing.assert_close(ours_x.grad, theirs_x.grad)

    class_dim = 1 if logits.dim() > 1 else 0
    log_probs = torch.log_softmax(logits, class_dim)
    torch.testing.assert_close(lsm.nll_loss(log_probs, target, **kwargs), F.nll_loss(log_probs, target, **kwargs))


def test_cross_entropy_is_log_softmax_then_nll():
    logits, target, _ = make_case((4, 3), (4,), seed=0)
    torch.testing.assert_close(lsm.cross_entropy(logits, target), lsm.nll_loss(lsm.log_softmax(logits, 1), target))


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits, target, _ = make_case((4, 3), (4,), seed=1)
    x = logits.clone().requires_grad_(True)
    lsm.cross_entropy(x, target, reduction="sum").backward()
    torch.testing.assert_close(x.grad, torch.softmax(logits, 1) - F.one_hot(target, 3).double())


def test_seed_example():
    """Seed 001's example: logits [[2, 1, 0.1], [0.5, 2, 1.5]] with targets [0, 2]."""
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.0, 1.5]])
    target = torch.tensor([0, 2])
    expected = F.cross_entropy(logits, target)
    torch.testing.assert_close(lsm.cross_entropy(logits, target), expected)
    torch.testing.assert_close(lsm.nll_loss(lsm.log_softmax(logits, 1), target), expected)


def test_all_ignored_mean_is_nan_like_torch():
    log_probs = torch.log_softmax(torch.zeros(2, 3), 1)
    target = torch.tensor([-100, -100])
    assert lsm.nll_loss(log_probs, target).isnan()
    assert F.nll_loss(log_probs, target).isnan()
    assert lsm.nll_loss(log_probs, target, reduction="sum").item() == 0.0


def test_ignored_samples_with_minus_inf_do_not_poison_the_loss():
    log_probs = torch.tensor([[0.0, -float("inf")], [-0.5, -1.0]])
    target = torch.tensor([-100, 0])
    torch.testing.assert_close(lsm.nll_loss(log_probs, target), F.nll_loss(log_probs, target))


def test_custom_ignore_index_and_int32_targets():
    logits, target, _ = make_case((5, 4), (5,), seed=2)
    target[1] = 3
    torch.testing.assert_close(
        lsm.cross_entropy(logits, target.int(), ignore_index=3), F.cross_entropy(logits, target, ignore_index=3)
    )


def test_half_precision_cross_entropy():
    logits, target, _ = make_case((8, 5), (8,), seed=3)
    ours = lsm.cross_entropy(logits.half(), target)
    theirs = F.cross_entropy(logits.half(), target)
    assert ours.dtype == torch.float16
    torch.testing.assert_close(ours, theirs, rtol=2 * torch.finfo(torch.float16).eps, atol=0)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64], ids=str)
def test_every_integer_target_dtype_is_compared_without_wrapping(dtype):
    # -100 is 156 as uint8 and 200 is -56 as int8: comparisons must not wrap.
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 200, generator=g, dtype=torch.float64)
    high = 156 if dtype != torch.int8 else 127
    target = torch.tensor([high, 0, 7, high], dtype=dtype)
    expected = torch.nn.functional.cross_entropy(logits, target.long(), reduction="none")
    torch.testing.assert_close(lsm.cross_entropy(logits, target, reduction="none"), expected, rtol=1e-13, atol=0)
    log_probs = torch.log_softmax(logits, 1)
    torch.testing.assert_close(lsm.nll_loss(log_probs, target), torch.nn.functional.nll_loss(log_probs, target.long()), rtol=1e-13, atol=0)
    with pytest.raises(ValueError, match="target holds class 3, but `logits` has 3 classes"):
        lsm.cross_entropy(logits[:, :3], torch.tensor([0, 3, 1, 2], dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_half_precision_reductions_accumulate_in_float32(dtype):
    # 70,000 samples: the float16 sum of the weights overflows, so a float16 mean is inf / inf.
    n = 70_000
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(n, 5, generator=g).to(dtype)
    target = torch.randint(0, 5, (n,), generator=g)
    exact = F.cross_entropy(logits.double(), target)  # the reference: float64 from the same inputs
    got = lsm.cross_entropy(logits, target)
    assert got.dtype == dtype and torch.isfinite(got)
    eps = torch.finfo(dtype).eps
    assert abs(got.double() - exact) <= 2 * eps * exact  # per-sample errors ~ eps, rounded once
    total = lsm.cross_entropy(logits, target, reduction="sum").double()
    exact_total = F.cross_entropy(logits.double(), target, reduction="sum")
    if exact_total > torch.finfo(dtype).max:  # float16: the true sum, about 1.3e5, overflows
        assert total == float("inf")
    else:
        assert abs(total - exact_total) <= 2 * eps * exact_total
    # nll_loss reduces the same way: its mean of half-precision log-probabilities is finite too
    log_probs = F.log_softmax(logits.double(), dim=1).to(dtype)
    exact_nll = F.nll_loss(log_probs.double(), target)
    got_nll = lsm.nll_loss(log_probs, target)
    assert got_nll.dtype == dtype and abs(got_nll.double() - exact_nll) <= 2 * eps * exact_nll


# --------------------------------------------- class probabilities and label smoothing


def _loss_inputs(seed, shape, probabilities):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(shape, generator=g, dtype=torch.float64)
    class_dim = 1 if len(shape) > 1 else 0
    if probabilities:
        target = torch.softmax(2 * torch.randn(shape, generator=g, dtype=torch.float64), class_dim)
    else:
        target_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        target = torch.randint(0, shape[class_dim], target_shape, generator=g)
    weight = torch.rand(shape[class_dim], generator=g, dtype=torch.float64) + 0.5
    return logits, target, weight


def _assert_values_and_gradients_match(kwargs, logits, target):
    ours_x, theirs_x = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours, theirs = lsm.cross_entropy(ours_x, target, **kwargs), F.cross_entropy(theirs_x, target, **kwargs)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-13, equal_nan=True)
    seed = torch.Generator().manual_seed(1)
    g = torch.randn(ours.shape, generator=seed, dtype=torch.float64)
    (g_ours,) = torch.autograd.grad(ours, ours_x, g)
    (g_theirs,) = torch.autograd.grad(theirs, theirs_x, g)
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 2), (2, 3, 4, 2), (5,)])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("probabilities", [False, True], ids=["indices", "probabilities"])
def test_probability_targets_and_label_smoothing_match_torch(reduction, shape, use_weight, label_smoothing, probabilities):
    logits, target, weight = _loss_inputs(len(shape), shape, probabilities)
    if not probabilities and target.numel() > 1:
        target.view(-1)[0] = -100
    kwargs = dict(weight=weight if use_weight else None, reduction=reduction, label_smoothing=label_smoothing)
    _assert_values_and_gradients_match(kwargs, logits, target)


def test_the_soft_target_gradient_is_softmax_minus_the_target_distribution():
    """For a target distribution q (no weights) the gradient of the summed loss is s - q; with
    label smoothing q is (1 - eps) q + eps / C: the formula of the docstring, not torch's."""
    logits, q, _ = _loss_inputs(3, (5, 4), probabilities=True)
    x = logits.clone().requires_grad_()
    (g,) = torch.autograd.grad(lsm.cross_entropy(x, q, reduction="sum", label_smoothing=0.2), x)
    torch.testing.assert_close(g, torch.softmax(logits, 1) - (0.8 * q + 0.2 / 4), rtol=1e-13, atol=1e-15)
    # class indices with smoothing: a = (1 - eps) e_y + eps / C
    _, y, _ = _loss_inputs(3, (5, 4), probabilities=False)
    (g,) = torch.autograd.grad(lsm.cross_entropy(x, y, reduction="sum", label_smoothing=0.2), x)
    torch.testing.assert_close(g, torch.softmax(logits, 1) - (0.8 * F.one_hot(y, 4).double() + 0.05), rtol=1e-13, atol=1e-15)


def test_the_backward_is_the_hand_derived_formula(monkeypatch):
    """Doubling soft_cross_entropy_backward doubles the gradient: autograd does not derive it."""
    import lsm.soft_cross_entropy as module

    logits, q, _ = _loss_inputs(4, (3, 5), probabilities=True)
    x = logits.clone().requires_grad_()
    (expected,) = torch.autograd.grad(lsm.cross_entropy(x, q), x)
    original = module.soft_cross_entropy_backward
    monkeypatch.setattr(module, "soft_cross_entropy_backward", lambda *a: tuple(2 * t for t in original(*a)))
    (doubled,) = torch.autograd.grad(lsm.cross_entropy(x, q), x)
    torch.testing.assert_close(doubled, 2 * expected)


def test_a_masked_logit_with_zero_target_probability_adds_nothing():
    """0 * log 0 = 0: a class with logit -inf and target probability 0 does not make the loss
    NaN. torch's F.cross_entropy gives NaN here (a deliberate difference)."""
    x = torch.tensor([[0.0, float("-inf"), 1.0]], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([[0.25, 0.0, 0.75]], dtype=torch.float64)
    loss = lsm.cross_entropy(x, q)
    expected = -(0.25 * torch.log_softmax(x.detach()[:, [0, 2]], 1)[0, 0] + 0.75 * torch.log_softmax(x.detach()[:, [0, 2]], 1)[0, 1])
    torch.testing.assert_close(loss, expected)
    assert torch.isnan(F.cross_entropy(x, q))
    (g,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(g).all() and g[0, 1] == 0


@pytest.mark.parametrize("bad,error,match", [
    (1.5, ValueError, r"label_smoothing=1.5 is not in \[0, 1\]"),
    (-0.1, ValueError, r"label_smoothing=-0.1 is not in \[0, 1\]"),  # torch accepts it
    (True, TypeError, "label_smoothing must be a number"),
    ("0.1", TypeError, "label_smoothing must be a number"),
])
def test_label_smoothing_outside_zero_one_is_refused(bad, error, match):
    logits, target, _ = _loss_inputs(0, (3, 4), probabilities=False)
    with pytest.raises(error, match=match):
        lsm.cross_entropy(logits, target, label_smoothing=bad)


def test_probability_targets_refuse_ignore_index_and_other_dtypes():
    logits, q, _ = _loss_inputs(0, (3, 4), probabilities=True)
    with pytest.raises(ValueError, match="ignore_index=0 cannot apply to a probability target"):
        lsm.cross_entropy(logits, q, ignore_index=0)
    with pytest.raises(TypeError, match=r"probability target has dtype torch.float32 but the logits have torch.float64; convert with target.to\(logits.dtype\)"):
        lsm.cross_entropy(logits, q.float())


# ------------------------------------------------------------------- degenerate shapes

DEGENERATE = [
    # (logits shape, target): no samples, no classes (every target ignored), empty extra dim,
    # one class, one unbatched sample
    ((0, 3), torch.empty(0, dtype=torch.long)),
    ((2, 0), torch.full((2,), -100)),
    ((2, 3, 0), torch.empty(2, 0, dtype=torch.long)),
    ((4, 1), torch.zeros(4, dtype=torch.long)),
    ((3,), torch.tensor(2)),
    ((0, 3), torch.empty(0, 3, dtype=torch.float64)),
    ((2, 0), torch.empty(2, 0, dtype=torch.float64)),
    ((4, 1), torch.ones(4, 1, dtype=torch.float64)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shape,target", DEGENERATE, ids=lambda v: str(tuple(v.shape) if isinstance(v, torch.Tensor) else v))
def test_degenerate_shapes_behave_like_torch(shape, target, reduction, label_smoothing):
    """Same value (NaN for a mean over nothing), same shape, and a gradient of the input's shape."""
    logits = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    x = logits.clone().requires_grad_()
    ours, theirs = lsm.cross_entropy(x, target, **kwargs), F.cross_entropy(logits, target, **kwargs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    torch.testing.assert_close(ours, theirs, equal_nan=True)
    if not target.dtype.is_floating_point and label_smoothing == 0:
        torch.testing.assert_close(
            lsm.nll_loss(logits, target, reduction=reduction),
            F.nll_loss(logits, target, reduction=reduction),
            equal_nan=True,
        )
    (g,) = torch.autograd.grad(ours.sum(), x)
    assert g.shape == logits.shape


# ------------------------------------------------------------- properties (hypothesis)

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TARGET_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


@st.composite
def loss_cases(draw):
    """Random (N, C, d1, ...) layouts, unbatched (C,) too, with everything cross_entropy takes."""
    unbatched = draw(st.booleans()) and draw(st.booleans())
    n_classes = draw(st.integers(1, 6))
    shape = (n_classes,) if unbatched else (draw(st.integers(0, 4)), n_classes, *draw(st.lists(st.integers(0, 3), max_size=2)))
    probabilities = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    logits, target, weight = _loss_inputs(seed, shape, probabilities)
    kwargs = dict(
        reduction=draw(st.sampled_from(["mean", "sum", "none"])),
        label_smoothing=draw(st.sampled_from([0.0, 0.0, 0.05, 0.5, 1.0])),
        weight=weight if draw(st.booleans()) else None,
    )
    if not probabilities:
        dtype = draw(st.sampled_from(TARGET_DTYPES))
        ignore_index = draw(st.sampled_from([-100, -1, 0, n_classes - 1, 100]))
        if dtype == torch.uint8 and ignore_index < 0:
            ignore_index = 100  # a negative index cannot be held by an unsigned target
        ignored = torch.rand(target.shape, generator=torch.Generator().manual_seed(seed)) < 0.3
        target = torch.where(ignored, torch.full_like(target, ignore_index), target).to(dtype)
        kwargs["ignore_index"] = ignore_index
    return logits, target, kwargs


@given(loss_cases())
def test_cross_entropy_matches_torch_on_random_layouts(case):
    """Values and gradients, for every layout, weight, ignore_index, target dtype, smoothing,
    probability target and reduction; torch gets the target as int64 (its kernels need it)."""
    logits, target, kwargs = case
    torch_target = target if target.dtype.is_floating_point else target.long()
    ours_x, theirs_x = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours = lsm.cross_entropy(ours_x, target, **kwargs)
    theirs = F.cross_entropy(theirs_x, torch_target, **kwargs)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-13, equal_nan=True)
    if ours.numel() and torch.isfinite(theirs).all():
        g = torch.randn(ours.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        (g_ours,) = torch.autograd.grad(ours, ours_x, g)
        (g_theirs,) = torch.autograd.grad(theirs, theirs_x, g)
        torch.testing.assert_close(g_ours, g_theirs, rtol=1e-12, atol=1e-13)
    if not target.dtype.is_floating_point and kwargs["label_smoothing"] == 0:
        nll_kwargs = {k: v for k, v in kwargs.items() if k != "label_smoothing"}
        log_probs = torch.log_softmax(logits, 1 if logits.dim() > 1 else 0)
        torch.testing.assert_close(
            lsm.nll_loss(log_probs, target, **nll_kwargs),
            F.nll_loss(log_probs, torch_target, **nll_kwargs),
            rtol=1e-12, atol=1e-13, equal_nan=True,
        )
