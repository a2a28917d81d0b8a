"""Forms accept what they offer (7.2.1): every record form, as rendered, saves.

For every record type in the menu (derived from the chapters' menus, app/chapters.py, so a new type is
covered without new test code): the add form, opened by a user who may add it and sent
with its own defaults plus valid values for what it requires, creates the record; the
edit form of that record, sent back unchanged, succeeds and changes nothing. Then the
details: local date-times to the minute, length limits and counters, dropdown choices
and placeholders.
"""
import datetime as dt
import itertools
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, DateTime, Integer, Numeric
from sqlalchemy import inspect as sa_inspect

from conftest import ROLE_USERS, login
from webhelpers import flashes, row

ZONE = ZoneInfo("Asia/Shanghai")
_unique = itertools.count(1)


class FormFields(HTMLParser):
    """The fields of FAB's ``<form id="model_form">`` as a browser would send them."""

    def __init__(self, html):
        super().__init__()
        self.fields, self._in_form, self._select, self._textarea = {}, False, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "model_form":
            self._in_form = True
        if not self._in_form or "name" not in attrs and tag != "option":
            return
        if tag == "input":
            self.fields[attrs["name"]] = {"tag": "input", **attrs}
        elif tag == "select":
            self._select = self.fields[attrs["name"]] = {"tag": "select", "options": [],
                                                         **attrs}
        elif tag == "textarea":
            self._textarea = self.fields[attrs["name"]] = {"tag": "textarea", "text": "",
                                                           **attrs}
        elif tag == "option" and self._select is not None:
            self._select["options"].append({"value": attrs.get("value", ""),
                                            "selected": "selected" in attrs, "text": ""})

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data
        elif self._select is not None and self._select["options"]:
            self._select["options"][-1]["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def values(self):
        """What the form sends as it stands (name -> value or list of values)."""
        sent = {}
        for name, field in self.fields.items():
            if field["tag"] == "select":
                chosen = [o["value"] for o in field["options"] if o["selected"]]
                if "multiple" in field:
                    sent[name] = chosen
                else:
                    sent[name] = chosen[0] if chosen else (
                        field["options"][0]["value"] if field["options"] else "")
            elif field["tag"] == "textarea":
                # a browser drops the newline WTForms writes after <textarea>
                sent[name] = re.sub(r"^\r?\n", "", field["text"])
            elif field.get("type") == "checkbox":
                if "checked" in field:
                    sent[name] = field.get("value", "y")
            elif field.get("type") != "file":
                sent[name] = field.get("value", "")
        return sent


def _menu_views():
    from app.chapters import record_views

    return record_views()


VIEWS = _menu_views()


@pytest.fixture(scope="module")
def clients(app):
    """One signed-in client per demo role account, made when first needed."""
    made = {}

    def client_of(username):
        if username not in made:
            client = app.test_client()
            assert login(client, username).status_code == 302
            made[username] = client
        return made[username]

    return client_of


def _valid_value(model, name, field, taken):
    """A value the field accepts: from the column's type and declared range."""
    column = sa_inspect(model).columns.get(name)
    if field["tag"] == "select":
        options = [o["value"] for o in field["options"] if o["value"]][::-1]  # newest first
        fresh = [value for value in options if value not in taken]
        return (fresh or options or [""])[0]
    if column is not None and isinstance(column.type, DateTime):
        return dt.datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M")
    if column is not None and isinstance(column.type, Date):
        # in the past: a delegation made here is over and changes no one's rights later
        return (dt.date.today() - dt.timedelta(days=3650)).isoformat()
    if column is not None and isinstance(column.type, (Integer, Numeric)):
        return str(column.info.get("min", 1) or 1)
    text = f"F{next(_unique)}{dt.datetime.now():%H%M%S%f}"
    limit = int(field.get("maxlength") or 200)
    return text.rjust(min(limit, 18), "0")[-min(limit, 18):]


def _fill(model, form, sent, names):
    taken = {value for value in sent.values() if isinstance(value, str) and value}
    for name in names:
        field = form.fields[name]
        value = _valid_value(model, name, field, taken)
        sent[name] = [value] if "multiple" in field else value
        taken.add(value)


def _record_ids(app, model):
    from app.extensions import db

    with app.app_context():
        return {pk for (pk,) in db.session.query(model.id)}


def _change_entries(app, model, pk):
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        return db.session.query(ChangeEntry).filter_by(record_type=model.__name__,
                                                       record_id=str(pk)).count()


# Department and role accounts first; the administrator only when nobody else may.
USERS = [u for u in ROLE_USERS.values() if u != "admin"] + ["admin"]


def _first_user(clients, path):
    for username in USERS:
        if clients(username).get(path).status_code == 200:
            return username
    return None


def _add_with_defaults(app, clients, view):
    """(username, new record id) after saving the add form with its defaults."""
    model = view.datamodel.obj
    base = f"/{view.__name__.lower()}"
    username = _first_user(clients, f"{base}/add")
    assert username, f"nobody may add a {model.__name__}"
    client = clients(username)
    form = FormFields(client.get(f"{base}/add").get_data(as_text=True))
    sent = form.values()
    required = [name for name, field in form.fields.items()
                if "required" in field and not sent.get(name)]
    _fill(model, form, sent, required)
    before = _record_ids(app, model)
    response = client.post(f"{base}/add", data=sent)
    optional = []
    if response.status_code == 200:
        # A rule over several fields (a change order names its contract or its project):
        # choose something in the optional dropdowns too.
        optional = [name for name, field in form.fields.items()
                    if field["tag"] == "select" and not sent.get(name)]
        _fill(model, form, sent, optional)
        response = client.post(f"{base}/add", data=sent)
        # A rule of one of several (a finding comes from an audit or a supervision
        # check): keep one optional dropdown chosen, the others empty.
        for keep in optional if response.status_code == 200 else ():
            one = {**sent, **{name: "" for name in optional if name != keep}}
            response = client.post(f"{base}/add", data=one)
            if response.status_code != 200:
                sent, optional = one, [keep]
                break
    chosen = [name for name in required + optional if form.fields[name]["tag"] == "select"]
    for attempt in range(1, 6):
        if response.status_code != 200:
            break
        # A rule about the combination (an expert of the applicant's own department):
        # try the next offered choices.
        for name in chosen:
            options = [o["value"] for o in form.fields[name]["options"] if o["value"]]
            if options and "multiple" not in form.fields[name]:
                sent[name] = options[attempt % len(options)]
        response = client.post(f"{base}/add", data=sent)
    html = response.get_data(as_text=True)
    assert response.status_code == 302, (model.__name__, username, flashes(html))
    new = _record_ids(app, model) - before
    assert len(new) == 1, model.__name__
    return username, new.pop()


@pytest.fixture(scope="module")
def project_awaiting_experts(app):
    """A project in expert review with no panel yet (the demo one has its experts)."""
    from decimal import Decimal

    from app.extensions import db
    from app.organisation.models import Department
    from app.planning.models import ProjectRequest, ProjectStatus

    with app.app_context():
        # of finance, where no expert works (an expert never reviews their own department)
        department = db.session.query(Department.id).filter_by(code="FIN").scalar()
        project = ProjectRequest(name=f"待评审表单项目{next(_unique)}", background="b",
                                 goals="g", content="c", budget=Decimal(1),
                                 implementation_plan="p", status=ProjectStatus.expert_review,
                                 applicant_department_id=department)
        db.session.add(project)
        db.session.commit()
        return project.id


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_add_form_saved_with_its_defaults_creates_the_record_and_edit_saved_unchanged_changes_nothing(
        app, clients, project_awaiting_experts, view):
    model = view.datamodel.obj
    base = f"/{view.__name__.lower()}"
    adder, pk = _add_with_defaults(app, clients, view)

    editors = [adder] + [u for u in USERS if u != adder]
    editor = next((u for u in editors
                   if clients(u).get(f"{base}/edit/{pk}").status_code == 200), None)
    assert editor, f"nobody may edit the new {model.__name__}"
    client = clients(editor)
    form = FormFields(client.get(f"{base}/edit/{pk}").get_data(as_text=True))
    assert form.fields, "the edit form has no fields"
    stored, entries = row(app, model, pk), _change_entries(app, model, pk)

    response = client.post(f"{base}/edit/{pk}", data=form.values())

    assert response.status_code == 302, (model.__name__, editor,
                                         flashes(response.get_data(as_text=True)))
    assert row(app, model, pk) == stored
    assert _change_entries(app, model, pk) == entries


def _save_unchanged(app, clients, view, pk):
    """Send the edit form of record ``pk`` back as shown; assert nothing changed."""
    model = view.datamodel.obj
    base = f"/{view.__name__.lower()}"
    editor = next((u for u in USERS
                   if clients(u).get(f"{base}/edit/{pk}").status_code == 200), None)
    if editor is None:
        return False
    client = clients(editor)
    form = FormFields(client.get(f"{base}/edit/{pk}").get_data(as_text=True))
    stored, entries = row(app, model, pk), _change_entries(app, model, pk)

    response = client.post(f"{base}/edit/{pk}", data=form.values())

    assert response.status_code == 302, (model.__name__, pk, editor,
                                         flashes(response.get_data(as_text=True)))
    assert row(app, model, pk) == stored
    assert _change_entries(app, model, pk) == entries
    return True


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_edit_form_of_demo_records_saved_unchanged_changes_nothing(app, clients, view):
    """The demo data as seeded (seconds in its times, values set by the workflow): the
    first three records of each type that someone may edit."""
    from app.extensions import db

    model = view.datamodel.obj
    with app.app_context():
        pks = [pk for (pk,) in db.session.query(model.id).order_by(model.id).limit(3)]
    saved = [pk for pk in pks if _save_unchanged(app, clients, view, pk)]
    if not saved:
        pytest.skip(f"no demo {model.__name__} is editable in its state")


def test_a_stored_choice_outside_the_offered_list_is_kept_when_saved_unchanged(app, clients,
                                                                               make, ids):
    """An incident handled by someone no longer in IT: IT staff save it unchanged."""
    from app.operations.models import Incident

    pk = make("incident", assignee_id=ids.user("auditor"))
    form = FormFields(clients("it_staff").get(f"/incidentview/edit/{pk}")
                      .get_data(as_text=True))
    assert [o["value"] for o in form.fields["assignee"]["options"] if o["selected"]] == \
        [str(ids.user("auditor"))]
    new = FormFields(clients("it_staff").get("/incidentview/add").get_data(as_text=True))
    assert str(ids.user("auditor")) not in {o["value"] for o in new.fields["assignee"]["options"]}

    response = clients("it_staff").post(f"/incidentview/edit/{pk}", data=form.values())

    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    assert row(app, Incident, pk)["assignee_id"] == ids.user("auditor")


def test_every_record_form_uses_native_pickers_limits_and_placeholders(app, clients):
    """Across every add form: no __None, no English picker, every date a native input,
    every text input its column's maxlength, every long text a counter."""
    from sqlalchemy import String, Text

    for view in VIEWS:
        model = view.datamodel.obj
        base = f"/{view.__name__.lower()}"
        username = _first_user(clients, f"{base}/add")
        html = clients(username).get(f"{base}/add").get_data(as_text=True)
        form = FormFields(html)
        assert "__None" not in html and "appbuilder_datetime" not in html
        assert "appbuilder_date" not in html
        columns = sa_inspect(model).columns
        for name, field in form.fields.items():
            column = columns.get(name)
            if column is None:
                continue
            if isinstance(column.type, DateTime):
                assert field.get("type") == "datetime-local", (model.__name__, name)
            elif isinstance(column.type, Date):
                assert field.get("type") == "date", (model.__name__, name)
            elif isinstance(column.type, Text):
                assert field.get("data-counter") and field.get("maxlength"), name
            elif isinstance(column.type, String) and field["tag"] == "input":
                assert field.get("maxlength") == str(column.type.length), (model.__name__,
                                                                           name)
            if field["tag"] == "select" and "multiple" not in field:
                assert field["options"][0]["value"] == "" or \
                    getattr(column.type, "enum_class", None), (model.__name__, name)


# ------------------------------------------------------------------ date and time

def _incident_form(clients):
    html = clients("clerk_fin").get("/incidentview/add").get_data(as_text=True)
    return FormFields(html)


def test_incident_occurred_at_defaults_to_now_local_to_the_minute(clients):
    before = dt.datetime.now(ZONE).replace(second=0, microsecond=0, tzinfo=None)
    value = _incident_form(clients).fields["occurred_at"]["value"]
    after = dt.datetime.now(ZONE).replace(second=0, microsecond=0, tzinfo=None)

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", value), value
    assert before <= dt.datetime.fromisoformat(value) <= after


def _report(clients, ids, **changes):
    form = _incident_form(clients)
    sent = form.values()
    sent.update(title=f"表单测试故障{next(_unique)}", description="打印机无法连接",
                system=str(ids.system("FIN-GL")))
    sent.update(changes)
    return clients("clerk_fin").post("/incidentview/add", data=sent), sent["title"]


def _incident(app, title):
    from app.extensions import db
    from app.operations.models import Incident

    with app.app_context():
        incident = db.session.query(Incident).filter_by(title=title).one_or_none()
        if incident is None:
            return None
        return {"occurred_at": incident.occurred_at, "reporter": incident.reporter.username,
                "department": incident.reporting_department.code, "id": incident.id}


@pytest.mark.parametrize("typed, stored", [
    ("2026-11-30T09:05", dt.datetime(2026, 11, 30, 1, 5)),
    ("2026-11-30 09:05", dt.datetime(2026, 11, 30, 1, 5)),
    ("2026-12-01T07:30:00", dt.datetime(2026, 11, 30, 23, 30)),
])
def test_typed_local_time_is_kept_with_its_time_and_stored_as_utc(app, clients, ids, typed,
                                                                  stored):
    response, title = _report(clients, ids, occurred_at=typed)

    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    incident = _incident(app, title)
    assert incident["occurred_at"] == stored
    shown = clients("clerk_fin").get(f"/incidentview/show/{incident['id']}")
    local = (stored.replace(tzinfo=dt.timezone.utc).astimezone(ZONE)).strftime("%Y-%m-%d %H:%M")
    assert local in shown.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["2026-11-30 16:10:47.606002", "30/11/2026", "明天",
                                   "2026-13-01T10:00"])
