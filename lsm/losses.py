r"""Negative log-likelihood and cross-entropy for class-index targets.

Shapes follow torch: ``log_probs``/``logits`` are (N, C) or (N, C, d1, ...) with the
classes on dim 1, or (C,) for one unbatched sample; ``target`` is (N,) or
(N, d1, ...) (a 0-dim tensor for an unbatched sample) holding class indices.
"""

from __future__ import annotations

import torch

from ._validation import compute_dtype, require_computable, require_tensor
from .log_softmax import log_softmax

REDUCTIONS = ("mean", "sum", "none")


def _check_loss_inputs(scores, target, weight, ignore_index, reduction, fn, name):
    scores = require_tensor(scores, name, fn)
    target = require_tensor(target, "target", fn)
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
    if target.dtype == torch.bool or target.dtype.is_floating_point or target.dtype.is_complex:
        raise TypeError(
            f"lsm.{fn}: target has dtype {target.dtype}, but it must hold integer class indices "
            f"(torch.long). lsm takes class-index targets only; for class probabilities use "
            f"torch.nn.functional.cross_entropy."
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
    n_classes = scores.shape[1] if batched else scores.shape[0]
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"lsm.{fn}: ignore_index must be an int, got {ignore_index!r}.")
    # Compare in int64: in a narrow dtype ignore_index=-100 or the class count would wrap
    # (-100 is 156 as uint8, 200 is -56 as int8). Every integer dtype converts exactly.
    t64 = target.long()
    used = t64[t64 != ignore_index]
    bad = used[(used < 0) | (used >= n_classes)]
    if bad.numel() > 0:
        raise ValueError(
            f"lsm.{fn}: target holds class {int(bad[0])}, but `{name}` has {n_classes} classes: "
            f"valid class indices are 0..{n_classes - 1} (a target equal to ignore_index={ignore_index} skips its sample)."
        )
    if weight is not None:
        weight = require_tensor(weight, "weight", fn)
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
    if reduction not in REDUCTIONS:
        raise ValueError(f"lsm.{fn}: reduction={reduction!r} is not one of {', '.join(map(repr, REDUCTIONS))}.")
    return batched


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
    :math:`y_i` is sample :math:`i`'s target class (``target[i]``).
    """
    batched = _check_loss_inputs(log_probs, target, weight, ignore_index, reduction, "nll_loss", "log_probs")
    if not batched:
        log_probs, target = log_probs.unsqueeze(0), target.unsqueeze(0)
    target = target.long()  # exact for every integer dtype; compared without wrapping
    keep = target != ignore_index
    classes = torch.where(keep, target, torch.zeros_like(target))
    picked = log_probs.gather(1, classes.unsqueeze(1)).squeeze(1)
    w = torch.ones_like(picked) if weight is None else weight[classes]
    w = torch.where(keep, w, torch.zeros_like(w))
    losses = torch.where(keep, -picked * w, torch.zeros_like(picked))
    # Reductions accumulate in float32 for half-precision input and round once: a float16
    # mean over more than 65,504 samples would otherwise divide inf by inf.
    acc = compute_dtype(losses.dtype)
    if reduction == "sum":
        return losses.to(acc).sum().to(losses.dtype)
    if reduction == "mean":
        return (losses.to(acc).sum() / w.to(acc).sum()).to(losses.dtype)
    return losses if batched else losses.squeeze(0)


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Cross-entropy of unnormalised scores against class indices.

    .. math::
        \ell_i = -w_{y_i} \log \operatorname{softmax}(x_i)_{y_i}
        = w_{y_i}\Big(\operatorname{lse}(x_i) - x_{i, y_i}\Big)

    That is ``nll_loss(log_softmax(logits, dim=1), target)`` (dim 0 for an
    unbatched (C,) input). Its gradient with respect to the logits of sample
    :math:`i` is :math:`w_{y_i}(\operatorname{softmax}(x_i) - e_{y_i})` (:math:`e_y` the
    one-hot vector of class :math:`y`), divided by :math:`\sum_i w_{y_i}` for "mean".
    """
    _check_loss_inputs(logits, target, weight, ignore_index, reduction, "cross_entropy", "logits")
    class_dim = 1 if logits.dim() > 1 else 0
    return nll_loss(
        log_softmax(logits, class_dim), target, weight=weight, ignore_index=ignore_index, reduction=reduction
    )
