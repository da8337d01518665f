"""A pytest plugin for mutation runs only (``-p tests.mutation_caches`` in ``[tool.mutmut]``).

A cache such as ``world_period``'s hides calls: mutmut would not see which tests reach the
function (it runs only those against its mutants), and a mutant's run, forked from a
process that already ran the tests, would be handed the original code's answers. So every
test starts with the project's function caches empty."""

from __future__ import annotations

import sys

import pytest

PACKAGES = ("events", "projections", "tracker")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PACKAGES:
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()