def test_unreadable_date_time_is_refused_in_chinese_and_the_input_is_kept(app, clients, ids,
                                                                          typed):
    response, title = _report(clients, ids, occurred_at=typed)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "不是有效的日期与时间" in html
    assert title in html and "打印机无法连接" in html  # nothing typed is lost
    assert _incident(app, title) is None


def test_reporter_and_department_default_to_the_reporting_clerk(app, clients, ids):
    response, title = _report(clients, ids)

    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    incident = _incident(app, title)
    assert (incident["reporter"], incident["department"]) == ("clerk_fin", "FIN")


def test_edit_saved_unchanged_keeps_the_seconds_of_a_stored_time(app, clients, make):
    from app.operations.models import Incident

    pk = make("incident", occurred_at=dt.datetime(2026, 11, 30, 8, 10, 47, 606002))
    client = clients("clerk_fin")
    form = FormFields(client.get(f"/incidentview/edit/{pk}").get_data(as_text=True))
    assert form.fields["occurred_at"]["value"] == "2026-11-30T16:10"

    response = client.post(f"/incidentview/edit/{pk}", data=form.values())

    assert response.status_code == 302
    assert row(app, Incident, pk)["occurred_at"] == dt.datetime(2026, 11, 30, 8, 10, 47, 606002)


