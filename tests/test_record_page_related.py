"""A record page costs the same however many related rows it has: each related tab is a
page of its rows with a bounded count, under the viewer's department scoping; the
History tab is paginated newest first; the statement count does not grow with the
related rows (3 or 60 incidents, contracts and history entries)."""
import datetime as dt
import re

import pytest
from sqlalchemy import event

COUNT = re.compile(r"</strong>\s*([0-9,]+)(\+| 以上)?\s*</div>")  # "1,000 以上": 1,000+


def _pane(html, name):
    start = html.index(f'<div id="{name}" class="tab-pane')
    following = html.find('<div id="', start + 10)
    return html[start:following if following != -1 else len(html)]


def _tab(client, system, view, page=None):
    url = f"/informationsystemview/show/{system}"
    if page is not None:
        url += f"?page_{view}={page}"
    response = client.get(url)
    assert response.status_code == 200
    pane = _pane(response.get_data(as_text=True), view)
    ids = [int(pk) for pk in dict.fromkeys(
        re.findall(rf"/{view.lower()}/show/(\d+)", pane))]
    found = COUNT.search(pane)
    return ids, found.group(1) + ("+" if found.group(2) else "") if found else "0"


def _system_with(app, make, incidents, contracts=0, edits=0, mkt_incidents=0):
    """A FIN system with ``incidents`` incidents reported by FIN (newest first by
    occurred_at), ``mkt_incidents`` more reported by MKT, ``contracts`` contracts and
    ``edits`` changes of its own (history entries)."""
    from app.extensions import db
    from app.organisation.models import InformationSystem

    system = make("system", dept="FIN")
    start = dt.datetime(2026, 1, 1)
    made = []
    for i in range(incidents):
        made.append(make("incident", dept="FIN", system_id=system,
                         occurred_at=start + dt.timedelta(hours=i)))
    for i in range(mkt_incidents):
        made.append(make("incident", dept="MKT", system_id=system,
                         occurred_at=start + dt.timedelta(hours=incidents + i)))
    for _ in range(contracts):
        make("contract", dept="FIN", system_id=system)
    with app.app_context():
        for i in range(edits):
            db.session.get(InformationSystem, system).description = f"第{i}次修改"
            db.session.commit()
    return system, made[::-1]


def _statements(app, client, url):
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    client.get(url)  # warm: what a second visit costs
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


@pytest.mark.parametrize("username", ["admin", "clerk_fin", "it_staff"])
def test_record_page_statements_do_not_grow_with_related_rows(app, make, login_as,
                                                              username):
    small, _ = _system_with(app, make, incidents=3, contracts=3, edits=3)
    large, _ = _system_with(app, make, incidents=60, contracts=60, edits=60)
    client = login_as(username)
    # Both History pages show the entry that created the system (which names its
    # department): the names a page of history looks up depend on what it shows.
    assert _statements(app, client, f"/informationsystemview/show/{small}") == \
        _statements(app, client, f"/informationsystemview/show/{large}?page_History=3")


def test_related_tab_pages_through_its_rows_newest_first(app, make, login_as):
    system, incidents = _system_with(app, make, incidents=45)
    admin = login_as("admin")
    first, count = _tab(admin, system, "IncidentView")
    assert count == "45"
    assert first == incidents[:20]
    assert _tab(admin, system, "IncidentView", page=1)[0] == incidents[20:40]
    assert _tab(admin, system, "IncidentView", page=2)[0] == incidents[40:]
    assert _tab(admin, system, "IncidentView", page=3)[0] == []


def test_related_tab_counts_only_what_the_viewer_may_see(app, make, login_as):
    system, incidents = _system_with(app, make, incidents=30, mkt_incidents=4)
    mkt_reported = incidents[:4]
    ids, count = _tab(login_as("clerk_mkt"), system, "IncidentView")
    assert (ids, count) == (mkt_reported, "4")
    ids, count = _tab(login_as("clerk_fin"), system, "IncidentView")  # FIN owns the system
    assert (ids, count) == (incidents[:20], "34")
    assert _tab(login_as("clerk_fin"), system, "IncidentView", page=1)[0] == incidents[20:]


def test_related_tab_count_is_bounded_and_said_so(app, make, login_as, monkeypatch):
    from app import records

    monkeypatch.setattr(records, "RELATED_COUNT_CAP", 25)
    system, incidents = _system_with(app, make, incidents=30)
    admin = login_as("admin")
    ids, count = _tab(admin, system, "IncidentView")
    assert (ids, count) == (incidents[:20], "25+")
    assert _tab(admin, system, "IncidentView", page=1)[0] == incidents[20:]
    assert _tab(admin, system, "IncidentView", page=2)[0] == []  # past the bound: empty


