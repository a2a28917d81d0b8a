"""The page benchmark (bench/pages_bench.py) runs on the demo data: a row for every list of
every role, nothing answering an error, stock FAB measured beside ours. Not a timed test:
no row's time is asserted."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench"))

import pages_bench  # noqa: E402


@pytest.fixture(scope="module")
def bench_rows(app, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "pages.json"
    status = pages_bench.main(["--url", app.config["SQLALCHEMY_DATABASE_URI"], "--quick",
                               "--runs", "1", "--json", str(path)])
    with open(path) as handle:
        return status, json.load(handle)


def test_pages_bench_measures_every_list_of_every_role_without_an_error(app, bench_rows):
    from app.chapters import record_views

    status, result = bench_rows
    rows = result["rows"]
    assert status == 0
    assert [r for r in rows if r["status"] != 200] == []
    for username, role in pages_bench.ROLES:
        listed = {r["view"] for r in rows if r["role"] == role and r["kind"] == "list"}
        with pages_bench.as_user(app, username):
            readable = {view.datamodel.obj.__name__ for view in record_views()
                        if app.appbuilder.sm.has_access("can_read", view.datamodel.obj.__name__)}
        assert readable and listed == readable, role
        kinds = {r["kind"] for r in rows if r["role"] == role}
        assert {"list", "record", "home", "inbox", "api"} <= kinds, role
    assert {r["role"] for r in rows if r["kind"] == "changelog"} == {"Admin", "Auditor"}
    every = [r for r in rows if r["kind"] != "stock"]
    assert all(r["statements"] > 0 and r["median_ms"] > 0 for r in every)


def test_pages_bench_sets_our_incident_list_beside_stock_fab(bench_rows):
    _status, result = bench_rows
    stock = [r for r in result["rows"] if r["kind"] == "stock"]
    pages = {r["page"] for r in stock}
    assert len(pages) >= 3  # default, a deep page, a sort
    for page in pages:
        sides = {r["side"]: r for r in stock if r["page"] == page}
        assert set(sides) == {"ours", "stock"}
        assert sides["ours"]["path"].startswith("/incidentview/list/")
        assert sides["stock"]["path"].startswith("/stockincidentview/list/")
        assert sides["ours"]["ratio"] == sides["stock"]["ratio"] > 0


def test_pages_bench_flags_what_breaks_a_budget():
    row = {"kind": "list", "role": "Clerk", "page": "p", "status": 200, "p95_ms": 151.0,
           "median_ms": 120.0, "statements": 11, "rss_mb": 100}
    fine = dict(row, page="q", p95_ms=20.0, statements=7)
    most = {"kind": "record", "role": "Clerk", "page": "most", "status": 200, "p95_ms": 10.0,
            "median_ms": 9.0, "statements": 30, "rss_mb": 100, "pair": "x", "related": 900}
    fewest = dict(most, page="fewest", statements=12, related=1)
    pages_bench.judge([row, fine, most, fewest])
    assert row["flags"] == ["p95 >= 150 ms", "> 10 statements"]
    assert fine["flags"] == []
    assert most["flags"] == ["statements grow with related rows (12 -> 30)"]
    assert fewest["flags"] == []