def test_a_date_field_uses_the_native_date_input_and_keeps_the_typed_date(app, clients, ids):
    from app.audit.models import Audit
    from app.extensions import db

    client = clients("auditor")
    form = FormFields(client.get("/auditview/add").get_data(as_text=True))
    assert form.fields["period_start"]["type"] == "date"
    sent = form.values()
    title = f"日期测试审计{next(_unique)}"
    sent.update(title=title, scope="范围", department=str(ids.dept("FIN")),
                period_start="2026-03-01", period_end="2026-03-31")

    response = client.post("/auditview/add", data=sent)

    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    with app.app_context():
        audit = db.session.query(Audit).filter_by(title=title).one()
        assert (audit.period_start, audit.period_end) == (dt.date(2026, 3, 1),
                                                          dt.date(2026, 3, 31))


# ------------------------------------------------------------------ dropdowns

def _options(form, name):
    """The users a picker offers, by id (two people may share a name)."""
    return {int(o["value"]) for o in form.fields[name]["options"] if o["value"]}


def _names(app, *criteria):
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        return {u.id for u in db.session.query(AppUser).filter(*criteria)}


def test_incident_reporter_lists_the_department_and_handler_lists_it_staff_only(app, clients,
                                                                                 ids):
    from app.base import AppUser
    from flask_appbuilder.security.sqla.models import Role

    form = FormFields(clients("it_staff").get("/incidentview/add").get_data(as_text=True))
    it_staff = _names(app, AppUser.roles.any(Role.name == "ITStaff"), AppUser.active.is_(True))
    assert _options(form, "assignee") == it_staff
    auditors = _names(app, AppUser.roles.any(Role.name == "Auditor"))
    assert not _options(form, "assignee") & auditors

    clerk_form = _incident_form(clients)
    assert _options(clerk_form, "reporter") == _names(
        app, AppUser.department_id == ids.dept("FIN"), AppUser.active.is_(True))
    chosen = [int(o["value"]) for o in clerk_form.fields["reporter"]["options"]
              if o["selected"]]
    assert chosen == [ids.user("clerk_fin")]
    placeholder = clerk_form.fields["reporter"]["options"][0]
    assert (placeholder["value"], placeholder["text"]) == ("", "请选择…")


