"""到期提醒 at PRODUCT.md §8 scale: the groups of one person's reminders page (and mail).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_scale \\
        .venv/bin/python bench/reminders_bench.py
    BENCH_REMINDERS_URL=sqlite:////tmp/copy.db .venv/bin/python bench/reminders_bench.py

Reads only (a PostgreSQL database is opened read-only; nothing is migrated: the page needs
no table newer than the records'). For each account of BENCH_ACCOUNTS, BENCH_RUNS times:
``reminders_for(user)`` (every group's bounded count and first rows, the inbox's waiting
records), as the page and the mail compute it. Prints median and p95 in milliseconds, the
SQL statements of one run and the groups with their counts.
"""
import math
import os
import statistics
import sys
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

from sqlalchemy import event  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
URLS = ([os.environ["BENCH_REMINDERS_URL"]] if os.environ.get("BENCH_REMINDERS_URL")
        else [url for url in [os.environ.get("BENCH_DATABASE_URL")] if url]
        or [f"sqlite:///{os.path.join(ROOT, 'instance', 'bench_scale.db')}"])
RUNS = int(os.environ.get("BENCH_RUNS", 10))
ACCOUNTS = os.environ.get("BENCH_ACCOUNTS",
                          "clerk_fin,head_fin,it_staff,it_head,admin,manager,auditor").split(",")


def make_app(url):
    import config
    from app import create_app

    cfg = type("BenchConfig", (config.TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "FAB_UPDATE_PERMS": False, "FAB_CREATE_DB": False,
        "POSTGRESQL_SESSION_OPTIONS": "-c default_transaction_read_only=on -c jit=off"})
    return create_app(cfg)


def main():
    for url in URLS:
        app = make_app(url)
        with app.app_context():
            from app.base import AppUser
            from app.extensions import db
            from app.reminders import reminders_for

            print(f"== {url.rsplit('@', 1)[-1]}")
            print(f"{'account':<10} {'median ms':>10} {'p95 ms':>8} {'SQL':>5}  groups")
            for username in ACCOUNTS:
                user = db.session.query(AppUser).filter_by(username=username).one_or_none()
                if user is None:
                    continue
                times, statements, groups = [], 0, []
                for run in range(RUNS + 1):
                    with app.test_request_context():
                        seen = []
                        listener = lambda *args: seen.append(1)  # noqa: E731
                        event.listen(db.engine, "before_cursor_execute", listener)
                        start = time.perf_counter()
                        groups = reminders_for(user)
                        elapsed = (time.perf_counter() - start) * 1000
                        event.remove(db.engine, "before_cursor_execute", listener)
                        db.session.rollback()
                    if run:  # the first warms the statement cache, as a running server has
                        times.append(elapsed)
                        statements = len(seen)
                times.sort()
                p95 = times[math.ceil(len(times) * 0.95) - 1]
                shown = ", ".join(f"{g.key}={g.shown_count}" for g in groups)
                print(f"{username:<10} {statistics.median(times):>10.1f} {p95:>8.1f} "
                      f"{statements:>5}  {shown}")


if __name__ == "__main__":
    main()
