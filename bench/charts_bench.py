"""Charts, dashboard and compliance scorecard at PRODUCT.md §8 volumes.

    .venv/bin/python bench/charts_bench.py                       # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_charts \\
        .venv/bin/python bench/charts_bench.py
    BENCH_REUSE=1 BENCH_DATABASE_URL=...  # an already loaded database (e.g. a copy of the
                                          # shared §8 data): migrated, not refilled

Unless BENCH_REUSE is set, migrates a fresh database, loads the demo data and bulk-inserts
500 departments, 2,000 systems, 20,000 project requests, 50,000 contracts (500 vendors),
200,000 incidents, 20,000 audit findings and 20,000 change requests (BENCH_SCALE scales
them all). Then, in-process through the WSGI app (server time, no network), as admin:

* each declared chart's JSON endpoint, against the same GROUP BY executed alone (the
  "raw" query, what the endpoint cannot beat) and, for the charts FAB can draw (a count
  by an enum column), against FAB's stock GroupByChartView of the same grouping,
  registered in this benchmark's app only;
* the Auditor/Management dashboard (before and after `flask compliance snapshot` has run
  today), the compliance scorecard, and the home page of each account of
  BENCH_HOME_ACCOUNTS (admin, clerk_fin, head_fin, it_staff, manager, auditor), with the
  inbox count recounted and cached;
* the peak Python memory (tracemalloc) of one request of ours and of the stock chart.

Prints p50/p95 in milliseconds and the ratios.
"""
import datetime as dt
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.path.dirname(os.path.abspath(__file__))]

from sqlalchemy import insert, text  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_charts.db")
RUNS = int(os.environ.get("BENCH_RUNS", 10))
STOCK_RUNS = int(os.environ.get("BENCH_STOCK_RUNS", 3))
SCALE = float(os.environ.get("BENCH_SCALE", 1))
N = {name: int(count * SCALE) for name, count in (
    ("departments", 500), ("systems", 2000), ("projects", 20_000), ("contracts", 50_000),
    ("vendors", 500), ("incidents", 200_000), ("findings", 20_000),
    ("changes", 20_000))}
BATCH = 20_000
HOME_ACCOUNTS = os.environ.get(
    "BENCH_HOME_ACCOUNTS", "admin,clerk_fin,head_fin,it_staff,manager,auditor").split(",")


def _bulk(db, table, rows):
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start:start + BATCH])


