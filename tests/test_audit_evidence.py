"""The rectification of an audit finding has its evidence file (8.1.1, 8.2.1): the
responsible department attaches it with the submit step on the finding's page, beside the
rectification text; it is shown on the record page, in the History tab and in the API,
downloadable only by who may see the finding, and covered by the approvals' content hash.
Per-state rules: auditors write the finding, never its rectification or file; the
department writes the rectification and file, never the finding itself."""
import hashlib
import html as htmllib
import io

import pytest

from webhelpers import flashes, form_token, row

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def messages(response):
    return [htmllib.unescape(m) for m in flashes(response.get_data(as_text=True))]


def submit(client, pk, rectification="已修订审批流程并完成培训", data=PDF,
           filename="整改证明.pdf", **extra):
    form = {"csrf_token": form_token(client), "step_form": "submit",
            "rectification": rectification, **extra}
    if data is not None:
        form["rectification_evidence_upload"] = (io.BytesIO(data), filename)
    return client.post(f"/auditfindingview/transition/{pk}/submit",
                       content_type="multipart/form-data", data=form)


def evidence(app, pk):
    from app.audit.models import AuditFinding
    from app.extensions import db

    with app.app_context():
        attachment = db.session.get(AuditFinding, pk).rectification_evidence
        return None if attachment is None else (attachment.id, attachment.filename,
                                                attachment.sha256)


def approvals(app, pk):
    from app.base import Approval
    from app.extensions import db

    with app.app_context():
        return [(a.transition, a.content_hash) for a in db.session.query(Approval).filter_by(
            record_type="AuditFinding", record_id=pk).order_by(Approval.id)]


# ------------------------------------------------------------------ web step

def test_the_finding_page_offers_the_evidence_file_beside_the_submit_button(login_as, make):
    pk = make("finding")
    page = text(login_as("head_fin").get(f"/auditfindingview/show/{pk}"))
    step = page.split('value="submit"')[0]  # the step's form, up to its marker
    assert 'name="rectification"' in page
    assert 'name="rectification_evidence_upload"' in page and 'type="file"' in page
    assert 'enctype="multipart/form-data"' in step.rsplit("<form", 1)[1]
    # The text first, then the file that proves it.
    assert page.index('name="rectification"') < page.index('name="rectification_evidence_upload"')


def test_the_department_submits_the_rectification_with_its_evidence_file(
        app, login_as, make):
    from app.audit.models import AuditFinding

    pk = make("finding")
    head = login_as("head_fin")
    response = submit(head, pk)
    assert response.status_code == 302, messages(head.get(f"/auditfindingview/show/{pk}"))
    stored = row(app, AuditFinding, pk)
    assert stored["status"].name == "rectification_submitted"
    assert stored["rectification"] == "已修订审批流程并完成培训"
    attachment_id, filename, sha = evidence(app, pk)
    assert filename == "整改证明.pdf" and sha == hashlib.sha256(PDF).hexdigest()

    page = text(head.get(f"/auditfindingview/show/{pk}"))
    assert "整改证明材料" in page  # the field's Chinese label on the record page
    assert f'href="/attachment/{attachment_id}"' in page.split('id="History"')[0]
    assert f'href="/attachment/{attachment_id}"' in page.split('id="History"')[1]

    for user in ("head_fin", "clerk_fin", "auditor"):
        response = login_as(user).get(f"/attachment/{attachment_id}")
        assert response.status_code == 200, user
        assert hashlib.sha256(response.data).hexdigest() == sha
    for user in ("clerk_mkt", "head_mkt"):  # may not see the finding: nor its evidence
        response = login_as(user).get(f"/attachment/{attachment_id}")
        assert response.status_code == 404, user
        assert PDF not in response.data


