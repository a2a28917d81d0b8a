"""How long `flask history verify` takes, and how much memory it holds, with many
approvals (approvals are part of the evidence).

    .venv/bin/python bench/verify_bench.py                      # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_verify \\
        .venv/bin/python bench/verify_bench.py

Migrates a fresh database, writes BENCH_APPROVALS approvals (default 200,000)
through the ORM, 5,000 per transaction, so each gets its hash-chained history
entry as in production, then runs `flask history verify` in a fresh process and
prints its time and the growth of its peak memory.
"""
import datetime as dt
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]

APPROVALS = int(os.environ.get("BENCH_APPROVALS", 200_000))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_verify.db")


def fill():
    from conftest import build_app
    from conftest_free import fresh_database

    fresh_database(URL)
    app = build_app(URL)
    with app.app_context():
        from flask_migrate import upgrade

        from app.base import Approval
        from app.extensions import db

        upgrade()
        started = time.time()
        for batch in range(APPROVALS // 5000):
            for i in range(5000):
                db.session.add(Approval(
                    record_type="ProjectRequest", record_id=batch * 5000 + i,
                    transition="approve", label="Approve", from_state="dept_review",
                    to_state="it_review", at=dt.datetime(2026, 1, 1), comment="同意",
                    content_hash="a" * 64, approves=True))
            db.session.commit()
        print(f"wrote {APPROVALS} approvals in {time.time() - started:.1f} s", flush=True)


def verify():
    from conftest import build_app

    app = build_app(URL)
    with app.app_context():
        from app.extensions import db

        db.session.execute(db.text("SELECT 1"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.time()
    result = app.test_cli_runner().invoke(args=["history", "verify"])
    took = time.time() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(result.output.split(" Head")[0])
    print(f"verify: {took:.1f} s, peak memory {before // 1024} MB -> {after // 1024} MB")


if __name__ == "__main__":
    if sys.argv[1:] == ["--verify-only"]:
        verify()
    else:
        fill()
        subprocess.run([sys.executable, __file__, "--verify-only"], check=True)
