"""Every list exports exactly its current view to CSV and Excel (issue 12; 5.1.3, 8.2.1).

Over HTTP, for every record screen of the menu: the files open (csv module, openpyxl
read-only), carry the screen's Chinese labels, hold as many rows as the list shows that
role, honour the list's filters and sort, show times in the company's zone and states
by label; each export is in the change history (who, filter, rows); a role that cannot
read the list cannot export it, and no filter widens a department's scope."""
import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import openpyxl
import pytest
from conftest import ROLE_USERS
from webhelpers import flashes, form_token, list_page

from app.chapters import record_views

pytestmark = pytest.mark.matrix  # sampled in a normal run: tests/sampling.py

VIEWS = record_views()
VIEW_IDS = [view.__name__ for view in VIEWS]
BOM = b"\xef\xbb\xbf"


def the_view(app, view_class):
    return next(v for v in app.appbuilder.baseviews if type(v) is view_class)


def export(client, view_name, fmt="csv", query="", token=None, **kwargs):
    path = f"/{view_name.lower()}/export/{fmt}" + (f"?{query}" if query else "")
    return client.post(path, data={"csrf_token": token or form_token(client)}, **kwargs)


def read_csv(response):
    data = response.get_data()
    assert data.startswith(BOM), "UTF-8 with BOM, so Excel reads Chinese"
    rows = list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"))))
    return rows[0], rows[1:]


def read_xlsx(response):
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def labels(app, view_class):
    view = the_view(app, view_class)
    with app.test_request_context():
        return [str(view.label_columns.get(c, c)) for c in view.show_columns]


@pytest.fixture(scope="module")
def clients(app):
    from conftest import login

    made = {}
    for username in ("admin", "clerk_fin", "auditor"):
        client = app.test_client()
        assert login(client, username).status_code == 302
        made[username] = (client, form_token(client))
    return made


def last_export(app):
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        entry = db.session.query(ChangeEntry).filter_by(record_type="Export") \
            .order_by(ChangeEntry.seq.desc()).first()
        db.session.expunge_all()
        return entry


# ------------------------------------------------------- every list, both formats

@pytest.mark.parametrize("username", ["admin", "clerk_fin"])
@pytest.mark.parametrize("view_class", VIEWS, ids=VIEW_IDS)
def test_every_list_exports_what_it_shows_in_both_formats(app, clients, view_class,
                                                          username):
    client, token = clients[username]
    name = view_class.__name__
    listed = client.get(f"/{name.lower()}/list/")
    response = export(client, name, "csv", token=token)
    if listed.status_code != 200:  # a role that cannot read the list cannot export it
        assert response.status_code in (302, 403)
        assert not response.get_data().startswith(BOM)
        return
    count, _ids = list_page(client, name)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    header, rows = read_csv(response)
    assert header == labels(app, view_class)
    assert all(re.search("[\u4e00-\u9fff]", label) for label in header), header
    assert len(rows) == count == int(response.headers["X-Export-Rows"])
    assert all(len(row) == len(header) for row in rows)
    response = export(client, name, "xlsx", token=token)
    assert response.status_code == 200
    header, rows = read_xlsx(response)
    assert header == labels(app, view_class)
    assert len(rows) == count
    entry = last_export(app)
    assert entry.username == username and entry.record_id == view_class.datamodel.obj.__name__
    changes = json.loads(entry.changes)
    assert changes["rows"] == [None, count] and changes["format"] == [None, "Excel"]


# ------------------------------------------------------- what the values look like

