r"""Negative log-likelihood and cross-entropy, with torch's shapes, targets and reductions.

Shapes follow torch: ``log_probs``/``logits`` are (N, C) or (N, C, d1, ...) with the
classes on dim 1, or (C,) for one unbatched sample. A ``target`` of class indices (any
integer dtype) has shape (N,) or (N, d1, ...) (0-dim for an unbatched sample); a target of
class probabilities (cross_entropy only) is floating point and has the logits' shape.

Every check runs once per call. The checks of shapes, dtypes and arguments read only
metadata, so they also hold under ``torch.compile``, ``torch.export``, meta and fake tensors.
The one check of values, that every class index is in range, reads the target: in eager
mode on the CPU it raises ValueError naming the first bad class; while compiling or
exporting, and on other devices, it is ``torch._assert_async`` (no host synchronisation; the
message is the same, the exception a RuntimeError when the device reports it); on meta,
fake and ``torch.func``-batched targets there are no values to read and it is skipped.
``torch.jit.trace`` keeps only operators whose results are used and drops the assert: a
traced loss given a class out of range fails in torch's own ``gather``, with torch's message.
"""

from __future__ import annotations

import numbers

import torch

from ._autocast import follows_autocast
from ._validation import compute_dtype, require_computable, require_tensor
from .log_softmax import apply_log_softmax
from .soft_cross_entropy import apply_soft_cross_entropy

REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------- checks


def _check_scores(scores, name, fn, reduction):
    scores = require_tensor(scores, name, fn)
    if not scores.dtype.is_floating_point:
        raise TypeError(
            f"lsm.{fn}: `{name}` has dtype {scores.dtype}, but it must be floating point; "
            f"convert with {name}.float()."
        )
    require_computable(scores.dtype, f"`{name}` has dtype", fn, f"Convert to float32 first: {name}.float().")
    if scores.dim() == 0:
        raise ValueError(
            f"lsm.{fn}: `{name}` is 0-dimensional; it needs a class dimension: shape (C,), "
            f"(N, C) or (N, C, d1, ...)."
        )
    if reduction not in REDUCTIONS:
        raise ValueError(f"lsm.{fn}: reduction={reduction!r} is not one of {', '.join(map(repr, REDUCTIONS))}.")
    return scores


def _check_weight(weight, scores, name, fn):
    if weight is None:
        return None
    weight = require_tensor(weight, "weight", fn)
    n_classes = scores.shape[1] if scores.dim() > 1 else scores.shape[0]
    if tuple(weight.shape) != (n_classes,):
        raise ValueError(
            f"lsm.{fn}: weight has shape {tuple(weight.shape)}, but needs one entry per class: "
            f"shape ({n_classes},)."
        )
    if weight.dtype != scores.dtype:
        raise TypeError(
            f"lsm.{fn}: weight has dtype {weight.dtype} but `{name}` has {scores.dtype}; "
            f"convert with weight.to({name}.dtype)."
        )
    return weight


def _check_index_target(target, scores, ignore_index, name, fn):
    if target.dtype == torch.bool or target.dtype.is_complex:
        probabilities = " or class probabilities of the logits' dtype" if fn == "cross_entropy" else ""
        raise TypeError(
            f"lsm.{fn}: target has dtype {target.dtype}, but it must hold integer class indices "
            f"(torch.long){probabilities}."
        )
    batched = scores.dim() > 1
    expected = (scores.shape[0],) + tuple(scores.shape[2:]) if batched else ()
    if tuple(target.shape) != expected:
        layout = "(N, C, d1, ...) needs a target of shape (N, d1, ...)" if batched else "(C,) needs a 0-dim target"
        raise ValueError(
            f"lsm.{fn}: target has shape {tuple(target.shape)}, but `{name}` of shape "
            f"{tuple(scores.shape)} needs a target of shape {expected}: one class index per "
            f"sample ({name} of shape {layout})."
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"lsm.{fn}: ignore_index must be an int, got {ignore_index!r}.")
    n_classes = scores.shape[1] if batched else scores.shape[0]
    _check_class_range(target.long(), ignore_index, n_classes, name, fn)


