"""Charts (PRODUCT.md §5): aggregated in SQL under the user's department scope; every
point links to the list of exactly the records behind it; junk filters get a message."""
import re

import pytest

from webhelpers import COUNT_RE

ROLES = ("admin", "auditor", "manager", "it_staff", "head_fin", "clerk_mkt")


def _list_count(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    match = COUNT_RE.search(html)
    if match is None:  # FAB shows no count on an empty list
        assert "No records found" in html or "没有找到记录" in html or "没有记录" in html, url
        return 0
    return int(match.group(1))


def _chart_names(app):
    from app.charts import CHARTS

    return sorted(CHARTS)


def test_every_declared_chart_is_on_a_list_view(app):
    from app.charts import CHARTS

    assert len(CHARTS) >= 10
    assert all(chart.view is not None for chart in CHARTS.values())


@pytest.mark.parametrize("user", ROLES)
def test_every_point_of_every_chart_opens_a_list_with_its_number_of_records(
        app, login_as, user):
    client = login_as(user)
    checked = 0
    from app.charts import CHARTS

    for name in _chart_names(app):
        response = client.get(f"/charts/{name}/data")
        listing = client.get(f"/{CHARTS[name].view.__name__.lower()}/list/")
        if listing.status_code != 200:
            # A record type the role does not read (a Clerk and the personnel clearances):
            # neither is its chart.
            assert response.status_code == 404, (name, response.status_code)
            continue
        assert response.status_code == 200, (name, response.status_code)
        data = response.get_json()
        for series in data["series"]:
            for point in series["data"]:
                assert point["url"], (name, point)
                if point["n"] == 0 and checked > 40:
                    continue  # empty points are many; a sample of them is checked
                assert _list_count(client, point["url"]) == point["n"], (name, point)
                if series["unit"] == "count":
                    assert point["value"] == point["n"]
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("user", ROLES)
def test_a_count_chart_adds_up_to_the_users_whole_list(app, login_as, user):
    """Charts without a condition of their own count every record the user may see."""
    client = login_as(user)
    for name, view in (("incidents_by_month", "incidentview"),
                       ("projects_by_stage", "projectrequestview"),
                       ("findings_by_status", "auditfindingview"),
                       ("change_requests_by_outcome", "changerequestview")):
        data = client.get(f"/charts/{name}/data").get_json()
        total = sum(p["n"] for s in data["series"] for p in s["data"])
        assert total == _list_count(client, f"/{view}/list/"), name


def test_a_department_heads_chart_counts_only_what_they_may_see(app, login_as, make):
    make("incident", dept="MKT", title="市场部图表故障")
    fin = login_as("head_fin").get("/charts/incidents_by_month/data").get_json()
    admin = login_as("admin").get("/charts/incidents_by_month/data").get_json()
    total = lambda d: sum(p["n"] for s in d["series"] for p in s["data"])  # noqa: E731
    assert total(fin) < total(admin)


def test_chart_counts_match_an_independent_sql_count(app, db):
    from sqlalchemy import text

    from app.base import AppUser
    from app.charts import CHARTS, chart_data

    chart = CHARTS["projects_by_stage"]
    with app.test_request_context():
        admin = db.session.query(AppUser).filter_by(username="admin").one()
        data = chart_data(chart, admin)
    counts = dict(db.session.execute(text(
        "SELECT status, COUNT(*) FROM project_request GROUP BY status")).all())
    shown = {c["key"]: s["data"][i]["value"] for s in data["series"]
             for i, c in enumerate(data["categories"])}
    assert shown == counts


def test_date_range_and_department_narrow_the_chart_and_its_links(app, login_as, make, ids):
    import datetime as dt

    make("incident", dept="FIN", title="范围内故障", occurred_at=dt.datetime(2024, 5, 10, 2))
    make("incident", dept="FIN", title="范围外故障", occurred_at=dt.datetime(2024, 7, 10, 2))
    client = login_as("auditor")
    fin = ids.dept("FIN")
    data = client.get(f"/charts/incidents_by_month/data?start=2024-05-01&end=2024-05-31"
                      f"&department={fin}").get_json()
    assert [c["key"] for c in data["categories"]] == ["2024-05"]
    points = [p for s in data["series"] for p in s["data"] if p["n"]]
    assert sum(p["n"] for p in points) >= 1
    for point in points:
        assert _list_count(client, point["url"]) == point["n"]
        assert f"reporting_department={fin}" in point["url"]


def test_a_department_head_narrowed_to_a_department_counts_only_what_they_may_see(
        app, login_as, make, ids):
    """Narrowed to their own department, a department head's chart counts that
    department's records; narrowed to another, only what they may see of it."""
    import datetime as dt

    from sqlalchemy import text

    from app.extensions import db

    when = dt.datetime(2024, 5, 10, 2)
    make("incident", dept="FIN", title="本部门故障", occurred_at=when)
    make("incident", dept="MKT", title="他部门故障", occurred_at=when)  # on a MKT system
    make("incident", dept="MKT", title="他部门报财务系统故障", occurred_at=when,
         system_id=ids.system("FIN-GL"))
    client = login_as("head_fin")
    total = lambda d: sum(p["n"] for s in d["series"] for p in s["data"])  # noqa: E731
    for dept, expected in (("FIN", "reporting_department_id = :d"),
                           ("MKT", "reporting_department_id = :d AND system_id IN (SELECT id "
                                   "FROM information_system WHERE owning_department_id = :f)")):
        data = client.get(f"/charts/incidents_by_month/data?start=2024-05-01&end=2024-05-31"
                          f"&department={ids.dept(dept)}").get_json()
        with app.app_context():
            count = db.session.execute(text(
                "SELECT COUNT(*) FROM incident WHERE occurred_at >= '2024-04-30 16:00' AND "
                f"occurred_at < '2024-05-31 16:00' AND {expected}"),
                {"d": ids.dept(dept), "f": ids.dept("FIN")}).scalar()
        assert total(data) == count >= 1, dept
        for point in (p for s in data["series"] for p in s["data"] if p["n"]):
            assert _list_count(client, point["url"]) == point["n"]


def test_related_groups_are_labelled_with_their_names(app, login_as, db):
    from sqlalchemy import text

    client = login_as("admin")
    for name, sql in (
            ("project_budget_by_department", "SELECT DISTINCT d.name FROM project_request p "
                                             "JOIN department d ON d.id = "
                                             "p.applicant_department_id"),
            ("contract_amount_by_vendor", "SELECT DISTINCT v.name FROM contract c "
                                          "JOIN vendor v ON v.id = c.vendor_id")):
        data = client.get(f"/charts/{name}/data").get_json()
        names = {n for (n,) in db.session.execute(text(sql))}
        labels = [c["label"] for c in data["categories"]]
        assert labels and set(labels) <= names, (name, labels)


def test_month_buckets_are_in_company_time(app, login_as, make):
    import datetime as dt

    # 2024-02-29 17:00 UTC is 2024-03-01 01:00 in Beijing: a March incident.
    make("incident", dept="HR", title="跨月故障", occurred_at=dt.datetime(2024, 2, 29, 17))
    client = login_as("admin")
    data = client.get("/charts/incidents_by_month/data?start=2024-03-01&end=2024-03-01"
                      ).get_json()
    assert [c["key"] for c in data["categories"]] == ["2024-03"]


@pytest.mark.parametrize("query,message", [
    ("start=2026-13-01", "2026-13-01"),
    ("end=yesterday", "yesterday"),
    ("start=2026-05-01&end=2026-01-01", None),
    ("department=abc", "abc"),
    ("department=999999", "999999"),
    ("department=99999999999999999999", None),
    ("start=%00", None),
    ("end=9999-12-31", "9999-12-31"),
])
def test_junk_chart_filters_get_a_clear_message(login_as, query, message):
    client = login_as("auditor")
    for path in ("data", "csv"):
        response = client.get(f"/charts/incidents_by_month/{path}?{query}")
        assert response.status_code == 400
        assert response.get_json()["message"]
        if message:
            assert message in response.get_json()["message"]
    page = client.get(f"/charts/incidents_by_month/?{query}")
    assert page.status_code == 400
    assert 'class="alert alert-danger"' in page.get_data(as_text=True)
    dashboard = client.get(f"/dashboard/?{query}")
    assert dashboard.status_code == 400


def test_a_junk_within_filter_on_a_list_finds_nothing(login_as):
    client = login_as("admin")
    assert _list_count(client, "/incidentview/list/?_flt_4_occurred_at=garbage") == 0
    assert _list_count(client, "/incidentview/list/?_flt_4_occurred_at=2026-01-01..x") == 0
    assert _list_count(client, "/incidentview/list/?_flt_4_occurred_at=..9999-12-31") == 0
    assert _list_count(client, "/contractview/list/?_flt_4_sign_date=0001-01-01..") == 0


def test_the_chart_offers_its_numbers_as_csv_and_table(login_as):
    client = login_as("manager")
    response = client.get("/charts/contract_amount_by_year/csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert len(text.strip().splitlines()) >= 2
    page = client.get("/charts/contract_amount_by_year/").get_data(as_text=True)
    assert "chart-numbers" in page and "¥" in page
    assert re.search(r'<script src="/static/vendor/echarts/[\d.]+/echarts.min.js" nonce="', page)


@pytest.mark.parametrize("user,path,allowed", [
    ("auditor", "/dashboard/", True), ("manager", "/dashboard/", True),
    ("admin", "/dashboard/", True), ("clerk_fin", "/dashboard/", False),
    ("head_fin", "/dashboard/", False), ("expert", "/dashboard/", False),
    ("head_fin", "/charts/incidents_by_month/", True),
    ("clerk_mkt", "/charts/findings_by_status/data", True),
    ("expert", "/charts/incidents_by_month/data", False),
    ("expert", "/charts/projects_by_stage/data", False),
])
def test_who_may_open_dashboards_and_charts(login_as, user, path, allowed):
    response = login_as(user).get(path)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403, 404)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"] or \
                response.headers["Location"].endswith("/")


def test_signed_out_visitors_get_no_chart(client):
    response = client.get("/charts/incidents_by_month/data")
    assert response.status_code in (302, 401, 403)


def test_an_unknown_chart_is_404(login_as):
    assert login_as("admin").get("/charts/no_such_chart/data").status_code == 404
