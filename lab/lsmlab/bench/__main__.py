"""``python -m lsmlab.bench``: see :mod:`lsmlab.bench.cli`."""

from .cli import main

raise SystemExit(main())