def test_a_step_without_the_rectification_text_keeps_what_was_typed_and_says_so(
        app, login_as, make):
    from app.audit.models import AuditFinding
    from app.base import Attachment
    from webhelpers import count

    pk = make("finding")
    head = login_as("head_fin")
    files_before = count(app, Attachment)
    response = submit(head, pk, rectification="   ", data=None, comment="材料见附件")
    assert response.status_code == 422
    page = text(response)
    assert "请先填写整改情况。" in page
    assert "材料见附件" in page  # the comment typed stays
    groups = page.split('class="form-group')
    text_box = next(g for g in groups if 'name="rectification"' in g)
    upload = next(g for g in groups if 'name="rectification_evidence_upload"' in g)
    assert "此步骤需要填写此项。" in text_box
    assert "此步骤需要" not in upload  # the optional file is not what is missing
    stored = row(app, AuditFinding, pk)
    assert stored["status"].name == "open" and stored["rectification_evidence_id"] is None
    assert count(app, Attachment) == files_before
    assert approvals(app, pk) == []


@pytest.mark.parametrize("data, filename, says", [
    (PNG, "整改证明.pdf", "不符"),  # content and extension disagree
    (b"", "空.pdf", "文件为空"),
    (b"MZ\x90\x00" + b"\x00" * 60, "程序.exe", "PDF"),
])
def test_a_refused_evidence_file_moves_nothing_and_says_why(app, login_as, make, data,
                                                            filename, says):
    from app.audit.models import AuditFinding
    from app.base import Attachment
    from webhelpers import count

    pk = make("finding")
    head = login_as("head_fin")
    files_before = count(app, Attachment)
    response = submit(head, pk, data=data, filename=filename)
    assert response.status_code == 422
    page = text(response)
    assert says in page and "已修订审批流程并完成培训" in page  # the text typed stays
    stored = row(app, AuditFinding, pk)
    assert stored["status"].name == "open" and stored["rectification"] is None
    assert count(app, Attachment) == files_before


def test_the_submit_approval_covers_the_evidence_files_content(app, login_as, make):
    from app.audit.models import AuditFinding
    from app.extensions import db
    from app.workflow import content_hash

    first, second = make("finding"), make("finding")
    head = login_as("head_fin")
    assert submit(head, first, data=PDF).status_code == 302
    assert submit(head, second, data=PDF.replace(b"%%EOF", b"%v2\n%%EOF")).status_code == 302
    workflow = AuditFinding.__workflow__
    with app.app_context():
        one, other = db.session.get(AuditFinding, first), db.session.get(AuditFinding, second)
        (_step, stored), = approvals(app, first)
        assert stored == content_hash(workflow, one)
        # The same finding with the other file is other content: the decision tells.
        one.rectification_evidence = other.rectification_evidence
        assert content_hash(workflow, one) != stored
        db.session.rollback()


def test_replacing_the_evidence_after_submitting_asks_for_submission_again(
        app, login_as, make):
    """A new file under review is a change of the content the submission covered."""
    from app.audit.models import AuditFinding

    pk = make("finding")
    head = login_as("head_fin")
    assert submit(head, pk).status_code == 302
    old = evidence(app, pk)
    response = head.post(f"/auditfindingview/edit/{pk}", content_type="multipart/form-data",
                         data={"csrf_token": form_token(head),
                               "rectification": "已修订审批流程并完成培训",
                               "rectification_evidence_upload": (
                                   io.BytesIO(PDF.replace(b"%%EOF", b"%new\n%%EOF")),
                                   "补充证明.pdf")})
    assert response.status_code == 302
    new = evidence(app, pk)
    assert new[0] != old[0] and new[1] == "补充证明.pdf"
    assert [step for step, _hash in approvals(app, pk)] == ["submit", "reapproval"]
    assert row(app, AuditFinding, pk)["status"].name == "rectification_submitted"


# ------------------------------------------------------------ per-state rules