def test_history_tab_is_paginated_newest_first(app, make, login_as):
    from app.base import ChangeEntry
    from app.extensions import db

    system, _ = _system_with(app, make, incidents=0, edits=24)
    with app.app_context():
        seqs = [seq for (seq,) in db.session.query(ChangeEntry.seq).filter_by(
            record_type="InformationSystem", record_id=str(system)).order_by(
            ChangeEntry.seq.desc())]
    assert len(seqs) == 25  # created, then 24 changes
    client = login_as("admin")

    def shown(page=None):
        url = f"/informationsystemview/show/{system}"
        html = client.get(url + (f"?page_History={page}" if page is not None else "")
                          ).get_data(as_text=True)
        history = _pane(html, "History")
        badge = re.search(r'href="#History"[^>]*>[^<]*<span class="badge">([^<]+)<', html)
        return [int(s) for s in re.findall(r'pull-right">#(\d+)<', history)], badge.group(1)

    newest, badge = shown()
    assert newest == seqs[:20] and badge == "25"
    assert shown(1)[0] == seqs[20:]
    assert shown(7)[0] == seqs[20:]  # past the last page: the last page
    response = client.get(f"/informationsystemview/show/{system}?page_History=abc",
                          follow_redirects=True)
    assert response.status_code == 200


def test_record_page_statements_do_not_grow_with_approvals(app, make, ids, login_as):
    """The approvals panel loads each decision with its people in one query."""
    from app.base import Approval
    from app.extensions import db

    people = ["admin", "clerk_fin", "head_fin", "it_staff", "it_staff2", "manager",
              "auditor", "expert", "expert2"]

    def project_with(count, actors):
        project = make("project", dept="FIN")
        with app.app_context():
            for i in range(count):
                db.session.add(Approval(
                    record_type="ProjectRequest", record_id=project, transition="comment",
                    label="Comment", from_state="draft", to_state="draft",
                    actor_id=ids.user(actors[i % len(actors)]), comment=f"意见{i}",
                    content_hash="0" * 64))
            db.session.commit()
        return project

    small = project_with(3, people[:3])
    large = project_with(36, people)
    client = login_as("admin")
    assert _statements(app, client, f"/projectrequestview/show/{small}") == \
        _statements(app, client, f"/projectrequestview/show/{large}")


def test_who_acts_next_names_everyone_the_engine_would(app):
    """The record page asks the database only for the people a step could name (roles,
    department, reviewers); on every demo record the engine, given every active user,
    names exactly the same people."""
    from app.approvals import duties_for, identity, next_steps
    from app.base import AppUser, Model
    from app.extensions import db
    from app.workflow import who_acts_next

    with app.app_context():
        everyone = [identity(u) for u in db.session.query(AppUser).filter(
            AppUser.active.is_(True))]
        checked = 0
        for mapper in Model.registry.mappers:
            model = mapper.class_
            workflow = getattr(model, "__workflow__", None)
            if workflow is None or "__workflow__" not in model.__dict__:
                continue
            for record in db.session.query(model).order_by(model.id).limit(60):
                expected = [(t.name, t.target, sorted(who.user_id for who in able))
                            for t, able in who_acts_next(workflow, record, everyone,
                                                         duties_for(record))]
                shown = [(t.name, t.target, sorted(user.id for user in people))
                         for t, people in next_steps(record)]
                assert shown == expected, (model.__name__, record.id)
                checked += 1
        assert checked > 30  # the demo: records of every workflow, in many states


def test_record_page_statements_do_not_grow_with_the_departments_its_tabs_name(
        app, make, login_as):
    """A tab's rows name their departments (reporting department, contract owner): one
    statement per relation for the whole page of rows, never one per department named."""
    from app.extensions import db
    from app.organisation.models import Department

    with app.app_context():
        codes = [code for (code,) in db.session.query(Department.code)
                 .order_by(Department.id).limit(5)]
    assert len(codes) == 5
    one = make("system", dept="FIN")
    many = make("system", dept="FIN")
    for i, code in enumerate(codes):
        when = dt.datetime(2026, 2, 1) + dt.timedelta(hours=i)
        make("incident", dept="FIN", system_id=one, occurred_at=when)
        make("incident", dept=code, system_id=many, occurred_at=when)
        make("contract", dept="FIN", system_id=one)
        make("contract", dept=code, system_id=many)
    client = login_as("admin")
    assert _statements(app, client, f"/informationsystemview/show/{one}") == \
        _statements(app, client, f"/informationsystemview/show/{many}")
