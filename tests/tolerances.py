r"""How close lsm must be to torch, per dtype, and why.

lsm and torch evaluate the same shifted formulas, so they differ only in rounding:

* the order in which a row of n terms is summed (torch vectorises); a sum of n
  positive terms carries a relative error of at most (n - 1) u in either order;
* one or two roundings in exp, log and the division (each at most about 1 ulp,
  torch's vectorised exp is accurate to 1 ulp);

so two faithful implementations differ by at most about ``(n + 2)`` units of the
accumulation format's epsilon; we allow 4 times that (``work``). The log-domain
outputs (log_softmax, logsumexp) take the log of the sum, which turns that
relative error into an *absolute* one, so they get ``work`` as atol too, while
softmax outputs get only a relative tolerance.

float16 and bfloat16 are computed in float32 and rounded once at the end, by
torch as by lsm; where the two float32 results straddle a rounding boundary of
the output format they land one ulp apart, so halves add one output epsilon
(``eps(out)``), and their backward passes, where torch rounds a few
intermediates to the half format, add eight.
"""

from __future__ import annotations

import torch

HALF = (torch.float16, torch.bfloat16)


def smallest_subnormal(dtype: torch.dtype) -> float:
    info = torch.finfo(dtype)
    return info.tiny * info.eps


def work(dtype: torch.dtype, n: int) -> float:
    """4 (n + 2) eps of the format the computation runs in."""
    acc = torch.float32 if dtype in HALF else dtype
    return 4 * (n + 2) * torch.finfo(acc).eps


def forward_tol(dtype: torch.dtype, n: int, log_domain: bool) -> tuple[float, float]:
    """(rtol, atol) for comparing a forward output with torch's."""
    rtol = work(dtype, n) + (torch.finfo(dtype).eps if dtype in HALF else 0.0)
    atol = (rtol if log_domain else 0.0) + 2 * smallest_subnormal(dtype)
    return rtol, atol


def backward_tol(dtype: torch.dtype, n: int, grad_scale: float) -> tuple[float, float]:
    """(rtol, atol) for comparing an input gradient with torch's; ``grad_scale`` = max |g|."""
    rtol = work(dtype, n) + (8 * torch.finfo(dtype).eps if dtype in HALF else 0.0)
    return rtol, rtol * max(grad_scale, 1.0) + 2 * smallest_subnormal(dtype)


def assert_same_special_values(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """NaN where torch has NaN, +inf where +inf, -inf where -inf: the pattern must be identical."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    for name, mask in (
        ("nan", torch.isnan),
        ("+inf", lambda t: t == float("inf")),
        ("-inf", lambda t: t == float("-inf")),
    ):
        a, e = mask(actual), mask(expected)
        assert torch.equal(a, e), f"{name} pattern differs:\nlsm   {actual}\ntorch {expected}"


def assert_close_to_torch(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> None:
    """Same special-value pattern, then the finite entries within rtol/atol (compared in float64)."""
    assert_same_special_values(actual, expected)
    finite = torch.isfinite(expected)
    a, e = actual[finite].double(), expected[finite].double()
    err = (a - e).abs()
    bound = atol + rtol * e.abs()
    assert bool((err <= bound).all()), (
        f"max error {err.max().item():.3e} exceeds tolerance (rtol={rtol:.1e}, atol={atol:.1e}) "
        f"at {(err - bound).argmax().item()}:\nlsm   {actual}\ntorch {expected}"
    )
