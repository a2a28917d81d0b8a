"""List pages and API lists at PRODUCT.md §8 scale, per role.

    .venv/bin/python bench/lists_bench.py                       # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_lists \\
        .venv/bin/python bench/lists_bench.py

Migrates a fresh database, loads the demo data, then bulk-inserts (Core INSERTs: no
stamps event, no change history, no workflow steps) 500 departments, 5,000 users,
2,000 systems, 20,000 project requests, 60,000 expert reviews, 50,000 contracts,
200,000 incidents, 50,000 change requests, 10,000 change orders, 10,000 data sharing
requests, 2,000 audits with 20,000 findings. Skewed like a company: a few systems have
most incidents (one of the finance department's systems about 10,000, another
system 24,000); texts of about 1 KB. BENCH_SCALE (default 1.0) shrinks every volume.

Then it times, in-process through the WSGI app (server time, no network), for admin and
a Clerk (``clerk_fin``): every list of the menu by default, on page 200, on its last
page, sorted by each sortable column (both directions), with page size 100; and the REST
API lists (default, page 200, each sortable column) and the home page. Prints the median
and p95 server time in ms, the median CPU time of the app process (SQLite runs inside it;
on a shared machine the wall clock also counts waiting for a CPU) and the SQL statements
of each request. BENCH_REUSE=1 measures an already loaded database again (after
``flask db upgrade``); BENCH_ONLY=IncidentView,incident limits the lists and
BENCH_ROLES=admin,clerk_fin the accounts.
"""
import datetime as dt
import os
import random
import re
import statistics
import sys
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.path.dirname(os.path.abspath(__file__))]

from sqlalchemy import event, func, select, text  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 7))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_lists.db")
SCALE = float(os.environ.get("BENCH_SCALE", 1.0))
ONLY = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
ROLES = os.environ.get("BENCH_ROLES", "admin,clerk_fin").split(",")
BATCH = 10_000
TEXT = ("系统运行中发现异常，影响业务处理，已记录现象、影响范围与初步判断。" * 12)[:330]


def n(count):
    return max(1, int(count * SCALE))


def _insert(conn, table, rows):
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), rows[start:start + BATCH])


