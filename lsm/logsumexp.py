r"""logsumexp with the max-shift, and its hand-derived backward pass."""

from __future__ import annotations

import torch

from ._validation import as_floating, compute_dtype, normalize_dim


def logsumexp_backward(grad: torch.Tensor, x: torch.Tensor, out: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Vector-Jacobian product of logsumexp: the gradient is the softmax.

    .. math:: \bar{x} = \bar{y}\, e^{x - \operatorname{logsumexp}(x)} = \bar{y}\,\operatorname{softmax}(x)

    ``grad`` and ``out`` keep the reduced dimension (size 1) so they broadcast over ``dim``.
    """
    acc = compute_dtype(x.dtype)
    return (grad.to(acc) * torch.exp(x.to(acc) - out.to(acc))).to(x.dtype)


class LogSumExpFunction(torch.autograd.Function):
    """logsumexp over ``dim`` whose backward is :func:`logsumexp_backward`."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, dim: int, keepdim: bool) -> torch.Tensor:
        xc = x.to(compute_dtype(x.dtype))
        if x.dim() > 0 and x.shape[dim] == 0:
            out = xc.sum(dim, keepdim=True).fill_(float("-inf"))
        elif x.numel() == 0:
            out = xc.sum(dim, keepdim=True)
        else:
            m = xc.amax(dim, keepdim=True)
            m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
            out = m + torch.log(torch.exp(xc - m).sum(dim, keepdim=True))
        ctx.squeeze = not keepdim and x.dim() > 0
        result = out.to(x.dtype)
        if ctx.squeeze:
            result = result.squeeze(dim)
        # Save the returned tensor itself, so a double backward can flow through it.
        ctx.save_for_backward(x, result)
        ctx.dim = dim
        return result

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, out = ctx.saved_tensors
        if ctx.squeeze:
            grad, out = grad.unsqueeze(ctx.dim), out.unsqueeze(ctx.dim)
        return logsumexp_backward(grad, x, out, ctx.dim), None, None


def logsumexp(
    x: torch.Tensor, dim: int, keepdim: bool = False, *, dtype: torch.dtype | None = None
) -> torch.Tensor:
    r"""Numerically stable :math:`\log \sum_j e^{x_j}` over ``dim``.

    .. math::
        \operatorname{logsumexp}(x) = m + \log \sum_j e^{x_j - m},
        \qquad m = \max_j x_j \text{ (0 if } m = \pm\infty)

    An all ``-inf`` slice, or an empty one, gives ``-inf`` (the log of an empty
    sum), as :func:`torch.logsumexp` does; ``+inf`` anywhere gives ``+inf``.
    The gradient is :math:`\operatorname{softmax}(x)` (:func:`logsumexp_backward`).

    Unlike :func:`torch.logsumexp`, an integer tensor is refused unless ``dtype=``
    names the floating-point type to compute in.
    """
    x = as_floating(x, "x", "logsumexp", dtype)
    dim = normalize_dim(dim, x.dim(), "logsumexp")
    if not isinstance(keepdim, bool):
        raise TypeError(f"lsm.logsumexp: keepdim must be True or False, got {keepdim!r}.")
    return LogSumExpFunction.apply(x, dim, keepdim)
