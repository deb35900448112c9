r"""Cross-entropy against a target distribution, with hand-derived backward and forward-mode passes.

Class-probability targets and label smoothing make the target of a sample a distribution
over the classes instead of one class. With the class weights folded in, each sample's loss
is then

.. math:: \ell = -\sum_c a_c \log s_c, \qquad s = \operatorname{softmax}(x),

for target weights :math:`a_c \ge 0` (:math:`a_c = w_c q_c` for a target distribution
:math:`q`; :func:`lsm.cross_entropy` builds :math:`a`). A class with :math:`a_c = 0`
contributes nothing, even where :math:`\log s_c = -\infty` (a masked logit): the limit
:math:`0 \cdot \log 0 = 0`, where torch's ``-(log_probs * target).sum()`` gives NaN.
"""

from __future__ import annotations

import torch

from ._autograd import apply, without_jvp
from ._validation import compute_dtype
from .log_softmax import apply_log_softmax, log_softmax_forward


def _weighted_log_probs(a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r""":math:`a_c \log s_c`, taken to be 0 where :math:`a_c = 0`."""
    return torch.where(a == 0, torch.zeros_like(y), a * y)


def soft_cross_entropy_backward(
    grad: torch.Tensor, y: torch.Tensor, a: torch.Tensor, dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Vector-Jacobian products of :math:`\ell = -\sum_c a_c \log s_c`, from :math:`y = \log s`.

    .. math::
        \bar{x} = \bar{\ell}\,\Big(\big(\textstyle\sum_c a_c\big)\, s - a\Big), \qquad
        \bar{a} = -\bar{\ell}\, \log s

    For a target distribution (:math:`\sum_c a_c = 1`) the gradient is the familiar
    :math:`s - q`: predicted minus target probabilities. ``grad`` keeps the reduced
    dimension (size 1) so that it broadcasts over ``dim``.
    """
    acc = compute_dtype(y.dtype)
    g, ly, ac = grad.to(acc), y.to(acc), a.to(acc)
    x_bar = g * (ac.sum(dim, keepdim=True) * torch.exp(ly) - ac)
    return x_bar.to(y.dtype), (-g * ly).to(a.dtype)


def soft_cross_entropy_jvp(
    x_dot: torch.Tensor, a_dot: torch.Tensor | None, y: torch.Tensor, a: torch.Tensor, dim: int
) -> torch.Tensor:
    r"""Jacobian-vector product of :math:`\ell = -\sum_c a_c \log s_c` (forward mode).

    .. math::
        \dot{\ell} = \big(\textstyle\sum_c a_c\big)\big(\textstyle\sum_c s_c \dot{x}_c\big)
        - \textstyle\sum_c a_c \dot{x}_c - \textstyle\sum_c \dot{a}_c \log s_c

    ``a_dot`` is None when the target weights carry no tangent. The result keeps the
    reduced dimension.
    """
    acc = compute_dtype(y.dtype)
    t, ly, ac = x_dot.to(acc), y.to(acc), a.to(acc)
    s_dot_x = (torch.exp(ly) * t).sum(dim, keepdim=True)
    out = ac.sum(dim, keepdim=True) * s_dot_x - (ac * t).sum(dim, keepdim=True)
    if a_dot is not None:
        out = out - _weighted_log_probs(a_dot.to(acc), ly).sum(dim, keepdim=True)
    return out.to(y.dtype)


class SoftCrossEntropyFunction(torch.autograd.Function):
    r"""Per-sample :math:`-\sum_c a_c \log s_c` over ``dim``: backward
    :func:`soft_cross_entropy_backward`, forward mode :func:`soft_cross_entropy_jvp`.

    It saves its inputs, not :math:`\log s`: the backward recomputes :math:`\log s` with
    :func:`lsm.log_softmax` (one more forward pass, no (N, C) tensor kept between the passes),
    and through that Function a second derivative is exact too.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, a: torch.Tensor, dim: int) -> torch.Tensor:
        acc = compute_dtype(x.dtype)
        if x.numel() == 0:
            return x.to(acc).sum(dim).to(x.dtype)
        y = log_softmax_forward(x.to(acc), dim)
        return -_weighted_log_probs(a.to(acc), y).sum(dim).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, a, ctx.dim = inputs
        ctx.save_for_backward(x, a)
        ctx.save_for_forward(x, a)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, a = ctx.saved_tensors
        y = apply_log_softmax(x, ctx.dim)
        x_bar, a_bar = soft_cross_entropy_backward(grad.unsqueeze(ctx.dim), y, a, ctx.dim)
        return x_bar, (a_bar if ctx.needs_input_grad[1] else None), None

    @staticmethod
    def jvp(ctx, x_dot: torch.Tensor, a_dot: torch.Tensor | None, _dim_tangent):
        x, a = ctx.saved_tensors
        y = log_softmax_forward(x.to(compute_dtype(x.dtype)), ctx.dim)
        return soft_cross_entropy_jvp(x_dot, a_dot, y, a, ctx.dim).squeeze(ctx.dim)


_SoftCrossEntropyFunctionForCompile = without_jvp(SoftCrossEntropyFunction)


def apply_soft_cross_entropy(x: torch.Tensor, a: torch.Tensor, dim: int) -> torch.Tensor:
    """Per-sample soft cross-entropy of checked inputs of equal shape, reduced over ``dim``."""
    return apply(SoftCrossEntropyFunction, _SoftCrossEntropyFunctionForCompile, x, a, dim)
