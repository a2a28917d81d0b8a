"""Bad input gets a clear answer, never a 500 and never SQL.

Rules are declared once beside the models (app/validation.py) and hold at every
entrance: the web form marks the field in Chinese and keeps what the user typed, the
API answers 422 naming the field, nothing is stored. What still escapes to the
database is answered plainly with the request id. Records that others point to are
not deleted (SQLite enforces foreign keys as PostgreSQL does).
"""
import datetime as dt
import itertools
import re
import uuid

import pytest
from sqlalchemy import CheckConstraint, text
from sqlalchemy.exc import IntegrityError

from app.audit.models import Audit
from app.base import AppUser, Delegation
from app.data.models import DataSharingRequest
from app.operations.models import Incident
from app.organisation.models import Department, InformationSystem
from app.planning.models import ProjectRequest
from app.procurement.models import Contract
from webhelpers import COUNT_RE, count, flashes, form_token, list_page, row

SQL_TEXT = re.compile(r"IntegrityError|sqlite3|psycopg|INSERT INTO|UPDATE \w+ SET|DELETE FROM"
                      r"|CHECK constraint|violates|\[SQL:|Traceback", re.I)
REQUEST_ID = re.compile(r"请求编号 [0-9a-f]{32}")
_n = itertools.count(1)


def no_sql(text_):
    assert not SQL_TEXT.search(text_), SQL_TEXT.search(text_).group(0)


# ----------------------------------------------------------------- web forms

def base_form(kind, ids, marker):
    """A complete, valid add form of ``kind``; ``marker`` is typed into one text field."""
    if kind == "project":
        return "clerk_fin", "projectrequestview", ProjectRequest, "name", {
            "name": marker, "applicant_department": ids.dept("FIN"), "background": "背景",
            "goals": "目标", "content": "内容", "budget": "1000", "implementation_plan": "计划"}
    if kind == "system":
        return "it_staff", "informationsystemview", InformationSystem, "name", {
            "code": f"V-{marker}", "name": marker, "category": "finance",
            "owning_department": ids.dept("FIN"), "lifecycle": "running",
            "protection_level": "2"}
    if kind == "contract":
        return "it_staff", "contractview", Contract, "name", {
            "number": f"V-{marker}", "name": marker, "department": ids.dept("IT"),
            "vendor": ids.vendor(), "amount": "100"}
    if kind == "audit":
        return "auditor", "auditview", Audit, "title", {
            "title": marker, "kind": "compliance", "department": ids.dept("FIN"),
            "scope": "范围", "period_start": "2026-01-01", "period_end": "2026-03-31"}
    if kind == "incident":
        return "it_staff", "incidentview", Incident, "title", {
            "title": marker, "system": ids.system("FIN-GL"), "severity": "p3",
            "description": "描述", "reporting_department": ids.dept("FIN"),
            "occurred_at": "2026-03-01 10:00:00"}
    if kind == "delegation":
        return "clerk_fin", "delegationview", Delegation, "reason", {
            "principal": ids.user("clerk_fin"), "substitute": ids.user("head_fin"),
            "start_date": "2026-01-01", "end_date": "2026-01-31", "reason": marker}
    if kind == "sharing":
        return "clerk_fin", "datasharingrequestview", DataSharingRequest, "title", {
            "title": marker, "requesting_department": ids.dept("FIN"),
            "providing_department": ids.dept("MKT"), "system": ids.system("CRM"),
            "data_scope": "范围", "purpose": "用途", "start_date": "2026-01-01",
            "end_date": "2026-06-30"}
    raise AssertionError(kind)


