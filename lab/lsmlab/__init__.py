"""lsmlab: the lab beside lsm, the tools of notebooks 8 and 9.

* :mod:`lsmlab.bench` times log_softmax implementations on the CPU and CUDA
  (``python -m lsmlab.bench --device cpu cuda --out results/NAME.json``);
* :mod:`lsmlab.accuracy` measures their errors: an mpmath and double-double reference,
  emulated float16/bfloat16 arithmetic, the algorithm variants, errors in ulps.

They are clients of :mod:`lsm`, installed beside it (``pip install -e lab``; ``make``
does it), so that ``lsm`` itself installs and imports with torch alone.
"""
