"""Every error path: the exception type and the words that tell the user what to do."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import lsm

REDUCING = [lsm.softmax, lsm.log_softmax, lsm.logsumexp, lsm.naive_softmax, lsm.naive_log_softmax]
ALL_FORWARD = REDUCING + [lambda x, dim=0, **kw: lsm.log_sigmoid(x, **kw)]


@pytest.mark.parametrize("fn", ALL_FORWARD)
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_integer_and_bool_tensors_are_refused(fn, dtype):
    x = torch.tensor([1, 0, 1]).to(dtype)
    with pytest.raises(TypeError, match=re.escape(f"has dtype {dtype}")) as info:
        fn(x, 0)
    assert "dtype=torch.float32" in str(info.value) and "x.float()" in str(info.value)


@pytest.mark.parametrize("fn", ALL_FORWARD)
def test_integer_tensors_are_accepted_with_dtype(fn):
    x = torch.tensor([1, 2, 3])
    assert fn(x, 0, dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("fn", ALL_FORWARD)
def test_complex_tensors_are_refused(fn):
    with pytest.raises(TypeError, match="real floating-point tensor"):
        fn(torch.tensor([1 + 1j, 2 + 0j]), 0)


@pytest.mark.parametrize("fn", ALL_FORWARD)
@pytest.mark.parametrize("bad", [[1.0, 2.0], 3.0, None, "abc"])
def test_non_tensors_are_refused(fn, bad):
    with pytest.raises(TypeError, match=re.escape(f"`x` must be a torch.Tensor, got {type(bad).__name__}")) as info:
        fn(bad, 0)
    assert "torch.tensor(" in str(info.value)


@pytest.mark.parametrize("fn", ALL_FORWARD)
@pytest.mark.parametrize("dtype", [torch.int64, "float32", float])
def test_dtype_argument_must_be_a_floating_torch_dtype(fn, dtype):
    with pytest.raises(TypeError, match="dtype= must be a floating-point torch.dtype"):
        fn(torch.tensor([1.0]), 0, dtype=dtype)


@pytest.mark.parametrize("fn", REDUCING)
@pytest.mark.parametrize(
    "shape,dim,valid",
    [((2, 3), 2, "-2..1"), ((2, 3), -3, "-2..1"), ((4,), 1, "-1..0"), ((), 1, "-1..0"), ((2, 3, 4), 5, "-3..2")],
)
def test_dim_out_of_range(fn, shape, dim, valid):
    with pytest.raises(IndexError, match=re.escape(f"dim={dim} is out of range")) as info:
        fn(torch.zeros(shape), dim)
    assert f"valid dims are {valid}" in str(info.value)


@pytest.mark.parametrize("fn", REDUCING)
@pytest.mark.parametrize("dim", [None, 1.0, True, torch.tensor([1]), torch.tensor(1.0), (0, 1)])
def test_dim_must_be_an_int(fn, dim):
    """What torch refuses, lsm refuses: a bool, a float, a 1-element tensor for softmax
    (torch: "must be int, not Tensor"); only logsumexp takes a tuple and a 1-element integer
    tensor, as torch.logsumexp does (tested below)."""
    if fn is lsm.logsumexp and (isinstance(dim, tuple) or (isinstance(dim, torch.Tensor) and not dim.is_floating_point())):
        pytest.skip("logsumexp reduces over a tuple of dims or a 1-element integer tensor (tested below)")
    with pytest.raises(TypeError, match="dim must be an int") as info:
        fn(torch.zeros(2, 3), dim)
    assert "no implicit dim" in str(info.value)


@pytest.mark.parametrize("dim", [(), (1, 1), (1, -1), [0, 0]])
def test_logsumexp_refuses_empty_and_repeated_dims(dim):
    """torch.logsumexp fails on these with a shape error or a RuntimeError; lsm says why."""
    with pytest.raises(ValueError, match="names no dimension|more than once"):
        lsm.logsumexp(torch.zeros(2, 3), dim)


@pytest.mark.parametrize("dim", [(0, 1), (1, 0), [2, 0], (0, 1, 2), (-1,), (0, torch.tensor(2))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_over_a_tuple_of_dims_matches_torch(dim, keepdim):
    x = torch.randn(2, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    tdim = tuple(int(d) for d in dim)
    ours, theirs = lsm.logsumexp(x, dim, keepdim), torch.logsumexp(x, tdim, keepdim)
    torch.testing.assert_close(ours, theirs, rtol=1e-15, atol=0)
    (g_ours,) = torch.autograd.grad(ours.sum(), x)
    (g_theirs,) = torch.autograd.grad(theirs.sum(), x)
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-14, atol=0)


@pytest.mark.parametrize("fn", REDUCING)
def test_integer_like_dims_are_accepted(fn):
    x = torch.zeros(2, 3)
    for dim in (np.int64(1), torch.tensor(1)):
        torch.testing.assert_close(fn(x, dim), fn(x, 1))


DIM_FORMS = [
    1, -1, np.int64(1), torch.tensor(1), torch.tensor([1]), torch.tensor([[1]]), torch.tensor([1], dtype=torch.int32),
    torch.tensor([-1], dtype=torch.uint8), torch.tensor([0, 1]), torch.tensor(1.0), torch.tensor([1.0]), 1.0, True,
    np.array([1]), [1], (1,), (0, 1), [torch.tensor([1]), 0], (torch.tensor(0), np.int64(1)),
]  # fmt: skip


@pytest.mark.parametrize("fn", REDUCING)
@pytest.mark.parametrize("dim", DIM_FORMS, ids=repr)
def test_dim_is_accepted_exactly_where_torch_accepts_it(fn, dim):
    """Each form of ``dim`` is taken by lsm when, and only when, its torch counterpart takes
    it, with torch's result: softmax and log_softmax take one int (a Python, numpy or 0-dim
    integer tensor); logsumexp's dim is an int list in torch, so a list or tuple of those and
    a 1-element integer tensor of any shape also work. (torch's int lists even read
    ``torch.tensor([True])`` as 1; lsm refuses a bool tensor, as it refuses True.)"""
    counterpart = {"logsumexp": torch.logsumexp, "softmax": torch.softmax, "naive_softmax": torch.softmax}.get(
        fn.__name__, torch.log_softmax
    )
    x = torch.randn(2, 3, generator=torch.Generator().manual_seed(3))
    try:
        expected = counterpart(x, dim)
    except (TypeError, RuntimeError, IndexError):
        with pytest.raises((TypeError, IndexError), match=r"lsm\.\w+: dim"):
            fn(x, dim)
    else:
        torch.testing.assert_close(fn(x, dim), expected, rtol=1e-6, atol=0)


def test_a_bool_tensor_is_not_a_dim_although_torch_logsumexp_takes_one():
    x = torch.zeros(2, 3)
    assert torch.logsumexp(x, torch.tensor([True])).shape == (2,)  # torch reads it as dim 1
    with pytest.raises(TypeError, match="dim must be an int"):
        lsm.logsumexp(x, torch.tensor([True]))


@pytest.mark.parametrize("fn", REDUCING)
def test_dim_is_required(fn):
    with pytest.raises(TypeError):
        fn(torch.zeros(2, 3))


def test_keepdim_must_be_a_bool():
    with pytest.raises(TypeError, match="keepdim must be True or False"):
        lsm.logsumexp(torch.zeros(2), 0, 1)


@pytest.mark.parametrize("fn", [lsm.softmax_jacobian, lsm.log_softmax_jacobian])
def test_jacobians_need_a_vector(fn):
    with pytest.raises(ValueError, match="0-dimensional; pass a vector of shape"):
        fn(torch.tensor(1.0))
    with pytest.raises(TypeError, match="has dtype torch.int64"):
        fn(torch.tensor([1, 2]))


# ---- losses ---------------------------------------------------------------------------------

LOSSES = [(lsm.nll_loss, "log_probs"), (lsm.cross_entropy, "logits")]


@pytest.mark.parametrize("loss,name", LOSSES)
def test_loss_target_of_wrong_shape(loss, name):
    scores = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=re.escape("target has shape (3,), but")) as info:
        loss(scores, torch.tensor([0, 1, 2]))
    message = str(info.value)
    assert f"`{name}` of shape (2, 3) needs a target of shape (2,)" in message
    with pytest.raises(ValueError, match=re.escape("needs a target of shape (2, 5)")):
        loss(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=re.escape("needs a target of shape ()")):
        loss(torch.zeros(3), torch.tensor([1]))


@pytest.mark.parametrize("loss,name", LOSSES)
@pytest.mark.parametrize("bad", [3, 7, -1, -5])
def test_loss_class_out_of_range(loss, name, bad):
    with pytest.raises(ValueError, match=re.escape(f"target holds class {bad}, but `{name}` has 3 classes")) as info:
        loss(torch.zeros(2, 3), torch.tensor([0, bad]))
    assert "valid class indices are 0..2" in str(info.value)


@pytest.mark.parametrize("loss,name", LOSSES)
def test_loss_target_must_hold_integers(loss, name):
    """nll_loss takes class indices only; cross_entropy takes a floating target as class
    probabilities, which must then have the logits' shape."""
    dtypes = (torch.float32, torch.bool) if loss is lsm.nll_loss else (torch.bool, torch.complex64)
    for dtype in dtypes:
        with pytest.raises(TypeError, match=re.escape(f"target has dtype {dtype}, but it must hold integer class indices")):
            loss(torch.zeros(2, 3), torch.zeros(2, dtype=dtype))
    if loss is lsm.cross_entropy:
        with pytest.raises(ValueError, match=re.escape("holds class probabilities and needs the logits' shape (2, 3)")):
            loss(torch.zeros(2, 3), torch.zeros(2))