BAD_FORMS = [
    # kind, field, bad value, the message the user reads
    ("project", "budget", "-1", "不能小于 0"),
    ("project", "budget", "99999999999999999999999", "绝对值须小于 1,000,000,000,000"),
    ("project", "budget", "12.345", "最多 2 位小数"),
    ("project", "budget", "NaN", "不是有效的数字"),
    ("project", "background", "长" * 200_000, "最多 50000 个字符"),
    ("project", "goals", "a\x00b", "无法保存的字符"),
    ("system", "protection_level", "9", "不能大于 5"),
    ("system", "protection_level", "0", "不能小于 1"),
    ("system", "protection_level", "99999999999999999999", "数值超出范围"),
    ("system", "code", "FIN-GL", "编码已存在"),
    ("system", "category", "no_such_category", "无效的选项"),
    ("system", "lifecycle", "", "该字段是必填字段"),
    ("contract", "amount", "-5", "不能小于 0"),
    ("contract", "number", "x" * 65, "64"),
    ("audit", "period_end", "2025-12-31", "审计期间止不能早于审计期间起"),
    ("audit", "kind", "bogus", "无效的选项"),
    ("incident", "resolved_at", "2026-02-28 09:00:00", "不能早于"),
    ("incident", "severity", "p9", "无效的选项"),
    ("delegation", "end_date", "2025-12-01", "不能早于"),
    ("sharing", "providing_department", "FIN", "提供部门必须是申请部门以外的部门"),
    ("sharing", "end_date", "2025-01-01", "不能早于"),
]


@pytest.mark.parametrize("kind,field,value,message", BAD_FORMS,
                         ids=[f"{k}-{f}-{i}" for i, (k, f, _v, _m) in enumerate(BAD_FORMS)])
