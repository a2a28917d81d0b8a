"""How fast the change history browses at 2,000,000 entries.

    .venv/bin/python bench/history_bench.py                     # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_history \\
        .venv/bin/python bench/history_bench.py
    BENCH_REUSE=1 BENCH_DATABASE_URL=... .venv/bin/python bench/history_bench.py
    BENCH_EXPLAIN=1 ...                                          # and print every plan

Fills the change_entry table with N synthetic entries (default 2,000,000; set
BENCH_ENTRIES), then times the change log an auditor opens, in-process through the
WSGI app (server time, no network): every filter the screen offers (user, record type,
record, record id, request id, action, date range, entry numbers) alone and in the
combinations people use, sorted both ways, the first, a deep and the last page, page
size 100; then a record's page with its History tab and a version page; then the
record pages with the most related rows (the system with most incidents ...) as admin,
a Clerk of FIN, ITStaff and the auditor. Prints p50/p95 in milliseconds over
BENCH_RUNS runs and the SQL statements of each request.
BENCH_REUSE=1 measures an already filled database again (after VACUUM ANALYZE), e.g.
the §8 database of bench/scale.py. The filter values are read from the data: the
busiest user, a user of median activity, the busiest record type, the latest record
and request, the day and the month a tenth of the log back.
"""
import datetime as dt
import json
import os
import statistics
import sys
import time
from zoneinfo import ZoneInfo

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

from sqlalchemy import event, text  # noqa: E402

ENTRIES = int(os.environ.get("BENCH_ENTRIES", 2_000_000))
RUNS = int(os.environ.get("BENCH_RUNS", 20))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_history.db")
USERS = ["clerk_fin", "head_fin", "it_staff", "auditor", "admin", None]
TYPES = ["ProjectRequest", "Contract", "Incident", "InformationSystem", "AuditFinding"]


def prepare():
    from conftest_free import fresh_database

    fresh_database(URL)


def fill(app):
    from app.base import ChainHead, ChangeEntry
    from app.extensions import db
    from app.history import entry_content, entry_hash

    table = ChangeEntry.__table__
    with app.app_context():
        head = db.session.get(ChainHead, 1)
        seq, prev = head.seq, head.hash
        # After the demo's own entries, as a live log grows (times never go back).
        start = dt.datetime.utcnow().replace(microsecond=0) + dt.timedelta(minutes=1)
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


def login(client, username="auditor"):
    from conftest_free import login as sign_in

    sign_in(client, username)


class Statements:
    """The SQL statements of one request (counted, and kept for EXPLAIN)."""

    def __init__(self, engine):
        self.seen = []
        event.listen(engine, "before_cursor_execute", self.note)

    def note(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))


def measure(client, path, statements):
    times, counts = [], []
    for _ in range(RUNS):
        statements.seen.clear()
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        counts.append(len(statements.seen))
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], max(counts)


def explain(app, statements):
    """The plan of every statement of the last request that reads change_entry."""
    from app.extensions import db

    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as conn:
        for statement, parameters in statements.seen:
            if "change_entry" not in statement or not statement.lstrip().startswith("SELECT"):
                continue
            prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
            cursor = conn.connection.cursor()
            cursor.execute(prefix + statement, parameters)
            rows = cursor.fetchall()
            print("    " + " ".join(statement.split())[:160])
            for row in rows:
                print("      " + (row[0] if postgres else str(row[-1])))


def local(moment, zone):
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime(
        "%Y-%m-%d+%H:%M:%S")


