"""Hypothesis strategies: tensors of random shape, dtype and values, with a dim to reduce over."""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
SPECIAL = (math.inf, -math.inf, math.nan)

# Mostly moderate values, often large ones (up to +-1e4, where exp overflows in
# every format), sometimes inf and NaN.
moderate = st.floats(-20, 20)
large = st.floats(-1e4, 1e4)
special = st.sampled_from(SPECIAL)
element = st.one_of(moderate, moderate, moderate, large, large, special)
finite_element = st.one_of(moderate, moderate, large)


@st.composite
def tensors(draw, dtypes=DTYPES, elements=element, max_dims=4, max_side=6, min_side=0):
    """A tensor of 0..max_dims dims, each of size min_side..max_side."""
    shape = draw(st.lists(st.integers(min_side, max_side), max_size=max_dims))
    dtype = draw(st.sampled_from(dtypes))
    values = draw(st.lists(elements, min_size=math.prod(shape), max_size=math.prod(shape)))
    return torch.tensor(values, dtype=torch.float64).reshape(shape).to(dtype)


@st.composite
def tensors_and_dims(draw, **kwargs):
    """A tensor and a valid dim for it, negative dims included."""
    x = draw(tensors(**kwargs))
    rank = max(x.dim(), 1)
    return x, draw(st.integers(-rank, rank - 1))


def reduced_length(x: torch.Tensor, dim: int) -> int:
    """Number of terms in each sum over ``dim`` (1 for a 0-dim tensor)."""
    return 1 if x.dim() == 0 else x.shape[dim]