def test_a_reporter_from_another_department_is_refused(app, clients, ids):
    response, title = _report(clients, ids, reporter=str(ids.user("clerk_mkt")))

    assert response.status_code == 200
    assert _incident(app, title) is None


def test_system_custodian_lists_it_staff_and_business_owner_the_owning_department(app,
                                                                                  clients,
                                                                                  ids):
    from app.base import AppUser
    from flask_appbuilder.security.sqla.models import Role

    form = FormFields(clients("clerk_fin").get("/informationsystemview/add")
                      .get_data(as_text=True))
    assert _options(form, "it_custodian") == _names(
        app, AppUser.roles.any(Role.name == "ITStaff"), AppUser.active.is_(True))
    assert _options(form, "business_owner") == _names(
        app, AppUser.department_id == ids.dept("FIN"), AppUser.active.is_(True))


def test_audit_auditor_lists_auditors_only(app, clients):
    from app.base import AppUser
    from flask_appbuilder.security.sqla.models import Role

    form = FormFields(clients("auditor").get("/auditview/add").get_data(as_text=True))
    assert _options(form, "auditor") == _names(
        app, AppUser.roles.any(Role.name == "Auditor"), AppUser.active.is_(True))


def test_text_over_its_length_is_refused_in_chinese_and_kept(app, clients, ids):
    response, title = _report(clients, ids, title="长" * 201)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "长" * 201 in html and "最多" in html


