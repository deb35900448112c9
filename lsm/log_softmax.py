r"""log_softmax with the max-shift, and its hand-derived backward pass."""

from __future__ import annotations

import torch

from ._validation import as_floating, compute_dtype, normalize_dim


def log_softmax_backward(grad: torch.Tensor, y: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Vector-Jacobian product of log_softmax, from its output :math:`y = \log s`.

    .. math:: \bar{x} = \bar{y} - e^{y} \textstyle\sum_j \bar{y}_j

    which is :math:`J^\top \bar{y}` for :math:`J = I - \mathbf{1} s^\top`.
    """
    acc = compute_dtype(y.dtype)
    g, ly = grad.to(acc), y.to(acc)
    return (g - torch.exp(ly) * g.sum(dim, keepdim=True)).to(y.dtype)


class LogSoftmaxFunction(torch.autograd.Function):
    """log_softmax along ``dim`` whose backward is :func:`log_softmax_backward`."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, dim: int) -> torch.Tensor:
        if x.numel() == 0:
            y = torch.empty_like(x)
        else:
            xc = x.to(compute_dtype(x.dtype))
            shifted = xc - xc.amax(dim, keepdim=True)
            y = (shifted - torch.log(torch.exp(shifted).sum(dim, keepdim=True))).to(x.dtype)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        return log_softmax_backward(grad, y, ctx.dim), None


def log_softmax(x: torch.Tensor, dim: int, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Numerically stable log-softmax along ``dim``.

    .. math::
        \operatorname{log\_softmax}(x)_i = (x_i - m) - \log \sum_j e^{x_j - m},
        \qquad m = \max_j x_j

    This equals :math:`\log \operatorname{softmax}(x)_i = x_i - \operatorname{logsumexp}(x)`
    but never takes the log of an underflowed probability: the sum contains the
    term :math:`e^0 = 1`, so the log sees a number in :math:`[1, n]`, and a very
    unlikely class gets a large negative value instead of ``-inf``.

    ``dtype=`` casts ``x`` before the computation, as in :func:`torch.log_softmax`;
    float16 and bfloat16 are computed in float32 and rounded once at the end.
    The backward pass is :func:`log_softmax_backward`.
    """
    x = as_floating(x, "x", "log_softmax", dtype)
    dim = normalize_dim(dim, x.dim(), "log_softmax")
    return LogSoftmaxFunction.apply(x, dim)
