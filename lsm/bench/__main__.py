"""``python -m lsm.bench``: see :mod:`lsm.bench.cli`."""

from .cli import main

raise SystemExit(main())
