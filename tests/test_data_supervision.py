"""Data records (7.1-7.3) and supervision checks (8.2.2) as a user sees them: the backup
rule of the scorecard, the restore test's date, the quality score's range and overdue
badge, and audit findings that come from an audit or from a supervision check."""
import datetime as dt

import pytest

from conftest import CSRF_RE
from test_readable_lists import filter_index, rows_with
from webhelpers import count, flashes, form_token, list_page


def _failing(app, system_id):
    from app.compliance import scorecard

    with app.test_request_context():
        card = scorecard()
    return next(s for s in card["systems"] if s["id"] == system_id)["failing"]


@pytest.fixture
def running_system(app, make):
    from app.organisation.models import Lifecycle

    return make("system", dept="FIN", lifecycle=Lifecycle.running)


def _backup(app, ids, system, **values):
    from app.data.models import BackupRecord
    from app.extensions import db

    with app.app_context():
        record = BackupRecord(system_id=system, department_id=ids.dept("FIN"),
                              medium="磁带", **values)
        db.session.add(record)
        db.session.commit()
        return record.id


def token(client, path):
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


# ------------------------------------------------------------------ 7.3.3 backups

def test_a_running_system_fails_7_3_3_until_backed_up_off_site_and_restore_tested(
        app, ids, running_system):
    from app.base import utcnow
    from app.data.models import RestoreResult

    assert "backup" in _failing(app, running_system)
    # Backed up recently, but kept on site: still failing.
    _backup(app, ids, running_system, taken_at=utcnow(), offsite_location=None,
            restore_tested_on=dt.date.today(), restore_result=RestoreResult.passed)
    assert "backup" in _failing(app, running_system)
    # An off-site copy, but it failed: still failing.
    _backup(app, ids, running_system, taken_at=utcnow(), offsite_location="灾备中心",
            succeeded=False)
    assert "backup" in _failing(app, running_system)
    # A successful off-site copy, with the on-site copy's restore test within the year.
    _backup(app, ids, running_system, taken_at=utcnow(), offsite_location="灾备中心")
    assert "backup" not in _failing(app, running_system)


def test_the_backup_rule_reads_its_periods_from_the_config(app, ids, running_system):
    from app.base import utcnow
    from app.data.models import RestoreResult

    _backup(app, ids, running_system, taken_at=utcnow() - dt.timedelta(days=3),
            offsite_location="灾备中心",
            restore_tested_on=dt.date.today() - dt.timedelta(days=200),
            restore_result=RestoreResult.passed)
    assert "backup" not in _failing(app, running_system)
    app.config["COMPLIANCE_BACKUP_DAYS"] = 2
    try:
        assert "backup" in _failing(app, running_system)
    finally:
        app.config["COMPLIANCE_BACKUP_DAYS"] = 7
    app.config["COMPLIANCE_RESTORE_DAYS"] = 100
    try:
        assert "backup" in _failing(app, running_system)
    finally:
        app.config["COMPLIANCE_RESTORE_DAYS"] = 365


def test_the_demo_web_content_system_fails_the_backup_rule_and_the_ledger_passes(app, ids):
    failing_cms = _failing(app, ids.system("MKT-CMS"))
    assert "backup" in failing_cms
    assert "backup" not in _failing(app, ids.system("FIN-GL"))


def test_a_restore_result_without_its_date_is_refused_on_the_form_and_the_api(
        app, login_as, api_as, ids):
    from app.data.models import BackupRecord

    client = login_as("it_staff")
    path = "/backuprecordview/add"
    data = {"csrf_token": token(client, path), "system": ids.system("FIN-GL"),
            "taken_at": "2026-03-01 02:00", "kind": "full", "medium": "无日期恢复测试",
            "succeeded": "y", "restore_result": "passed"}
    response = client.post(path, data=data)
    assert response.status_code == 200
    assert "填写恢复测试结果时须同时填写恢复测试日期。" in " ".join(
        flashes(response.get_data(as_text=True)))
    assert count(app, BackupRecord, medium="无日期恢复测试") == 0

    api, headers = api_as("it_staff")
    response = api.post("/api/v1/backup_record/", headers=headers, json={
        "system": ids.system("FIN-GL"), "kind": "full", "medium": "无日期恢复测试",
        "restore_result": "passed"})
    assert 400 <= response.status_code < 500
    assert count(app, BackupRecord, medium="无日期恢复测试") == 0


def test_a_backup_belongs_to_the_department_of_its_system(app, api_as, login_as, ids):
    from app.data.models import BackupRecord
    from app.extensions import db

    api, headers = api_as("it_staff")
    response = api.post("/api/v1/backup_record/", headers=headers, json={
        "system": ids.system("CRM"), "kind": "incremental", "medium": "部门归属测试",
        "offsite_location": "异地", "restore_result": "not_tested"})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        record = db.session.get(BackupRecord, response.get_json()["id"])
        assert record.department_id == ids.dept("MKT")
    # So the finance clerk does not see it, and the marketing clerk does.
    listing = "/backuprecordview/list/?_flt_0_medium=部门归属测试"
    assert "部门归属测试" not in login_as("clerk_fin").get(listing).get_data(as_text=True)
    assert "部门归属测试" in login_as("clerk_mkt").get(listing).get_data(as_text=True)


