"""The printable approval form (审批单, app/approval_form.py; 5.1.3, 8.1.1, 8.2.1).

For every record type with a workflow (a matrix over ``workflow_models()``, so a new
approvable type is covered without a line here), its demo record with the most approvals
prints over HTTP as an A4 PDF whose text, read back with pypdf, holds the Chinese field
labels and values, every approval step's person and comment and content hash, the
attached files by name and SHA-256, and the verification line; the line verifies against
the hash-chained history (page and CLI), a tampered line does not; outsiders get 404 and
roles that may not read the record type do not get the form.
"""
import io
import re

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func

from app.approvals import workflow_models

A4 = (595.28, 841.89)  # points

MODELS = workflow_models()


def squeeze(text):
    """Text without any whitespace: a wrapped line or a copy from a PDF may add some."""
    return re.sub(r"\s+", "", str(text))


def read_pdf(data):
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def demo_record(app, model):
    """Id of the demo record of ``model`` with the most approvals (None without one)."""
    from app.base import Approval
    from app.extensions import db

    with app.app_context():
        return (db.session.query(Approval.record_id)
                .filter(Approval.record_type == model.__name__)
                .group_by(Approval.record_id)
                .order_by(func.count().desc(), Approval.record_id).limit(1).scalar())


def form_url(app, model, pk):
    from flask import url_for

    from app.chapters import view_for_model

    with app.test_request_context():
        return url_for(f"{view_for_model(model).__name__}.approval_form", pk=pk)


def expected(app, model, pk):
    """What the form must say, read from the database (zh)."""
    from app.approval_form import form_content
    from app.chapters import view_for_model
    from app.extensions import db

    view_class = view_for_model(model)
    view = next(v for v in app.appbuilder.baseviews if type(v) is view_class)
    with app.test_request_context(), force_locale("zh"):
        record = db.session.get(model, pk)
        content = form_content(record, view)
        db.session.rollback()
        return content


@pytest.fixture(scope="module")
def printed(app):
    """{model: (id, PDF bytes)} of every workflow model's demo record, printed by Admin."""
    from conftest import login

    client = app.test_client()
    login(client, "admin")
    found = {}
    for model in MODELS:
        pk = demo_record(app, model)
        if pk is None:
            continue
        response = client.get(form_url(app, model, pk))
        assert response.status_code == 200, (model.__name__, response.status_code)
        assert response.mimetype == "application/pdf"
        found[model] = (pk, response.data)
    return found


def test_every_workflow_model_has_a_demo_record_to_print(app, printed):
    assert set(printed) == set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_form_is_a4_of_at_most_two_pages_in_chinese(app, printed, model):
    pk, data = printed[model]
    assert data.startswith(b"%PDF-")
    reader, text = read_pdf(data)
    assert 1 <= len(reader.pages) <= 2
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4[0]) < 1 and abs(float(box.height) - A4[1]) < 1
    # The font is embedded (a subset), never left to the viewer.
    font = reader.pages[0]["/Resources"]["/Font"]
    for ref in font.values():
        descendant = ref.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
    content = expected(app, model, pk)
    flat = squeeze(text)
    assert "审批单" in flat and squeeze(content["title"]) in flat
    assert squeeze(content["record"]) in flat
    assert squeeze(content["state"]) in flat


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_form_holds_fields_files_approvals_and_the_line(app, printed, model):
    pk, data = printed[model]
    _reader, text = read_pdf(data)
    flat = squeeze(text)
    content = expected(app, model, pk)
    labels = [label for _title, rows in content["sections"] for label, _value in rows]
    assert any(re.search(r"[\u4e00-\u9fff]", label) for label in labels)
    for title, rows in content["sections"]:
        assert squeeze(title) in flat
        for label, value in rows:
            assert squeeze(label) in flat, label
            assert squeeze(value) in flat, (label, value)
    for _label, name, _size, digest in content["files"]:
        assert squeeze(name) in flat and digest in flat
    assert content["steps"], "the demo record has approvals"
    for step in content["steps"]:
        for key in ("step", "who", "at", "comment", "hash"):
            assert squeeze(step[key]) in flat, (key, step[key])
        assert step["genuine"]
    assert content["line"] in flat
    assert content["line"].startswith(f"{model.__name__}/{pk}@")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_printed_line_verifies_and_a_tampered_one_does_not(app, printed, model):
    from app.approval_form import check_line

    pk, data = printed[model]
    _reader, text = read_pdf(data)
    line = re.search(r"[A-Za-z]+/\d+@\d+:[0-9a-f]{64}", squeeze(text)).group(0)
    with app.test_request_context():
        result = check_line(line)
        assert result.ok and result.current, result.problems
        assert result.record.id == pk
        digest = line[-64:]
        forged = line[:-64] + ("0" if digest[0] != "0" else "1") + digest[1:]
        assert not check_line(forged).ok
        name, rest = line.split("/", 1)
        seq = int(rest.split("@")[1].split(":")[0])
        # Another entry of the chain with its real hash is not this record's evidence.
        from app.base import ChangeEntry
        from app.extensions import db

        other = (db.session.query(ChangeEntry)
                 .filter(ChangeEntry.record_type != name,
                         ChangeEntry.record_type != "Approval").first())
        assert not check_line(f"{name}/{pk}@{other.seq}:{other.hash}").ok
        assert not check_line(f"{name}/{pk}@{seq + 10**6}:{digest}").ok
        assert not check_line("hello").ok
        assert not check_line(f"{name}/{pk}@{10**30}:{digest}").ok  # beyond any integer
        assert not check_line(f"{name}/{10**30}@{seq}:{digest}").ok
        assert not check_line(f"Nothing/{pk}@{seq}:{digest}").ok


