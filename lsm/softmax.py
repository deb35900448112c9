r"""Softmax with the max-shift, and its hand-derived backward pass."""

from __future__ import annotations

import torch

from ._autocast import follows_autocast
from ._autograd import apply, without_jvp
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


def softmax_jvp(tangent: torch.Tensor, y: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Jacobian-vector product of softmax (forward mode), from its output :math:`y = s`.

    .. math:: \dot{y} = J \dot{x} = s \odot \left(\dot{x} - \textstyle\sum_j s_j \dot{x}_j\right)

    :math:`J = \operatorname{diag}(s) - s s^\top` is symmetric, so this is the product
    of :func:`softmax_backward` applied to the tangent.
    """
    return softmax_backward(tangent, y, dim)


class SoftmaxFunction(torch.autograd.Function):
    """softmax along ``dim``: backward :func:`softmax_backward`, forward mode :func:`softmax_jvp`.

    Written in the form that ``torch.func`` transforms accept (``setup_context``, a
    generated vmap rule), so ``vmap``, ``grad``, ``jacrev``, ``jacfwd`` and ``hessian`` work.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, dim: int) -> torch.Tensor:
        if x.numel() == 0:
            return torch.empty_like(x)
        xc = x.to(compute_dtype(x.dtype))
        e = torch.exp(xc - xc.amax(dim, keepdim=True))
        return (e / e.sum(dim, keepdim=True)).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        return softmax_backward(grad, y, ctx.dim), None

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor, _dim_tangent):
        (y,) = ctx.saved_tensors
        return softmax_jvp(tangent, y, ctx.dim)


_SoftmaxFunctionForCompile = without_jvp(SoftmaxFunction)


@follows_autocast("cuda")
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
    return apply(SoftmaxFunction, _SoftmaxFunctionForCompile, x, dim)