# --------------------------------------------------------------- 7.2 data quality

def test_a_quality_score_outside_0_to_100_is_refused_with_a_message(app, login_as, ids):
    from app.data.models import DataQualityCheck

    client = login_as("it_staff")
    path = "/dataqualitycheckview/add"
    for score in ("101", "-1"):
        response = client.post(path, data={
            "csrf_token": token(client, path), "title": "越界评分", "department": ids.dept("FIN"),
            "checked_on": "2026-03-01", "dimension": "accuracy", "score": score})
        assert response.status_code == 200
        assert "越界评分" in response.get_data(as_text=True)  # the input is kept
    assert count(app, DataQualityCheck, title="越界评分") == 0


def test_a_quality_issue_past_its_due_date_is_marked_overdue_until_rectified(
        app, login_as, make, ids):
    from app.data.models import DataQualityCheck
    from app.extensions import db

    today = dt.date.today()
    late = make("quality_check", dept="FIN", title="逾期质量问题a",
                rectification_due=today - dt.timedelta(days=1), issues="缺失")
    due_today = make("quality_check", dept="FIN", title="逾期质量问题b",
                     rectification_due=today, issues="缺失")
    client = login_as("clerk_fin")
    listing = "/dataqualitycheckview/list/?_flt_0_title=逾期质量问题"
    badged = rows_with(client.get(listing).get_data(as_text=True), "已逾期")
    assert late in badged and due_today not in badged
    index = filter_index(client, "DataQualityCheckView", "rectification_due", "已逾期")
    _count, shown = list_page(client, "DataQualityCheckView",
                              f"_flt_{index}_rectification_due=y&_flt_0_title=逾期质量问题")
    assert shown == {late}
    with app.app_context():
        db.session.get(DataQualityCheck, late).rectified_on = today
        db.session.commit()
    assert late not in rows_with(client.get(listing).get_data(as_text=True), "已逾期")


# ------------------------------------------------------- 8.2.2 supervision findings

def test_a_finding_names_exactly_one_of_audit_and_supervision_check(
        app, login_as, api_as, make, ids):
    from app.audit.models import AuditFinding

    audit, check = make("audit", dept="FIN"), make("supervision", dept="FIN")
    client = login_as("auditor")
    path = "/auditfindingview/add"
    base = {"title": "来源不明的发现", "description": "d", "severity": "medium",
            "responsible_department": ids.dept("FIN")}
    for source in ({}, {"audit": audit, "supervision_check": check}):
        response = client.post(path, data={**base, **source,
                                           "csrf_token": token(client, path)})
        assert response.status_code == 200
        assert "须且只能填写其中一项" in response.get_data(as_text=True)
    api, headers = api_as("auditor")
    for source in ({}, {"audit": audit, "supervision_check": check}):
        response = api.post("/api/v1/audit_finding/", headers=headers, json={**base, **source})
        assert response.status_code == 422, response.get_json()
    assert count(app, AuditFinding, title="来源不明的发现") == 0

    response = client.post(path, data={**base, "supervision_check": check,
                                       "csrf_token": token(client, path)})
    assert response.status_code == 302
    assert count(app, AuditFinding, title="来源不明的发现", supervision_check_id=check) == 1


def test_a_supervision_finding_is_rectified_through_the_finding_workflow_in_its_scope(
        app, login_as, make, ids):
    from app.audit.models import AuditFinding, FindingStatus
    from app.extensions import db

    check = make("supervision", dept="FIN")
    pk = make("finding", dept="FIN", audit_id=None, supervision_check_id=check,
              title="监督检查发现的问题")
    # The check's page lists it; another department sees neither.
    page = login_as("auditor").get(f"/supervisioncheckview/show/{check}").get_data(
        as_text=True)
    assert "监督检查发现的问题" in page
    outsider = login_as("clerk_mkt")
    assert outsider.get(f"/auditfindingview/show/{pk}").status_code == 404
    assert outsider.get(f"/supervisioncheckview/show/{check}").status_code == 404

    clerk = login_as("clerk_fin")
    with app.app_context():
        finding = db.session.get(AuditFinding, pk)
        finding.rectification = "已整改"
        db.session.commit()
        version = finding.version
    response = clerk.post(f"/auditfindingview/transition/{pk}/submit", data={
        "csrf_token": form_token(clerk), "version": version})
    assert response.status_code in (302, 303)
    with app.app_context():
        assert db.session.get(AuditFinding, pk).status is FindingStatus.rectification_submitted