def test_cli_verify_form_walks_the_chain(app, printed):
    from app.approval_form import evidence_entry, verification_line
    from app.extensions import db

    model = MODELS[0]
    pk, _data = printed[model]
    with app.app_context():
        record = db.session.get(model, pk)
        line = verification_line(record, evidence_entry(record))
        db.session.rollback()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["history", "verify-form", line])
    assert result.exit_code == 0, result.output
    assert "校验行与变更记录及记录当前状态一致" in result.output
    assert "the chain is intact" in result.output
    tampered = line[:-1] + ("0" if line[-1] != "0" else "1")
    result = runner.invoke(args=["history", "verify-form", tampered])
    assert result.exit_code == 1


def test_verify_page_says_genuine_changed_or_not_matching(app, login_as, make):
    """A form printed, the record changed afterwards: still genuine, no longer current."""
    from app.extensions import db
    from app.planning.models import ProjectRequest

    pk = make("project", dept="FIN")
    clerk = login_as("clerk_fin")
    response = clerk.get(form_url(app, ProjectRequest, pk))
    assert response.status_code == 200
    _reader, text = read_pdf(response.data)
    line = re.search(r"ProjectRequest/\d+@\d+:[0-9a-f]{64}", squeeze(text)).group(0)
    page = clerk.get("/approval-form/verify", query_string={"line": line})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-ok="true"' in html and 'data-current="true"' in html
    assert "真实有效" in html
    # The line as copied from a PDF viewer, broken over two lines, still verifies.
    broken = line[:40] + " \n " + line[40:]
    html = clerk.get("/approval-form/verify", query_string={"line": broken}).get_data(
        as_text=True)
    assert 'data-ok="true"' in html
    # The record changes after printing: the line still matches the chain, not the record.
    with app.app_context():
        record = db.session.get(ProjectRequest, pk)
        record.goals = "改过的目标"
        db.session.commit()
    html = clerk.get("/approval-form/verify", query_string={"line": line}).get_data(
        as_text=True)
    assert 'data-ok="true"' in html and 'data-current="false"' in html
    assert "打印本审批单后记录已有变更" in html
    tampered = line[:-1] + ("0" if line[-1] != "0" else "1")
    html = clerk.get("/approval-form/verify", query_string={"line": tampered}).get_data(
        as_text=True)
    assert 'data-ok="false"' in html and "不一致" in html
    # Another department's reader learns nothing about the record.
    html = login_as("clerk_mkt").get("/approval-form/verify",
                                     query_string={"line": line}).get_data(as_text=True)
    assert 'data-ok="false"' in html and "找不到该记录" in html


