"""Attachments (checked by content, stored with name, type, size and SHA-256, always
downloaded, never rendered) and the created/changed stamps of records."""
import hashlib
import io

import pytest

from app.base import Attachment
from app.planning.models import ProjectRequest
from webhelpers import count, flashes, form_token, row

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64

BAD_FILES = {
    "html-named-pdf": ("报告.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    "exe-named-pdf": ("报告.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 120),
    "png-named-pdf": ("报告.pdf", PNG),
    "pdf-named-exe": ("报告.exe", PDF.replace(b"%%EOF", b"%named exe\n%%EOF")),
    "plain-text": ("说明.txt", b"just some text\n"),
    "empty": ("空.pdf", b""),
}


def project_form(ids, name, **extra):
    return {"name": name, "applicant_department": ids.dept("FIN"), "background": "b",
            "goals": "g", "content": "c", "budget": "1000", "implementation_plan": "p",
            **extra}


def upload(data, filename):
    return (io.BytesIO(data), filename)


def stored_report(app, project_id):
    """The requirements report of a project as stored: metadata and bytes."""
    from app.extensions import db

    with app.app_context():
        project = db.session.get(ProjectRequest, project_id)
        attachment = project.requirements_report
        if attachment is None:
            return None
        return {"id": attachment.id, "filename": attachment.filename,
                "content_type": attachment.content_type, "size": attachment.size,
                "sha256": attachment.sha256, "data": attachment.data,
                "uploaded_by": attachment.uploaded_by_fk}


def project_id_by_name(app, name):
    from app.extensions import db

    with app.app_context():
        return db.session.query(ProjectRequest.id).filter_by(name=name).scalar()


def attachments_with(app, data):
    return count(app, Attachment, sha256=hashlib.sha256(data).hexdigest())


# ---------------------------------------------------------------- uploading