def _has_values(t: torch.Tensor) -> bool:
    """Whether ``t`` holds data that eager code can read (not meta, fake or batched). A real
    target used inside a FakeTensorMode gives a fake mask, hence the check of both."""
    from torch._subclasses.fake_tensor import is_fake

    return t.device.type != "meta" and not is_fake(t) and not torch._C._functorch.is_functorch_wrapped_tensor(t)


def _check_class_range(target: torch.Tensor, ignore_index: int, n_classes: int, name: str, fn: str) -> None:
    """Every target other than ``ignore_index`` is a class in 0..C-1; compared in int64,
    so that a narrow dtype cannot wrap (-100 is 156 as uint8, 200 is -56 as int8)."""
    out_of_range = ((target < 0) | (target >= n_classes)) & (target != ignore_index)

    def message(which: str) -> str:
        return (
            f"lsm.{fn}: target holds {which}, but `{name}` has {n_classes} classes: valid class "
            f"indices are 0..{n_classes - 1} (a target equal to ignore_index={ignore_index} skips its sample)."
        )

    if torch.compiler.is_compiling() or torch.jit.is_tracing():  # no branch on a value: it would be baked in
        torch._assert_async(~out_of_range.any(), message("a class index out of range"))
    elif not (_has_values(target) and _has_values(out_of_range)):
        return  # meta, fake or torch.func-batched: no values to read (vmap has no rule for the assert)
    elif target.device.type != "cpu":
        torch._assert_async(~out_of_range.any(), message("a class index out of range"))  # no host sync
    elif bool(out_of_range.any()):
        raise ValueError(message(f"class {int(target[out_of_range][0])}"))


def _check_probability_target(target, scores, ignore_index, fn):
    if tuple(target.shape) != tuple(scores.shape):
        raise ValueError(
            f"lsm.{fn}: a floating-point target holds class probabilities and needs the logits' "
            f"shape {tuple(scores.shape)}, but has shape {tuple(target.shape)}. For class "
            f"indices pass an integer target (torch.long)."
        )
    if target.dtype != scores.dtype:
        raise TypeError(
            f"lsm.{fn}: the probability target has dtype {target.dtype} but the logits have "
            f"{scores.dtype}; convert with target.to(logits.dtype)."
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int) or ignore_index >= 0:
        raise ValueError(
            f"lsm.{fn}: ignore_index={ignore_index!r} cannot apply to a probability target (there "
            f"is no class index to compare); leave it at its default, -100."
        )


def _check_label_smoothing(label_smoothing, fn):
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"lsm.{fn}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}.")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"lsm.{fn}: label_smoothing={label_smoothing!r} is not in [0, 1]: it is the weight of "
            f"the uniform distribution mixed into the target."
        )
    return float(label_smoothing)


# ----------------------------------------------------------------------- computations


def _reduce(losses: torch.Tensor, reduction: str, weights: torch.Tensor | None) -> torch.Tensor:
    """Sum or average per-sample losses; "mean" divides by the sum of ``weights``, or by the
    number of samples when ``weights`` is None. Half formats accumulate in float32 and round once: a float16
    mean over more than 65,504 samples would otherwise divide inf by inf."""
    if reduction == "none":
        return losses
    acc = compute_dtype(losses.dtype)
    total = losses.to(acc).sum()
    if reduction == "sum":
        return total.to(losses.dtype)
    if weights is None:
        return losses.to(acc).mean().to(losses.dtype)  # NaN for no samples, as in torch
    return (total / weights.to(acc).sum()).to(losses.dtype)


def _as_batched(scores: torch.Tensor, target: torch.Tensor):
    """An unbatched (C,) sample as a batch of one."""
    if scores.dim() > 1:
        return scores, target
    return scores.unsqueeze(0), target.unsqueeze(0)


def _target_weights(log_probs, target, weight, ignore_index):
    """Each sample's class, its weight :math:`w_{y_i}` (0 for an ignored sample), and the mask."""
    target = target.long()  # exact for every integer dtype; compared without wrapping
    keep = target != ignore_index
    classes = torch.where(keep, target, torch.zeros_like(target))
    if log_probs.shape[1] == 0:  # no classes: every target is ignored, every loss is 0
        return classes, torch.zeros(target.shape, dtype=log_probs.dtype, device=log_probs.device), keep
    w = torch.ones(target.shape, dtype=log_probs.dtype, device=log_probs.device) if weight is None else weight[classes]
    return classes, torch.where(keep, w, torch.zeros_like(w)), keep