def test_an_auditor_cannot_write_the_rectification_or_its_file(app, login_as, api_as,
                                                                make):
    from app.audit.models import AuditFinding
    from app.base import Attachment
    from webhelpers import count

    pk = make("finding")
    auditor = login_as("auditor")
    page = text(auditor.get(f"/auditfindingview/show/{pk}"))
    assert 'name="rectification_evidence_upload"' not in page
    edit = text(auditor.get(f"/auditfindingview/edit/{pk}"))
    assert 'name="title"' in edit
    assert 'name="rectification"' not in edit
    assert 'name="rectification_evidence_upload"' not in edit
    files_before = count(app, Attachment)
    auditor.post(f"/auditfindingview/edit/{pk}", content_type="multipart/form-data",
                 data={"csrf_token": form_token(auditor), "title": "测试发现",
                       "rectification": "审计员代写",
                       "rectification_evidence_upload": (io.BytesIO(PDF), "代交.pdf")})
    stored = row(app, AuditFinding, pk)
    assert stored["rectification"] is None and stored["rectification_evidence_id"] is None
    assert count(app, Attachment) == files_before

    response = submit(auditor, pk)
    assert response.status_code in (403, 404, 422)
    assert row(app, AuditFinding, pk)["status"].name == "open"
    assert evidence(app, pk) is None

    client, headers = api_as("auditor")
    response = client.put(f"/api/v1/audit_finding/{pk}", headers=headers,
                          json={"rectification": "审计员代写"})
    assert response.status_code in (403, 422)
    assert row(app, AuditFinding, pk)["rectification"] is None


def test_the_department_cannot_change_the_findings_title(app, login_as, api_as, make):
    from app.audit.models import AuditFinding

    pk = make("finding")
    title = row(app, AuditFinding, pk)["title"]
    head = login_as("head_fin")
    edit = text(head.get(f"/auditfindingview/edit/{pk}"))
    assert 'name="rectification"' in edit and 'name="rectification_evidence_upload"' in edit
    assert 'name="title"' not in edit
    head.post(f"/auditfindingview/edit/{pk}", data={
        "csrf_token": form_token(head), "title": "部门改名", "rectification": "整改中"})
    assert row(app, AuditFinding, pk)["title"] == title

    client, headers = api_as("head_fin")
    response = client.put(f"/api/v1/audit_finding/{pk}", headers=headers,
                          json={"title": "部门改名"})
    assert response.status_code in (403, 422)
    assert row(app, AuditFinding, pk)["title"] == title


def test_another_department_cannot_submit_the_rectification(app, login_as, make):
    from app.audit.models import AuditFinding

    pk = make("finding")
    response = submit(login_as("head_mkt"), pk)
    assert response.status_code in (403, 404)
    assert row(app, AuditFinding, pk)["status"].name == "open"
    assert evidence(app, pk) is None


# ------------------------------------------------------------------------ API

def test_the_api_shows_the_evidence_file_by_name_and_hash(app, login_as, api_as, make):
    pk = make("finding")
    assert submit(login_as("head_fin"), pk).status_code == 302
    client, headers = api_as("auditor")
    body = client.get(f"/api/v1/audit_finding/{pk}", headers=headers).get_json()
    assert body["result"]["rectification_evidence"] == {
        "filename": "整改证明.pdf", "sha256": hashlib.sha256(PDF).hexdigest()}
    assert body["label_columns"]["rectification_evidence.filename"] == "整改证明材料（文件名）"


def test_the_api_submit_step_takes_the_text_and_refuses_a_file_reference(
        app, api_as, make):
    from app.audit.models import AuditFinding

    pk = make("finding")
    client, headers = api_as("head_fin")
    response = client.post(f"/api/v1/audit_finding/{pk}/transition/submit", headers=headers,
                           json={"rectification": "已整改", "rectification_evidence": 1})
    assert response.status_code == 422
    assert "rectification_evidence" in response.get_json()["message"]
    assert row(app, AuditFinding, pk)["status"].name == "open"

    response = client.post(f"/api/v1/audit_finding/{pk}/transition/submit", headers=headers,
                           json={"rectification": "已整改"})
    assert response.status_code == 200, response.get_json()
    assert row(app, AuditFinding, pk)["status"].name == "rectification_submitted"