def test_bad_form_input_is_marked_in_chinese_kept_and_not_stored(
        app, login_as, ids, kind, field, value, message):
    marker = f"保留的输入{next(_n)}"
    username, view, model, marker_field, data = base_form(kind, ids, marker)
    if value == "FIN":
        value = ids.dept("FIN")
    client = login_as(username)
    response = client.post(f"/{view}/add", data={**data, field: value,
                                                 "csrf_token": form_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, response.status_code
    assert message in html
    assert marker in html, "the user's input is lost"
    no_sql(html)
    assert count(app, model, **{marker_field: marker}) == 0


@pytest.mark.parametrize("kind", ["project", "system", "contract", "audit", "incident",
                                  "delegation", "sharing"])
def test_the_same_form_with_good_input_is_saved(app, login_as, ids, kind):
    marker = f"正常输入{next(_n)}"
    username, view, model, marker_field, data = base_form(kind, ids, marker)
    client = login_as(username)
    response = client.post(f"/{view}/add", data={**data, "csrf_token": form_token(client)})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    assert count(app, model, **{marker_field: marker}) == 1


def test_edit_with_bad_input_keeps_the_form_and_the_record(app, login_as, make, ids):
    pk = make("project", dept="FIN")
    before = row(app, ProjectRequest, pk)
    _u, _v, _m, _f, data = base_form("project", ids, "改后的名称")
    client = login_as("clerk_fin")
    response = client.post(f"/projectrequestview/edit/{pk}", data={
        **data, "budget": "-3", "csrf_token": form_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "不能小于 0" in html and "改后的名称" in html
    assert row(app, ProjectRequest, pk) == before


# ------------------------------------------------------------------------ API

def api_payload(kind, ids, marker):
    if kind == "project_request":
        return "clerk_fin", ProjectRequest, "name", {
            "name": marker, "applicant_department": ids.dept("FIN"), "background": "b",
            "goals": "g", "content": "c", "budget": 1000, "implementation_plan": "p"}
    if kind == "information_system":
        return "it_staff", InformationSystem, "name", {
            "code": f"A-{marker}", "name": marker, "category": "finance",
            "owning_department": ids.dept("FIN"), "lifecycle": "running",
            "protection_level": 2}
    if kind == "contract":
        return "it_staff", Contract, "name", {
            "number": f"A-{marker}", "name": marker, "department": ids.dept("IT"),
            "vendor": ids.vendor(), "amount": 100}
    if kind == "incident":
        return "it_staff", Incident, "title", {
            "title": marker, "system": ids.system("FIN-GL"), "severity": "p3",
            "description": "d", "reporting_department": ids.dept("FIN"),
            "occurred_at": "2026-03-01T10:00:00"}
    if kind == "delegation":
        return "admin", Delegation, "reason", {
            "principal": ids.user("clerk_fin"), "substitute": ids.user("head_fin"),
            "start_date": "2026-01-01", "end_date": "2026-01-31", "reason": marker}
    if kind == "audit":
        return "auditor", Audit, "title", {
            "title": marker, "kind": "compliance", "department": ids.dept("FIN"),
            "scope": "s", "period_start": "2026-01-01", "period_end": "2026-03-31"}
    if kind == "data_sharing_request":
        return "clerk_fin", DataSharingRequest, "title", {
            "title": marker, "requesting_department": ids.dept("FIN"),
            "providing_department": ids.dept("MKT"), "system": ids.system("CRM"),
            "data_scope": "d", "purpose": "p"}
    raise AssertionError(kind)


BAD_API = [
    # resource, field, bad value, the field the answer names
    ("project_request", "budget", -1, "budget"),
    ("project_request", "budget", 10**23, "budget"),
    ("project_request", "budget", "12.345", "budget"),
    ("project_request", "name", "a\x00b", "name"),
    ("project_request", "name", "lone \ud800 surrogate", "name"),
    ("project_request", "name", "x" * 201, "name"),
    ("project_request", "background", "长" * 50_001, "background"),
    ("information_system", "protection_level", 9, "protection_level"),
    ("information_system", "protection_level", 2**40, "protection_level"),
    ("information_system", "code", "FIN-GL", "code"),
    ("information_system", "category", "no_such_category", "category"),
    ("contract", "amount", -5, "amount"),
    ("contract", "amount", 1e300, "amount"),
    ("incident", "resolved_at", "2026-02-28T09:00:00", "resolved_at"),
    ("delegation", "substitute", "clerk_fin", "substitute"),
    ("delegation", "end_date", "2025-12-01", "end_date"),
    ("audit", "period_end", "2025-12-31", "period_end"),
    ("data_sharing_request", "providing_department", "FIN", "providing_department"),
]


@pytest.mark.parametrize("resource,field,value,named", BAD_API,
                         ids=[f"{r}-{f}-{i}" for i, (r, f, _v, _n) in enumerate(BAD_API)])
def test_bad_api_input_is_422_naming_the_field_and_not_stored(
        app, api_as, ids, resource, field, value, named):
    marker = f"接口输入{next(_n)}"
    username, model, marker_field, payload = api_payload(resource, ids, marker)
    if value == "clerk_fin":
        value = ids.user("clerk_fin")
    if value == "FIN":
        value = ids.dept("FIN")
    client, headers = api_as(username)
    response = client.post(f"/api/v1/{resource}/", json={**payload, field: value},
                           headers=headers)
    assert response.status_code == 422, (response.status_code, response.get_json())
    body = response.get_data(as_text=True)
    no_sql(body)
    assert named in response.get_json()["message"], response.get_json()
    assert count(app, model, **{marker_field: marker}) == 0


@pytest.mark.parametrize("resource", ["project_request", "information_system", "contract",
                                      "incident", "delegation", "audit",
                                      "data_sharing_request"])
def test_the_same_api_payload_with_good_input_is_created(app, api_as, ids, resource):
    marker = f"接口正常{next(_n)}"
    username, model, marker_field, payload = api_payload(resource, ids, marker)
    client, headers = api_as(username)
    response = client.post(f"/api/v1/{resource}/", json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert count(app, model, **{marker_field: marker}) == 1


def test_api_put_with_a_bad_value_changes_nothing(app, api_as, make):
    pk = make("system", dept="FIN")
    before = row(app, InformationSystem, pk)
    client, headers = api_as("it_staff")
    for payload in ({"protection_level": 9}, {"code": "FIN-GL"}, {"name": "a\x00"}):
        response = client.put(f"/api/v1/information_system/{pk}", json=payload,
                              headers=headers)
        assert response.status_code == 422, payload
        no_sql(response.get_data(as_text=True))
    assert row(app, InformationSystem, pk) == before


def test_api_messages_are_chinese(app, api_as, ids):
    _u, _m, _f, payload = api_payload("information_system", ids, f"中文{next(_n)}")
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/information_system/", headers=headers,
                           json={**payload, "protection_level": 9})
    assert response.get_json()["message"]["protection_level"] == ["不能大于 5。"]


# ------------------------------------------- what escapes the rules: one place

@pytest.fixture
def rules_switched_off(monkeypatch):
    """As if a rule had been forgotten: only the database constraint is left."""
    import app.validation as validation

    monkeypatch.setattr(validation, "record_errors", lambda item, session: {})


def test_a_database_refusal_on_the_web_keeps_the_form_and_shows_no_sql(
        app, login_as, ids, rules_switched_off):
    marker = f"漏网{next(_n)}"
    username, view, model, marker_field, data = base_form("audit", ids, marker)
    client = login_as(username)
    response = client.post(f"/{view}/add", data={**data, "period_end": "2025-01-01",
                                                 "csrf_token": form_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "数据库拒绝了此次更改" in html and REQUEST_ID.search(html)
    assert marker in html
    no_sql(html)
    assert count(app, model, **{marker_field: marker}) == 0


def test_a_database_refusal_on_the_api_is_422_with_the_request_id_and_no_sql(
        app, api_as, ids, rules_switched_off):
    marker = f"漏网{next(_n)}"
    username, model, marker_field, payload = api_payload("audit", ids, marker)
    client, headers = api_as(username)
    response = client.post("/api/v1/audit/", headers=headers,
                           json={**payload, "period_end": "2025-01-01"})
    assert response.status_code == 422
    body = response.get_json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    assert body["request_id"] in body["message"]
    no_sql(response.get_data(as_text=True))
    assert count(app, model, **{marker_field: marker}) == 0


def test_a_concurrent_change_is_409_on_the_api_and_a_plain_message_on_the_web(
        app, api_as, login_as, make, ids, monkeypatch):
    from sqlalchemy.orm.exc import StaleDataError

    from app.security import ScopedInterface

    def stale(self, item, commit=True):
        raise StaleDataError("UPDATE information_system SET version=2 WHERE version=1")

    monkeypatch.setattr(ScopedInterface, "edit", stale)
    pk = make("system", dept="FIN")
    client, headers = api_as("it_staff")
    response = client.put(f"/api/v1/information_system/{pk}", json={"name": "并发"},
                          headers=headers)
    assert response.status_code == 409
    assert "已被他人同时修改" in response.get_json()["message"]
    no_sql(response.get_data(as_text=True))

    web = login_as("it_staff")
    _u, _v, _m, _f, data = base_form("system", ids, "并发网页")
    response = web.post(f"/informationsystemview/edit/{pk}", data={
        **data, "code": row(app, InformationSystem, pk)["code"],
        "csrf_token": form_token(web)})
    html = response.get_data(as_text=True)
    assert "已被他人同时修改" in html and "并发网页" in html
    no_sql(html)


def test_every_check_constraint_is_declared_as_a_rule():
    """The database's CHECKs mirror declarations the forms and API enforce first."""
    from app.chapters import record_models

    models = tuple(record_models()) + (Delegation,)
    declared = set()
    for model in models:
        declared |= {c.info["check"] for c in model.__table__.columns if "check" in c.info}
        declared |= {rule.check for rule in getattr(model, "__rules__", ())}
    checks = {c.name for model in models
              for c in model.__table__.constraints
              if isinstance(c, CheckConstraint) and not getattr(c, "_type_bound", False)}
    assert checks, "no CHECK constraints found"
    assert checks <= declared, checks - declared


# ----------------------------------------------------------- search filters

def test_like_specials_in_a_text_filter_match_literally(app, login_as, api_as, make):
    percent = make("system", dept="FIN", name=f"达标率100%{next(_n)}")
    backslash = make("system", dept="FIN", name=f"路径C:\\{next(_n)}")
    underscore = make("system", dept="FIN", name=f"a_b{next(_n)}")
    make("system", dept="FIN", name=f"普通系统{next(_n)}")
    client = login_as("it_staff")
    # FAB's text filters: 0 starts with, 1 ends with, 2 contains.
    assert list_page(client, "InformationSystemView", "_flt_2_name=%25")[1] == {percent}
    assert list_page(client, "InformationSystemView", "_flt_2_name=%5C")[1] == {backslash}
    assert list_page(client, "InformationSystemView", "_flt_2_name=_")[1] == {underscore}
    response = client.get("/informationsystemview/list/?_flt_0_name=%00",
                          follow_redirects=True)
    assert response.status_code == 200
    assert COUNT_RE.search(response.get_data(as_text=True)).group(1) == "0"
    api, headers = api_as("it_staff")
    for value, expected in (("%", percent), ("\\", backslash)):
        response = api.get("/api/v1/information_system/", headers=headers, query_string={
            "q": f"(filters:!((col:name,opr:ct,value:'{value}')),page_size:100)"})
        assert response.status_code == 200
        assert response.get_json()["ids"] == [expected]


def test_text_filters_ignore_the_case_of_latin_letters(login_as, api_as, make):
    # Ten digits no other system's name holds (a small counter is in many of them).
    tag = f"{uuid.uuid4().int % 10**10:010d}"
    upper = make("system", dept="FIN", name=f"CRM客户{tag}")
    mixed = make("system", dept="FIN", name=f"crmBoard{tag}")
    other = make("system", dept="FIN", name=f"财务总账{tag}")
    client = login_as("it_staff")
    # 0 starts with, 2 contains, 6 does not contain.
    assert list_page(client, "InformationSystemView", "_flt_0_name=cRm")[1] >= {upper, mixed}
    found = list_page(client, "InformationSystemView", f"_flt_2_name=RM%E5%AE%A2%E6%88%B7{tag}")
    assert found[1] == {upper}
    found = list_page(client, "InformationSystemView", f"_flt_2_name=BOARD{tag}")
    assert found[1] == {mixed}
    left = list_page(client, "InformationSystemView", f"_flt_6_name=CRM&_flt_2_name={tag}")
    assert left[1] == {other}
    # a pattern without cased letters (Chinese, digits) finds exactly as before
    found = list_page(client, "InformationSystemView", f"_flt_2_name=%E6%80%BB%E8%B4%A6{tag}")
    assert found[1] == {other}
    api, headers = api_as("it_staff")
    response = api.get("/api/v1/information_system/", headers=headers, query_string={
        "q": f"(filters:!((col:name,opr:ct,value:'Board{tag}')),page_size:100)"})
    assert response.get_json()["ids"] == [mixed]


@pytest.mark.parametrize("query", [
    "_flt_0_username=%00", "_flt_0_seq=99999999999999999999999", "_flt_1_seq=NaN",
    "_flt_0_occurred_at=2026-99-99", "_flt_0_record_id=" + "9" * 5000,
    "_oc_ChangeLogView=changes", "_oc_ChangeLogView=__class__&_od_ChangeLogView=asc",
])
def test_junk_change_log_filters_and_sort_keys_answer_a_page(login_as, query):
    response = login_as("auditor").get(f"/changelog/list/?{query}", follow_redirects=True)
    assert response.status_code == 200
    no_sql(response.get_data(as_text=True))


def test_a_long_text_is_a_field_error_not_a_413(app):
    assert app.config["MAX_FORM_MEMORY_SIZE"] >= 2 * 1024 * 1024


# -------------------------------------------------------------- foreign keys

def test_sqlite_enforces_foreign_keys_on_every_connection(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL always enforces foreign keys")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_reference_to_nothing_is_refused_by_the_database(app, db, ids):
    db.session.add(InformationSystem(code=f"FK-{next(_n)}", name="悬空", protection_level=2,
                                     owning_department_id=987654321))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.fixture
def referenced(app, make):
    """A department with a system, a system with an incident, a user who reported it."""
    from app.extensions import db as _db

    n = next(_n)
    with app.app_context():
        department = Department(code=f"D{n}", name=f"被引用部门{n}")
        user = AppUser(username=f"ref_user_{n}", first_name="引", last_name="用",
                       email=f"ref{n}@example.com", active=True, password="x",
                       department=department)
        _db.session.add_all([department, user])
        _db.session.commit()
        ids = {"department": department.id, "user": user.id}
    ids["system"] = make("system", dept="FIN", owning_department_id=ids["department"])
    make("incident", dept="FIN", system_id=ids["system"], reporter_id=ids["user"])
    return ids


VIEWS = {"department": ("departmentview", Department), "system": ("informationsystemview",
                                                                    InformationSystem)}


@pytest.mark.parametrize("what", ["department", "system"])
def test_deleting_a_referenced_record_is_refused_on_the_web(app, login_as, referenced, what):
    view, model = VIEWS[what]
    client = login_as("admin")
    response = client.post(f"/{view}/delete/{referenced[what]}", follow_redirects=True,
                           data={"csrf_token": form_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert any("不能删除" in message for message in flashes(html)), flashes(html)
    no_sql(html)
    response = client.post(f"/{view}/action_post", follow_redirects=True, data={
        "action": "muldelete", "rowid": [referenced[what]], "csrf_token": form_token(client)})
    assert any("不能删除" in message for message in flashes(response.get_data(as_text=True)))
    assert row(app, model, referenced[what]) is not None


@pytest.mark.parametrize("what,resource", [("department", "department"),
                                           ("system", "information_system")])
def test_deleting_a_referenced_record_is_409_on_the_api(app, api_as, referenced, what,
                                                         resource):
    client, headers = api_as("admin")
    response = client.delete(f"/api/v1/{resource}/{referenced[what]}", headers=headers)
    assert response.status_code == 409
    assert "不能删除" in response.get_json()["message"]
    no_sql(response.get_data(as_text=True))
    assert row(app, VIEWS[what][1], referenced[what]) is not None


def test_deleting_a_referenced_user_is_refused(app, login_as, referenced):
    client = login_as("admin")
    response = client.post(f"/users/delete/{referenced['user']}", follow_redirects=True,
                           data={"csrf_token": form_token(client)})
    html = response.get_data(as_text=True)
    assert any("不能删除" in message for message in flashes(html)), flashes(html)
    no_sql(html)
    assert row(app, AppUser, referenced["user"]) is not None


def test_an_unreferenced_department_is_deleted_on_web_and_api(app, login_as, api_as):
    from app.extensions import db as _db

    pks = []
    with app.app_context():
        for _ in range(2):
            n = next(_n)
            department = Department(code=f"E{n}", name=f"空部门{n}")
            _db.session.add(department)
            _db.session.commit()
            pks.append(department.id)
    client = login_as("admin")
    response = client.post(f"/departmentview/delete/{pks[0]}",
                           data={"csrf_token": form_token(client)})
    assert response.status_code == 302
    assert row(app, Department, pks[0]) is None
    api, headers = api_as("admin")
    assert api.delete(f"/api/v1/department/{pks[1]}", headers=headers).status_code == 200
    assert row(app, Department, pks[1]) is None


def test_dates_in_order_are_accepted_at_the_boundary(app, api_as, ids):
    """Same day start and end is fine (the CHECK says >=)."""
    marker = f"同日{next(_n)}"
    _u, model, field, payload = api_payload("audit", ids, marker)
    client, headers = api_as("auditor")
    today = dt.date(2026, 5, 1).isoformat()
    response = client.post("/api/v1/audit/", headers=headers,
                           json={**payload, "period_start": today, "period_end": today})
    assert response.status_code == 201, response.get_json()


def test_an_outsider_is_refused_for_scope_before_references_are_checked(app, api_as,
                                                                         referenced):
    client, headers = api_as("clerk_mkt")
    response = client.delete(f"/api/v1/information_system/{referenced['system']}",
                             headers=headers)
    assert response.status_code == 403
    assert "不能删除" not in response.get_json()["message"]
    assert row(app, InformationSystem, referenced["system"]) is not None


@pytest.mark.parametrize("body,field", [
    ({"protection_level": "abc"}, "protection_level"),
    ({"go_live_date": "not a date"}, "go_live_date"),
    ({"category": "no-such-category"}, "category"),
    ({"no_such_field": 1}, "no_such_field"),
])
def test_api_type_errors_are_answered_in_chinese(api_as, body, field):
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/information_system/", headers=headers,
                           json={"code": "ZH-MSG", "name": "中文消息", **body})
    assert response.status_code in (400, 422)
    message = response.get_json()["message"]
    text = str(message.get(field) if isinstance(message, dict) else message)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
