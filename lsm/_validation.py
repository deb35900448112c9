"""Input checks shared by every public function: say what is wrong and how to fix it.

Nothing here converts anything silently: a value is either accepted as it is,
or rejected with an exception whose message names the problem and the fix.
"""

from __future__ import annotations

import operator

import torch

HALF_DTYPES = (torch.float16, torch.bfloat16)
# The floating-point formats lsm computes in (half formats through float32). float8 and the
# other narrow formats are floating point to torch too, but torch has no CPU kernels for
# max, exp or sum on them: they are refused here, with the fix, not deep inside torch.
COMPUTABLE = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def require_computable(dtype: torch.dtype, what: str, fn: str, fix: str) -> None:
    """Raise TypeError for a floating-point dtype lsm cannot compute in (float8, ...)."""
    if dtype.is_floating_point and dtype not in COMPUTABLE:
        raise TypeError(
            f"lsm.{fn}: {what} {dtype}, a format that lsm (like torch's CPU kernels) cannot "
            f"compute in. {fix}"
        )


def require_tensor(x: object, name: str, fn: str) -> torch.Tensor:
    """Return ``x`` if it is a tensor, else raise TypeError."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"lsm.{fn}: `{name}` must be a torch.Tensor, got {type(x).__name__}. "
            f"Wrap it first, for example torch.tensor({name}, dtype=torch.float32)."
        )
    return x


def require_float_dtype(dtype: object, fn: str) -> torch.dtype:
    """Return ``dtype`` if it is a real floating-point torch.dtype, else raise TypeError."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"lsm.{fn}: dtype= must be a floating-point torch.dtype such as torch.float32, "
            f"got {dtype!r}."
        )
    require_computable(dtype, "dtype= is", fn, "Pass dtype=torch.float32 (or float16, bfloat16, float64).")
    return dtype


def as_floating(x: object, name: str, fn: str, dtype: object = None) -> torch.Tensor:
    """Check ``x`` and apply ``dtype=`` the way torch does: cast first, then compute.

    Without ``dtype=`` an integer, bool or complex tensor is refused rather than
    promoted, so that the caller decides which precision the result has.
    """
    x = require_tensor(x, name, fn)
    if dtype is not None:
        return x.to(require_float_dtype(dtype, fn))
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"lsm.{fn}: `{name}` has dtype {x.dtype}, but {fn} needs a real floating-point "
            f"tensor. Pass dtype=torch.float32 (or float64) to choose the precision, "
            f"or convert with {name}.float()."
        )
    require_computable(
        x.dtype, f"`{name}` has dtype", fn,
        f"Convert to float32 first, for example {name}.float(), or pass dtype=torch.float32.",
    )  # fmt: skip
    return x


def normalize_dim(dim: object, ndim: int, fn: str) -> int:
    """Return ``dim`` as a non-negative index, checking type and range like torch.

    torch.softmax takes an int, a numpy integer or an integer 0-dim tensor, and refuses a bool,
    a float and a tensor with dimensions (even one element), and so does lsm (logsumexp's
    dims, an int list in torch, take more: :func:`normalize_dims`). A 0-dim tensor counts as
    having one dimension, so dims -1 and 0 are valid for it.
    """
    try:
        if isinstance(dim, bool) or (isinstance(dim, torch.Tensor) and dim.dim() != 0):
            raise TypeError
        dim = operator.index(dim)  # int, numpy integer, integer 0-dim tensor
    except TypeError:
        raise TypeError(
            f"lsm.{fn}: dim must be an int, got {dim!r}. lsm has no implicit dim: "
            f"name the axis to normalise, for example dim=-1 for the last one."
        ) from None
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(
            f"lsm.{fn}: dim={dim} is out of range for a tensor with {ndim} dimension"
            f"{'' if ndim == 1 else 's'}; valid dims are {-rank}..{rank - 1}."
        )
    return dim % rank


def _int_list_element(dim: object) -> object:
    """A one-element integer tensor as the 0-dim tensor of its element; anything else as is.

    torch's parser of int lists (``torch.logsumexp``'s ``dim``) reads such a tensor, of any
    shape, as its element, whether it is the whole ``dim`` or one entry of it: it takes
    ``torch.tensor([1])`` where ``torch.softmax`` refuses it. A bool tensor, which torch also
    reads that way, is refused here as a bool is."""
    if isinstance(dim, torch.Tensor) and dim.numel() == 1 and not (dim.is_floating_point() or dim.is_complex()):
        return dim.reshape(()) if dim.dtype != torch.bool else dim
    return dim


def normalize_dims(dims: object, ndim: int, fn: str) -> tuple[int, ...]:
    """Return a dim or a tuple or list of dims, as torch's int-list arguments take them
    (:func:`_int_list_element`), as sorted non-negative indices, each checked by
    :func:`normalize_dim`; empty and repeated dims are refused, as torch refuses them."""
    dims = _int_list_element(dims)
    if not isinstance(dims, (tuple, list)):
        return (normalize_dim(dims, ndim, fn),)
    if len(dims) == 0:
        raise ValueError(f"lsm.{fn}: dim=() names no dimension; name at least one, for example dim=-1.")
    normalized = [normalize_dim(_int_list_element(d), ndim, fn) for d in dims]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"lsm.{fn}: dim={tuple(dims)!r} names a dimension more than once; name each once.")
    return tuple(sorted(normalized))


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a computation runs in: float32 for float16/bfloat16, as torch does."""
    return torch.float32 if dtype in HALF_DTYPES else dtype
