"""The matrices' sample (tests/sampling.py): every role, record type and outcome still runs,
the same cases every run, and a new seed draws another sample."""
import itertools
from types import SimpleNamespace

from sampling import choose

ROLES = ["Admin", "Clerk", "DeptHead", "ITStaff", "Expert", "Management", "Auditor"]
KINDS = [f"Kind{n}" for n in range(37)]


def cases():
    items = []
    for role, kind, allowed in itertools.product(ROLES, KINDS, [True, False]):
        callspec = SimpleNamespace(params={"role": role, "kind": kind, "allowed": allowed},
                                   id=f"{role}-{kind}-{allowed}")
        items.append(SimpleNamespace(nodeid=f"test_x.py::test_read[{callspec.id}]",
                                     callspec=callspec))
    return items


def test_the_sample_runs_every_value_of_every_parameter_and_fewer_cases():
    items = cases()
    kept = choose(items, 0.25, "matrix")
    for name in ("role", "kind", "allowed"):
        assert {item.callspec.params[name] for item in kept} == {
            item.callspec.params[name] for item in items}
    assert len(KINDS) <= len(kept) < len(items) / 2


def test_the_sample_is_the_same_every_run_and_changes_with_the_seed():
    first = [item.nodeid for item in choose(cases(), 0.25, "matrix")]
    assert first == [item.nodeid for item in choose(cases(), 0.25, "matrix")]
    assert first != [item.nodeid for item in choose(cases(), 0.25, "another")]


def test_a_share_of_one_keeps_every_case():
    assert len(choose(cases(), 1.0, "matrix")) == len(cases())
