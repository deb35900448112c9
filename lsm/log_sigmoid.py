r"""log-sigmoid, element-wise, without overflow, and its hand-derived backward pass."""

from __future__ import annotations

import torch

from ._autocast import follows_autocast
from ._autograd import apply, without_jvp
from ._validation import as_floating, compute_dtype


def log_sigmoid_backward(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""Vector-Jacobian product of log-sigmoid (the Jacobian is diagonal).

    .. math::
        \frac{d}{dx}\log\sigma(x) = 1 - \sigma(x) = \sigma(-x) =
        \begin{cases} e^{-x} / (1 + e^{-x}) & x \ge 0 \\ 1 / (1 + e^{x}) & x < 0 \end{cases}

    Each branch exponentiates only :math:`-|x| \le 0`, and each is the exact formula on its
    side, chosen with ``where``: differentiating this backward (a second derivative) is
    therefore exact at :math:`x = 0` too, :math:`-\sigma(0)^2 = -1/4`. The one-line form
    :math:`e^{\min(0, -x)} / (1 + e^{-|x|})` gives :math:`-1/2` there, because autograd takes
    the derivative of :math:`|x|` at 0 to be 0.
    """
    acc = compute_dtype(x.dtype)
    xc = x.to(acc)
    right = xc >= 0
    e = torch.exp(torch.where(right, -xc, xc))  # e^{-|x|}, one branch per side
    slope = torch.where(right, e, torch.ones_like(e)) / (1 + e)
    return (grad.to(acc) * slope).to(x.dtype)


class LogSigmoidFunction(torch.autograd.Function):
    """Element-wise log-sigmoid: backward :func:`log_sigmoid_backward`; the Jacobian is
    diagonal, so the forward mode multiplies the tangent by the same slope. A generated
    vmap rule makes it work under ``torch.func``."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        xc = x.to(compute_dtype(x.dtype))
        return (torch.clamp(xc, max=0) - torch.log1p(torch.exp(-xc.abs()))).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return log_sigmoid_backward(grad, x)

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor):
        (x,) = ctx.saved_tensors
        return log_sigmoid_backward(tangent, x)


_LogSigmoidFunctionForCompile = without_jvp(LogSigmoidFunction)


@follows_autocast()
def log_sigmoid(x: torch.Tensor, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Element-wise :math:`\log \sigma(x) = -\log(1 + e^{-x})`, computed stably.

    .. math:: \log\sigma(x) = \min(0, x) - \log\!\left(1 + e^{-|x|}\right)

    Both branches of the textbook formula overflow for one sign of :math:`x`;
    this form only ever exponentiates :math:`-|x| \le 0`. In exact arithmetic the
    outputs lie in :math:`(-\infty, 0)`; computed, they are 0 once :math:`e^{-x}` is
    too small to register (about :math:`x > 103` in float32) and ``-inf`` only for
    :math:`x = -\infty`. Unlike :func:`log_softmax` they are not normalised: their
    exponentials need not sum to 1.
    """
    x = as_floating(x, "x", "log_sigmoid", dtype)
    return apply(LogSigmoidFunction, _LogSigmoidFunctionForCompile, x)
