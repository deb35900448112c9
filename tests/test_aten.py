"""lsmlab.aten: the ATen-operator recorder that notebooks 4, 6 and 11 and the benchmark use."""

import torch
import torch.nn.functional as F

from lsmlab.aten import Call, RecordOps, aten_calls


def test_records_each_operator_in_order_with_its_overload_and_output_size():
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))
    with RecordOps() as rec:
        torch.log(torch.softmax(x, dim=1))
        x.max(dim=1)
        x.sum(dim=0)
    assert rec.ops == ["_softmax", "log", "max", "sum"]
    assert rec.calls == [
        Call("_softmax", "default", 15),
        Call("log", "default", 15),
        Call("max", "dim", 6),  # values and indices, 3 each
        Call("sum", "dim_IntList", 5),
    ]
    assert [c.qualified for c in rec.calls] == ["_softmax", "log", "max.dim", "sum.dim_IntList"]


def test_sees_the_operators_inside_a_python_level_function():
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 2, 1, 0])
    assert [c.op for c in aten_calls(F.cross_entropy, x, y)] == ["_log_softmax", "nll_loss_forward"]
    assert aten_calls(lambda: None) == []