def test_states_times_amounts_and_titles_read_as_on_screen(app, clients, make, ids):
    from app.extensions import db
    from app.operations.models import Incident
    from app.procurement.models import Contract

    incident = make("incident", dept="FIN")
    contract = make("contract", dept="FIN")
    with app.app_context():
        row = db.session.get(Incident, incident)
        row.occurred_at = dt.datetime(2026, 3, 1, 23, 30)  # stored UTC: 07:30 next day
        title = row.title
        db.session.get(Contract, contract).amount = Decimal("1234567.5")
        number = db.session.get(Contract, contract).number
        db.session.commit()
    client, token = clients["clerk_fin"]
    query = f"_flt_0_title={title}"
    header, rows = read_csv(export(client, "IncidentView", "csv", query, token))
    (found,) = [r for r in rows if r[header.index("标题")] == title]
    assert found[header.index("发生时间")] == "2026-03-02 07:30"
    assert found[header.index("状态")] == "已报告"  # the label, never "reported"
    assert found[header.index("系统")] == "财务核算系统（FIN-GL）"  # by title, not id
    assert found[header.index("报告部门")] == "财务部"
    header, rows = read_xlsx(export(client, "IncidentView", "xlsx", query, token))
    (found,) = [r for r in rows if r[header.index("标题")] == title]
    assert found[header.index("发生时间")] == dt.datetime(2026, 3, 2, 7, 30)
    assert found[header.index("状态")] == "已报告"
    # Money: a number with a currency format in Excel, a plain number in CSV.
    admin, admin_token = clients["admin"]
    query = f"_flt_0_number={number}"
    header, rows = read_csv(export(admin, "ContractView", "csv", query, admin_token))
    (found,) = [r for r in rows if number in r]
    amount = next(label for label in header if "金额" in label)
    assert Decimal(found[header.index(amount)]) == Decimal("1234567.50")
    response = export(admin, "ContractView", "xlsx", query, admin_token)
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    column = [c.value for c in sheet[1]].index(amount) + 1
    cell = next(sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)
                if number in [c.value for c in sheet[r]])
    assert cell.value == 1234567.5 and "¥" in cell.number_format


def test_a_text_that_looks_like_a_formula_stays_text_in_csv(app, clients, make):
    from app.extensions import db
    from app.operations.models import Incident

    incident = make("incident", dept="FIN")
    with app.app_context():
        db.session.get(Incident, incident).title = "=HYPERLINK(\"http://x\")测试"
        db.session.commit()
    client, token = clients["clerk_fin"]
    header, rows = read_csv(export(client, "IncidentView", "csv",
                                   "_flt_2_title=HYPERLINK", token))
    titles = [row[header.index("标题")] for row in rows]
    assert titles and all(t.startswith("'=") for t in titles)


# ------------------------------------------------------- filters and sort

def test_filters_and_sort_of_the_list_are_honoured(app, clients, make, ids):
    from app.extensions import db
    from app.operations.models import Incident

    made = [make("incident", dept="FIN", title=f"导出排序{n}") for n in (3, 1, 2)]
    client, token = clients["admin"]
    query = ("_flt_2_title=导出排序&_oc_IncidentView=title&_od_IncidentView=asc")
    count, _ids = list_page(client, "IncidentView", query)
    header, rows = read_csv(export(client, "IncidentView", "csv", query, token))
    titles = [row[header.index("标题")] for row in rows]
    assert titles == ["导出排序1", "导出排序2", "导出排序3"] == sorted(titles)
    assert len(rows) == count == len(made)
    query = query.replace("=asc", "=desc")
    header, rows = read_xlsx(export(client, "IncidentView", "xlsx", query, token))
    assert [row[header.index("标题")] for row in rows] == ["导出排序3", "导出排序2",
                                                          "导出排序1"]
    # A department filter as the list offers it.
    query = f"_flt_0_reporting_department={ids.dept('MKT')}"
    count, _ids = list_page(client, "IncidentView", query)
    header, rows = read_csv(export(client, "IncidentView", "csv", query, token))
    assert len(rows) == count
    assert {row[header.index("报告部门")] for row in rows} <= {"市场部"}
    with app.app_context():
        assert count == db.session.query(Incident).filter_by(
            reporting_department_id=ids.dept("MKT")).count()


