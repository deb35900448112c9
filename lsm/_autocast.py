"""torch.autocast, applied to each lsm function as torch applies it to the counterpart.

Inside an autocast region torch sorts its ops into policies. An op on the *float32* list
casts its float16/bfloat16 inputs on the autocast device to float32 and returns float32;
any other op runs in the dtype of its inputs. PyTorch's lists ("Autocast Op Reference" in
the torch.amp documentation, ``aten/src/ATen/autocast_mode.h``) put these counterparts on
the float32 list on these devices:

* ``softmax``, ``log_softmax``, ``logsumexp`` (torch.softmax, torch.log_softmax,
  torch.logsumexp): float32 on cuda; on the CPU they keep their input's dtype;
* ``log_sigmoid`` (F.logsigmoid): nowhere; it keeps its input's dtype;
* ``nll_loss``, ``cross_entropy`` (F.nll_loss, F.cross_entropy): float32 on cpu and cuda.

An explicit ``dtype=`` wins over autocast, as in torch. Either way the body of an lsm
function then runs with autocast off, as a native kernel does: lsm chooses the precision of
each step itself (float32 for the half formats), and autocast never recasts it halfway.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

import torch

F = TypeVar("F", bound=Callable[..., torch.Tensor])


def _autocast_enabled(device_type: str) -> bool:
    """Whether an autocast region is active for this device type (never for meta)."""
    return torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type)


def _to_float32(value: object, device_type: str) -> object:
    """torch's eligibility rule: a floating tensor on the autocast device, other than
    float32 and float64, is cast to float32; anything else is left as it is."""
    if (
        isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and value.device.type == device_type
        and value.dtype not in (torch.float32, torch.float64)
    ):
        return value.to(torch.float32)
    return value


def follows_autocast(*float32_on: str) -> Callable[[F], F]:
    """Decorate a public function whose first argument is its input tensor: under
    ``torch.autocast`` on a device in ``float32_on`` its floating inputs are cast to
    float32 first (unless ``dtype=`` is given), and its body runs with autocast off."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            x = args[0] if args else None
            if not isinstance(x, torch.Tensor) or not _autocast_enabled(x.device.type):
                return fn(*args, **kwargs)
            device_type = x.device.type
            if device_type in float32_on and kwargs.get("dtype") is None:
                args = tuple(_to_float32(a, device_type) for a in args)
                kwargs = {k: _to_float32(v, device_type) for k, v in kwargs.items()}
            with torch.autocast(device_type, enabled=False):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