def load(app):
    """The §8 volumes by bulk insertion (what it bypasses: see the module docstring)."""
    from app.audit.models import Audit, AuditFinding
    from app.base import AppUser
    from app.data.models import DataSharingRequest
    from app.extensions import db
    from app.operations.models import ChangeRequest, Incident
    from app.organisation.models import Department, InformationSystem
    from app.planning.models import ExpertReview, ProjectRequest
    from app.procurement.models import ChangeOrder, Contract, Vendor

    rnd = random.Random(9)
    t0 = time.perf_counter()
    base = dt.datetime(2021, 1, 1)

    def when():
        return base + dt.timedelta(minutes=rnd.randrange(5 * 365 * 24 * 60))

    with app.app_context():
        session = db.session
        fin = session.query(Department.id).filter_by(code="FIN").scalar()
        with db.engine.begin() as conn:
            _insert(conn, Department.__table__, [
                {"code": f"B{i:04d}", "name": f"业务部门{i:04d}", "kind": "business",
                 "created_on": base, "changed_on": base} for i in range(n(500))])
            departments = [d for (d,) in conn.execute(select(Department.id))]
            _insert(conn, AppUser.__table__, [
                {"first_name": f"员{i}", "last_name": "张", "username": f"bench{i:05d}",
                 "password": "x", "active": True, "email": f"bench{i:05d}@example.com",
                 "department_id": rnd.choice(departments), "security_stamp": f"{i:032d}",
                 "created_on": base, "changed_on": base} for i in range(n(5000))])
            users = [u for (u,) in conn.execute(select(AppUser.id))]
            _insert(conn, Vendor.__table__, [
                {"name": f"供应商{i:04d}", "credit_code": f"91{i:016d}", "rating": "b",
                 "created_on": base, "changed_on": base} for i in range(n(1000))])
            vendors = [v for (v,) in conn.execute(select(Vendor.id))]
            # The finance department owns a few systems, one of them busy.
            owners = [fin] * 4 + [rnd.choice(departments) for _ in range(n(2000) - 4)]
            _insert(conn, InformationSystem.__table__, [
                {"code": f"SYS{i:05d}", "name": f"系统{rnd.randrange(10**6):06d}",
                 "category": "business", "owning_department_id": owners[i],
                 "it_custodian_id": rnd.choice(users), "lifecycle": "running",
                 "protection_level": 1 + i % 5, "vendor_id": rnd.choice(vendors),
                 "description": TEXT, "created_on": when(), "changed_on": when()}
                for i in range(n(2000))])
            systems = [s for (s,) in conn.execute(
                select(InformationSystem.id).where(InformationSystem.code.like("SYS%"))
                .order_by(InformationSystem.id))]

            def stamps():
                created = when()
                return {"created_on": created, "changed_on": created + dt.timedelta(
                    hours=rnd.randrange(2000)), "created_by_fk": rnd.choice(users),
                    "changed_by_fk": rnd.choice(users), "version": 1, "round": 0}

            def department():
                return fin if rnd.random() < 1 / 500 else rnd.choice(departments)

            statuses = ["draft", "dept_review", "it_review", "expert_review", "feasibility",
                        "mgmt_review", "approved", "implementation", "closed"]
            _insert(conn, ProjectRequest.__table__, [
                {"name": f"项目{rnd.randrange(10**7):07d}", "applicant_department_id":
                 department(), "background": TEXT, "goals": TEXT[:100], "content": TEXT,
                 "budget": rnd.randrange(10**7), "implementation_plan": TEXT[:100],
                 "status": rnd.choice(statuses), **stamps()} for _ in range(n(20000))])
            projects = list(conn.execute(select(
                ProjectRequest.id, ProjectRequest.applicant_department_id)
                .where(ProjectRequest.background == TEXT)))
            experts = users[-200:]
            _insert(conn, ExpertReview.__table__, [
                {"project_id": pid, "department_id": dep,
                 "expert_id": experts[(pid + k) % len(experts)],
                 "no_conflict": True, "score": rnd.randrange(101), "opinion": TEXT[:200],
                 "status": "submitted", "project_round": 0, **stamps()}
                for pid, dep in projects for k in range(3)])
            _insert(conn, Contract.__table__, [
                {"number": f"HT{i:07d}", "name": f"合同{rnd.randrange(10**7):07d}",
                 "department_id": department(), "project_id": rnd.choice(projects)[0],
                 "vendor_id": rnd.choice(vendors), "system_id": rnd.choice(systems),
                 "amount": rnd.randrange(10**8) / 100, "scope": TEXT, "schedule": TEXT[:100],
                 "status": rnd.choice(["draft", "review", "signed", "in_force", "closed"]),
                 "end_date": (base + dt.timedelta(days=rnd.randrange(3000))).date(),
                 **stamps()} for i in range(n(50000))])
            contracts = list(conn.execute(select(Contract.id, Contract.department_id)))
            # A few systems have most incidents: one of finance's about 10,000, another
            # system 24,000, the next ones fewer and fewer; the rest spread thinly.
            hot = [(systems[0], 0.05), (systems[10 % len(systems)], 0.12)] + [
                (systems[(20 + k) % len(systems)], 0.3 / (k + 2)) for k in range(20)]
            rows = []
            for _ in range(n(200000)):
                pick = rnd.random()
                system = rnd.choice(systems)
                for candidate, weight in hot:
                    if pick < weight:
                        system = candidate
                        break
                    pick -= weight
                occurred = when()
                rows.append({
                    "title": f"故障{rnd.randrange(10**7):07d}", "system_id": system,
                    "severity": rnd.choice(["p1", "p2", "p3", "p3", "p4"]),
                    "description": TEXT, "reporting_department_id": department(),
                    "reporter_id": rnd.choice(users), "assignee_id": rnd.choice(users),
                    "occurred_at": occurred, "root_cause": TEXT[:200],
                    "status": rnd.choice(["reported", "in_progress", "resolved", "closed",
                                          "closed", "closed"]), **stamps()})
            _insert(conn, Incident.__table__, rows)
            system_owner = {system: owner for system, owner in conn.execute(
                select(InformationSystem.id, InformationSystem.owning_department_id))}
            rows = []
            for i in range(n(50000)):
                system = rnd.choice(systems)
                start = when()
                rows.append({"change_number": f"BG{i:07d}", "title": f"变更{i:07d}",
                             "system_id": system, "department_id": system_owner[system],
                             "kind": "configuration", "change_plan": TEXT,
                             "rollback_plan": TEXT[:100], "window_start": start,
                             "window_end": start + dt.timedelta(hours=2),
                             "status": rnd.choice(["requested", "approved", "verified"]),
                             **stamps()})
            _insert(conn, ChangeRequest.__table__, rows)
            _insert(conn, ChangeOrder.__table__, [
                {"change_number": f"CO{i:07d}", "title": f"合同变更{i:07d}",
                 "contract_id": contract, "department_id": dep, "reason": TEXT,
                 "change_content": TEXT, "cost_impact": rnd.randrange(10**6),
                 "status": rnd.choice(["requested", "approved", "verified"]), **stamps()}
                for i, (contract, dep) in enumerate(rnd.choice(contracts)
                                                     for _ in range(n(10000)))])
            rows = []
            for i in range(n(10000)):
                requesting = department()
                providing = rnd.choice([d for d in departments[:50] if d != requesting])
                rows.append({"title": f"共享{i:06d}", "requesting_department_id": requesting,
                             "providing_department_id": providing,
                             "system_id": rnd.choice(systems), "data_scope": TEXT,
                             "purpose": TEXT[:100],
                             "end_date": (base + dt.timedelta(days=rnd.randrange(3000))).date(),
                             "status": rnd.choice(["requested", "granted", "expired"]),
                             **stamps()})
            _insert(conn, DataSharingRequest.__table__, rows)
            audit_rows = [{"title": f"审计{i:05d}", "kind": "compliance",
                           "department_id": department(), "scope": TEXT,
                           "period_start": when().date(), "auditor_id": rnd.choice(users),
                           **{k: v for k, v in stamps().items()
                              if k not in ("version", "round")}} for i in range(n(2000))]
            _insert(conn, Audit.__table__, audit_rows)
            audits = [a for (a,) in conn.execute(select(Audit.id))]
            _insert(conn, AuditFinding.__table__, [
                {"audit_id": rnd.choice(audits), "title": f"发现{rnd.randrange(10**6):06d}",
                 "description": TEXT, "severity": rnd.choice(["high", "medium", "low"]),
                 "responsible_department_id": department(), "system_id": rnd.choice(systems),
                 "due_date": when().date(), "status": rnd.choice(["open", "closed"]),
                 **stamps()} for _ in range(n(20000))])
    print(f"loaded in {time.perf_counter() - t0:.0f} s")


