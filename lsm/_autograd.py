"""One way to apply lsm's autograd.Functions, in eager mode and under torch.compile.

Each Function defines a hand-derived ``jvp`` for forward-mode AD. Dynamo (torch.compile)
cannot trace an ``autograd.Function`` with a custom ``jvp`` (it stops with "Unsupported
custom jvp"), so :func:`without_jvp` makes a twin of each Function without it, and
:func:`apply` uses the twin while compiling. The twin keeps the forward and the
hand-derived backward; only forward-mode AD of compiled code is lost.
"""

from __future__ import annotations

import torch


def without_jvp(function: type[torch.autograd.Function]) -> type[torch.autograd.Function]:
    """The same Function with the default (absent) ``jvp``, for torch.compile to trace."""
    return type(
        f"{function.__name__}ForCompile",
        (function,),
        {"jvp": staticmethod(torch.autograd.Function.jvp), "__doc__": function.__doc__},
    )


def apply(function: type[torch.autograd.Function], for_compile: type[torch.autograd.Function], *args):
    """``function.apply(*args)`` in eager mode, ``for_compile.apply(*args)`` while compiling."""
    return (for_compile if torch.compiler.is_compiling() else function).apply(*args)
