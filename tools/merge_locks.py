"""Merge `pip freeze` outputs taken on two Pythons into one pinned requirements file.

    python tools/merge_locks.py FREEZE_PY311 FREEZE_PY310 > requirements.txt

A package pinned to the same version in both gets one plain line; otherwise each
version gets an environment marker (python_version >= "3.11" / < "3.11"). Used
to keep exact pins while supporting Python 3.10, where some packages (numpy,
ipython, networkx, ...) need older releases than on 3.11 and later.
"""

from __future__ import annotations

import re
import sys

NEW, OLD = 'python_version >= "3.11"', 'python_version < "3.11"'


def read_pins(path: str) -> dict[str, tuple[str, str]]:
    pins = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith(("#", "-e")) or " @ " in line:
            continue
        name, version = line.split("==")
        version = version.split("+")[0]  # torch==2.13.0+cpu -> 2.13.0
        pins[re.sub(r"[-_.]+", "-", name).lower()] = (name, version)
    return pins


def merge(new: dict, old: dict) -> list[str]:
    lines = []
    for key in sorted(new.keys() | old.keys()):
        if key in new and key in old and new[key][1] == old[key][1]:
            lines.append(f"{new[key][0]}=={new[key][1]}")
            continue
        if key in new:
            lines.append(f"{new[key][0]}=={new[key][1]}; {NEW}")
        if key in old:
            lines.append(f"{old[key][0]}=={old[key][1]}; {OLD}")
    return lines


if __name__ == "__main__":
    print("\n".join(merge(read_pins(sys.argv[1]), read_pins(sys.argv[2]))))
