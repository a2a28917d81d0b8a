"""How department scoping counts a Clerk's incidents at 200,000 incidents.

    .venv/bin/python bench/scoping_bench.py                     # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_scoping \\
        .venv/bin/python bench/scoping_bench.py

Migrates a fresh database, loads the demo data, bulk-inserts N incidents (default
200,000; BENCH_INCIDENTS) spread over the demo systems, then times the COUNT a Clerk's
incident list runs, with the scoping condition as the product compiles it
(``system_id IN (SELECT id FROM information_system WHERE ...)``) and, for comparison,
as a correlated EXISTS (``Incident.system.has(...)``, how it was compiled before).
Prints p50/p95 in milliseconds over BENCH_RUNS runs.
"""
import datetime as dt
import os
import statistics
import sys
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.path.dirname(os.path.abspath(__file__))]

from sqlalchemy import func, insert, or_, select, text  # noqa: E402

INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", 200_000))
RUNS = int(os.environ.get("BENCH_RUNS", 20))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_scoping.db")


def timed(session, query):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        session.execute(query).scalar()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main():
    from conftest_free import fresh_database, make_app

    fresh_database(URL)
    app = make_app(URL)
    with app.app_context():
        from app.extensions import db
        from app.operations.models import Incident
        from app.organisation.models import Department, InformationSystem
        from app.security import Scope, read_clause

        systems = [s for (s,) in db.session.query(InformationSystem.id)]
        departments = [d for (d,) in db.session.query(Department.id)]
        now = dt.datetime(2026, 1, 1)
        rows = [{"title": f"故障{i}", "system_id": systems[i % len(systems)],
                 "severity": "p3", "description": "d", "status": "reported",
                 "reporting_department_id": departments[i % len(departments)],
                 "occurred_at": now, "created_on": now, "changed_on": now,
                 "version": 1, "round": 0}
                for i in range(INCIDENTS)]
        for start in range(0, len(rows), 20_000):
            db.session.execute(insert(Incident.__table__), rows[start:start + 20_000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
        fin = db.session.query(Department.id).filter_by(code="FIN").scalar()
        scope = Scope(department_id=fin)
        product = select(func.count(Incident.id)).where(read_clause(Incident, scope))
        exists_form = select(func.count(Incident.id)).where(or_(
            Incident.reporting_department_id == fin,
            Incident.system.has(InformationSystem.owning_department_id == fin)))
        assert db.session.execute(product).scalar() == \
            db.session.execute(exists_form).scalar()
        print(f"{db.engine.dialect.name}, {INCIDENTS:,} incidents, {RUNS} runs, "
              "a Clerk's scoped COUNT (ms)")
        for name, query in (("IN (subquery), as compiled now", product),
                            ("correlated EXISTS, as before", exists_form)):
            p50, p95 = timed(db.session, query)
            print(f"  {name:34} p50 {p50:7.1f}   p95 {p95:7.1f}")


if __name__ == "__main__":
    main()
