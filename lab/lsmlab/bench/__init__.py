"""lsmlab.bench: how fast is log_softmax, and what bounds it, on the CPU and on CUDA.

Times torch's fused log_softmax and softmax, lsm's stable composite (as written and into
preallocated buffers), the naive composite, torch.compile of the composite, and a plain
copy of the same bytes (the bandwidth ceiling), over a grid of (rows, width) shapes,
dtypes, devices and CPU thread counts, with torch.utils.benchmark. Each output is
checked against torch.log_softmax before it is timed.

One idea per module:

- :mod:`.implementations`: what is timed, and its memory passes (the cost model)
- :mod:`.checks`: the correctness check against torch.log_softmax
- :mod:`.grid`: the shapes, dtypes and thread counts
- :mod:`.timing`: one measurement (Timer.adaptive_autorange) and GB/s
- :mod:`.harness`: the loop, and the results document
- :mod:`.analysis`: fraction of copy, allocation cost, CUDA speedup, crossover; loading
- :mod:`.environment`: versions, CPU, GPU, driver (no hostname)
- :mod:`.progress`, :mod:`.report`, :mod:`.cli`: the command line

Run ``python -m lsmlab.bench --help``. Importing :mod:`lsm` does not import this package.
"""

from .analysis import load, load_all
from .harness import SCHEMA, BenchConfig, run_benchmark
from .implementations import NAMES, registry
from .timing import TimingConfig

__all__ = ["SCHEMA", "BenchConfig", "TimingConfig", "run_benchmark", "registry", "NAMES", "load", "load_all"]
