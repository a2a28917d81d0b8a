"""How long `flask seed --demo` takes now that the demo walks the workflows (it runs in
`make run` and at the start of every test session).

    .venv/bin/python bench/seed_bench.py                        # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_seed \\
        .venv/bin/python bench/seed_bench.py

BENCH_RUNS times (default 3): migrate a fresh database, then time `flask seed --demo`
on it twice (the first run creates and walks every demo record, the second finds them
all and changes nothing). Prints each run's seconds and the approvals and change
history entries the first run wrote.
"""
import logging
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]

RUNS = int(os.environ.get("BENCH_RUNS", 3))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_seed.db")


def once():
    from sqlalchemy import func, select

    from conftest import build_app
    from conftest_free import fresh_database

    fresh_database(URL)
    app = build_app(URL)
    with app.app_context():
        from flask_migrate import upgrade

        from app.base import Approval, ChangeEntry
        from app.extensions import db

        upgrade()
        runner = app.test_cli_runner()
        times = []
        for _ in range(2):
            start = time.perf_counter()
            result = runner.invoke(args=["seed", "--demo"])
            times.append(time.perf_counter() - start)
            assert result.exit_code == 0, result.output
        counts = [db.session.execute(select(func.count()).select_from(model)).scalar()
                  for model in (Approval, ChangeEntry)]
        db.session.remove()
        db.engine.dispose()
    return times, counts


def main():
    logging.disable(logging.INFO)  # Alembic's progress lines
    firsts, seconds = [], []
    for run in range(RUNS):
        (first, second), (approvals, entries) = once()
        firsts.append(first)
        seconds.append(second)
        print(f"run {run + 1}: first seeding {first:.2f} s, second {second:.2f} s "
              f"({approvals} approvals, {entries} change entries)")
    print(f"median: first {statistics.median(firsts):.2f} s, "
          f"second {statistics.median(seconds):.2f} s")


if __name__ == "__main__":
    main()
