"""Attachment names and versions (1.3.3, 5.1.3), over HTTP: invisible characters are
stripped from names, a long name keeps its extension, and a replaced file stays
downloadable from the record's History tab by those who may see the record."""
import hashlib
import io

import pytest

from app.planning.models import ProjectRequest
from webhelpers import form_token, row

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def project_form(ids, name):
    return {"name": name, "applicant_department": ids.dept("FIN"), "background": "b",
            "goals": "g", "content": "c", "budget": "1000", "implementation_plan": "p"}


def add_with_report(app, client, ids, name, filename, data=PDF):
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, name), "csrf_token": form_token(client),
                                 "requirements_report_upload": (io.BytesIO(data), filename)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    from app.extensions import db

    with app.app_context():
        project = db.session.query(ProjectRequest).filter_by(name=name).one()
        return project.id, project.requirements_report.id, project.requirements_report.filename


@pytest.mark.parametrize("uploaded,stored", [
    ("需求\x07报告\x1b.pdf", "需求报告.pdf"),
    ("\t需求\u202e报告\u200b.pdf", "需求报告.pdf"),
    ("report\x7f\x0b\x0c.pdf", "report.pdf"),
], ids=["bell-escape", "tab-bidi-zero-width", "del-vtab-formfeed"])
def test_control_and_invisible_characters_are_stripped_from_a_name(app, login_as, ids,
                                                                   uploaded, stored):
    client = login_as("clerk_fin")
    _pk, attachment, filename = add_with_report(app, client, ids, f"文件名清理{hash(uploaded)}",
                                                uploaded)
    assert filename == stored
    response = client.get(f"/attachment/{attachment}")
    assert response.status_code == 200
    assert "\x1b" not in response.headers["Content-Disposition"]


def test_a_long_name_is_shortened_in_its_stem_and_keeps_its_extension(app, login_as, ids):
    client = login_as("clerk_fin")
    _pk, _attachment, filename = add_with_report(app, client, ids, "超长文件名项目",
                                                 "需求分析报告" * 60 + ".pdf")
    assert len(filename) == 255
    assert filename.endswith(".pdf") and filename.startswith("需求分析报告")


def test_a_replaced_report_stays_downloadable_from_the_history_tab(app, login_as, ids):
    first, second = PDF, PDF.replace(b"%%EOF", b"%revised\n%%EOF")
    clerk = login_as("clerk_fin")
    pk, old_id, _name = add_with_report(app, clerk, ids, "报告版本项目", "第一版.pdf", first)
    head = login_as("head_fin")
    response = head.post(f"/projectrequestview/edit/{pk}", content_type="multipart/form-data",
                         data={**project_form(ids, row(app, ProjectRequest, pk)["name"]),
                               "csrf_token": form_token(head),
                               "requirements_report_upload": (io.BytesIO(second), "第二版.pdf")})
    assert response.status_code == 302
    new_id = row(app, ProjectRequest, pk)["requirements_report_id"]
    assert new_id != old_id

    page = clerk.get(f"/projectrequestview/show/{pk}").get_data(as_text=True)
    history = page.split('id="History"')[1]
    assert f'href="/attachment/{old_id}"' in history and "第一版.pdf" in history
    assert f'href="/attachment/{new_id}"' in history

    for user in ("clerk_fin", "head_fin", "auditor"):
        response = login_as(user).get(f"/attachment/{old_id}")
        assert response.status_code == 200, user
        assert hashlib.sha256(response.data).hexdigest() == hashlib.sha256(first).hexdigest()
    for user in ("clerk_mkt", "head_mkt"):  # may not see the record: nor its old files
        response = login_as(user).get(f"/attachment/{old_id}")
        assert response.status_code == 404, user
        assert first not in response.data
