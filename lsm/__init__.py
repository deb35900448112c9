"""lsm: softmax, the max-shift trick and log_softmax, derived, verified and timed.

Forward formulas (naive and stable), hand-derived backward (vector-Jacobian) and
forward-mode (Jacobian-vector) passes, losses and explicit Jacobians. The stable functions
work, the losses included, under ``torch.func`` (vmap, grad, jacrev, jacfwd, hessian),
forward-mode AD, ``torch.compile(fullgraph=True)``, ``torch.export``, ``torch.jit.trace``, on
meta and fake tensors, and under ``torch.autocast`` with torch's policy. Every function takes
PyTorch tensors of any shape; the reduction ``dim`` is always required.

``logsumexp_forward`` and ``log_softmax_forward``, the bodies of the forward passes without
checks or autograd, stay importable for the lab beside the package (``lsmlab``: the benchmark
and the accuracy study) but are not in ``__all__``.
"""

from .jacobians import log_softmax_jacobian, softmax_jacobian
from .log_sigmoid import log_sigmoid, log_sigmoid_backward
from .log_softmax import log_softmax, log_softmax_backward, log_softmax_forward, log_softmax_jvp
from .logsumexp import logsumexp, logsumexp_backward, logsumexp_forward, logsumexp_jvp
from .losses import cross_entropy, nll_loss
from .naive import naive_log_softmax, naive_softmax
from .soft_cross_entropy import soft_cross_entropy_backward, soft_cross_entropy_jvp
from .softmax import softmax, softmax_backward, softmax_jvp

__version__ = "0.2.0"

__all__ = [
    "naive_softmax",
    "naive_log_softmax",
    "softmax",
    "log_softmax",
    "logsumexp",
    "log_sigmoid",
    "softmax_backward",
    "log_softmax_backward",
    "logsumexp_backward",
    "log_sigmoid_backward",
    "soft_cross_entropy_backward",
    "softmax_jvp",
    "log_softmax_jvp",
    "logsumexp_jvp",
    "soft_cross_entropy_jvp",
    "softmax_jacobian",
    "log_softmax_jacobian",
    "nll_loss",
    "cross_entropy",
]