def analyze(app):
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as c:
                c.execute(text("ANALYZE"))


def login(client, username):
    from config import TestConfig

    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login/", data={
        "username": username, "password": TestConfig.DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login of {username} failed"


def api_token(client, username):
    from config import TestConfig

    response = client.post("/api/v1/security/login", json={
        "username": username, "password": TestConfig.DEMO_PASSWORD, "provider": "db"})
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


class Timer:
    def __init__(self, engine):
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.statements += 1

    def measure(self, client, path, **kwargs):
        """Median and p95 of the server time (wall clock, in-process), the median CPU time
        of this process (on a machine shared with other work, the wall clock also counts
        the time spent waiting for a CPU) and the statements of the last run."""
        times, cpu = [], []
        for _ in range(RUNS):
            self.statements = 0
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, **kwargs)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(len(times) * 0.95)) - 1)]
        self.cpu = statistics.median(cpu)
        return statistics.median(times), p95, self.statements, response


def cases(view, count):
    name = view.__name__
    size = view.page_size
    last = max(0, (count - 1) // size)
    yield "default", ""
    yield "page 200", f"page_{name}=199"
    yield f"last page ({last + 1})", f"page_{name}={last}"
    for column in view.order_columns:
        for direction in ("asc", "desc"):
            yield f"sort {column} {direction}", f"_oc_{name}={column}&_od_{name}={direction}"
    yield "page size 100", f"psize_{name}=100"


def measure(app):
    from app.chapters import apis, record_views
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
    timer = Timer(engine)
    views = [view for view in record_views()
             if not ONLY or view.__name__ in ONLY]
    print(f"{dialect}: median / p95 server ms, median CPU ms of the app process, over {RUNS} "
          "runs; SQL statements per request")
    for username in ROLES:
        client = app.test_client()
        login(client, username)
        for view in views:
            base = f"/{view.__name__.lower()}/list/"
            client.get(base)  # warm up
            count = _count(client.get(base).get_data(as_text=True))
            for label, query in cases(view, count):
                p50, p95, statements, _ = timer.measure(client, f"{base}?{query}")
                print(f"{username:10} {view.__name__:24} {label:32} {p50:7.1f} {p95:7.1f} "
                      f"{timer.cpu:7.1f} {statements:3d}   ({count} rows)")
        headers = api_token(client, username)
        for api in apis():
            if ONLY and api.resource_name not in ONLY:
                continue
            path = f"/api/v1/{api.resource_name}/"
            client.get(path, headers=headers)
            variants = [("default", ""), ("page 200", "(page:199,page_size:20)")] + [
                (f"sort {c} asc", f"(order_column:{c},order_direction:asc)")
                for c in api.order_columns]
            for label, q in variants:
                p50, p95, statements, _ = timer.measure(
                    client, path, headers=headers, query_string={"q": q} if q else None)
                print(f"{username:10} api {api.resource_name:20} {label:32} {p50:7.1f} "
                      f"{p95:7.1f} {timer.cpu:7.1f} {statements:3d}")
        p50, p95, statements, _ = timer.measure(client, "/")
        print(f"{username:10} home page {'':47} {p50:7.1f} {p95:7.1f} {timer.cpu:7.1f} "
              f"{statements:3d}")


def _count(html):
    """The list's row count as the page states it (FAB's "Record Count: n")."""
    match = re.search(r"<strong>[^<]+</strong>\s*([\d,]+)", html)
    return int(match.group(1).replace(",", "")) if match else 0


def main():
    from conftest_free import fresh_database, make_app

    if os.environ.get("BENCH_REUSE"):
        app = make_app(URL)
    else:
        fresh_database(URL)
        app = make_app(URL)
        load(app)
    analyze(app)
    measure(app)


if __name__ == "__main__":
    main()
