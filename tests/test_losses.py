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
