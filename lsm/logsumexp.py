r"""logsumexp with the max-shift, and its hand-derived backward pass."""

from __future__ import annotations

import math

import torch

from ._autocast import follows_autocast
from ._autograd import apply, without_jvp
from ._validation import as_floating, compute_dtype, normalize_dims


def logsumexp_backward(grad: torch.Tensor, x: torch.Tensor, out: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Vector-Jacobian product of logsumexp: the gradient is the softmax.

    .. math:: \bar{x} = \bar{y}\, e^{x - \operatorname{lse}(x)} = \bar{y}\, s

    ``grad`` and ``out`` keep the reduced dimension (size 1) so they broadcast over ``dim``.
    """
    acc = compute_dtype(x.dtype)
    return (grad.to(acc) * torch.exp(x.to(acc) - out.to(acc))).to(x.dtype)


def logsumexp_forward(xc: torch.Tensor, dim: int, keepdim: bool = True) -> torch.Tensor:
    r"""logsumexp of a non-empty tensor over ``dim`` (kept, by default): the formula of :func:`logsumexp`.

    ``max`` gives the maximum and its first index :math:`k` in one pass; the term
    :math:`e^{x_k - c} = 1` is zeroed in place (under ``torch.func.vmap`` through PyTorch's
    fallback for ``scatter_``, with a performance warning) and added back through ``log1p``. For a
    non-finite maximum the shift is 0 and the zeroed term comes back as
    :math:`\operatorname{expm1}(\max)`: ``inf``, ``-1`` (so :math:`\operatorname{log1p}(-1) = -\infty`)
    or NaN; for a finite one it is :math:`\operatorname{expm1}(0) = 0`. The result is a new
    tensor, never a view (the reduced dim is dropped before the last addition).
    """
    top, k = xc.max(dim, keepdim=True)
    m = torch.where(torch.isinf(top), torch.zeros_like(top), top)
    rest = torch.exp(xc - m).scatter_(dim, k, 0.0).sum(dim, keepdim=True)
    tail = torch.log1p(rest + torch.expm1(top - m))
    if not keepdim:
        m, tail = m.squeeze(dim), tail.squeeze(dim)
    return m + tail


def logsumexp_jvp(tangent: torch.Tensor, x: torch.Tensor, out: torch.Tensor, dim: int) -> torch.Tensor:
    r"""Jacobian-vector product of logsumexp (forward mode): the softmax-weighted tangent.

    .. math:: \dot{y} = s^\top \dot{x} = \textstyle\sum_j e^{x_j - \operatorname{lse}(x)}\, \dot{x}_j

    ``out`` keeps the reduced dimension (size 1); so does the result.
    """
    acc = compute_dtype(x.dtype)
    weights = torch.exp(x.to(acc) - out.to(acc))
    return (weights * tangent.to(acc)).sum(dim, keepdim=True).to(x.dtype)


class LogSumExpFunction(torch.autograd.Function):
    """logsumexp over ``dim``: backward :func:`logsumexp_backward`, forward mode
    :func:`logsumexp_jvp`; a generated vmap rule makes it work under ``torch.func``."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, dim: int, keepdim: bool) -> torch.Tensor:
        xc = x.to(compute_dtype(x.dtype))
        # The output is a new tensor, not a view of one made here: autograd forbids
        # in-place changes to views created inside a Function, and torch allows them.
        keep = keepdim or x.dim() == 0
        if x.dim() > 0 and x.shape[dim] == 0:
            out = xc.sum(dim, keepdim=keep).fill_(float("-inf"))
        elif x.numel() == 0:
            out = xc.sum(dim, keepdim=keep)
        else:
            out = logsumexp_forward(xc, dim, keep)
        return out.to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, dim, keepdim = inputs
        ctx.dim, ctx.squeeze = dim, not keepdim and x.dim() > 0
        # Save the returned tensor itself, so a double backward can flow through it.
        ctx.save_for_backward(x, output)
        ctx.save_for_forward(x, output)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, out = ctx.saved_tensors
        if ctx.squeeze:
            grad, out = grad.unsqueeze(ctx.dim), out.unsqueeze(ctx.dim)
        return logsumexp_backward(grad, x, out, ctx.dim), None, None

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor, _dim_tangent, _keepdim_tangent):
        x, out = ctx.saved_tensors
        if ctx.squeeze:
            out = out.unsqueeze(ctx.dim)
        y_dot = logsumexp_jvp(tangent, x, out, ctx.dim)
        return y_dot.squeeze(ctx.dim) if ctx.squeeze else y_dot


_LogSumExpFunctionForCompile = without_jvp(LogSumExpFunction)


def _logsumexp_over(x: torch.Tensor, dims: tuple[int, ...], keepdim: bool) -> torch.Tensor:
    """logsumexp over several dims: they are moved last and flattened into one, which
    is reduced; the gradient flows back through the reshape."""
    kept = [d for d in range(x.dim()) if d not in dims]
    size = math.prod([x.shape[d] for d in dims])
    flat = x.permute(*kept, *dims).reshape(*[x.shape[d] for d in kept], size)
    out = apply(LogSumExpFunction, _LogSumExpFunctionForCompile, flat, flat.dim() - 1, False)
    return out.reshape([1 if d in dims else x.shape[d] for d in range(x.dim())]) if keepdim else out


@follows_autocast("cuda")
def logsumexp(
    x: torch.Tensor,
    dim: int | tuple[int, ...],
    keepdim: bool = False,
    *,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    r"""Numerically stable :math:`\log \sum_j e^{x_j}` over ``dim``.

    .. math::
        \operatorname{lse}(x) = c + \operatorname{log1p}\Big(\sum_{j \ne k} e^{x_j - c}\Big),
        \qquad c = \max_j x_j = x_k \text{ (shift 0 if } c = \pm\infty)

    The shifted sum is :math:`1 + r` with the exact term :math:`e^{x_k - c} = 1` and
    :math:`r = \sum_{j \ne k} e^{x_j - c}`; rounding :math:`1 + r` would cost up to one unit
    roundoff *absolutely*, a large relative error when the result is small. Adding the 1
    with ``log1p``, the algorithm of P. Blanchard, D. J. Higham and N. J. Higham ("Accurately
    computing the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4), 2021), is as
    accurate as :math:`c + \log \sum_j e^{x_j - c}` on ordinary logits and far more accurate when
    the result is small: notebook 10 (*How accurate is each formula?*) measures, against a
    reference checked with mpmath, errors of at most about 2 ulps in float32 and float64 where
    :math:`\log(1 + r)` rounds :math:`1 + r` to 1 and returns 0.

    ``dim`` is one dim or a tuple (or list) of dims, reduced together as in
    :func:`torch.logsumexp`.
    An all ``-inf`` slice, or an empty one, gives ``-inf`` (the log of an empty
    sum), as :func:`torch.logsumexp` does; ``+inf`` anywhere gives ``+inf``.
    The gradient is the softmax :math:`s` (:func:`logsumexp_backward`).

    Unlike :func:`torch.logsumexp`, an integer tensor is refused unless ``dtype=``
    names the floating-point type to compute in.
    """
    x = as_floating(x, "x", "logsumexp", dtype)
    dims = normalize_dims(dim, x.dim(), "logsumexp")
    if not isinstance(keepdim, bool):
        raise TypeError(f"lsm.logsumexp: keepdim must be True or False, got {keepdim!r}.")
    if len(dims) > 1:
        return _logsumexp_over(x, dims, keepdim)
    return apply(LogSumExpFunction, _LogSumExpFunctionForCompile, x, dims[0], keepdim)