def sample(app):
    """Filter values read from the data, as a person would pick them."""
    from app.extensions import db

    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    with app.app_context():
        conn = db.session
        head = conn.execute(text("SELECT seq FROM change_chain_head")).scalar()
        users = conn.execute(text(
            "SELECT username, count(*) FROM change_entry WHERE seq > :s AND username IS NOT "
            "NULL GROUP BY username ORDER BY 2 DESC"), {"s": head - 200_000}).all()
        types = conn.execute(text(
            "SELECT record_type, count(*) FROM change_entry WHERE seq > :s "
            "GROUP BY record_type ORDER BY 2 DESC"), {"s": head - 200_000}).all()
        latest = conn.execute(text(
            "SELECT record_type, record_id, request_id FROM change_entry "
            "WHERE record_type = :t ORDER BY seq DESC LIMIT 1"), {"t": types[0][0]}).one()
        tenth = conn.execute(text("SELECT occurred_at FROM change_entry WHERE seq = :s"),
                             {"s": max(1, head - head // 10)}).scalar()
        if isinstance(tenth, str):
            tenth = dt.datetime.fromisoformat(tenth)
        project = conn.execute(text("SELECT max(id) FROM project_request")).scalar()
        version = conn.execute(text(
            "SELECT seq FROM change_entry WHERE record_type = :t AND record_id = :i "
            "ORDER BY seq DESC LIMIT 1"), {"t": latest[0], "i": latest[1]}).scalar()
    day = tenth.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return {
        "head": head, "busy": users[0][0], "typical": users[len(users) // 2][0],
        "type": types[0][0], "rare_type": types[-1][0], "record": latest[:2],
        "request": latest[2], "project": project, "version": version,
        "day": (local(day, zone), local(day + dt.timedelta(days=1), zone)),
        "month": (local(month, zone), local(month + dt.timedelta(days=31), zone)),
        "year": (local(month - dt.timedelta(days=365), zone), local(month, zone)),
    }


def pages(s):
    log = "/changelog/list/?"
    user, busy, kind = f"_flt_0_username={s['typical']}", f"_flt_0_username={s['busy']}", \
        f"_flt_0_record_type={s['type']}"
    record = f"_flt_0_record_type={s['record'][0]}&_flt_0_record_id={s['record'][1]}"

    def between(span):
        return f"_flt_1_occurred_at={span[0]}&_flt_2_occurred_at={span[1]}"

    day, month, year = between(s["day"]), between(s["month"]), between(s["year"])
    return {
        "first page": log,
        "first page, oldest first": log + "_oc_ChangeLogView=seq&_od_ChangeLogView=asc",
        "sorted by time": log + "_oc_ChangeLogView=occurred_at&_od_ChangeLogView=desc",
        "page 5,000": log + "page_ChangeLogView=5000",
        "last page": log + f"page_ChangeLogView={(s['head'] - 1) // 20}",
        "page size 100": log + "psize_ChangeLogView=100",
        "user (typical)": log + user,
        "user (busiest)": log + busy,
        "user (busiest), page 200": log + busy + "&page_ChangeLogView=200",
        "user (busiest), oldest first": log + busy + "&_oc_ChangeLogView=seq"
                                                     "&_od_ChangeLogView=asc",
        "user, page size 100": log + busy + "&psize_ChangeLogView=100",
        "not this user": log + f"_flt_1_username={s['busy']}",
        "record type": log + kind,
        "record type (rarest)": log + f"_flt_0_record_type={s['rare_type']}",
        "record type, page 400": log + kind + "&page_ChangeLogView=400",
        "record (type + id)": log + record,
        "record id alone": log + f"_flt_0_record_id={s['record'][1]}",
        "request id": log + f"_flt_0_request_id={s['request']}",
        "action = delete": log + "_flt_0_action=delete",
        "action = insert": log + "_flt_0_action=insert",
        "entry numbers (range)": log + f"_flt_1_seq={s['head'] // 2}"
                                       f"&_flt_2_seq={s['head'] // 2 + 500}",
        "date: one day": log + day,
        "date: one day, page 50": log + day + "&page_ChangeLogView=50",
        "date: one month": log + month,
        "date: one year": log + year,
        "date: from a day on": log + f"_flt_1_occurred_at={s['day'][0]}",
        "date: until a day": log + f"_flt_2_occurred_at={s['day'][0]}",
        "user + type": log + busy + "&" + kind,
        "user + day": log + busy + "&" + day,
        "user + month": log + busy + "&" + month,
        "user (typical) + month": log + user + "&" + month,
        "type + day": log + kind + "&" + day,
        "type + month": log + kind + "&" + month,
        "user + type + month": log + busy + "&" + kind + "&" + month,
        "user (typical) + type + month": log + user + "&" + kind + "&" + month,
        "record + month": log + record + "&" + month,
        "user + action": log + busy + "&_flt_0_action=delete",
        "type + action": log + kind + "&_flt_0_action=delete",
        "action + month": log + "_flt_0_action=delete&" + month,
        "request id + user": log + f"_flt_0_request_id={s['request']}&" + busy,
        "record page with History tab": f"/projectrequestview/show/{s['project']}",
        "version page": f"/changelog/version/{s['record'][0]}/{s['record'][1]}/{s['version']}",
    }


# Record pages with the most related rows, as these people open them.
RECORD_PAGE_USERS = ("admin", "clerk_fin", "it_staff", "auditor")


def record_pages(app):
    """The records with the most related rows: the system with most incidents (and the
    FIN system with most, for FIN's clerk), the project, vendor and audit with most
    contracts or findings."""
    from app.extensions import db

    def most(sql):
        with app.app_context():
            return db.session.execute(text(sql)).first()

    pages = {}
    for name, sql, view in (
            ("system with most incidents",
             "SELECT system_id, count(*) FROM incident GROUP BY system_id ORDER BY 2 DESC",
             "informationsystemview"),
            ("FIN system with most incidents",
             "SELECT system_id, count(*) FROM incident JOIN information_system s ON "
             "s.id = system_id JOIN department d ON d.id = s.owning_department_id "
             "WHERE d.code = 'FIN' GROUP BY system_id ORDER BY 2 DESC", "informationsystemview"),
            ("project with most contracts",
             "SELECT project_id, count(*) FROM contract WHERE project_id IS NOT NULL "
             "GROUP BY project_id ORDER BY 2 DESC", "projectrequestview"),
            ("vendor with most contracts",
             "SELECT vendor_id, count(*) FROM contract GROUP BY vendor_id ORDER BY 2 DESC",
             "vendorview"),
            ("audit with most findings",
             "SELECT audit_id, count(*) FROM audit_finding GROUP BY audit_id ORDER BY 2 DESC",
             "auditview")):
        found = most(sql)
        if found is not None:
            pages[f"{name} ({found[1]:,})"] = f"/{view}/show/{found[0]}"
            if "incidents" in name:
                pages[f"{name}, tab page 50"] = \
                    f"/{view}/show/{found[0]}?page_IncidentView=49"
    return pages


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
    values = sample(app)
    with app.app_context():
        from app.extensions import db

        statements = Statements(db.engine)
        entries = db.session.execute(text("SELECT count(*) FROM change_entry")).scalar() \
            if os.environ.get("BENCH_COUNT") else values["head"]
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}, "
          f"entries: {entries}, runs: {RUNS}")
    print(f"values: {json.dumps({k: v for k, v in values.items()}, default=str)}")
    print(f"| {'page':<34} | {'p50 ms':>8} | {'p95 ms':>8} | statements |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 10}|------------|")
    for name, path in pages(values).items():
        p50, p95, count = measure(client, path, statements)
        print(f"| {name:<34} | {p50:8.1f} | {p95:8.1f} | {count:>10} |", flush=True)
        if os.environ.get("BENCH_EXPLAIN"):
            with app.app_context():
                explain(app, statements)
    records = record_pages(app)
    for username in RECORD_PAGE_USERS:
        client = app.test_client()
        login(client, username)
        for name, path in records.items():
            status = client.get(path).status_code
            if status != 200:  # outside the person's departments: 404, as it should be
                print(f"| {username}: {name:<50} | {status:>8} | {'':>8} | {'':>10} |")
                continue
            p50, p95, count = measure(client, path, statements)
            print(f"| {username}: {name:<50} | {p50:8.1f} | {p95:8.1f} | {count:>10} |",
                  flush=True)
            if os.environ.get("BENCH_EXPLAIN"):
                with app.app_context():
                    explain(app, statements)


if __name__ == "__main__":
    main()