def fill(app):
    """§8 volumes, spread over departments, systems, states and three years."""
    from app.audit.models import Audit, AuditFinding
    from app.extensions import db
    from app.operations.models import ChangeRequest, Incident
    from app.organisation.models import Department, InformationSystem
    from app.planning.models import ProjectRequest
    from app.procurement.models import Contract, Vendor

    rnd = random.Random(10)
    t0 = time.perf_counter()
    with app.app_context():
        now = dt.datetime(2026, 11, 1)
        stamp = {"created_on": now, "changed_on": now}
        _bulk(db, Department.__table__, [
            {"code": f"B{i:04d}", "name": f"基准部门{i}", "kind": "business", **stamp}
            for i in range(N["departments"])])
        departments = [d for (d,) in db.session.query(Department.id)]
        users = [u for (u,) in db.session.execute(text("SELECT id FROM ab_user"))]
        _bulk(db, InformationSystem.__table__, [
            {"code": f"BS{i:05d}", "name": f"基准系统{i}", "category": "business",
             "owning_department_id": departments[i % len(departments)],
             "it_custodian_id": users[i % len(users)],
             "business_owner_id": users[i % len(users)] if i % 10 else None,
             "lifecycle": "running", "protection_level": 2, **stamp}
            for i in range(N["systems"])])
        systems = [s for (s,) in db.session.query(InformationSystem.id)]
        _bulk(db, Vendor.__table__, [
            {"name": f"基准供应商{i}", "credit_code": f"92{i:016d}", **stamp}
            for i in range(N["vendors"])])
        vendors = [v for (v,) in db.session.query(Vendor.id)]
        stages = ["draft", "dept_review", "it_review", "expert_review", "feasibility",
                  "mgmt_review", "approved", "procurement", "implementation", "acceptance",
                  "closed", "returned", "rejected"]
        _bulk(db, ProjectRequest.__table__, [
            {"name": f"基准项目{i}", "applicant_department_id": departments[i % len(departments)],
             "background": "b", "goals": "g", "content": "c",
             "budget": rnd.randrange(10_000, 5_000_000), "implementation_plan": "p",
             "status": stages[i % len(stages)], "version": 1, "round": 0, **stamp}
            for i in range(N["projects"])])
        contract_states = ["draft", "review", "mgmt_review", "signed", "in_force", "accepted",
                           "closed"]
        _bulk(db, Contract.__table__, [
            {"number": f"BHT{i:06d}", "name": f"基准合同{i}",
             "department_id": departments[i % len(departments)],
             "vendor_id": vendors[rnd.randrange(len(vendors))],
             "system_id": systems[i % len(systems)], "amount": rnd.randrange(1_000, 2_000_000),
             "sign_date": dt.date(2024, 1, 1) + dt.timedelta(days=i % 1050),
             "status": contract_states[i % len(contract_states)], "version": 1, "round": 0,
             **stamp} for i in range(N["contracts"])])
        rows = []
        start = dt.datetime(2024, 1, 1)
        for i in range(N["incidents"]):
            occurred = start + dt.timedelta(minutes=7 * i % (1050 * 24 * 60))
            resolved = occurred + dt.timedelta(hours=rnd.randrange(1, 200)) if i % 4 else None
            rows.append({
                "title": f"故障{i}", "system_id": systems[i % len(systems)],
                "severity": ("p1", "p2", "p3", "p4")[i % 4], "description": "d",
                "status": "closed" if resolved else "reported",
                "reporting_department_id": departments[i % len(departments)],
                "occurred_at": occurred, "resolved_at": resolved, "closed_at": resolved,
                "root_cause": "r" if resolved else None, "version": 1, "round": 0, **stamp})
        _bulk(db, Incident.__table__, rows)
        _bulk(db, Audit.__table__, [
            {"title": f"基准审计{i}", "kind": "compliance", "department_id": d, "scope": "s",
             "period_start": dt.date(2025, 1, 1), "period_end": dt.date(2025, 12, 31),
             **stamp} for i, d in enumerate(departments[::2])])
        audits = [a for (a,) in db.session.query(Audit.id)]
        _bulk(db, AuditFinding.__table__, [
            {"audit_id": audits[i % len(audits)], "title": f"基准发现{i}", "description": "d",
             "severity": ("high", "medium", "low")[i % 3],
             "responsible_department_id": departments[i % len(departments)],
             "system_id": systems[i % len(systems)],
             "due_date": dt.date(2025, 6, 1) + dt.timedelta(days=i % 700),
             "status": ("open", "rectification_submitted", "verified", "closed")[i % 4],
             "version": 1, "round": 0, **stamp} for i in range(N["findings"])])
        owners = dict(db.session.query(InformationSystem.id,
                                       InformationSystem.owning_department_id))
        _bulk(db, ChangeRequest.__table__, [
            {"change_number": f"BCR{i:06d}", "title": f"基准变更{i}",
             "system_id": systems[i % len(systems)],
             "department_id": owners[systems[i % len(systems)]],
             "kind": ("configuration", "data", "upgrade", "maintenance")[i % 4],
             "change_plan": "p", "rollback_plan": "r",
             "status": ("requested", "approved", "implemented", "verified", "returned",
                        "rejected")[i % 6], "version": 1, "round": 0, **stamp}
            for i in range(N["changes"])])
        db.session.commit()
    print(f"loaded in {time.perf_counter() - t0:.0f} s: "
          + ", ".join(f"{v:,} {k}" for k, v in N.items()))


def add_stock_charts(app):
    """FAB's stock GroupByChartView for the groupings it can draw (counts by an enum):
    registered in this benchmark's app only, never in the product."""
    from flask_appbuilder.charts.views import GroupByChartView
    from flask_appbuilder.models.group import aggregate_count
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.audit.models import AuditFinding
    from app.operations.models import ChangeRequest, Incident
    from app.planning.models import ProjectRequest

    stock = {}
    for chart, model, column in (("incidents_by_month", Incident, "severity"),
                                 ("projects_by_stage", ProjectRequest, "status"),
                                 ("findings_by_status", AuditFinding, "status"),
                                 ("change_requests_by_outcome", ChangeRequest, "status")):
        view = type(f"Stock{model.__name__}Chart", (GroupByChartView,), {
            "datamodel": SQLAInterface(model), "chart_title": column,
            "definitions": [{"group": column, "series": [(aggregate_count, column)]}]})
        with app.app_context():
            app.appbuilder.add_view_no_menu(view)
        stock[chart] = f"/{view.__name__.lower()}/chart/"
    return stock