def test_the_list_page_offers_the_export_with_its_filters_and_sort(app, clients):
    client, _token = clients["clerk_fin"]
    html = client.get("/incidentview/list/?_flt_0_severity=p3&_oc_IncidentView=title"
                      "&_od_IncidentView=asc").get_data(as_text=True)
    assert "导出" in html
    for fmt in ("csv", "xlsx"):
        url = re.search(rf'formaction="(/incidentview/export/{fmt}[^"]*)"', html).group(1)
        assert "_flt_0_severity=p3" in url and "_oc_IncidentView=title" in url
    assert 'name="csrf_token"' in html


# ------------------------------------------------------- the refused side

def test_a_department_exports_only_its_own_rows(app, clients, make, ids):
    from app.extensions import db
    from app.operations.models import Incident
    from app.organisation.models import InformationSystem

    make("incident", dept="FIN")
    theirs = make("incident", dept="MKT")
    client, token = clients["clerk_fin"]
    count, _ids = list_page(client, "IncidentView")
    header, rows = read_csv(export(client, "IncidentView", "csv", token=token))
    assert len(rows) == count
    # A department sees the incidents it reported and those of its own systems (2.2.3).
    with app.app_context():
        their_title = db.session.get(Incident, theirs).title
        own_systems = {str(system) for system in db.session.query(InformationSystem)
                       .filter_by(owning_department_id=ids.dept("FIN"))}
    assert all(row[header.index("报告部门")] == "财务部" or row[header.index("系统")] in own_systems
               for row in rows)
    assert their_title not in {row[header.index("标题")] for row in rows}
    # Another department's filter narrows to nothing, never widens the scope.
    query = f"_flt_0_reporting_department={ids.dept('MKT')}"
    count, _ids = list_page(client, "IncidentView", query)
    header, rows = read_csv(export(client, "IncidentView", "csv", query, token))
    assert len(rows) == count
    assert all(row[header.index("系统")] in own_systems for row in rows)
    header, rows = read_xlsx(export(client, "IncidentView", "xlsx", query, token))
    assert len(rows) == count
    assert all(row[header.index("系统")] in own_systems for row in rows)


def test_a_role_that_cannot_read_the_list_cannot_export_it(app, login_as):
    expert = login_as(ROLE_USERS["Expert"])
    assert expert.get("/incidentview/list/").status_code in (302, 403)
    before = last_export(app)
    response = export(expert, "IncidentView", "csv")
    assert response.status_code in (302, 403)
    assert not response.get_data().startswith(BOM)
    after = last_export(app)
    assert (before and before.seq) == (after and after.seq)  # nothing exported, nothing recorded
    anonymous = app.test_client()
    response = anonymous.post("/incidentview/export/csv")
    assert response.status_code in (302, 400, 401, 403)
    assert not response.get_data().startswith(BOM)


def test_only_post_with_the_token_exports(app, clients):
    client, token = clients["clerk_fin"]
    assert client.get("/incidentview/export/csv").status_code == 405
    response = client.post("/incidentview/export/csv")  # no CSRF token
    assert response.status_code == 400
    assert export(client, "IncidentView", "pdf", token=token).status_code == 404


@pytest.mark.parametrize("query, statuses", [
    ("_flt_0_reporting_department=abc", (400,)),
    ("_flt_0_reporting_department=99999999999999999999999", (400,)),
    ("_flt_0_title=%00abc", (400,)),
    ("_flt_0_title=" + "x" * 1001, (400,)),
    ("_flt_0_severity=nosuchseverity", (200,)),
    ("_flt_9_title=x", (200,)),
    ("_flt_0_nosuchcolumn=x", (200,)),
    ("_flt_0_occurred_at=not-a-date", (200,)),
    ("_oc_IncidentView=__class__&_od_IncidentView=desc", (200,)),
    ("_oc_IncidentView=title&_od_IncidentView=sideways", (200,)),
    ("_oc_IncidentView=reporter.password&_od_IncidentView=asc", (200,)),
])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_junk_filters_answer_200_or_400_never_500(app, clients, query, statuses, fmt):
    client, token = clients["clerk_fin"]
    response = export(client, "IncidentView", fmt, query, token)
    assert response.status_code in statuses, (query, response.status_code)
    if response.status_code == 200:
        header, rows = (read_csv if fmt == "csv" else read_xlsx)(response)
        assert header[0] == "标题"


