"""Every page, per role, at PRODUCT.md §8 scale: server time, SQL statements, memory.

    .venv/bin/python bench/pages_bench.py            # instance/bench_scale.db (make bench-data)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_pages \\
        .venv/bin/python bench/pages_bench.py
    .venv/bin/python bench/pages_bench.py --quick --url sqlite:////tmp/demo.db
    .venv/bin/python bench/pages_bench.py --roles clerk_fin --sql '/incidentview/list/'
    .venv/bin/python bench/pages_bench.py --views OperationLog Vulnerability --roles it_staff
    .venv/bin/python bench/pages_bench.py --compare before.json after.json

Measures an already loaded database (bench/scale.py loads the §8 volumes; any migrated,
seeded database works, the demo one included) in-process through the WSGI app: Flask's
test client, each role logged in through the real login form (admin, clerk_fin = Clerk,
head_fin = DeptHead, it_staff = ITStaff, manager = Management, auditor = Auditor). Server
time is the wall time of the request in this process (no network). Only GETs: the
database is never written (logins update the user's last login, as they always do).

Per role, for every list in the menu (app/chapters.py) the role may read: the default
page, a deep page (page 200, or the last page when there are fewer), each sortable column
ascending and descending, each filter the list offers (one representative value, taken
from a record the role sees; ``--all-filters`` for every filter of every column), page
size 100; the page of one record of each list, and of the records with the most related
rows (the system with most incidents, the project with most contracts) beside one with
few (the statement count must not grow with related rows); the home page; the inbox and
its count; the change log with every filter (roles that may read it); the REST API lists
(JWT) by default, on a deep page and sorted by each column. In the same run, a plain stock
FAB ``ModelView`` over the incidents table (registered in this process only, never in the
product) is measured as admin beside ours for the default page, the deep page and each
sort: the ratio ours/stock is printed and any case where ours is slower is flagged.

For each case: median and p95 (nearest rank over ``--runs`` timed runs, after one untimed
warm-up) in ms, the SQL statements of one request (SQLAlchemy ``before_cursor_execute``),
the HTTP status, and the process's peak RSS so far (``resource.getrusage``). Rows that
break the budgets are marked: list, record and API pages p95 >= 150 ms, inbox and
its count >= 150 ms, home page >= 300 ms, change log >= 150 ms, more than 10 statements
on a list page, a record page whose statement count grows with its related rows; and the
run's peak RSS >= 300 MB (our pages' peak, measured before stock FAB's list). Prints the
marked rows (``--all-rows``: every row), the stock comparison, a table of every list by
role and a summary per page kind, and writes every row as JSON (``--json``, default
bench/results/pages-<database>.json). Exits 1 when any request answered an unexpected
status (a benchmark, not a gate: over-budget rows do not change the exit status).

Tools around it: ``--sql PATH`` prints every statement one page sends with its time;
``--report JSON`` prints a saved run again, ``--docs JSON...`` the tables of
docs/performance.md (one JSON per database), ``--compare BEFORE AFTER`` two runs side by
side; ``--quick-roles`` gives the named roles the reduced sample of ``--quick``.
"""
import argparse
import datetime as dt
import json
import logging
import math
import os
import re
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT]

PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo-Pass-2026")
ROLES = [("admin", "Admin"), ("clerk_fin", "Clerk"), ("head_fin", "DeptHead"),
         ("it_staff", "ITStaff"), ("manager", "Management"), ("auditor", "Auditor")]
# Where `make bench-data` (bench/scale.py) loads the SQLite copy of the §8 volumes.
DEFAULT_URL = f"sqlite:///{ROOT}/instance/bench_scale.db"
# p95 server-time budgets in ms (PRODUCT.md §8), by page kind.
BUDGET_MS = {"list": 150, "record": 150, "api": 150, "inbox": 150, "home": 300,
             "changelog": 150}
MAX_LIST_STATEMENTS = 10
MAX_RSS_MB = 300
DEEP_PAGE = 200
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def percentile(values, share):
    """Nearest-rank percentile (p95 of 5 runs is the slowest one)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ the app

def bench_app(url):
    """The product's app on ``url`` (no migration, no seeding) plus the stock FAB view."""
    import config
    from app import create_app

    cfg = type("PagesBenchConfig", (config.TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": url,
        # A failing page answers 500 as it would for a user, instead of raising here.
        "TESTING": False, "PROPAGATE_EXCEPTIONS": False,
        # The garbage collector as in a production worker (app/memory.py; the tests'
        # config turns it off because the suite builds many apps).
        "FREEZE_STARTUP_OBJECTS": config.Config.FREEZE_STARTUP_OBJECTS,
        "GC_FREEZE_AFTER_REQUESTS": config.Config.GC_FREEZE_AFTER_REQUESTS,
        "GC_FULL_BETWEEN_REQUESTS": config.Config.GC_FULL_BETWEEN_REQUESTS,
    })
    app = create_app(cfg)
    # FAB logs each login's missing "next" as an invalid redirect: noise here.
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    with app.app_context():
        app.appbuilder.add_view_no_menu(stock_incident_view())
    return app


