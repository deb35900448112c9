"""Shared test settings: one deterministic hypothesis profile for every run.

``derandomize=True`` makes hypothesis draw the same examples on every machine and
every run (the seed is derived from the test's source), and ``database=None``
keeps it from replaying failures saved by an earlier run, so a CI result depends
on the code alone. LSM_HYPOTHESIS_EXAMPLES sets the example count: 100 by default,
so that the three property-test files take about 11 core-seconds of a local run
instead of 25 at 300, and 1000 in CI (.ci/run).
"""

import os

# torch.compile's Inductor compiles generated kernels in a pool of subprocesses, as many as
# there are cores. On the 2 cores `make test` is sized for, each pytest worker's pool competed
# with the other worker and took about 2 s to start and stop: the tests compile in-process.
# The notebooks' kernels inherit this environment.
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")


def _controller(config) -> bool:
    """The xdist process that only hands out tests to its workers and runs none."""
    return os.environ.get("PYTEST_XDIST_WORKER") is None and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config):
    # The controller runs no test, so it skips importing torch and hypothesis (about 3 s,
    # before it can start the workers).
    if _controller(config):
        return
    import torch
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "lsm",
        max_examples=int(os.environ.get("LSM_HYPOTHESIS_EXAMPLES", "100")),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("lsm")
    # Small tensors: one thread is faster and makes the reduction order fixed.
    torch.set_num_threads(1)


def pytest_collection_modifyitems(items):
    """Run the longest files first, so that the two workers of `make test` finish together.

    xdist hands out whole files (--dist loadfile), in this order (--no-loadscope-reorder;
    its default order is by test count, which put notebooks of 10 s last). The browser test
    takes about 50 s, each notebook 4-11 s (a kernel apiece), most unit-test files under 4 s.
    The sort is stable: the cells of a notebook keep their order.
    """

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return 0 if path == "tests/test_site.py" else 1 if path.startswith("notebooks/") else 2

    items.sort(key=rank)