@pytest.mark.parametrize("loss,name", LOSSES)
def test_loss_scores_must_be_floating(loss, name):
    with pytest.raises(TypeError, match=re.escape(f"`{name}` has dtype torch.int64, but it must be floating point")):
        loss(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="0-dimensional; it needs a class dimension"):
        loss(torch.tensor(1.0), torch.tensor(0))


@pytest.mark.parametrize("loss,name", LOSSES)
def test_loss_non_tensors(loss, name):
    with pytest.raises(TypeError, match=re.escape(f"`{name}` must be a torch.Tensor, got list")):
        loss([[0.0, 1.0]], torch.tensor([0]))
    with pytest.raises(TypeError, match=re.escape("`target` must be a torch.Tensor, got list")):
        loss(torch.zeros(1, 2), [0])


@pytest.mark.parametrize("loss,name", LOSSES)
def test_loss_bad_reduction_weight_and_ignore_index(loss, name):
    scores, target = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="reduction='avg' is not one of 'mean', 'sum', 'none'"):
        loss(scores, target, reduction="avg")
    with pytest.raises(ValueError, match=re.escape("weight has shape (2,), but needs one entry per class: shape (3,)")):
        loss(scores, target, weight=torch.ones(2))
    with pytest.raises(TypeError, match="weight has dtype torch.float64"):
        loss(scores, target, weight=torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        loss(scores, target, ignore_index=None)


FLOAT8 = [getattr(torch, name) for name in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, name)]


@pytest.mark.parametrize("fn", ALL_FORWARD)
@pytest.mark.parametrize("dtype", FLOAT8, ids=str)
def test_formats_lsm_cannot_compute_in_are_refused_with_the_fix(fn, dtype):
    x = torch.zeros(3).to(dtype)
    with pytest.raises(TypeError, match=re.escape(f"has dtype {dtype}, a format that lsm")) as info:
        fn(x, 0)
    assert "x.float()" in str(info.value) and "dtype=torch.float32" in str(info.value)
    with pytest.raises(TypeError, match=re.escape(f"dtype= is {dtype}")):
        fn(torch.zeros(3), 0, dtype=dtype)


@pytest.mark.parametrize("loss,name", LOSSES)
@pytest.mark.parametrize("dtype", FLOAT8, ids=str)
def test_loss_scores_in_float8_are_refused_with_the_fix(loss, name, dtype):
    with pytest.raises(TypeError, match=re.escape(f"`{name}` has dtype {dtype}, a format that lsm")) as info:
        loss(torch.zeros(2, 3).to(dtype), torch.tensor([0, 1]))
    assert f"{name}.float()" in str(info.value)
