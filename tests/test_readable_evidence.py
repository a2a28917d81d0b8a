"""Evidence people can read (8.1, 5.1.3): the change log, the History tab and every version
speak Chinese, name people and records, show local time, and link to the record."""
import datetime as dt
import json
import re
from decimal import Decimal

import pytest


def last_entry(app, record_type, record_id):
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        entry = (db.session.query(ChangeEntry)
                 .filter_by(record_type=record_type, record_id=str(record_id))
                 .order_by(ChangeEntry.seq.desc()).first())
        return {"seq": entry.seq, "occurred_at": entry.occurred_at,
                "request_id": entry.request_id}


def local(moment):
    """A stored UTC time as the company reads it (Asia/Shanghai, UTC+8), to the second."""
    return (moment + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def changed_by_head_fin(app, make, api_as, ids):
    """A FIN project whose budget and department head_fin's API call changed."""
    project = make("project", dept="FIN")
    client, headers = api_as("head_fin")
    response = client.put(f"/api/v1/project_request/{project}",
                          json={"budget": 2500}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return project


def test_change_log_row_reads_in_chinese_with_names_local_time_and_links(
        app, make, api_as, login_as, ids):
    project = changed_by_head_fin(app, make, api_as, ids)
    entry = last_entry(app, "ProjectRequest", project)
    html = login_as("auditor").get(
        f"/changelog/list/?_flt_0_request_id={entry['request_id']}").get_data(as_text=True)
    assert "立项申请" in html and ">ProjectRequest<" not in html  # record type
    assert '<span class="person" title="head_fin">李强</span>' in html  # name, login on hover
    assert local(entry["occurred_at"]) in html  # company time, to the second
    assert f'href="/projectrequestview/show/{project}"' in html  # the record
    assert f'href="/changelog/version/ProjectRequest/{project}/{entry["seq"]}"' in html


def test_change_entry_page_shows_fields_by_label_and_values_by_name(
        app, make, api_as, login_as, ids):
    project = changed_by_head_fin(app, make, api_as, ids)
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        insert = (db.session.query(ChangeEntry)
                  .filter_by(record_type="ProjectRequest", record_id=str(project),
                             action="insert").one())
        pk = insert.id
    html = login_as("auditor").get(f"/changelog/show/{pk}").get_data(as_text=True)
    assert "申请部门" in html and "applicant_department_id" not in html
    assert "财务部" in html  # the department by name, not its key
    assert "起草" in html or "草稿" in html  # the state's Chinese label
    assert "None" not in html.split("changes")[-1]
    assert "version" not in re.findall(r"<th>([^<]*)</th>", html)  # internal counters


def test_history_tab_names_people_and_shows_local_seconds(app, make, api_as, login_as, ids):
    project = changed_by_head_fin(app, make, api_as, ids)
    entry = last_entry(app, "ProjectRequest", project)
    html = login_as("clerk_fin").get(f"/projectrequestview/show/{project}").get_data(
        as_text=True)
    history = html.split('id="History"')[1]
    assert '<span class="person" title="head_fin">李强</span>' in history
    assert local(entry["occurred_at"]) in history
    assert "预算（元）" in history and "2500" in history
    assert "—" in history  # the empty side of a created record is a dash
    assert "None" not in history


def test_version_page_names_related_records_and_links_back(app, make, login_as, ids):
    project = make("project", dept="MKT")
    entry = last_entry(app, "ProjectRequest", project)
    html = login_as("auditor").get(
        f"/changelog/version/ProjectRequest/{project}/{entry['seq']}").get_data(as_text=True)
    assert "市场部" in html and "立项申请" in html
    assert f'href="/projectrequestview/show/{project}"' in html
    assert local(entry["occurred_at"]) in html
    assert " UTC" not in html


def test_link_to_a_deleted_record_is_not_offered(app, make, login_as):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    project = make("project", dept="FIN")
    with app.app_context():
        db.session.delete(db.session.get(ProjectRequest, project))
        db.session.commit()
    entry = last_entry(app, "ProjectRequest", project)
    html = login_as("auditor").get(
        f"/changelog/list/?_flt_0_request_id={entry['request_id']}").get_data(as_text=True)
    assert f"/changelog/version/ProjectRequest/{project}/" in html
    assert f'href="/projectrequestview/show/{project}"' not in html


def test_re_approval_trail_is_translated_with_field_labels(app, make, login_as, ids):
    """The stored comment stays as recorded (hash-chained); the screen translates it."""
    from app.base import Approval, ChangeEntry
    from app.extensions import db

    project = make("project", dept="FIN")
    head = ids.user("head_fin")
    with app.app_context():
        approval = Approval(record_type="ProjectRequest", record_id=project,
                            transition="reapproval",
                            label="Approved content changed: approve again",
                            from_state="it_review", to_state="submitted",
                            actor_id=head, comment="Changed: budget, goals",
                            content_hash="0" * 64)
        db.session.add(approval)
        db.session.commit()
        stored = db.session.get(Approval, approval.id).comment
        entry = (db.session.query(ChangeEntry).filter_by(record_type="Approval",
                                                         record_id=str(approval.id)).one())
        pk, request_id = entry.id, entry.request_id
    assert stored == "Changed: budget, goals"
    auditor = login_as("auditor")
    listing = auditor.get(f"/changelog/list/?_flt_0_request_id={request_id}").get_data(
        as_text=True)
    assert "审批记录" in listing or "审批" in listing
    assert ">Approval<" not in listing
    html = auditor.get(f"/changelog/show/{pk}").get_data(as_text=True)
    assert "Changed: budget" not in html
    assert "预算（元）" in html and "建设目标" in html
    assert "李强" in html  # the actor by name
    assert f'href="/projectrequestview/show/{project}"' in html  # the record decided on


@pytest.mark.parametrize("resource, column, label", [
    ("project_request", "applicant_department_id", "申请部门"),
    ("incident", "system_id", "系统"),
    ("contract", "vendor_id", "供应商"),
])
def test_api_list_labels_are_chinese(api_as, resource, column, label):
    client, headers = api_as("admin")
    labels = client.get(f"/api/v1/{resource}/", headers=headers).get_json()["label_columns"]
    assert label in labels[column]


def test_api_show_labels_name_stamps_and_files_in_chinese(api_as, make):
    project = make("project", dept="FIN")
    client, headers = api_as("admin")
    labels = client.get(f"/api/v1/project_request/{project}",
                        headers=headers).get_json()["label_columns"]
    assert re.search("[A-Za-z]{3,}", labels["feasibility_report.filename"]) is None
    assert "创建人" in labels["created_by.username"] or "创建" in labels["created_by.username"]
    assert all(not re.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)+", str(v)) for v in labels.values())


def test_history_shows_the_submitter_as_a_person_and_hides_counters(app, make, login_as, ids):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    project = make("project", dept="FIN")
    head = ids.user("head_fin")
    with app.app_context():
        record = db.session.get(ProjectRequest, project)
        record.submitted_by_fk = head
        record.round = 3
        db.session.commit()
    history = login_as("clerk_fin").get(f"/projectrequestview/show/{project}").get_data(
        as_text=True).split('id="History"')[1]
    assert "提交人" in history and "submitted_by_fk" not in history
    assert '<span class="person" title="head_fin">李强</span>' in history, history[history.find("提交人") - 100:history.find("提交人") + 300]
    assert ">round<" not in history and ">version<" not in history


def test_approval_entry_in_the_change_log_links_to_the_record_decided_on(
        app, make, login_as, ids):
    from app.base import Approval, ChangeEntry
    from app.extensions import db

    project = make("project", dept="FIN", name="审批链接测试项目")
    head = ids.user("head_fin")
    with app.app_context():
        approval = Approval(record_type="ProjectRequest", record_id=project,
                            transition="submit", label="Submit", from_state="draft",
                            to_state="dept_review", actor_id=head,
                            content_hash="1" * 64)
        db.session.add(approval)
        db.session.commit()
        seq = db.session.query(ChangeEntry.seq).filter_by(
            record_type="Approval", record_id=str(approval.id)).scalar()
    html = login_as("auditor").get(f"/changelog/list/?_flt_0_seq={seq}").get_data(as_text=True)
    assert f'<a href="/projectrequestview/show/{project}">审批链接测试项目</a>' in html


def test_change_log_page_costs_the_same_few_queries_whatever_its_size(app, make, login_as):
    """Names are fetched per related table for the whole page, never per row."""
    from test_lists import capture_statements

    for n in range(60):
        make("project", dept="FIN" if n % 2 else "MKT")
    auditor = login_as("auditor")
    auditor.get("/changelog/list/")  # warm up
    for size in (5, 50):
        with capture_statements(app) as statements:
            html = auditor.get("/changelog/list/?_flt_0_record_type=ProjectRequest"
                               f"&psize_ChangeLogView={size}").get_data(as_text=True)
        assert html.count('class="version-link"') == size
        shapes = [re.sub(r"\(\?(, \?)*\)", "(...)", statement)
                  for statement, _parameters in statements]
        assert len(shapes) == len(set(shapes)), "a query ran once per row"
        assert len(shapes) <= 12, shapes