@pytest.mark.parametrize("typed", ["2026-02-30", "01.03.2026", "下周一"])
def test_unreadable_date_is_refused_in_chinese_and_the_input_is_kept(app, clients, ids, typed):
    from app.audit.models import Audit

    client = clients("auditor")
    sent = FormFields(client.get("/auditview/add").get_data(as_text=True)).values()
    title = f"日期错误审计{next(_unique)}"
    sent.update(title=title, scope="范围", department=str(ids.dept("FIN")), period_start=typed)
    before = _record_ids(app, Audit)

    response = client.post("/auditview/add", data=sent)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "不是有效的日期" in html and title in html
    assert _record_ids(app, Audit) == before


def test_department_head_lists_the_department_s_own_people(app, clients, ids):
    from app.base import AppUser

    form = FormFields(clients("admin").get(f"/departmentview/edit/{ids.dept('FIN')}")
                      .get_data(as_text=True))
    assert _options(form, "head") == _names(app, AppUser.department_id == ids.dept("FIN"),
                                            AppUser.active.is_(True))


def test_another_department_s_record_opens_no_edit_form_that_could_only_be_refused(
        app, clients, ids):
    """Systems are readable by every department but written by the owning one."""
    pk = ids.system("OA")  # IT's system
    client = clients("clerk_fin")

    response = client.get(f"/informationsystemview/edit/{pk}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/informationsystemview/show/{pk}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "您只能修改本部门的记录" in page
    assert clients("it_staff").get(f"/informationsystemview/edit/{pk}").status_code == 200