# ------------------------------------------------------- the record of the export

def test_an_export_is_recorded_with_who_filter_sort_and_rows(app, clients, make):
    make("incident", dept="FIN", title="导出留痕")
    client, token = clients["clerk_fin"]
    query = "_flt_2_title=导出留痕&_oc_IncidentView=title&_od_IncidentView=asc"
    response = export(client, "IncidentView", "csv", query, token)
    rows = read_csv(response)[1]
    entry = last_export(app)
    assert entry.username == "clerk_fin" and entry.action == "export"
    assert entry.record_type == "Export" and entry.record_id == "Incident"
    changes = {field: after for field, (_before, after) in json.loads(entry.changes).items()}
    assert changes["rows"] == len(rows) >= 1
    assert "导出留痕" in changes["filters"] and "标题" in changes["filters"]
    assert changes["order"] == "标题 升序"
    assert changes["format"] == "CSV" and changes["list"] == "故障"
    assert "_flt_2_title" in changes["query"]
    # In the change log, in Chinese, and the chain still verifies.
    auditor, _token = clients["auditor"]
    html = auditor.get("/changelog/list/?_flt_0_action=export").get_data(as_text=True)
    assert "导出" in html and "故障" in html
    html = auditor.get(f"/changelog/show/{entry.id}").get_data(as_text=True)
    assert "行数" in html and "导出留痕" in html
    from app.extensions import db
    from app.history import verify_chain

    with app.app_context():
        checked, broken = verify_chain(db.session)
        assert broken is None and checked >= entry.seq


def test_a_list_longer_than_an_excel_sheet_is_refused_with_a_pointer_to_csv(app, clients):
    client, token = clients["admin"]
    app.config["EXPORT_XLSX_MAX_ROWS"] = 1
    try:
        before = last_export(app)
        response = export(client, "IncidentView", "xlsx", "_oc_IncidentView=title"
                          "&_od_IncidentView=asc", token, follow_redirects=True)
        assert response.status_code == 200
        assert any("CSV" in text for text in flashes(response.get_data(as_text=True)))
        assert last_export(app).seq == before.seq
        assert export(client, "IncidentView", "csv", token=token).status_code == 200
    finally:
        app.config["EXPORT_XLSX_MAX_ROWS"] = 1_048_575


def test_the_export_reports_the_worker_alive_while_it_sends(app, clients, make):
    from app import export as exporting

    for _ in range(3):
        make("incident", dept="FIN")
    beats = []
    exporting.set_heartbeat(lambda: beats.append(1))
    app.config["EXPORT_BATCH"] = 2
    try:
        client, token = clients["admin"]
        header, rows = read_csv(export(client, "IncidentView", "csv", token=token))
        assert len(beats) >= len(rows) // 2 >= 1
        beats.clear()
        export(client, "IncidentView", "xlsx", token=token).get_data()
        assert len(beats) >= len(rows) // 2
    finally:
        app.config["EXPORT_BATCH"] = 1000
        exporting.HEARTBEAT.clear()


def test_a_record_page_tab_offers_no_export(app, clients):
    from app.extensions import db
    from app.operations.models import MaintenancePlan

    client, _token = clients["admin"]
    with app.app_context():
        plan = db.session.query(MaintenancePlan.id).first()
    if plan is None:
        pytest.skip("no maintenance plan in the demo data")
    html = client.get(f"/maintenanceplanview/show/{plan[0]}").get_data(as_text=True)
    assert "/maintenancerecordview/export/" not in html
