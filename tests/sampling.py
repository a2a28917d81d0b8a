"""Deterministic sampling of the large matrices (pytest plugin, loaded by pytest.ini).

A test module opts in with ``pytestmark = pytest.mark.matrix``. For each of its
parametrized test functions with more than ``SMALL`` cases, a normal run keeps:

- enough cases that every value of every parameter (each role, each record type, each
  transition, the allowed and the refused side) is exercised at least once, and
- about ``MATRIX_SHARE`` (default a quarter) of the other cases.

The choice hangs only on the test ids and ``MATRIX_SEED``, so every run (on SQLite and on
PostgreSQL, locally and in CI) runs the same cases, and a case that fails keeps failing.
``MATRIX_FULL=1`` (``make test-full``) runs every case; ``MATRIX_SEED=<other>`` draws
another sample of the same size.
"""
import hashlib
import os

import pytest

SMALL = 12


def _settings():
    full = os.environ.get("MATRIX_FULL") == "1"
    share = float(os.environ.get("MATRIX_SHARE", "0.25"))
    seed = os.environ.get("MATRIX_SEED", "matrix")
    return full, share, seed


def _rank(seed, nodeid):
    digest = hashlib.sha256(f"{seed}|{nodeid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _values(item):
    """(parameter, value id) pairs of a case: one per parameter of its callspec."""
    callspec = item.callspec
    names = list(callspec.params)
    parts = callspec.id.split("-")
    if len(parts) != len(names):  # an id with a dash in it: fall back to the value's repr
        return {(name, repr(value)) for name, value in callspec.params.items()}
    return set(zip(names, parts))


def choose(items, share, seed):
    """The cases of one test function to run: every parameter value once, plus a share."""
    ranked = sorted(items, key=lambda item: _rank(seed, item.nodeid))
    seen, kept = set(), []
    for item in ranked:
        values = _values(item)
        if not values <= seen or _rank(seed + "|share", item.nodeid) < share:
            kept.append(item)
            seen |= values
    return kept


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "matrix: a large parametrized matrix, sampled unless MATRIX_FULL=1")
    config._matrix_sampled = (0, 0)


def pytest_collection_modifyitems(config, items):
    full, share, seed = _settings()
    if full:
        return
    groups = {}
    for item in items:
        if item.get_closest_marker("matrix") and hasattr(item, "callspec"):
            key = (item.module.__name__, item.originalname)
            groups.setdefault(key, []).append(item)
    keep = set()
    for group in groups.values():
        chosen = group if len(group) <= SMALL else choose(group, share, seed)
        keep.update(id(item) for item in chosen)
    sampled = [item for group in groups.values() for item in group]
    dropped = [item for item in sampled if id(item) not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        dropped_ids = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in dropped_ids]
    config._matrix_sampled = (len(sampled) - len(dropped), len(sampled))


def pytest_terminal_summary(terminalreporter, config):
    kept, total = config._matrix_sampled
    if total and kept < total:
        terminalreporter.write_line(
            f"matrix sampling: ran {kept} of {total} matrix cases "
            f"(MATRIX_FULL=1 or `make test-full` runs them all)")
