r"""Explicit Jacobian matrices of softmax and log_softmax, for study.

A backward pass never builds these n-by-n matrices (it computes a vector-Jacobian
product in O(n)); they are here so the notebooks can look at them.
"""

from __future__ import annotations

import torch

from ._validation import as_floating
from .softmax import softmax


def _softmax_of_vectors(x, fn):
    x = as_floating(x, "x", fn)
    if x.dim() == 0:
        raise ValueError(f"lsm.{fn}: x is 0-dimensional; pass a vector of shape (n,) (or a batch (..., n)).")
    return softmax(x, -1)


def softmax_jacobian(x: torch.Tensor) -> torch.Tensor:
    r"""Jacobian of softmax along the last dimension.

    .. math:: J_{ij} = \frac{\partial s_i}{\partial x_j} = s_i(\delta_{ij} - s_j),
        \qquad J = \operatorname{diag}(s) - s s^\top

    ``x`` of shape (..., n) gives (..., n, n), one matrix per vector.
    """
    s = _softmax_of_vectors(x, "softmax_jacobian")
    return torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)


def log_softmax_jacobian(x: torch.Tensor) -> torch.Tensor:
    r"""Jacobian of log_softmax along the last dimension.

    .. math:: K_{ij} = \frac{\partial \log s_i}{\partial x_j} = \delta_{ij} - s_j,
        \qquad K = I - \mathbf{1} s^\top

    ``x`` of shape (..., n) gives (..., n, n), one matrix per vector.
    """
    s = _softmax_of_vectors(x, "log_softmax_jacobian")
    eye = torch.eye(s.shape[-1], dtype=s.dtype, device=s.device)
    return eye - s.unsqueeze(-2).expand(*s.shape, s.shape[-1])
