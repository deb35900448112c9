"""The examples in the README and on the site's home page run and print what they say."""

from pathlib import Path

import doctest

import pytest
import torch

import lsm

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_examples(page):
    result = doctest.testfile(
        str(ROOT / page),
        module_relative=False,
        globs={"torch": torch, "lsm": lsm},
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted >= 2 and result.failed == 0
