"""The audit journey in a real browser (8.1.1, 8.2.1): the auditor opens an audit on its
add form (native date inputs) with a finding for 财务部; head_fin finds the finding in
待我处理, writes the rectification and attaches its evidence file in the submit step on the
finding's page (a refused step keeps what was typed and says what is missing); the auditor
sees the file, verifies the rectification and closes the finding (asked to confirm).
Every page is checked for raw error text and for being in Chinese; a screenshot of every
open page is kept (under the test's tmp dir) when the journey fails.
"""
from test_browser_workspace import PDF, people, shoot_on_failure  # noqa: F401 (fixture)


def choose_by_label(person, select_id, label):
    """Pick the option of a select2 dropdown whose text is ``label``."""
    found = person.page.evaluate(
        """([id, label]) => {
            const option = [...document.getElementById(id).options]
                .find(o => o.text.trim() === label);
            if (!option) return false;
            $('#' + id).val(option.value).trigger('change');
            return true;
        }""", [select_id, label])
    assert found, f"no option {label!r} in #{select_id}"


def test_audit_journey_with_the_rectifications_evidence_file(live_server, people, app, ids,
                                                              tmp_path):
    try:
        _audit_journey(people, app, ids, tmp_path)
    except BaseException:
        shoot_on_failure(people, tmp_path)
        raise


def _audit_journey(people, app, ids, tmp_path):
    from app.audit.models import Audit, AuditFinding
    from app.extensions import db

    evidence = tmp_path / "整改证明材料.pdf"
    evidence.write_bytes(PDF)
    audit_title = "浏览器审计：财务系统年度审计"
    finding_title = "浏览器审计发现：总账权限未定期复核"

    # 1. The auditor opens the audit on its add form, with the native date inputs.
    auditor = people("auditor")
    auditor.open("/auditview/add")
    page = auditor.page
    page.fill("#title", audit_title)
    choose_by_label(auditor, "department", "财务部")
    page.fill("#scope", "总账系统的权限与数据")
    assert page.locator("#period_start").get_attribute("type") == "date"
    page.fill("#period_start", "2026-01-01")
    page.fill("#period_end", "2026-06-30")
    page.click("#model_form button[type=submit]")
    page.wait_for_load_state()
    auditor.check()
    assert "/auditview/show/" in page.url, page.locator(".alert, .help-block").all_inner_texts()
    with app.app_context():
        audit = db.session.query(Audit).filter_by(title=audit_title).one()
        assert (audit.period_start.isoformat(), audit.period_end.isoformat()) == (
            "2026-01-01", "2026-06-30")
        audit_id = audit.id

    # ... and records a finding for 财务部, with the rectification due date.
    auditor.open("/auditfindingview/add")
    assert page.locator("#rectification").count() == 0  # the department writes that
    auditor.choose("audit", audit_id)
    page.fill("#title", finding_title)
    page.fill("#description", "总账系统的用户权限一年未复核")
    choose_by_label(auditor, "responsible_department", "财务部")
    page.fill("#due_date", "2026-12-31")
    page.click("#model_form button[type=submit]")
    page.wait_for_load_state()
    auditor.check()
    assert "/auditfindingview/show/" in page.url, \
        page.locator(".alert, .help-block").all_inner_texts()
    finding_id = int(page.url.rstrip("/").split("/")[-1])
    assert "待整改" in auditor.state()
    # The auditor is offered no rectification step and no evidence upload.
    assert page.locator("button[data-transition='submit']").count() == 0
    assert page.locator("#rectification_evidence_upload").count() == 0

    # 2. head_fin finds it in 待我处理 and opens it.
    head = people("head_fin")
    head.open("/inbox/?page=last")  # the newest records
    head.page.locator("table.inbox a", has_text=finding_title).click()
    head.page.wait_for_load_state()
    head.check()
    assert f"/auditfindingview/show/{finding_id}" in head.page.url
    fields = head.page.locator("fieldset.step-fields[data-step='submit']")

    # A submit without the rectification text: refused, what was typed stays, and the
    # page says what is missing (the text, not the file).
    fields.locator("#rectification_evidence_upload").set_input_files(str(evidence))
    head.press("submit", comment="整改材料见附件")
    assert "待整改" in head.state()
    body = head.page.locator("body").inner_text()
    assert "请先填写整改情况" in body
    assert head.page.locator("textarea[name=comment]").input_value() == "整改材料见附件"
    step = head.page.locator("fieldset.step-fields[data-step='submit']")
    assert "此步骤需要填写此项" in step.inner_text()
    with app.app_context():
        stored = db.session.get(AuditFinding, finding_id)
        assert stored.rectification_evidence_id is None and stored.status.name == "open"

    # Written and attached: submitted in one step.
    step.locator("#rectification").fill("已完成总账权限复核，撤销离职人员账号 3 个")
    step.locator("#rectification_evidence_upload").set_input_files(str(evidence))
    head.press("submit")
    assert "整改已提交" in head.state()
    assert "整改证明材料.pdf" in head.page.locator("#Home").inner_text()
    head.close()
    with app.app_context():
        stored = db.session.get(AuditFinding, finding_id)
        assert stored.rectification == "已完成总账权限复核，撤销离职人员账号 3 个"
        assert stored.rectification_evidence.filename == "整改证明材料.pdf"
        evidence_id = stored.rectification_evidence_id

    # 3. The auditor sees the file, verifies the rectification and closes the finding.
    auditor.open(f"/auditfindingview/show/{finding_id}")
    link = auditor.page.locator(f"#Home a[href='/attachment/{evidence_id}']")
    assert link.count() == 1 and "整改证明材料.pdf" in link.inner_text()
    auditor.press("verify")
    assert "已验证" in auditor.state()
    auditor.press("close")
    assert auditor.dialogs and "无法撤销" in auditor.dialogs[-1]
    assert "已关闭" in auditor.state()
    with app.app_context():
        assert db.session.get(AuditFinding, finding_id).status.name == "closed"