def test_long_content_wraps_and_stays_readable(app, login_as, make):
    from app.planning.models import ProjectRequest

    long_text = "本项目建设内容包括需求调研、系统设计、开发测试与上线培训。" * 40  # 1,200 字
    word = "X" * 300  # one unbroken word longer than the page is wide
    pk = make("project", dept="FIN", content=long_text, background=word)
    response = login_as("clerk_fin").get(form_url(app, ProjectRequest, pk))
    assert response.status_code == 200
    reader, text = read_pdf(response.data)
    flat = squeeze(text)
    assert squeeze(long_text) in flat and word in flat
    assert len(reader.pages) <= 2
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - A4[0]) < 1


def test_text_longer_than_a_page_flows_onto_more_pages(app, login_as, make):
    """fpdf2 never breaks a table row over two pages: a text longer than a page goes on in
    several rows, each page A4, nothing lost; invisible characters are left out."""
    from app.planning.models import ProjectRequest

    very_long = "".join(f"第{n}段：系统运行维护与安全管理要求。" for n in range(400))  # ~7,000 字
    pk = make("project", dept="FIN", content=very_long,
              goals="目标\u202e含双向覆盖\u200b与制表\t符 😀")
    response = login_as("clerk_fin").get(form_url(app, ProjectRequest, pk))
    assert response.status_code == 200
    reader, text = read_pdf(response.data)
    assert len(reader.pages) > 2
    # Each page ends with its footer (the line, the page number); the text runs on.
    body = "".join(page.extract_text().rsplit("\n", 2)[0] for page in reader.pages)
    assert squeeze(very_long) in squeeze(body)
    for number, page in enumerate(reader.pages, 1):
        assert page.extract_text().endswith(f"{number}/{len(reader.pages)}")
    assert "目标含双向覆盖与制表符" in squeeze(text)
    for page in reader.pages:
        assert abs(float(page.mediabox.height) - A4[1]) < 1


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_outsiders_get_404(app, login_as, model):
    """A reader of another department: 404, exactly as the record page (scoping, 1.3.3)."""
    from flask import url_for

    from app.chapters import view_for_model

    pk = demo_record(app, model)
    with app.test_request_context():
        show = url_for(f"{view_for_model(model).__name__}.show", pk=pk)
    outsiders = 0
    for username in ("clerk_fin", "clerk_mkt", "head_mkt"):
        client = login_as(username)
        page = client.get(show).status_code
        response = client.get(form_url(app, model, pk))
        assert page in (200, 404)
        assert response.status_code == page, (username, page, response.status_code)
        outsiders += page == 404
        if page == 404:
            assert not response.data.startswith(b"%PDF")
    if model.__name__ != "DevelopmentPlan":  # plans are company-wide: nobody is outside
        assert outsiders, f"no outsider found for {model.__name__}"


@pytest.mark.parametrize("model", [m for m in MODELS
                                   if m.__name__ not in ("ProjectRequest", "ExpertReview",
                                                         "DevelopmentPlan")],
                         ids=lambda m: m.__name__)
def test_roles_without_read_get_no_form(app, login_as, model):
    pk = demo_record(app, model)
    response = login_as("expert").get(form_url(app, model, pk))
    assert response.status_code in (302, 403)
    assert not response.data.startswith(b"%PDF")


def test_signed_out_visitor_gets_no_form(app, client):
    model = MODELS[0]
    response = client.get(form_url(app, model, demo_record(app, model)))
    assert response.status_code in (302, 401, 403)
    assert not response.data.startswith(b"%PDF")


def test_record_page_offers_the_form_only_for_approvable_records(app, login_as):
    from app.chapters import view_for_model
    from app.organisation.models import Department

    admin = login_as("admin")
    model = MODELS[0]
    pk = demo_record(app, model)
    with app.test_request_context():
        from flask import url_for

        show = url_for(f"{view_for_model(model).__name__}.show", pk=pk)
        plain = url_for(f"{view_for_model(Department).__name__}.show", pk=1)
    html = admin.get(show).get_data(as_text=True)
    assert "打印审批单" in html and form_url(app, model, pk) in html
    assert "打印审批单" not in admin.get(plain).get_data(as_text=True)


def test_printing_changes_nothing(app, printed, login_as):
    """GET only reads: no history entry, no approval (app/methods.py)."""
    from app.base import ChainHead
    from app.extensions import db

    with app.app_context():
        before = db.session.get(ChainHead, 1).seq
    model = MODELS[-1]
    login_as("admin").get(form_url(app, model, demo_record(app, model)))
    with app.app_context():
        assert db.session.get(ChainHead, 1).seq == before
