r"""Softmax with the max-shift, and its hand-derived backward pass."""

from __future__ import annotations

import torch

from ._validation import as_floating, compute_dtype, normalize_dim


def softmax_backward(grad: torch.Tensor, y: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Vector-Jacobian product of softmax, from its output :math:`y`.

    .. math:: \bar{x} = s \odot \left(\bar{y} - \textstyle\sum_j \bar{y}_j s_j\right)

    which is :math:`J^\top \bar{y}` for the softmax Jacobian
    :math:`J = \operatorname{diag}(s) - s s^\top` (``y`` holds :math:`s`).
    """
    acc = compute_dtype(y.dtype)
    g, s = grad.to(acc), y.to(acc)
    return (s * (g - (g * s).sum(dim, keepdim=True))).to(y.dtype)


class SoftmaxFunction(torch.autograd.Function):
    """softmax along ``dim`` whose backward is :func:`softmax_backward`."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, dim: int) -> torch.Tensor:
        if x.numel() == 0:
            y = torch.empty_like(x)
        else:
            xc = x.to(compute_dtype(x.dtype))
            e = torch.exp(xc - xc.amax(dim, keepdim=True))
            y = (e / e.sum(dim, keepdim=True)).to(x.dtype)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        return softmax_backward(grad, y, ctx.dim), None


def softmax(x: torch.Tensor, dim: int, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Numerically stable softmax along ``dim``.

    .. math::
        s_i = \operatorname{softmax}(x)_i = \frac{e^{x_i - c}}{\sum_j e^{x_j - c}},
        \qquad c = \max_j x_j

    The shift by :math:`c` cancels exactly in real arithmetic; in floating point it
    keeps every exponent :math:`\le 0`, so no term overflows, and the largest term is
    exactly :math:`e^0 = 1`, so the computed denominator is at least 1 (no
    :math:`0/0`). In exact arithmetic it is at most :math:`n`; rounded, it can exceed
    :math:`n` slightly once :math:`n > 2^p` (notebook 3).

    ``dtype=`` casts ``x`` before the computation, as in :func:`torch.softmax`;
    float16 and bfloat16 are computed in float32 and rounded once at the end.
    The backward pass is :func:`softmax_backward`.
    """
    x = as_floating(x, "x", "softmax", dtype)
    dim = normalize_dim(dim, x.dim(), "softmax")
    return SoftmaxFunction.apply(x, dim)