def _nll(log_probs, target, weight, ignore_index, reduction):
    """nll_loss of checked, batched inputs: per-sample :math:`-w_{y_i} \\log p_{i, y_i}`."""
    classes, w, keep = _target_weights(log_probs, target, weight, ignore_index)
    if log_probs.shape[1] == 0:
        picked = log_probs.sum(1)  # an empty sum, 0, that keeps the graph to log_probs
    else:
        picked = log_probs.gather(1, classes.unsqueeze(1)).squeeze(1)
    losses = torch.where(keep, -picked * w, torch.zeros_like(picked))
    return _reduce(losses, reduction, w)


def _uniform_share(eps: float, scores: torch.Tensor) -> torch.Tensor:
    """:math:`\varepsilon / C` as a 0-dim tensor of the computation's dtype (under
    torch.jit.trace, C is a traced integer tensor, and a Python float divided by it would
    round to float32)."""
    eps_t = torch.tensor(eps, dtype=compute_dtype(scores.dtype), device=scores.device)
    return eps_t / scores.shape[1]


def _class_shape(scores: torch.Tensor) -> list[int]:
    """The shape that broadcasts a (C,) vector over dim 1 of (N, C, d1, ...)."""
    return [1, scores.shape[1]] + [1] * (scores.dim() - 2)


def _smoothed_index_ce(logits, target, weight, ignore_index, reduction, eps):
    r"""Label smoothing with class-index targets: the target distribution of sample
    :math:`i` is :math:`(1 - \varepsilon)\, e_{y_i} + \varepsilon / C`, so
    :math:`a_{ic} = w_c \varepsilon / C + (1 - \varepsilon)\, w_{y_i} [c = y_i]`, and 0 for an
    ignored sample; "mean" divides by :math:`\sum_i w_{y_i}`, as torch does."""
    n_classes = logits.shape[1]
    classes, w, keep = _target_weights(logits, target, weight, ignore_index)
    w_c = torch.ones(n_classes, dtype=logits.dtype, device=logits.device) if weight is None else weight
    uniform = (w_c * _uniform_share(eps, logits)).view(_class_shape(logits)).expand_as(logits)
    a = uniform * keep.unsqueeze(1).to(logits.dtype)
    a = a.scatter_add(1, classes.unsqueeze(1), ((1 - eps) * w).unsqueeze(1))
    losses = apply_soft_cross_entropy(logits, a, 1)
    return _reduce(losses, reduction, w)


def _probability_ce(logits, q, weight, reduction, eps):
    r"""Class-probability targets :math:`q`, smoothed to :math:`(1 - \varepsilon) q + \varepsilon / C`:
    :math:`a_{ic} = w_c q_{ic}`; "mean" divides by the number of samples, as torch does."""
    if eps > 0:
        q = q * (1 - eps) + _uniform_share(eps, logits)
    a = q if weight is None else q * weight.view(_class_shape(logits))
    losses = apply_soft_cross_entropy(logits, a, 1)
    if reduction == "mean" and logits.numel() == 0:
        return _reduce(losses, "sum", None) * float("nan")  # a mean over no logits, NaN as in torch
    return _reduce(losses, reduction, None)


# --------------------------------------------------------------------------- the API