def stock_incident_view():
    """FAB's stock list over the incidents table: SQLAInterface, no scoping, no eager
    loading of our own; the same columns, search form, sort keys, default order and page
    size as ours (with FAB's default search form, every column, it would load every user,
    system and department into its dropdowns on each request: seconds at §8 scale, a
    baseline too easy to beat)."""
    from flask_appbuilder import ModelView
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.operations.models import Incident
    from app.operations.views import IncidentView

    class StockIncidentView(ModelView):
        route_base = "/stockincidentview"
        datamodel = SQLAInterface(Incident)
        list_columns = list(IncidentView.list_columns)
        order_columns = list(IncidentView.order_columns)
        search_columns = list(IncidentView.search_columns)
        base_order = IncidentView.base_order
        page_size = IncidentView.page_size

    return StockIncidentView


class StatementCounter:
    """SQL statements sent by this process (every engine), counted per request; with
    ``keep``, each statement's text, parameters and time too (``--sql``)."""

    def __init__(self, keep=False):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.count, self.keep, self.statements = 0, keep, []
        event.listen(Engine, "before_cursor_execute", self._hit)
        event.listen(Engine, "after_cursor_execute", self._done)

    def _hit(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append([statement, parameters, time.perf_counter()])

    def _done(self, conn, cursor, statement, parameters, context, executemany):
        if self.keep and self.statements:
            last = self.statements[-1]
            last[2] = (time.perf_counter() - last[2]) * 1000

    def close(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", self._hit)
        event.remove(Engine, "after_cursor_execute", self._done)


def show_sql(url, username, path):
    """Every statement one page sends, with its time (``--sql PATH``): where to look."""
    app = bench_app(url)
    client = app.test_client()
    login(client, username)
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {api_token(app.test_client(), username)}"}
    else:
        headers = None
    client.get(path, headers=headers).close()  # warm
    counter = StatementCounter(keep=True)
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    total = (time.perf_counter() - start) * 1000
    counter.close()
    for number, (statement, parameters, ms) in enumerate(counter.statements, 1):
        print(f"-- {number}: {ms:.1f} ms  {parameters!r:.300}\n{statement}\n")
    print(f"{username} GET {path}: {response.status_code}, {total:.1f} ms, "
          f"{len(counter.statements)} statements, "
          f"{sum(s[2] for s in counter.statements):.1f} ms in the database")


@contextmanager
def as_user(app, username):
    """A request context in which ``username`` is the current user (for the product's own
    scoping rule when choosing the records and filter values a role sees)."""
    from flask import g
    from flask_login import login_user

    from app.base import AppUser
    from app.extensions import db

    with app.test_request_context("/"):
        g.user = db.session.query(AppUser).filter_by(username=username).one()
        login_user(g.user)
        try:
            yield g.user
        finally:
            db.session.rollback()


def login(client, username):
    html = client.get("/login/").get_data(as_text=True)
    token = CSRF_RE.search(html).group(1)
    response = client.post("/login/", data={"username": username, "password": PASSWORD,
                                            "csrf_token": token})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed ({response.status_code})")


def api_token(client, username):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": PASSWORD, "provider": "db"})
    if response.status_code != 200:
        raise SystemExit(f"API login of {username} failed ({response.status_code})")
    return response.get_json()["access_token"]


# ------------------------------------------------------------------ cases

class Case(dict):
    """kind, role, page (what it is), path; optional headers, expect, pair, stock."""


def _rison(params):
    parts = []
    for key, value in params.items():
        if isinstance(value, str):
            value = "'" + value.replace("!", "!!").replace("'", "!'") + "'"
        parts.append(f"{key}:{value}")
    return "(" + ",".join(parts) + ")"


def list_url(view, **params):
    name = type(view).__name__ if not isinstance(view, type) else view.__name__
    args = {}
    for key, value in params.items():
        if key in ("page", "psize", "_oc", "_od"):
            args[f"{key}_{name}"] = value
        else:
            args[key] = value
    query = urlencode(args)
    return f"/{view.route_base.strip('/')}/list/" + (f"?{query}" if query else "")


def _filter_index(view, column, class_names):
    """Index (``_flt_<n>_``) of the first filter of ``column`` named in ``class_names``."""
    filters = view._filters._all_filters.get(column, [])
    for wanted in class_names:
        for index, flt in enumerate(filters):
            if type(flt).__name__ == wanted or type(flt).__name__ == f"Escaped{wanted}":
                return index
    return None


def _company_time(value):
    """A stored (naive UTC) date-time as the screens take it: company time."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    return value.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def filter_cases(view, samples, all_filters):
    """[(label, {url args})]: one representative filter per searchable column (the kind a
    person uses: a related record, a state, a text's start, a range of a month or above a
    value), the deadline filters, or every filter with ``all_filters``."""
    from sqlalchemy import Date, DateTime

    datamodel = view.datamodel
    out = []
    for column in view._filters._search_filters:  # the search form's columns
        filters = view._filters._all_filters[column]
        value = next((getattr(s, column) for s in samples
                      if getattr(s, column, None) not in (None, "")), None)
        for index, flt in enumerate(filters):
            name = type(flt).__name__
            if name.startswith("Filter") and name[6:] in ("Overdue", "Ending", "Waiting"):
                out.append((f"filter {column}: {flt.name}", {f"_flt_{index}_{column}": "y"}))
        if value is None:
            continue
        if datamodel.is_relation(column):
            if isinstance(value, list):
                if not value:
                    continue
                value = value[0]
            value = value.id
        elif hasattr(value, "name") and datamodel.is_enum(column):
            value = value.name
        chosen = []
        column_type = getattr(datamodel.list_columns.get(column), "type", None)
        if all_filters:
            for index, flt in enumerate(filters):
                if type(flt).__name__[6:] in ("Overdue", "Ending", "Waiting"):
                    continue
                chosen.append((str(flt.name), {f"_flt_{index}_{column}": _as_arg(value, flt)}))
        elif isinstance(column_type, (Date, DateTime)):
            gt = _filter_index(view, column, ["FilterGreater"])
            lt = _filter_index(view, column, ["FilterSmaller"])
            if gt is None or lt is None:
                continue
            end = value if isinstance(value, dt.datetime) else \
                dt.datetime.combine(value, dt.time())
            start = end - dt.timedelta(days=30)
            fmt = _company_time if isinstance(column_type, DateTime) else \
                (lambda d: d.strftime("%Y-%m-%d"))
            chosen.append(("one month", {f"_flt_{gt}_{column}": fmt(start),
                                         f"_flt_{lt}_{column}": fmt(end)}))
        elif datamodel.is_string(column) or datamodel.is_text(column):
            index = _filter_index(view, column, ["FilterStartsWith", "FilterEqual"])
            if index is not None:
                text = str(value)
                cls = type(filters[index]).__name__
                chosen.append(("starts with" if "Starts" in cls else "equal",
                               {f"_flt_{index}_{column}": text[:2] if "Starts" in cls
                                else text}))
        elif datamodel.is_integer(column) or datamodel.is_numeric(column) or \
                datamodel.is_float(column):
            index = _filter_index(view, column, ["FilterGreater", "FilterEqual"])
            if index is not None:
                chosen.append(("greater than", {f"_flt_{index}_{column}": str(value)}))
        else:
            index = _filter_index(view, column, ["FilterRelationOneToManyEqual",
                                                 "FilterRelationManyToManyEqual",
                                                 "FilterEqual"])
            if index is not None:
                if datamodel.is_boolean(column):
                    value = "y" if value else "n"
                chosen.append(("equal", {f"_flt_{index}_{column}": str(value)}))
        out += [(f"filter {column}: {label}", args) for label, args in chosen]
    return out


def _as_arg(value, flt):
    if isinstance(value, bool):
        return "y" if value else "n"
    if isinstance(value, dt.datetime):
        return _company_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def list_cases(app, role, username, quick, all_filters, views=None):
    """The lists of the menu the role may read, with their record pages (only those of
    the record types named in ``views`` when given)."""
    from sqlalchemy import func

    from app.chapters import record_views
    from app.extensions import db

    cases = []
    with as_user(app, username):
        sm = app.appbuilder.sm
        for view_class in record_views():
            view = _instance(app, view_class)
            model = view.datamodel.obj
            if not sm.has_access("can_read", model.__name__) or (
                    views and model.__name__ not in views):
                continue
            label = model.__name__
            scoped = view.datamodel.apply_filters(db.session.query(model.id), None)
            count = scoped.order_by(None).with_entities(func.count(model.id)).scalar()
            pages = max(1, math.ceil(count / view.page_size))
            deep = min(DEEP_PAGE, pages - 1)
            base = dict(kind="list", role=role, view=label, rows=count)
            cases.append(Case(base, page=f"{label} list", path=list_url(view)))
            cases.append(Case(base, page=f"{label} list, page {deep + 1:,} of {pages:,}",
                              path=list_url(view, page=deep)))
            if not quick:
                cases.append(Case(base, page=f"{label} list, 100 a page",
                                  path=list_url(view, psize=100)))
            orders = list(view.order_columns or [])
            for column in orders[:1] if quick else orders:
                for direction in ("asc",) if quick else ("asc", "desc"):
                    cases.append(Case(base, page=f"{label} sorted by {column} {direction}",
                                      path=list_url(view, _oc=column, _od=direction)))
            # samples: records the role sees, from the middle of the table
            samples = (view.datamodel.apply_filters(db.session.query(model), None)
                       .order_by(model.id).offset(max(0, count // 2 - 5)).limit(10).all())
            filters = filter_cases(view, samples, all_filters)
            for name, args in filters[:1] if quick else filters:
                cases.append(Case(base, page=f"{label} {name}",
                                  path=list_url(view, **args)))
            if samples:
                cases.append(Case(base, kind="record", page=f"{label} record page",
                                  path=f"/{view.route_base.strip('/')}/show/"
                                       f"{samples[0].id}"))
        if not views:
            cases += related_record_cases(app, role)
    return cases


def _instance(app, view_class):
    for view in app.appbuilder.baseviews:
        if type(view) is view_class:
            return view
    raise LookupError(view_class)


def related_record_cases(app, role):
    """The system with most incidents and the project with most contracts the role sees,
    each beside one of the same kind with the fewest that the role sees on it, a full
    first page of the tab where there is one (statement counts must not grow)."""
    from sqlalchemy import func

    from app.extensions import db
    from app.operations.models import Incident
    from app.operations.views import IncidentView
    from app.organisation.models import InformationSystem
    from app.organisation.views import InformationSystemView
    from app.planning.models import ProjectRequest
    from app.planning.views import ProjectRequestView
    from app.procurement.models import Contract
    from app.procurement.views import ContractView

    cases = []
    for view_class, parent, child_view, child, key, what in (
            (InformationSystemView, InformationSystem, IncidentView, Incident, "system_id",
             "incidents"),
            (ProjectRequestView, ProjectRequest, ContractView, Contract, "project_id",
             "contracts")):
        view = _instance(app, view_class)
        if not app.appbuilder.sm.has_access("can_read", parent.__name__):
            continue
        visible = view.datamodel.apply_filters(db.session.query(parent.id), None).subquery()
        # Related rows the role sees on the page (a tab of rows it may not read is empty
        # and loads nothing: no comparison of growth).
        seen = _instance(app, child_view).datamodel.apply_filters(
            db.session.query(child.id), None).subquery()
        fk = getattr(child, key)
        counted = (db.session.query(fk, func.count(child.id).label("n"))
                   .filter(fk.in_(db.session.query(visible.c.id)),
                           child.id.in_(db.session.query(seen.c.id)))
                   .group_by(fk))
        most = counted.order_by(func.count(child.id).desc(), fk).first()
        # The fewest that still fill a tab's first page (20 rows): below that, a page
        # whose few rows name no assignee, say, skips that relation's statement.
        fewest = counted.having(func.count(child.id) >= 20) \
            .order_by(func.count(child.id), fk).first() or \
            counted.order_by(func.count(child.id), fk).first()
        if most is None:
            continue
        pair = f"{parent.__name__} by {what}"
        for (pk, n), which in ((most, "most"), (fewest, "fewest")):
            cases.append(Case(kind="record", role=role, view=parent.__name__, rows=n,
                              page=f"{parent.__name__} with the {which} {what} ({n:,})",
                              path=f"/{view.route_base.strip('/')}/show/{pk}",
                              pair=pair, related=n))
    return cases


def page_cases(app, role, username):
    cases = [Case(kind="home", role=role, page="home page", path="/"),
             Case(kind="inbox", role=role, page="inbox", path="/inbox/"),
             Case(kind="inbox", role=role, page="inbox count", path="/inbox/count")]
    with as_user(app, username):
        if app.appbuilder.sm.has_access("can_read", "ChangeLog"):
            cases += changelog_cases(app, role)
    return cases


def changelog_cases(app, role):
    """The change log: first, deep, 100 a page, each sort, each filter, and the filter
    combinations people use (a record; user + type + month; a day)."""
    from app.base import ChainHead, ChangeEntry
    from app.extensions import db
    from app.history_views import ChangeLogView

    view = _instance(app, ChangeLogView)
    head = db.session.get(ChainHead, 1)
    total = head.seq if head is not None else 0
    sample = (db.session.query(ChangeEntry).filter(ChangeEntry.seq >= total // 2)
              .order_by(ChangeEntry.seq).first())
    if sample is None:
        return []
    pages = max(1, math.ceil(total / view.page_size))
    deep = min(5000, pages - 1)

    def idx(column, *names):
        return _filter_index(view, column, names)

    day = sample.occurred_at.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    month_end = (month + dt.timedelta(days=32)).replace(day=1)
    gt, lt = idx("occurred_at", "FilterGreater"), idx("occurred_at", "FilterSmaller")
    eq = {c: idx(c, "FilterEqual") for c in ("username", "record_type", "record_id",
                                              "action", "request_id", "seq")}
    username = sample.username or "admin"
    filters = {
        "user": {f"_flt_{eq['username']}_username": username},
        "record type": {f"_flt_{eq['record_type']}_record_type": sample.record_type},
        "record id": {f"_flt_{eq['record_id']}_record_id": sample.record_id},
        "action": {f"_flt_{eq['action']}_action": sample.action},
        "request id": {f"_flt_{eq['request_id']}_request_id": sample.request_id},
        "sequence number": {f"_flt_{eq['seq']}_seq": str(sample.seq)},
        "one day": {f"_flt_{gt}_occurred_at": _company_time(day),
                    f"_flt_{lt}_occurred_at": _company_time(day + dt.timedelta(days=1))},
        "record (type + id)": {f"_flt_{eq['record_type']}_record_type": sample.record_type,
                               f"_flt_{eq['record_id']}_record_id": sample.record_id},
        "user + type + month": {
            f"_flt_{eq['username']}_username": username,
            f"_flt_{eq['record_type']}_record_type": sample.record_type,
            f"_flt_{gt}_occurred_at": _company_time(month),
            f"_flt_{lt}_occurred_at": _company_time(month_end)},
        "user + one day": {f"_flt_{eq['username']}_username": username,
                           f"_flt_{gt}_occurred_at": _company_time(day),
                           f"_flt_{lt}_occurred_at": _company_time(day + dt.timedelta(days=1))},
    }
    base = dict(kind="changelog", role=role, view="ChangeLog", rows=total)
    cases = [Case(base, page="change log", path=list_url(view)),
             Case(base, page=f"change log, page {deep + 1:,}", path=list_url(view, page=deep)),
             Case(base, page="change log, 100 a page", path=list_url(view, psize=100))]
    for column in view.order_columns:
        for direction in ("asc", "desc"):
            cases.append(Case(base, page=f"change log sorted by {column} {direction}",
                              path=list_url(view, _oc=column, _od=direction)))
    for name, args in filters.items():
        cases.append(Case(base, page=f"change log filter: {name}", path=list_url(view, **args)))
    return cases


def api_cases(app, role, username, quick, views=None):
    """The REST lists: default, a deep page, 100 a page, each sort key (JWT)."""
    from sqlalchemy import func

    from app.chapters import apis
    from app.extensions import db

    cases = []
    with as_user(app, username):
        for api_class in apis():
            api = next(a for a in app.appbuilder.baseviews if type(a) is api_class)
            model = api.datamodel.obj
            if not app.appbuilder.sm.has_access("can_read", model.__name__) or (
                    views and model.__name__ not in views):
                continue
            count = api.datamodel.apply_filters(
                db.session.query(func.count(model.id)), None).scalar()
            deep = min(DEEP_PAGE, max(0, math.ceil(count / 20) - 1))
            path = f"/api/v1/{api.resource_name}/"
            base = dict(kind="api", role=role, view=model.__name__, rows=count, api=True)
            cases.append(Case(base, page=f"API {api.resource_name}", path=path))
            if not quick:
                cases.append(Case(base, page=f"API {api.resource_name}, page {deep + 1:,}",
                                  path=path + "?q=" + _rison({"page": deep, "page_size": 20})))
                cases.append(Case(base, page=f"API {api.resource_name}, 100 a page",
                                  path=path + "?q=" + _rison({"page": 0, "page_size": 100})))
            orders = list(api.order_columns or [])
            for column in orders[:1] if quick else orders:
                for direction in ("asc",) if quick else ("asc", "desc"):
                    cases.append(Case(base, page=f"API {api.resource_name} sorted by "
                                                 f"{column} {direction}",
                                      path=path + "?q=" + _rison({
                                          "order_column": column,
                                          "order_direction": direction})))
    return cases


def stock_cases(app, quick):
    """Ours and stock FAB, as admin, over the incidents table: same page, same sort."""
    from app.operations.views import IncidentView

    ours = _instance(app, IncidentView)
    stock = next(v for v in app.appbuilder.baseviews
                 if type(v).__name__ == "StockIncidentView")
    with as_user(app, "admin"):
        from sqlalchemy import func

        from app.extensions import db
        from app.operations.models import Incident

        count = db.session.query(func.count(Incident.id)).scalar()
    deep = min(DEEP_PAGE, max(0, math.ceil(count / ours.page_size) - 1))
    variants = [("default", {}), (f"page {deep + 1:,}", {"page": deep})]
    for column in ours.order_columns[:1] if quick else ours.order_columns:
        for direction in ("asc",) if quick else ("asc", "desc"):
            variants.append((f"sorted by {column} {direction}",
                             {"_oc": column, "_od": direction}))
    cases = []
    for name, params in variants:
        for who, view in (("ours", ours), ("stock", stock)):
            cases.append(Case(kind="stock", role="admin", view="Incident", rows=count,
                              page=f"incidents {name}", side=who,
                              path=list_url(view, **params)))
    return cases


# ------------------------------------------------------------------ measuring

def _request(client, counter, case, headers=None):
    """(wall ms, CPU ms of this process, statements, status) of one request."""
    counter.count = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    response = client.get(case["path"], headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    used = (time.process_time() - start_cpu) * 1000
    response.close()
    return elapsed, used, counter.count, response.status_code


def _record(case, runs):
    """The case's row from its timed runs [(wall, cpu, statements, status)]."""
    times = [run[0] for run in runs]
    # Every run's wall time beside the CPU time the process spent on it (SQLite runs in
    # the process): a slow run with ordinary CPU time waited (for a core, or for I/O).
    case.update(median_ms=round(statistics.median(times), 1),
                p95_ms=round(percentile(times, 0.95), 1),
                statements=max(run[2] for run in runs),
                times_ms=[round(t, 1) for t in times],
                cpu_ms=[round(run[1], 1) for run in runs],
                status=runs[-1][3], rss_mb=round(peak_rss_mb(), 1))
    return case


def measure(client, counter, case, runs, warmup, headers=None):
    done = [_request(client, counter, case, headers) for _run in range(warmup + runs)]
    return _record(case, done[warmup:])


def measure_pair(client, counter, first, second, runs, warmup):
    """Two pages measured in turn, request by request (first, second, second, first, ...),
    so that whatever else the machine does weighs on both alike (ours against stock)."""
    done = {id(first): [], id(second): []}
    for run in range(warmup + runs):
        for case in (first, second) if run % 2 == 0 else (second, first):
            result = _request(client, counter, case)
            if run >= warmup:
                done[id(case)].append(result)
    return [_record(first, done[id(first)]), _record(second, done[id(second)])]


def judge(rows):
    """Mark each row with the budgets it breaks (``flags``)."""
    pairs = {}
    for row in rows:
        flags = []
        if row["status"] != row.get("expect", 200):
            flags.append(f"status {row['status']}")
        budget = BUDGET_MS.get(row["kind"])
        if budget is not None and row["p95_ms"] >= budget:
            flags.append(f"p95 >= {budget} ms")
        if row["kind"] in ("list", "changelog", "api") and \
                row["statements"] > MAX_LIST_STATEMENTS:
            flags.append(f"> {MAX_LIST_STATEMENTS} statements")
        row["flags"] = flags
        if row.get("pair"):
            pairs.setdefault((row["role"], row["pair"]), []).append(row)
    for group in pairs.values():
        if len(group) == 2:
            most, fewest = group
            if most["related"] > fewest["related"] and \
                    most["statements"] > fewest["statements"]:
                most["flags"].append(
                    f"statements grow with related rows ({fewest['statements']} -> "
                    f"{most['statements']})")
    stock = {}
    for row in rows:
        if row["kind"] == "stock":
            stock.setdefault(row["page"], {})[row["side"]] = row
    for page, sides in stock.items():
        if len(sides) == 2:
            ours, theirs = sides["ours"], sides["stock"]
            ratio = ours["median_ms"] / theirs["median_ms"] if theirs["median_ms"] else 0
            ours["ratio"] = theirs["ratio"] = round(ratio, 2)
            if ratio > 1:
                ours["flags"].append(f"slower than stock FAB (x{ratio:.2f})")
    return rows


def lists_table(rows, out):
    """One line per role and list: p95 of the default page, the deep page, 100 a page, the
    slowest sort and filter, the record page; the most statements; the rows over budget."""
    groups = {}
    for row in rows:
        if row["kind"] in ("list", "record") and not row.get("pair"):
            groups.setdefault((row["role"], row["view"]), []).append(row)
    print("\n### Lists by role: p95 ms; the most statements of a list page\n", file=out)
    print("| role | list | rows seen | default | deep page | 100 a page | slowest sort | "
          "slowest filter | record page | statements | over budget |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|", file=out)

    def worst(group, test):
        chosen = [r for r in group if test(r["page"])]
        if not chosen:
            return "—"
        row = max(chosen, key=lambda r: r["p95_ms"])
        detail = row["page"].split(" sorted by ")[-1].split(" filter ")[-1]
        return f"{row['p95_ms']:.0f} ({detail})"

    for (role, view), group in groups.items():
        def one(test):
            found = [r for r in group if test(r)]
            return f"{found[0]['p95_ms']:.0f}" if found else "—"

        shown = [r for r in group if r["kind"] == "record"]
        record = f"{shown[0]['p95_ms']:.0f} ({shown[0]['statements']} statements)" \
            if shown else "—"
        print(f"| {role} | {view} | {group[0]['rows']:,} | "
              f"{one(lambda r: r['page'] == f'{view} list')} | "
              f"{one(lambda r: ', page ' in r['page'])} | "
              f"{one(lambda r: r['page'].endswith('100 a page'))} | "
              f"{worst(group, lambda p: ' sorted by ' in p)} | "
              f"{worst(group, lambda p: ' filter ' in p)} | "
              f"{record} | "
              f"{max((r['statements'] or 0 for r in group if r['kind'] == 'list'), default=0)}"
              f" | "
              f"{sum(1 for r in group if r['flags'])} of {len(group)} |", file=out)


def report(rows, all_rows, out):
    """Markdown: every flagged row (or every row), the stock comparison, a summary."""
    def line(row):
        flags = "; ".join(row["flags"]) or "ok"
        return (f"| {row['role']} | {row['page']} | {row['median_ms']:.1f} | "
                f"{row['p95_ms']:.1f} | {row['statements']} | {row['status']} | {flags} |")

    head = ("| role | page | median ms | p95 ms | statements | status | budget |\n"
            "|---|---|---|---|---|---|---|")
    shown = [r for r in rows if r["kind"] != "stock" and (all_rows or r["flags"])]
    print(f"\n### {'Every page' if all_rows else 'Pages over budget'} ({len(shown)} of "
          f"{sum(1 for r in rows if r['kind'] != 'stock')})\n", file=out)
    print(head, file=out)
    for row in shown:
        print(line(row), file=out)
    stock = [r for r in rows if r["kind"] == "stock" and r["side"] == "ours"]
    if stock:
        theirs = {r["page"]: r for r in rows if r["kind"] == "stock" and r["side"] == "stock"}
        print("\n### Incidents as admin: ours and stock FAB ModelView\n", file=out)
        print("| page | ours median ms | stock median ms | ours/stock | ours statements | "
              "stock statements | |\n|---|---|---|---|---|---|---|", file=out)
        for row in stock:
            other = theirs[row["page"]]
            print(f"| {row['page']} | {row['median_ms']:.1f} | {other['median_ms']:.1f} | "
                  f"{row.get('ratio', 0):.2f} | {row['statements']} | {other['statements']} | "
                  f"{'; '.join(row['flags']) or 'ok'} |", file=out)
    lists_table(rows, out)
    print("\n### Summary by page kind and role\n", file=out)
    print("| kind | role | cases | worst p95 ms (page) | most statements | over budget |\n"
          "|---|---|---|---|---|---|", file=out)
    groups = {}
    for row in rows:
        if row["kind"] != "stock":
            groups.setdefault((row["kind"], row["role"]), []).append(row)
    for (kind, role), group in groups.items():
        worst = max(group, key=lambda r: r["p95_ms"])
        print(f"| {kind} | {role} | {len(group)} | {worst['p95_ms']:.1f} ({worst['page']}) | "
              f"{max(r['statements'] or 0 for r in group)} | "
              f"{sum(1 for r in group if r['flags'])} |", file=out)


KEY_PAGES = [  # (role, page) rows docs/performance.md shows for each database
    ("ITStaff", "inbox"), ("ITStaff", "inbox count"), ("DeptHead", "inbox"),
    ("DeptHead", "inbox count"), ("Clerk", "home page"), ("Admin", "home page"),
    ("Clerk", "Incident list"), ("Clerk", "Incident sorted by title asc"),
    ("Admin", "Incident sorted by title asc"), ("Admin", "Contract sorted by amount desc"),
    ("Admin", "ProjectRequest list, page 201 of 1,001"),
    ("Admin", "InformationSystem with the most incidents (24,467)"),
    ("Clerk", "API incident"), ("Clerk", "API incident sorted by title asc"),
    ("Auditor", "change log"), ("Auditor", "change log filter: one day"),
    ("Auditor", "change log filter: record type"),
    ("Auditor", "change log filter: user + type + month"),
]


def docs_tables(paths, out=sys.stdout):
    """The tables of docs/performance.md from saved runs (one per database): per page kind
    and role, and the key pages, as median / p95 ms (statements)."""
    runs = []
    for path in paths:
        with open(path) as handle:
            runs.append(json.load(handle))
    names = [run["meta"]["database"] for run in runs]
    print("| kind | role | " + " | ".join(
        f"{n}: cases over budget | {n}: median of medians ms | {n}: slowest median ms"
        for n in names) + " |", file=out)
    print("|---|---|" + "---|---|---|" * len(runs), file=out)
    keys = []
    for row in runs[0]["rows"]:
        if row["kind"] != "stock" and (row["kind"], row["role"]) not in keys:
            keys.append((row["kind"], row["role"]))
    for kind, role in keys:
        cells = []
        for run in runs:
            group = [r for r in run["rows"] if r["kind"] == kind and r["role"] == role]
            if not group:
                cells.append("— | — | —")
                continue
            slowest = max(group, key=lambda r: r["median_ms"])
            cells.append(f"{sum(1 for r in group if r['flags'])} of {len(group)} | "
                         f"{statistics.median(r['median_ms'] for r in group):.0f} | "
                         f"{slowest['median_ms']:.0f} ({slowest['page']})")
        print(f"| {kind} | {role} | " + " | ".join(cells) + " |", file=out)
    print("\n| role | page | " + " | ".join(f"{n} median / p95 ms (statements)"
                                             for n in names) + " |", file=out)
    print("|---|---|" + "---|" * len(runs), file=out)
    for role, page in KEY_PAGES:
        cells = []
        for run in runs:
            row = next((r for r in run["rows"] if r["role"] == role and r["page"] == page
                        and r["kind"] != "stock"), None)
            cells.append("—" if row is None else
                         f"{row['median_ms']:.0f} / {row['p95_ms']:.0f} ({row['statements']})")
        print(f"| {role} | {page} | " + " | ".join(cells) + " |", file=out)
    print("\n| incidents as admin | " + " | ".join(
        f"{n}: ours / stock median ms (ratio)" for n in names) + " |", file=out)
    print("|---|" + "---|" * len(runs), file=out)
    pages = [r["page"] for r in runs[0]["rows"] if r["kind"] == "stock" and r["side"] == "ours"]
    for page in pages:
        cells = []
        for run in runs:
            sides = {r["side"]: r for r in run["rows"] if r["kind"] == "stock"
                     and r["page"] == page}
            if len(sides) < 2:
                cells.append("—")
                continue
            cells.append(f"{sides['ours']['median_ms']:.0f} / {sides['stock']['median_ms']:.0f}"
                         f" ({sides['ours'].get('ratio', 0):.2f})")
        print(f"| {page} | " + " | ".join(cells) + " |", file=out)


def compare(before_path, after_path, out=sys.stdout):
    """Two runs' rows side by side (e.g. before and after a change), worst change first."""
    def rows(path):
        with open(path) as handle:
            return {(r["role"], r["page"], r.get("side")): r
                    for r in json.load(handle)["rows"]}

    before, after = rows(before_path), rows(after_path)
    print("| role | page | p95 ms before | p95 ms after | statements before | after | "
          "budget after |\n|---|---|---|---|---|---|---|", file=out)
    keys = sorted(set(before) & set(after),
                  key=lambda k: before[k]["p95_ms"] - after[k]["p95_ms"])
    for key in keys:
        old, new = before[key], after[key]
        page = key[1] + (f" ({key[2]})" if key[2] else "")
        print(f"| {key[0]} | {page} | {old['p95_ms']:.1f} | {new['p95_ms']:.1f} | "
              f"{old['statements']} | {new['statements']} | "
              f"{'; '.join(new['flags']) or 'ok'} |", file=out)
    for name, missing in (("only before", set(before) - set(after)),
                          ("only after", set(after) - set(before))):
        if missing:
            print(f"\n{len(missing)} rows {name}: "
                  + ", ".join(f"{k[0]} {k[1]}" for k in sorted(missing)[:20]), file=out)


def run(url, runs=5, warmup=1, quick=False, all_filters=False, roles=None, out=sys.stdout,
        progress=None, quick_roles=(), views=None):
    """Every case measured; returns the judged rows. ``views``: only the lists, records
    and API lists of these record types (no home page, inbox, change log or stock FAB)."""
    from sqlalchemy.engine import make_url

    app = bench_app(url)
    counter = StatementCounter()
    rows = []
    roles = [r for r in ROLES if roles is None or r[0] in roles or r[1] in roles]
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    for username, role in roles:
        client = app.test_client()
        login(client, username)
        token = api_token(app.test_client(), username)
        reduced = quick or username in quick_roles or role in quick_roles
        cases = list_cases(app, role, username, reduced, all_filters, views)
        if not views:
            cases += page_cases(app, role, username)
        cases += api_cases(app, role, username, reduced, views)
        for case in cases:
            headers = {"Authorization": f"Bearer {token}"} if case.get("api") else None
            rows.append(measure(client, counter, case, runs, warmup, headers))
            if progress:
                progress(rows[-1])
    # Our pages' peak, before FAB's stock list (whose search form loads every user,
    # system and department as objects) adds its own.
    ours_peak = peak_rss_mb()
    admin = app.test_client()
    login(admin, "admin")
    stock = [] if views else stock_cases(app, quick)
    for ours, theirs in zip(stock[::2], stock[1::2]):
        for row in measure_pair(admin, counter, ours, theirs, runs, warmup):
            rows.append(row)
            if progress:
                progress(row)
    judge(rows)
    counter.close()
    with app.app_context():
        from app.extensions import db

        cached = len(db.engine._compiled_cache or ())
        db.engine.dispose()
    meta = {"database": make_url(url).get_backend_name(), "url": make_url(url).render_as_string(),
            "runs": runs, "warmup": warmup, "quick": quick, "all_filters": all_filters,
            "views": list(views or ()),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(ours_peak, 1),
            "peak_rss_mb_with_stock": round(peak_rss_mb(), 1), "cpus": os.cpu_count(),
            # The machine's 1-minute load average at the start and the end: other work
            # on the same cores inflates every time measured.
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            # SQLAlchemy keeps up to 500 compiled statements per engine: most of the
            # growth of a process that has served every page.
            "compiled_statements_cached": cached}
    return meta, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL,
                        help="database to measure (default: BENCH_DATABASE_URL, else "
                             f"{DEFAULT_URL})")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    parser.add_argument("--quick", action="store_true",
                        help="reduced sample: 2 runs, no warm-up; per list the default and a deep "
                             "page, one sort, one filter, one record; per API list the "
                             "default and one sort")
    parser.add_argument("--all-filters", action="store_true",
                        help="every filter of every column, not one per column")
    parser.add_argument("--roles", nargs="*", help="usernames or roles (default: all six)")
    parser.add_argument("--quick-roles", nargs="*", default=(),
                        help="usernames or roles measured with the reduced sample of --quick "
                             "for lists and API lists (e.g. unscoped roles whose lists are "
                             "the same queries as admin's)")
    parser.add_argument("--views", nargs="*", metavar="MODEL",
                        help="only the lists, record pages and API lists of these record "
                             "types (e.g. Vulnerability OperationLog); no home page, inbox, "
                             "change log or stock comparison")
    parser.add_argument("--json", help="where to write the rows (default "
                                       "bench/results/pages-<database>.json)")
    parser.add_argument("--all-rows", action="store_true", help="print every row")
    parser.add_argument("--sql", metavar="PATH",
                        help="print every statement of one page (as the first of --roles) "
                             "with its time, and stop")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="print two runs' JSON rows side by side, and stop")
    parser.add_argument("--docs", nargs="+", metavar="JSON",
                        help="print the tables of docs/performance.md from saved runs (one "
                             "per database), and stop")
    parser.add_argument("--report", metavar="JSON",
                        help="print the tables of a run saved earlier, and stop")
    args = parser.parse_args(argv)
    if args.docs:
        docs_tables(args.docs)
        return 0
    if args.report:
        with open(args.report) as handle:
            saved = json.load(handle)
        print(f"## Pages benchmark: {saved['meta']}")
        report(saved["rows"], args.all_rows, sys.stdout)
        return 0
    if args.compare:
        compare(*args.compare)
        return 0
    if args.sql:
        show_sql(args.url, (args.roles or ["admin"])[0], args.sql)
        return 0
    runs = 2 if args.quick and args.runs == 5 else args.runs
    warmup = 0 if args.quick and args.warmup == 1 else args.warmup

    def progress(row):
        mark = " !" if row.get("status") != 200 else ""
        print(f"  {row['role']:<10} {row['page'][:70]:<70} {row['median_ms']:8.1f} "
              f"{row['p95_ms']:8.1f} {row['statements']:4} {row['status']}{mark}",
              file=sys.stderr, flush=True)

    meta, rows = run(args.url, runs, warmup, args.quick, args.all_filters, args.roles,
                     progress=progress, quick_roles=args.quick_roles, views=args.views)
    meta["quick_roles"] = list(args.quick_roles)
    path = args.json or os.path.join(ROOT, "bench", "results", f"pages-{meta['database']}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump({"meta": meta, "rows": rows}, handle, ensure_ascii=False, indent=1)
    print(f"## Pages benchmark: {meta['database']} ({meta['url'].split('@')[-1]}), "
          f"{meta['runs']} runs after {meta['warmup']} warm-up, {len(rows)} cases, "
          f"{meta['seconds']:.0f} s, peak RSS {meta['peak_rss_mb']:.0f} MB "
          f"({meta['peak_rss_mb_with_stock']:.0f} MB after stock FAB's list), load average "
          f"{meta['load_average'][0]} -> {meta['load_average'][1]} on {meta['cpus']} CPUs")
    if meta["peak_rss_mb"] >= MAX_RSS_MB:
        print(f"\nPeak RSS {meta['peak_rss_mb']:.0f} MB >= {MAX_RSS_MB} MB (this one process "
              "served every page of every role)")
    report(rows, args.all_rows, sys.stdout)
    print(f"\nRows written to {os.path.relpath(path)}")
    errors = [r for r in rows if r["status"] != r.get("expect", 200)]
    if errors:
        print(f"{len(errors)} requests answered an unexpected status", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
