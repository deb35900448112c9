r"""log_softmax with the max-shift, and its hand-derived backward pass."""

from __future__ import annotations

import torch

from ._autocast import follows_autocast
from ._autograd import apply, without_jvp
from ._validation import as_floating, compute_dtype, normalize_dim


def log_softmax_backward(grad: torch.Tensor, y: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Vector-Jacobian product of log_softmax, from its output :math:`y = \log s`.

    .. math:: \bar{x} = \bar{y} - e^{y} \textstyle\sum_j \bar{y}_j

    which is :math:`K^\top \bar{y}` for the log-softmax Jacobian :math:`K = I - \mathbf{1} s^\top`.
    """
    acc = compute_dtype(y.dtype)
    g, ly = grad.to(acc), y.to(acc)
    return (g - torch.exp(ly) * g.sum(dim, keepdim=True)).to(y.dtype)


def log_softmax_forward(xc: torch.Tensor, dim: int) -> torch.Tensor:
    r"""log_softmax of a non-empty tensor along ``dim``: the formula of :func:`log_softmax`.

    ``max`` gives the maximum and its first index :math:`k` in one pass; the term
    :math:`e^0 = 1` at :math:`k` is zeroed in place and added back through ``log1p``.
    (``torch.func.vmap`` has no batching rule for the in-place ``scatter_`` and runs it
    through PyTorch's slower fallback, with a performance warning; the result is the same.)
    :math:`c - c` is 0, or NaN when the maximum is not finite, so a slice holding ``+inf``,
    only ``-inf`` or NaN gives NaN, as in torch.
    """
    c, k = xc.max(dim, keepdim=True)
    shifted = xc - c
    rest = torch.exp(shifted).scatter_(dim, k, 0.0).sum(dim, keepdim=True)
    return shifted - torch.log1p(rest + (c - c))


def log_softmax_jvp(tangent: torch.Tensor, y: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Jacobian-vector product of log_softmax (forward mode), from its output :math:`y = \log s`.

    .. math:: \dot{y} = K \dot{x} = \dot{x} - \textstyle\sum_j e^{y_j} \dot{x}_j

    for the log-softmax Jacobian :math:`K = I - \mathbf{1} s^\top` (not symmetric: the
    backward pass :func:`log_softmax_backward` applies :math:`K^\top` instead).
    """
    acc = compute_dtype(y.dtype)
    t, ly = tangent.to(acc), y.to(acc)
    return (t - (torch.exp(ly) * t).sum(dim, keepdim=True)).to(y.dtype)


class LogSoftmaxFunction(torch.autograd.Function):
    """log_softmax along ``dim``: backward :func:`log_softmax_backward`, forward mode
    :func:`log_softmax_jvp`; a generated vmap rule makes it work under ``torch.func``."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, dim: int) -> torch.Tensor:
        if x.numel() == 0:
            return torch.empty_like(x)
        return log_softmax_forward(x.to(compute_dtype(x.dtype)), dim).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        return log_softmax_backward(grad, y, ctx.dim), None

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor, _dim_tangent):
        (y,) = ctx.saved_tensors
        return log_softmax_jvp(tangent, y, ctx.dim)


_LogSoftmaxFunctionForCompile = without_jvp(LogSoftmaxFunction)


def apply_log_softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    """The autograd.Function of :func:`log_softmax` on an input already checked (for the losses)."""
    return apply(LogSoftmaxFunction, _LogSoftmaxFunctionForCompile, x, dim)


@follows_autocast("cuda")
def log_softmax(x: torch.Tensor, dim: int, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Numerically stable log-softmax along ``dim``.

    .. math::
        \log s_i = (x_i - c) - \operatorname{log1p}\Big(\sum_{j \ne k} e^{x_j - c}\Big),
        \qquad c = \max_j x_j = x_k

    This equals :math:`\log \operatorname{softmax}(x)_i = x_i - \operatorname{lse}(x)`
    but never takes the log of an underflowed probability: the shifted sum is
    :math:`1 + r` with :math:`r = \sum_{j \ne k} e^{x_j - c} \in [0, n - 1]` (exactly), so a
    very unlikely class gets a large negative value instead of ``-inf`` (``-inf`` only
    when :math:`x_i - c` itself overflows, or :math:`x_i = -\infty`). Adding the 1 with
    ``log1p`` instead of rounding :math:`1 + r` (the log of Blanchard, Higham and Higham's
    softmax, 2021; see :func:`lsm.logsumexp`) keeps the top class's log-probability
    :math:`-\operatorname{log1p}(r)` accurate relatively even when it is tiny, the cross-entropy of a confident classifier
    that is right: notebook 10 (*How accurate is each formula?*) measures at most 7 ulps in
    float32, where :math:`(x_i - m) - \log \sum_j e^{x_j - m}` returns 0.
    The forms :math:`x_i - \operatorname{lse}(x)` are not used: they cancel at the top
    entry and next to it.

    ``dtype=`` casts ``x`` before the computation, as in :func:`torch.log_softmax`;
    float16 and bfloat16 are computed in float32 and rounded once at the end.
    The backward pass is :func:`log_softmax_backward`.
    """
    x = as_floating(x, "x", "log_softmax", dtype)
    dim = normalize_dim(dim, x.dim(), "log_softmax")
    return apply_log_softmax(x, dim)