def timed(call, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def get(client, path):
    def call():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    return call


def peak_kb(call):
    tracemalloc.start()
    call()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main():
    from app import create_app
    from conftest_free import analyze, fresh_database, login, make_app

    import config

    if os.environ.get("BENCH_REUSE"):
        from flask_migrate import upgrade

        app = create_app(type("BenchConfig", (config.TestConfig,),
                              {"SQLALCHEMY_DATABASE_URI": URL}))
        with app.app_context():
            upgrade()
    else:
        fresh_database(URL)
        app = make_app(URL)
        fill(app)
    analyze(app)
    stock = add_stock_charts(app)
    # As create_app does in production (FREEZE_STARTUP_OBJECTS; tests' config does not):
    # a full garbage collection walks only what requests made.
    gc.collect()
    gc.freeze()
    admin = login(app.test_client(), "admin")
    auditor = login(app.test_client(), "auditor")
    head = login(app.test_client(), "head_fin")

    from app.charts import CHARTS, ChartFilters, chart_data, chart_query
    from app.extensions import db
    from app.security import EVERYTHING

    with app.app_context():
        counts = {table: db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
                  for table in ("incident", "project_request", "contract",
                                "information_system", "audit_finding", "change_request")}
        backend = db.engine.url.get_backend_name()
    print(f"{backend}: " + ", ".join(
        f"{n:,} {t}" for t, n in counts.items()))
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average "
          f"{os.getloadavg()[0]:.1f}")
    # ours: the JSON endpoint through the WSGI app; data: chart_data() alone (the query,
    # labels, drill-down links), so ours - data is the request itself (session, user,
    # permission check, JSON); raw: the chart's statement alone.
    print(f"{'chart':32} {'ours p50/p95':>15} {'data p50':>8} {'raw p50':>8} {'ours/raw':>8} "
          f"{'data/raw':>8} {'stock p50':>10} {'stock/ours':>10}")
    for name, chart in CHARTS.items():
        ours = timed(get(admin, f"/charts/{name}/data"), RUNS)
        with app.test_request_context():
            statement = chart_query(chart, EVERYTHING, ChartFilters())[0]

            def raw():
                db.session.execute(statement).all()
            raw_time = timed(raw, RUNS)
            admin_user = app.appbuilder.sm.find_user("admin")
            data_time = timed(lambda: chart_data(chart, admin_user), RUNS)
        line = (f"{name:32} {ours[0]:7.1f}/{ours[1]:7.1f} {data_time[0]:8.1f} "
                f"{raw_time[0]:8.1f} {ours[0] / raw_time[0]:8.2f} "
                f"{data_time[0] / raw_time[0]:8.2f}")
        if name in stock and STOCK_RUNS:
            stock_time = timed(get(admin, stock[name]), STOCK_RUNS)
            line += f" {stock_time[0]:10.1f} {stock_time[0] / ours[0]:10.0f}x"
        print(line)
    p50, p95 = timed(get(auditor, "/dashboard/"), RUNS)
    print(f"{'dashboard, no snapshot today':32} p50 {p50:7.1f}  p95 {p95:7.1f}")
    with app.app_context():
        from app.compliance import take_snapshot

        t0 = time.perf_counter()
        take_snapshot()
        print(f"{'flask compliance snapshot':32} {(time.perf_counter() - t0) * 1000:7.1f} ms")
    for label, client, path in (
            ("dashboard (today's snapshot)", auditor, "/dashboard/"),
            ("compliance scorecard (auditor)", auditor, "/compliance/")):
        p50, p95 = timed(get(client, path), RUNS)
        print(f"{label:32} p50 {p50:7.1f}  p95 {p95:7.1f}")
    # Home pages: "counted" drops the cached inbox count before each run (the first view
    # after anyone's step), "cached" keeps it (every other view within INBOX_COUNT_SECONDS).
    for username in HOME_ACCOUNTS:
        client = head if username == "head_fin" else auditor if username == "auditor" \
            else login(app.test_client(), username)
        home = get(client, "/")

        def counted():
            app.extensions.pop("inbox_counts", None)
            home()
        p50, p95 = timed(counted, RUNS)
        c50, c95 = timed(home, RUNS)
        print(f"{'home page (' + username + ')':32} p50 {p50:7.1f}  p95 {p95:7.1f}  "
              f"cached count: p50 {c50:7.1f}  p95 {c95:7.1f}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if STOCK_RUNS:  # BENCH_STOCK_RUNS=0: ours only (the stock chart takes minutes)
        ours_kb = peak_kb(get(admin, "/charts/incidents_by_month/data"))
        stock_kb = peak_kb(get(admin, stock["incidents_by_month"]))
        print(f"peak Python memory of one request: ours {ours_kb:,.0f} KiB, "
              f"stock {stock_kb:,.0f} KiB")


if __name__ == "__main__":
    main()
