"""The public API's examples, run: each docstring's ``>>>`` lines give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["inkworm.worm", "inkworm.check", "inkworm.testing", "inkworm.fold"]


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_in_the_docstrings_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no example"
    assert result.failed == 0