def test_upload_on_add_stores_name_type_size_and_hash(app, login_as, ids):
    client = login_as("clerk_fin")
    name = "附件新增项目"
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, name), "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(PDF, "需求报告.pdf")})
    assert response.status_code == 302
    report = stored_report(app, project_id_by_name(app, name))
    assert report is not None
    assert report["filename"] == "需求报告.pdf"
    assert report["content_type"] == "application/pdf"
    assert report["size"] == len(PDF)
    assert report["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert report["data"] == PDF
    assert report["uploaded_by"] == ids.user("clerk_fin")


def test_upload_on_edit_replaces_the_report(app, login_as, make, ids):
    pk = make("project", dept="FIN")
    client = login_as("head_fin")
    new_pdf = PDF.replace(b"/Count 0", b"/Count 0 /Edited true")
    response = client.post(f"/projectrequestview/edit/{pk}", content_type="multipart/form-data",
                           data={**project_form(ids, row(app, ProjectRequest, pk)["name"]),
                                 "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(new_pdf, "修订版.pdf")})
    assert response.status_code == 302
    report = stored_report(app, pk)
    assert report["filename"] == "修订版.pdf"
    assert report["sha256"] == hashlib.sha256(new_pdf).hexdigest()
    assert report["uploaded_by"] == ids.user("head_fin")


def test_upload_keeps_only_the_file_name_of_a_path(app, login_as, ids):
    client = login_as("clerk_fin")
    name = "路径文件名项目"
    client.post("/projectrequestview/add", content_type="multipart/form-data",
                data={**project_form(ids, name), "csrf_token": form_token(client),
                      "requirements_report_upload": upload(PDF, "..\\..\\etc/需求.pdf")})
    assert stored_report(app, project_id_by_name(app, name))["filename"] == "需求.pdf"


@pytest.mark.parametrize("filename,data", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_whose_content_is_not_what_it_claims_is_refused_on_add(
        app, login_as, ids, filename, data):
    client = login_as("clerk_fin")
    name = f"拒收附件-{filename}-{len(data)}"
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, name), "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(data, filename)})
    assert response.status_code == 200  # the form again, with the reason
    assert flashes(response.get_data(as_text=True)), "no message explains the refusal"
    assert count(app, ProjectRequest, name=name) == 0
    if data:
        assert attachments_with(app, data) == 0


@pytest.mark.parametrize("filename,data", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_whose_content_is_not_what_it_claims_is_refused_on_edit(
        app, login_as, make, ids, filename, data):
    pk = make("project", dept="FIN")
    before = row(app, ProjectRequest, pk)
    client = login_as("clerk_fin")
    response = client.post(f"/projectrequestview/edit/{pk}", content_type="multipart/form-data",
                           data={**project_form(ids, "改名并上传"),
                                 "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(data, filename)})
    assert response.status_code == 200
    assert flashes(response.get_data(as_text=True)), "no message explains the refusal"
    assert row(app, ProjectRequest, pk) == before
    assert stored_report(app, pk) is None


def test_the_refusal_message_names_the_problem(login_as, ids):
    client = login_as("clerk_fin")
    client.get("/lang/en")  # messages in English, so the test can read them
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, "英文消息"), "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(PNG, "报告.pdf")})
    messages = " ".join(flashes(response.get_data(as_text=True)))
    assert "extension does not match" in messages or "扩展名" in messages, messages


def test_an_oversize_file_is_refused(app, login_as, ids, monkeypatch):
    big = PDF.replace(b"%%EOF", b"%" + b"x" * 4096 + b"\n%%EOF")
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    client = login_as("clerk_fin")
    name = "超大附件项目"
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, name), "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(big, "大报告.pdf")})
    assert response.status_code == 200
    assert flashes(response.get_data(as_text=True))
    assert count(app, ProjectRequest, name=name) == 0
    assert attachments_with(app, big) == 0

    # Within the limit, the same form is accepted.
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, name), "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(PDF, "小报告.pdf")})
    assert response.status_code == 302
    assert stored_report(app, project_id_by_name(app, name))["size"] == len(PDF)


def test_a_request_beyond_the_upload_limit_is_refused_cleanly(app, login_as, ids, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    client = login_as("clerk_fin")
    name = "超过请求上限"
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, name), "csrf_token": form_token(client),
                                 "requirements_report_upload": upload(PDF * 100, "大.pdf")})
    assert response.status_code == 413
    assert count(app, ProjectRequest, name=name) == 0


# -------------------------------------------------------------- downloading

def test_download_is_an_attachment_with_the_stored_bytes(app, login_as, ids):
    client = login_as("clerk_fin")
    name = "下载附件项目"
    client.post("/projectrequestview/add", content_type="multipart/form-data",
                data={**project_form(ids, name), "csrf_token": form_token(client),
                      "requirements_report_upload": upload(PDF, "需求报告.pdf")})
    report = stored_report(app, project_id_by_name(app, name))

    show = client.get(f"/projectrequestview/show/{project_id_by_name(app, name)}")
    assert f'href="/attachment/{report["id"]}"' in show.get_data(as_text=True)

    response = client.get(f"/attachment/{report['id']}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%E9%9C%80%E6%B1%82%E6%8A%A5%E5%91%8A.pdf" in disposition
    assert response.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert hashlib.sha256(response.data).hexdigest() == report["sha256"]
    assert response.headers.get("X-Attachment-SHA256", report["sha256"]) == report["sha256"]


def test_download_needs_a_signed_in_user(app, client, make):
    from app.extensions import db

    with app.app_context():
        attachment = Attachment(filename="a.pdf", content_type="application/pdf",
                                size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), data=PDF)
        db.session.add(attachment)
        db.session.commit()
        attachment_id = attachment.id
    make("project", dept="FIN", requirements_report_id=attachment_id)
    response = client.get(f"/attachment/{attachment_id}")
    assert response.status_code in (302, 401, 403, 404)
    assert PDF not in response.data


# ------------------------------------------------------------------- stamps

def test_web_records_carry_their_author_and_last_editor(app, login_as, ids):
    client = login_as("clerk_fin")
    name = "盖章项目"
    response = client.post("/projectrequestview/add", data={
        **project_form(ids, name), "csrf_token": form_token(client)})
    assert response.status_code == 302
    pk = project_id_by_name(app, name)
    created = row(app, ProjectRequest, pk)
    assert created["created_by_fk"] == ids.user("clerk_fin")
    assert created["changed_by_fk"] == ids.user("clerk_fin")

    editor = login_as("head_fin")
    response = editor.post(f"/projectrequestview/edit/{pk}", data={
        **project_form(ids, name, goals="新的目标"), "csrf_token": form_token(editor)})
    assert response.status_code == 302
    changed = row(app, ProjectRequest, pk)
    assert changed["goals"] == "新的目标"
    assert changed["created_by_fk"] == ids.user("clerk_fin")
    assert changed["created_on"] == created["created_on"]
    assert changed["changed_by_fk"] == ids.user("head_fin")
    assert changed["changed_on"] >= created["changed_on"]

    show = editor.get(f"/projectrequestview/show/{pk}").get_data(as_text=True)
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        clerk, head = (str(db.session.get(AppUser, ids.user(name)))
                       for name in ("clerk_fin", "head_fin"))
    assert clerk in show and head in show


def test_api_records_carry_their_author(app, api_as, ids):
    client, headers = api_as("clerk_fin")
    response = client.post("/api/v1/project_request/", headers=headers, json={
        "name": "接口盖章", "applicant_department": ids.dept("FIN"), "background": "b",
        "goals": "g", "content": "c", "budget": 1, "implementation_plan": "p"})
    assert response.status_code == 201
    pk = response.get_json()["id"]
    assert row(app, ProjectRequest, pk)["created_by_fk"] == ids.user("clerk_fin")
    shown = client.get(f"/api/v1/project_request/{pk}", headers=headers).get_json()["result"]
    assert shown["created_by"]["username"] == "clerk_fin"


def test_records_made_outside_a_request_have_no_author_and_still_show(app, login_as, make):
    pk = make("project", dept="FIN")
    stored = row(app, ProjectRequest, pk)
    assert stored["created_by_fk"] is None and stored["changed_by_fk"] is None
    assert stored["created_on"] is not None
    response = login_as("clerk_fin").get(f"/projectrequestview/show/{pk}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert stored["name"] in html
    with app.test_request_context():
        from flask_babel import gettext

        system_label = gettext("System")
    assert system_label in html
