"""A pytest plugin for mutation runs only (``-p tests.mutation_caches`` in ``[tool.mutmut]``).

mutmut forks each mutant's run from a process that already ran the tests, so a cache such
as ``world_period``'s would hand a mutant the original code's answers: every run starts
with the project's function caches empty."""

from __future__ import annotations

import sys

import pytest

PACKAGES = ("events", "projections", "tracker")


def pytest_sessionstart(session: pytest.Session) -> None:
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PACKAGES:
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()
