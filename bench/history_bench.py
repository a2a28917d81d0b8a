"""How fast the change history browses at 2,000,000 entries (issue: evidence).

    .venv/bin/python bench/history_bench.py                     # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_history \\
        .venv/bin/python bench/history_bench.py

Fills the change_entry table with N synthetic entries (default 2,000,000; set
BENCH_ENTRIES), then times the pages an auditor opens, in-process through the
WSGI app (server time, no network): the change log's first and a deep page,
filters by user, record, request id and date range, one record's History tab,
and a version page. Prints p50/p95 in milliseconds over BENCH_RUNS runs.
BENCH_REUSE=1 measures an already filled database again (after VACUUM ANALYZE).
"""
import datetime as dt
import json
import os
import re
import statistics
import sys
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

from sqlalchemy import text  # noqa: E402

ENTRIES = int(os.environ.get("BENCH_ENTRIES", 2_000_000))
RUNS = int(os.environ.get("BENCH_RUNS", 20))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_history.db")
USERS = ["clerk_fin", "head_fin", "it_staff", "auditor", "admin", None]
TYPES = ["ProjectRequest", "Contract", "Incident", "InformationSystem", "AuditFinding"]


def prepare():
    from conftest_free import fresh_database

    fresh_database(URL)


def fill(app):
    from app.extensions import db
    from app.history import entry_content, entry_hash
    from app.models import ChainHead, ChangeEntry

    table = ChangeEntry.__table__
    with app.app_context():
        head = db.session.get(ChainHead, 1)
        seq, prev = head.seq, head.hash
        start = dt.datetime(2024, 1, 1)
        batch = []
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            for i in range(ENTRIES):
                seq += 1
                row = {
                    "seq": seq, "occurred_at": start + dt.timedelta(seconds=30 * i),
                    "user_id": None, "username": USERS[i % len(USERS)],
                    "acting_for_id": None, "acting_for": None,
                    "request_id": f"bench{i // 3:012d}", "record_type": TYPES[i % len(TYPES)],
                    "record_id": str(i // 50 % 20000 + 1), "action": "update",
                    "changes": json.dumps({"status": ["draft", "it_review"]}),
                    "prev_hash": prev,
                }
                row["hash"] = prev = entry_hash(prev, entry_content(row))
                batch.append(row)
                if len(batch) == 20000:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
            conn.execute(text("UPDATE change_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                         {"s": seq, "h": prev})
        print(f"filled {ENTRIES} entries in {time.perf_counter() - t0:.1f} s")
    vacuum(app)


def vacuum(app):
    from conftest_free import analyze

    analyze(app, "change_entry")


def login(client):
    from conftest_free import login as sign_in

    sign_in(client, "auditor")


def measure(client, path):
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main():
    from conftest_free import make_app

    if os.environ.get("BENCH_REUSE"):  # measure an already filled database again
        from app import create_app

        cfg = type("BenchConfig", (__import__("config").TestConfig,),
                   {"SQLALCHEMY_DATABASE_URI": URL})
        app = create_app(cfg)
        vacuum(app)
    else:
        prepare()
        app = make_app(URL)
        fill(app)
    client = app.test_client()
    login(client)
    with app.app_context():
        from app.extensions import db
        from app.models import ProjectRequest

        from app.models import ChangeEntry

        project = db.session.query(ProjectRequest.id).order_by(ProjectRequest.id).first()[0]
        version = (db.session.query(ChangeEntry.seq)
                   .filter_by(record_type="Incident", record_id="77")
                   .order_by(ChangeEntry.seq.desc()).first()[0])
    pages = {
        "change log, first page": "/changelog/list/",
        "change log, page 5,000": "/changelog/list/?page_ChangeLogView=5000",
        # text filters of the change log match exactly (_flt_0_ = equal to)
        "filter: user": "/changelog/list/?_flt_0_username=clerk_fin",
        "filter: record": "/changelog/list/?_flt_0_record_type=Incident"
                          "&_flt_0_record_id=77",
        "filter: request id": "/changelog/list/?_flt_0_request_id=bench000000012345",
        "filter: date range": "/changelog/list/?_flt_1_occurred_at=2025-03-01+00:00:00"
                              "&_flt_2_occurred_at=2025-03-02+00:00:00",
        "record page with History tab": f"/projectrequestview/show/{project}",
        "version page": f"/changelog/version/Incident/77/{version}",
    }
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}, "
          f"entries: {ENTRIES}, runs: {RUNS}")
    print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, path in pages.items():
        p50, p95 = measure(client, path)
        print(f"{name:<32} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