@follows_autocast("cpu", "cuda")
def nll_loss(
    log_probs: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood of the target classes.

    .. math::
        \ell_i = -w_{y_i}\,\texttt{log\_probs}_{i, y_i}, \qquad
        \text{mean} = \frac{\sum_i \ell_i}{\sum_i w_{y_i}}, \qquad
        \text{sum} = \sum_i \ell_i

    It only picks entries: it expects **log**-probabilities (the output of
    :func:`lsm.log_softmax`), not probabilities and not logits. Samples whose
    target equals ``ignore_index`` contribute neither to the loss nor to the
    mean's denominator (all ignored gives ``nan`` for "mean", as in torch). For float16
    and bfloat16 the sums of "mean" and "sum" run in float32 and are rounded once, so a
    float16 mean over more than 65,504 samples is finite (torch's is NaN).
    ``weight`` (shape (C,)) rescales each class; by default every :math:`w_y = 1`.
    :math:`y_i` is sample :math:`i`'s target class (``target[i]``), of any integer dtype.
    """
    fn = "nll_loss"
    log_probs = _check_scores(log_probs, "log_probs", fn, reduction)
    target = require_tensor(target, "target", fn)
    if target.dtype.is_floating_point:
        raise TypeError(
            f"lsm.nll_loss: target has dtype {target.dtype}, but it must hold integer class "
            f"indices (torch.long). For class probabilities use lsm.cross_entropy on logits."
        )
    weight = _check_weight(weight, log_probs, "log_probs", fn)
    _check_index_target(target, log_probs, ignore_index, "log_probs", fn)
    batched = log_probs.dim() > 1
    log_probs, target = _as_batched(log_probs, target)
    loss = _nll(log_probs, target, weight, ignore_index, reduction)
    return loss if batched or reduction != "none" else loss.squeeze(0)


@follows_autocast("cpu", "cuda")
def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Cross-entropy of unnormalised scores against class indices or class probabilities.

    .. math::
        \ell_i = -\sum_c a_{ic} \log \operatorname{softmax}(x_i)_c, \qquad
        \frac{\partial \ell_i}{\partial x_i} = \Big(\textstyle\sum_c a_{ic}\Big)\,
        \operatorname{softmax}(x_i) - a_i

    with target weights :math:`a_{ic}`, by kind of target:

    - **class index** :math:`y_i` (an integer target): :math:`a_i = w_{y_i} e_{y_i}`, so
      :math:`\ell_i = w_{y_i}(\operatorname{lse}(x_i) - x_{i, y_i})`, computed as
      ``nll_loss(log_softmax(logits, 1), target)`` with the hand-derived backward of
      :func:`lsm.log_softmax`; "mean" divides by :math:`\sum_i w_{y_i}`;
    - **class probabilities** :math:`q_i` (a floating target of the logits' shape and dtype):
      :math:`a_{ic} = w_c q_{ic}`; "mean" divides by the number of samples;
    - **label smoothing** :math:`\varepsilon` replaces the target distribution by
      :math:`(1 - \varepsilon)\,(\text{target}) + \varepsilon / C`, uniform weight
      :math:`\varepsilon` on every class, before the weights :math:`w_c` apply.

    The last two run :class:`~lsm.soft_cross_entropy.SoftCrossEntropyFunction`, whose
    backward is the formula above (:func:`~lsm.soft_cross_entropy.soft_cross_entropy_backward`);
    for a distribution (:math:`\sum_c a_{ic} = 1`) the gradient is softmax minus target.
    These match :func:`torch.nn.functional.cross_entropy`, with three deliberate differences:
    a negative ``label_smoothing`` is refused (torch accepts it); a probability target must
    have the logits' dtype (torch promotes); and a class of target weight 0 adds nothing
    even where its logit is ``-inf`` (torch gives NaN, from :math:`0 \cdot (-\infty)`).
    """
    fn = "cross_entropy"
    logits = _check_scores(logits, "logits", fn, reduction)
    target = require_tensor(target, "target", fn)
    eps = _check_label_smoothing(label_smoothing, fn)
    weight = _check_weight(weight, logits, "logits", fn)
    probabilities = target.dtype.is_floating_point
    if probabilities:
        require_computable(target.dtype, "the probability target has dtype", fn, "Convert it to the logits' dtype.")
        _check_probability_target(target, logits, ignore_index, fn)
    else:
        _check_index_target(target, logits, ignore_index, "logits", fn)
    batched = logits.dim() > 1
    logits, target = _as_batched(logits, target)
    if probabilities:
        loss = _probability_ce(logits, target, weight, reduction, eps)
    elif eps > 0 and logits.shape[1] > 0:
        loss = _smoothed_index_ce(logits, target, weight, ignore_index, reduction, eps)
    elif eps > 0:  # smoothing over no classes, eps / C with C = 0, is undefined: NaN, as in torch
        loss = _nll(logits, target, weight, ignore_index, reduction) * float("nan")
    else:
        loss = _nll(apply_log_softmax(logits, 1), target, weight, ignore_index, reduction)
    return loss if batched or reduction != "none" else loss.squeeze(0)
