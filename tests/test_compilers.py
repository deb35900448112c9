"""Every public function under torch.compile, torch.export, torch.jit.trace, meta and fake tensors.

Each case is a public lsm function and its torch counterpart on the same float64 inputs
(seeded). A compiled or exported function must give torch's result; on meta and fake
tensors (shape inference, no data) it must give torch's shape and dtype. The losses' one
check of values (class indices in range) becomes ``torch._assert_async`` while compiling,
exporting or tracing, and still stops a bad target.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode

import lsm

pytestmark = [
    # A trace is specialised to its inputs' shapes; torch's tracer says so at each branch on a
    # shape (lsm's empty-input cases) and warns that torch.jit.trace itself is deprecated.
    pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:DeprecationWarning"),
]

G = torch.Generator().manual_seed(20)
X = 3 * torch.randn(4, 5, dtype=torch.float64, generator=G)
T = torch.tensor([0, 4, -100, 2])
Q = torch.softmax(torch.randn(4, 5, dtype=torch.float64, generator=G), 1)
W = torch.rand(5, dtype=torch.float64, generator=G)

# name: (lsm, torch, inputs)
CASES = {
    "softmax": (lambda x: lsm.softmax(x, 1), lambda x: torch.softmax(x, 1), (X,)),
    "log_softmax": (lambda x: lsm.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1), (X,)),
    "logsumexp": (lambda x: lsm.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), (X,)),
    "logsumexp_dims": (lambda x: lsm.logsumexp(x, (0, 1)), lambda x: torch.logsumexp(x, (0, 1)), (X,)),
    "log_sigmoid": (lsm.log_sigmoid, F.logsigmoid, (X,)),
    "nll_loss": (
        lambda x, t, w: lsm.nll_loss(x, t, weight=w),
        lambda x, t, w: F.nll_loss(x, t, weight=w),
        (torch.log_softmax(X, 1), T, W),
    ),
    "cross_entropy": (
        lambda x, t: lsm.cross_entropy(x, t, reduction="none"),
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        (X, T),
    ),
    "cross_entropy_smoothed": (
        lambda x, t, w: lsm.cross_entropy(x, t, weight=w, label_smoothing=0.1),
        lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
        (X, T, W),
    ),
    "cross_entropy_probabilities": (
        lambda x, q: lsm.cross_entropy(x, q, label_smoothing=0.2),
        lambda x, q: F.cross_entropy(x, q, label_smoothing=0.2),
        (X, Q),
    ),
    "softmax_jacobian": (lsm.softmax_jacobian, torch.func.vmap(torch.func.jacrev(lambda r: torch.softmax(r, 0))), (X,)),
    "log_softmax_jacobian": (
        lsm.log_softmax_jacobian,
        torch.func.vmap(torch.func.jacrev(lambda r: torch.log_softmax(r, 0))),
        (X,),
    ),
}


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", CASES)
def test_torch_compile_fullgraph_gives_torchs_values_and_gradients(name):
    ours, theirs, inputs = CASES[name]
    x = inputs[0].clone().requires_grad_()
    torch._dynamo.reset()
    compiled = torch.compile(ours, fullgraph=True, backend="aot_eager")  # a graph break fails
    y = compiled(x, *inputs[1:])
    expected = theirs(x, *inputs[1:])
    close(y, expected)
    close(torch.autograd.grad(y.sum(), x)[0], torch.autograd.grad(expected.sum(), x)[0])


class _Module(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *inputs):
        return self.fn(*inputs)


@pytest.mark.parametrize("name", CASES)
def test_torch_export_gives_torchs_values(name):
    ours, theirs, inputs = CASES[name]
    exported = torch.export.export(_Module(ours), inputs)
    close(exported.module()(*inputs), theirs(*inputs))


@pytest.mark.parametrize("name", CASES)
def test_torch_jit_trace_gives_torchs_values(name):
    ours, theirs, inputs = CASES[name]
    traced = torch.jit.trace(ours, inputs)
    close(traced(*inputs), theirs(*inputs))


@pytest.mark.parametrize("name", CASES)
def test_meta_tensors_infer_torchs_shape_and_dtype(name):
    ours, theirs, inputs = CASES[name]
    meta = [t.to("meta") for t in inputs]
    got, expected = ours(*meta), theirs(*inputs)
    assert got.device.type == "meta" and (got.shape, got.dtype) == (expected.shape, expected.dtype)


@pytest.mark.parametrize("name", CASES)
def test_fake_tensors_infer_torchs_shape_and_dtype(name):
    ours, theirs, inputs = CASES[name]
    expected = theirs(*inputs)
    with FakeTensorMode() as mode:
        got = ours(*[mode.from_tensor(t) for t in inputs])
        assert (got.shape, got.dtype) == (expected.shape, expected.dtype)


@pytest.mark.parametrize("loss", [lsm.nll_loss, lsm.cross_entropy])
def test_a_class_out_of_range_is_still_stopped_when_compiled(loss):
    torch._dynamo.reset()
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")
    assert torch.isfinite(compiled(X, T))
    with pytest.raises(RuntimeError, match=r"target holds a class index out of range, but `\w+` has 5 classes"):
        compiled(X, torch.tensor([0, 5, 1, 2]))


@pytest.mark.parametrize("loss", [lsm.nll_loss, lsm.cross_entropy])
def test_a_class_out_of_range_is_still_stopped_when_exported(loss):
    exported = torch.export.export(_Module(loss), (X, T)).module()
    assert torch.isfinite(exported(X, T))
    with pytest.raises(RuntimeError, match=r"target holds a class index out of range, but `\w+` has 5 classes"):
        exported(X, torch.tensor([0, 5, 1, 2]))


@pytest.mark.parametrize("loss", [lsm.nll_loss, lsm.cross_entropy])
def test_a_traced_loss_given_a_class_out_of_range_fails_in_torchs_gather(loss):
    """torch.jit.trace drops lsm's check (an assert whose result nothing uses), so the message
    is torch's, not lsm's; what matters is that no value comes back. An ignored target still
    works in the traced graph."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(loss, (X, T))
    torch.testing.assert_close(traced(X, torch.tensor([0, -100, 1, 2])), loss(X, torch.tensor([0, -100, 1, 2])))
    with pytest.raises(RuntimeError, match="out of bounds"):
        traced(X, torch.tensor([0, 5, 1, 2]))


def test_the_losses_check_their_inputs_once_per_call(monkeypatch):
    """cross_entropy checks its target once, not again inside nll_loss."""
    import lsm.losses as losses

    calls = []
    original = losses._check_class_range
    monkeypatch.setattr(losses, "_check_class_range", lambda *a: calls.append(1) or original(*a))
    lsm.cross_entropy(X, T)
    lsm.cross_entropy(X, T, label_smoothing=0.1)
    lsm.nll_loss(X, T)
    assert calls == [1, 1, 1]


@pytest.mark.parametrize("loss", [lsm.nll_loss, lsm.cross_entropy])
def test_a_real_target_inside_fake_tensor_mode_is_not_read(loss):
    """A real target next to fake logits (allow_non_fake_inputs) gives a fake mask: the check
    of values is skipped instead of asking a fake tensor for its data."""
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        got = loss(mode.from_tensor(X), T)
    assert got.shape == () and got.dtype == torch.float64
