"""待我处理 at PRODUCT.md §8 scale: the inbox page and its count, per account.

    .venv/bin/python bench/inbox_bench.py        # instance/bench_scale.db (make bench-data)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_scale \\
        .venv/bin/python bench/inbox_bench.py    # ... and that PostgreSQL database too
    BENCH_INBOX_URL=sqlite:////tmp/copy.db .venv/bin/python bench/inbox_bench.py  # only it

The databases hold the §8 volumes that bench/scale.py loads; the script migrates each to
head first (the inbox's indexes), so measure a copy when others share the data. Then, in-process through the WSGI app (server time, no
network), signed in as each account of BENCH_ACCOUNTS, BENCH_RUNS times each:

* ``page 1`` and ``last page``: GET /inbox/ and /inbox/?page=<last>, 50 rows a page;
* ``count, counted``: GET /inbox/count with the cached count dropped before each run
  (what the first page view after a step costs);
* ``count, cached``: GET /inbox/count again (what every other page view costs);
* ``before``: the inbox as it was computed before (200 candidates per record type, the
  engine in Python on each, then everything again for the count), for comparison.

Prints median and p95 in milliseconds, the SQL statements of one request, and the count.
"""
import math
import os
import statistics
import sys
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.path.dirname(os.path.abspath(__file__))]

from conftest_free import signed_in  # noqa: E402
from sqlalchemy import event  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQLITE = os.path.join(ROOT, "instance", "bench_scale.db")
if os.environ.get("BENCH_INBOX_URL"):
    URLS = [os.environ["BENCH_INBOX_URL"]]
else:
    URLS = [f"sqlite:///{SQLITE}"] + [url for url in [os.environ.get("BENCH_DATABASE_URL")]
                                      if url]
RUNS = int(os.environ.get("BENCH_RUNS", 20))
ACCOUNTS = os.environ.get("BENCH_ACCOUNTS",
                          "it_staff,it_staff2,head_fin,admin,clerk_fin,manager").split(",")


def make_app(url):
    import config
    from app import create_app

    cfg = type("BenchConfig", (config.TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(cfg)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


def timed(engine, call, before=None):
    if before is not None:
        before()
    call()  # warm: compiled statements and templates, as a running server has them
    times, statements = [], None
    for _ in range(RUNS):
        if before is not None:
            before()
        with Statements(engine) as seen:
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        statements = seen.count
    times.sort()
    return statistics.median(times), times[math.ceil(len(times) * 0.95) - 1], statements


def before_inbox(user, limit_per_type=200):
    """The inbox as computed before it moved into SQL (app/approvals.py at 850036b), for comparison:
    200 candidates per record type by state and role, the engine in Python on each."""
    from app.approvals import Duties, actor_for, available, duties_for_many, workflow_models
    from app.extensions import db
    from app.security import read_clause, scope_for

    actor = actor_for(user)
    roles = set()
    for who, _ in actor.identities():
        roles |= who.roles
    items = []
    scope = scope_for(user)
    for model in workflow_models():
        workflow = model.__workflow__
        states = {s for t in workflow.transitions if t.roles & roles for s in t.source}
        if not states:
            continue
        query = db.session.query(model).filter(
            getattr(model, workflow.state_field).in_(states))
        clause = read_clause(model, scope)
        if clause is not None:
            query = query.filter(clause)
        records = query.order_by(model.changed_on).limit(limit_per_type).all()
        duties = duties_for_many(model, records)
        for record in records:
            moves = available(workflow, record, actor, duties.get(record.id, Duties()))
            if moves:
                items.append((record, moves))
    items.sort(key=lambda item: item[0].changed_on)
    return items


def main():
    for url in URLS:
        if url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):]):
            print(f"inbox bench: no {url} (make bench-data loads the §8 volumes); skipped")
            continue
        measure(url)


def measure(url):
    app = make_app(url)
    size = app.config["INBOX_PAGE_SIZE"]
    with app.app_context():
        from app.extensions import db

        engine = db.engine
        dialect = engine.dialect.name
    print(f"{dialect}, {RUNS} runs, in-process server time (ms): median / p95, statements")
    print(f"{'account':11} {'what':16} {'p50':>8} {'p95':>8} {'stmts':>6}  count")
    for username in ACCOUNTS:
        client, user_id = signed_in(app, username)
        count = client.get("/inbox/count").get_json()["count"]
        last = max(1, -(-count // size))

        def forget():
            app.extensions.get("inbox_counts", {}).pop(user_id, None)

        def get(path):
            response = client.get(path)
            assert response.status_code == 200, (username, path, response.status_code)

        def old():
            with app.test_request_context():
                from app.base import AppUser

                user = db.session.get(AppUser, user_id)
                len(before_inbox(user))  # the page
                len(before_inbox(user))  # and the count, computed again
                db.session.remove()

        rows = [("page 1", lambda: get("/inbox/"), None),
                (f"page {last} (last)", lambda: get(f"/inbox/?page={last}"), None),
                ("count, counted", lambda: get("/inbox/count"), forget),
                ("count, cached", lambda: get("/inbox/count"), None),
                ("before: page+count", old, None)]
        for what, call, prepare in rows:
            p50, p95, statements = timed(engine, call, prepare)
            print(f"{username:11} {what:16} {p50:8.1f} {p95:8.1f} {statements:6}  {count}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
