"""Lists for real work: department and date filters, deadline badges and filters, long
names cut with the full text on hover, the inbox's waiting badge."""
import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import update

from webhelpers import list_page

# FAB numbers each column's filters: a related record's first filter is "equal"; a date's
# are equal, greater than, smaller than, not equal; deadline filters are found by name.
EQUAL, GREATER, SMALLER = 0, 1, 2


def today():
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()


def unique(prefix):
    """A name no other test uses: lists are filtered to it (starts with, filter 0)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("view, kind, column, name", [
    ("ProjectRequestView", "project", "applicant_department", "name"),
    ("ContractView", "contract", "department", "name"),
    ("IncidentView", "incident", "reporting_department", "title"),
    ("AuditFindingView", "finding", "responsible_department", "title"),
    ("AuditView", "audit", "department", "title"),
])
def test_lists_filter_by_department(login_as, make, ids, view, kind, column, name):
    mine = unique("部门筛选")
    fin, mkt = make(kind, dept="FIN", **{name: mine}), make(kind, dept="MKT", **{name: mine})
    admin = login_as("admin")
    assert filter_index(admin, view, column, "关联") == EQUAL  # offered in the search form
    only = f"_flt_0_{name}={mine}&psize_{view}=100"
    _count, shown = list_page(admin, view, f"_flt_{EQUAL}_{column}={ids.dept('FIN')}&{only}")
    assert fin in shown and mkt not in shown
    _count, shown = list_page(admin, view, f"_flt_{EQUAL}_{column}={ids.dept('MKT')}&{only}")
    assert mkt in shown and fin not in shown


def test_department_filter_never_widens_a_clerks_scope(login_as, make, ids):
    mkt = make("project", dept="MKT")
    count, shown = list_page(login_as("clerk_fin"), "ProjectRequestView",
                             f"_flt_{EQUAL}_applicant_department={ids.dept('MKT')}")
    assert count == 0 and mkt not in shown


def test_contract_list_filters_by_an_end_date_range(login_as, make):
    inside = make("contract", end_date=dt.date(2031, 6, 15))
    before = make("contract", end_date=dt.date(2031, 5, 1))
    after = make("contract", end_date=dt.date(2031, 8, 1))
    admin = login_as("admin")
    assert filter_index(admin, "ContractView", "end_date", "大于") == GREATER
    _count, shown = list_page(
        admin, "ContractView",
        f"_flt_{GREATER}_end_date=2031-06-01&_flt_{SMALLER}_end_date=2031-07-01&psize_ContractView=100")
    assert inside in shown and before not in shown and after not in shown


def test_project_list_filters_by_creation_date(app, login_as, make):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    old, new = make("project"), make("project")
    with app.app_context():
        db.session.execute(update(ProjectRequest).where(ProjectRequest.id == old)
                           .values(created_on=dt.datetime(2020, 1, 1)))
        db.session.commit()
    admin = login_as("admin")
    assert filter_index(admin, "ProjectRequestView", "created_on", "小于") == SMALLER
    _count, shown = list_page(admin, "ProjectRequestView",
                              f"_flt_{SMALLER}_created_on=2021-01-01 00:00:00&psize_ProjectRequestView=100")
    assert old in shown and new not in shown


def filter_index(client, view, column, name):
    """The index of the filter called ``name`` among ``column``'s filters, as the search
    form offers it (FAB's filter table in the page's script)."""
    import json

    html = client.get(f"/{view.lower()}/list/").get_data(as_text=True)
    tables = re.findall(r"\n\s*(\{.*?\}),\n", html)
    for table in tables:
        names = json.loads(table).get(column)
        if isinstance(names, list) and name in names:
            return names.index(name)
    raise AssertionError(f"no filter {name} on {view}.{column}")


def rows_with(html, text):
    """The record ids of the list rows that contain ``text``."""
    found = set()
    for row in re.findall(r"(?s)<tr>(.*?)</tr>", html):
        match = re.search(r'href="/\w+/show/(\d+)"', row)
        if match and text in row:
            found.add(int(match.group(1)))
    return found


def test_findings_past_due_and_open_carry_a_badge_and_a_filter(app, login_as, make):
    from app.audit.models import AuditFinding, FindingStatus
    from app.extensions import db

    mine = unique("逾期")
    late = make("finding", title=mine + "a", due_date=today() - dt.timedelta(days=1))
    due_today = make("finding", title=mine + "b", due_date=today())
    closed = make("finding", title=mine + "c", due_date=today() - dt.timedelta(days=30))
    with app.app_context():
        db.session.execute(update(AuditFinding).where(AuditFinding.id == closed)
                           .values(status=FindingStatus.closed))
        db.session.commit()
    admin = login_as("admin")
    html = admin.get(f"/auditfindingview/list/?_flt_0_title={mine}").get_data(as_text=True)
    badged = rows_with(html, "已逾期")
    assert late in badged and due_today not in badged and closed not in badged
    _count, shown = list_page(admin, "AuditFindingView",
                              f"_flt_{filter_index(admin, 'AuditFindingView', 'due_date', '已逾期')}_due_date=y&_flt_0_title={mine}")
    assert late in shown and due_today not in shown and closed not in shown


def test_contracts_ending_within_the_configured_days_carry_a_badge_and_a_filter(
        app, login_as, make):
    mine = unique("到期")
    soon = make("contract", name=mine + "a", end_date=today() + dt.timedelta(days=10))
    later = make("contract", name=mine + "b", end_date=today() + dt.timedelta(days=60))
    ended = make("contract", name=mine + "c", end_date=today() - dt.timedelta(days=1))
    admin = login_as("admin")
    html = admin.get(f"/contractview/list/?_flt_0_name={mine}").get_data(as_text=True)
    badged = rows_with(html, "30 天内到期")
    assert soon in badged and later not in badged and ended not in badged
    _count, shown = list_page(admin, "ContractView",
                              f"_flt_{filter_index(admin, 'ContractView', 'end_date', '即将到期')}_end_date=y&_flt_0_name={mine}")
    assert soon in shown and later not in shown and ended not in shown
    app.config["CONTRACT_DUE_DAYS"] = 90
    try:
        _count, shown = list_page(admin, "ContractView",
                                  f"_flt_{filter_index(admin, 'ContractView', 'end_date', '即将到期')}_end_date=y&_flt_0_name={mine}")
    finally:
        app.config["CONTRACT_DUE_DAYS"] = 30
    assert later in shown


def test_approvals_waiting_too_long_carry_a_badge_in_list_and_inbox(app, login_as, make):
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    mine = unique("等待")
    stale = make("project", dept="FIN", name=mine + "a", status=ProjectStatus.dept_review)
    fresh = make("project", dept="FIN", name=mine + "b", status=ProjectStatus.dept_review)
    draft = make("project", dept="FIN", name=mine + "c")
    with app.app_context():
        db.session.execute(update(ProjectRequest)
                           .where(ProjectRequest.id.in_([stale, draft]))
                           .values(changed_on=dt.datetime.utcnow() - dt.timedelta(days=10)))
        db.session.commit()
    head = login_as("head_fin")
    html = head.get(f"/projectrequestview/list/?_flt_0_name={mine}").get_data(as_text=True)
    badged = rows_with(html, "已等待超过 7 天")
    assert stale in badged and fresh not in badged and draft not in badged
    _count, shown = list_page(head, "ProjectRequestView",
                              f"_flt_{filter_index(head, 'ProjectRequestView', 'status', '等待过久')}_status=y"
                              f"&_flt_0_name={mine}")
    assert stale in shown and fresh not in shown and draft not in shown
    inbox = head.get("/inbox/").get_data(as_text=True)
    waiting = rows_with(inbox, "已等待超过 7 天")
    assert stale in waiting and fresh not in waiting and draft not in waiting


def test_long_names_are_cut_with_the_full_text_on_hover(login_as, make):
    name = (unique("很长的项目名称") * 20)[:200]  # the column's full length
    project = make("project", name=name)
    html = login_as("admin").get(
        f"/projectrequestview/list/?_flt_0_name={name[:20]}").get_data(as_text=True)
    assert f'<span class="cut" title="{name}">{name}</span>' in html
    assert project in rows_with(html, name)


def test_list_marks_key_and_secondary_columns_for_narrow_screens(login_as):
    html = login_as("admin").get("/incidentview/list/").get_data(as_text=True)
    assert 'class="col-key col-title"' in html and 'class="col-key col-status"' in html
    assert 'class="col-key col-occurred_at"' in html
    assert 'class="col-secondary col-system"' in html
