"""Spreadsheet import of departments, users, systems and vendors (issue 12; PRODUCT.md
section 6; 1.3.2, 2.1.7, 4.1.2): template round trip, dry-run preview, all-or-nothing
commit with one request id, row errors in Chinese, bad files refused, who may import what.
All over HTTP, as the users do it."""
import csv
import io
import itertools
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import CSRF_RE

_n = itertools.count(1)


def token_of(web, path="/import/"):
    html = web.get(path).get_data(as_text=True)
    return CSRF_RE.search(html).group(1)


def csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def preview(web, kind, data, filename="data.csv", token=None):
    token = token or token_of(web)
    return web.post(f"/import/{kind}/preview", data={
        "csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")


def commit_token(response):
    match = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def commit(web, kind, response):
    token = commit_token(response)
    assert token, response.get_data(as_text=True)[-3000:]
    return web.post(f"/import/{kind}/commit", data={"csrf_token": token_of(web),
                                                    "token": token})


def import_file(web, kind, data, filename="data.csv"):
    first = preview(web, kind, data, filename)
    assert first.status_code == 200, first.get_data(as_text=True)[-3000:]
    return commit(web, kind, first)


def row_html(response, number):
    html = response.get_data(as_text=True)
    match = re.search(rf'<tr class="import-row import-(\w+)" data-row="{number}">(.*?)</tr>',
                      html, re.S)
    assert match, f"row {number} not in the preview"
    return match.group(1), match.group(2)


def count(app, model, **keys):
    from app.extensions import db

    with app.app_context():
        return db.session.query(model).filter_by(**keys).count()


def history_size(app):
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ChangeEntry))


@pytest.fixture
def labels(app):
    """The system importer's column labels in Chinese, as the screens name them."""
    from flask_babel import force_locale

    from app.organisation.imports import SYSTEM_FIELDS

    with app.test_request_context(), force_locale("zh"):
        return [str(f.label) for f in SYSTEM_FIELDS]


def system_row(labels, code, values=None):
    row = dict.fromkeys(labels, "")
    row.update({labels[0]: code, labels[1]: f"导入系统{code}", labels[3]: "FIN",
                labels[7]: "2"})
    for index, value in (values or {}).items():
        row[labels[index]] = value
    return [row[label] for label in labels]


# ------------------------------------------------------------------ templates

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_round_trip_creates_the_records(app, login_as, fmt):
    from app.organisation.models import Department

    web = login_as("admin")
    response = web.get(f"/import/department/template.{fmt}")
    assert response.status_code == 200
    code = f"IMP-T{next(_n)}"
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
        assert rows[0][:2] == ["编码", "名称"]
        rows[1][0], rows[1][1] = code, f"模板部门{code}"
        data = csv_bytes(rows)
    else:
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
        sheet = book.worksheets[0]
        assert [c.value for c in sheet[1]][:2] == ["编码", "名称"]
        sheet["A2"], sheet["B2"] = code, f"模板部门{code}"
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()
    response = import_file(web, "department", data, f"t.{fmt}")
    assert response.status_code == 302
    assert count(app, Department, code=code) == 1


def test_every_template_opens_for_admin_and_names_its_columns(login_as):
    web = login_as("admin")
    for kind in ("department", "user", "system", "vendor"):
        for fmt in ("csv", "xlsx"):
            assert web.get(f"/import/{kind}/template.{fmt}").status_code == 200
    page = web.get("/import/").get_data(as_text=True)
    assert "数据导入" in page and "统一社会信用代码" in page


# ------------------------------------------------------------------ round trip

def test_export_like_file_with_chinese_headers_imports_and_twice_changes_nothing(
        app, login_as, labels):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.organisation.models import InformationSystem

    web = login_as("it_staff")
    code = f"IMP-S{next(_n)}"
    data = xlsx_bytes([labels, system_row(labels, code, {2: "财务", 4: "it_staff",
                                                           8: "2026-05-01"})])
    first = preview(web, "system", data, "systems.xlsx")
    assert row_html(first, 2)[0] == "new"
    assert count(app, InformationSystem, code=code) == 0  # the preview wrote nothing
    assert commit(web, "system", first).status_code == 302
    assert count(app, InformationSystem, code=code) == 1
    with app.app_context():
        request_ids = {e.request_id for e in db.session.query(ChangeEntry).filter(
            ChangeEntry.record_type == "InformationSystem")
            .order_by(ChangeEntry.seq.desc()).limit(1)}
        assert len(request_ids) == 1
    before = history_size(app)
    again = preview(web, "system", data, "systems.xlsx")
    assert row_html(again, 2)[0] == "unchanged"
    assert commit_token(again) is None  # nothing to commit
    assert history_size(app) == before


def test_an_exported_list_imports_back_unchanged(app, login_as):
    """The real round trip: every demo system as an export would write it (labels,
    states by label, related records by title), imported as is: nothing to change."""
    from flask_babel import force_locale

    from app.extensions import db
    from app.organisation.imports import SYSTEM_FIELDS
    from app.organisation.models import InformationSystem

    with app.test_request_context(), force_locale("zh"):
        header = [str(f.label) for f in SYSTEM_FIELDS]
        rows = [header]
        for system in db.session.query(InformationSystem).order_by(InformationSystem.id):
            rows.append(["" if v is None else str(v) if not hasattr(v, "isoformat")
                         else v.isoformat() for v in (
                             system.code, system.name, system.category,
                             system.owning_department, system.it_custodian,
                             system.business_owner, system.lifecycle,
                             system.protection_level, system.go_live_date, system.vendor,
                             system.description)])
        db.session.rollback()
    response = preview(login_as("admin"), "system", csv_bytes(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "import-error" not in html and "import-new" not in html
    assert "import-changed" not in html


EXPORTED_LISTS = {"department": "/departmentview", "user": "/users",
                  "system": "/informationsystemview", "vendor": "/vendorview"}


def exported(web, kind, fmt, query=""):
    """The list as its 导出 menu writes it (the whole list as the admin sees it, or the
    list filtered by ``query``)."""
    response = web.post(f"{EXPORTED_LISTS[kind]}/export/{fmt}{query}",
                        data={"csrf_token": token_of(web)})
    assert response.status_code == 200, response.status_code
    return response.data


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("kind", sorted(EXPORTED_LISTS))
def test_a_list_exported_from_its_screen_imports_back_with_nothing_to_change(
        app, login_as, ids, kind, fmt):
    web = login_as("admin")
    # The users of one department: a person the company directory names no department
    # for (tests/test_directory_*.py) has none, which an import never takes.
    query = f"?_flt_0_department={ids.dept('FIN')}" if kind == "user" else ""
    response = preview(web, kind, exported(web, kind, fmt, query), f"export.{fmt}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[-2000:]
    assert "import-unchanged" in html
    assert "import-error" not in html and "import-new" not in html
    assert "import-changed" not in html
    # The columns the screen shows but an import does not set are named, not refused.
    assert "创建时间" in html.split('import-note">', 1)[1].split("</div>", 1)[0]


def test_an_exported_inventory_edited_with_planted_errors_is_refused_row_by_row(
        app, login_as, make):
    from app.extensions import db
    from app.organisation.models import InformationSystem

    ids = [make("system", dept="FIN") for _ in range(3)]
    with app.app_context():
        codes = [db.session.get(InformationSystem, i).code for i in ids]
        names = [db.session.get(InformationSystem, i).name for i in ids]
    web = login_as("admin")
    book = openpyxl.load_workbook(io.BytesIO(exported(web, "system", "xlsx")))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    rows = {row[header.index("编码")].value: row for row in sheet.iter_rows(min_row=2)}
    rows[codes[0]][header.index("名称")].value = "改过的名称"
    rows[codes[1]][header.index("归口部门")].value = "没有这个部门"
    rows[codes[2]][header.index("上线日期")].value = "2026-13-45"
    buffer = io.BytesIO()
    book.save(buffer)

    response = preview(web, "system", buffer.getvalue(), "edited.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    number = {code: n + 2 for n, code in enumerate(rows)}
    assert row_html(response, number[codes[0]])[0] == "changed"
    status, cell = row_html(response, number[codes[1]])
    assert status == "error" and "没有这个部门" in cell
    status, cell = row_html(response, number[codes[2]])
    assert status == "error" and "上线日期" in cell
    assert commit_token(response) is None and "import-error" in html
    with app.app_context():
        assert [db.session.get(InformationSystem, i).name for i in ids] == names


def test_two_people_with_one_name_keep_a_round_trip_unchanged_but_a_new_choice_names_them(
        app, login_as, make, ids):
    from app.extensions import db
    from app.organisation.models import InformationSystem

    kept, other = (make("system", dept="FIN") for _ in range(2))
    with app.app_context():
        twins = []
        for n in (1, 2):
            person = app.appbuilder.sm.add_user(
                f"twin{next(_n)}", "同名", "运维", f"twin{next(_n)}@example.com",
                app.appbuilder.sm.find_role("ITStaff"), password="Twin-Pass-2026")
            person.department_id = ids.dept("IT")
            twins.append(person.id)
            name = str(person)  # what the list shows and an export writes
        db.session.get(InformationSystem, kept).it_custodian_id = twins[0]
        db.session.commit()
        codes = {pk: db.session.get(InformationSystem, pk).code for pk in (kept, other)}
    web = login_as("admin")
    book = openpyxl.load_workbook(io.BytesIO(exported(web, "system", "xlsx")))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    rows = {row[header.index("编码")].value: n + 2
            for n, row in enumerate(sheet.iter_rows(min_row=2))}
    response = preview(web, "system", _saved(book), "export.xlsx")
    assert row_html(response, rows[codes[kept]])[0] == "unchanged"

    sheet.cell(rows[codes[other]], header.index("运维负责人") + 1).value = name
    response = preview(web, "system", _saved(book), "edited.xlsx")
    status, cell = row_html(response, rows[codes[other]])
    assert status == "error" and name in cell and "登录名" in cell
    assert row_html(response, rows[codes[kept]])[0] == "unchanged"


def _saved(book):
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_only_the_administrator_exports_the_users_and_never_their_passwords(
        app, login_as):
    web = login_as("admin")
    data = exported(web, "user", "csv").decode("utf-8-sig")
    assert "admin" in data and "部门" in data.splitlines()[0]
    assert "pbkdf2" not in data and "scrypt" not in data and "密码" not in data
    for username in ("clerk_fin", "head_fin", "it_staff", "auditor", "manager"):
        client = login_as(username)
        page = client.get("/incidentview/list/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/users/export/csv", data={"csrf_token": token})
        assert response.status_code in (302, 403, 404), (username, response.status_code)
        assert "admin" not in response.get_data(as_text=True).split("\n", 1)[0]
    assert web.get("/users/export/csv").status_code == 405


def test_a_changed_row_is_shown_then_written_in_one_request(app, login_as, labels, make):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.organisation.models import InformationSystem

    ids = [make("system", dept="FIN") for _ in range(2)]
    with app.app_context():
        codes = [db.session.get(InformationSystem, i).code for i in ids]
    web = login_as("admin")
    data = csv_bytes([labels] + [system_row(labels, c, {1: f"改名{c}"}) for c in codes])
    shown = preview(web, "system", data)
    status, cell = row_html(shown, 2)
    assert status == "changed" and f"改名{codes[0]}" in cell
    with app.app_context():
        assert db.session.get(InformationSystem, ids[0]).name != f"改名{codes[0]}"
    last = history_size(app)
    assert commit(web, "system", shown).status_code == 302
    with app.app_context():
        assert db.session.get(InformationSystem, ids[1]).name == f"改名{codes[1]}"
        entries = db.session.query(ChangeEntry).order_by(ChangeEntry.seq)[last:]
        assert {str(e.record_id) for e in entries} == {str(i) for i in ids}
        assert len({e.request_id for e in entries}) == 1


# ------------------------------------------------------------------ planted errors

def test_planted_errors_are_reported_on_their_rows_and_nothing_is_written(
        app, login_as, labels):
    from app.organisation.models import InformationSystem

    web = login_as("admin")
    n = next(_n)
    good = f"IMP-G{n}"
    data = csv_bytes([
        labels,
        system_row(labels, good),  # row 2: fine
        system_row(labels, f"IMP-B{n}", {3: "没有这个部门"}),  # 3: bad department
        system_row(labels, f"IMP-D{n}", {8: "2026-02-30"}),  # 4: invalid date
        system_row(labels, good),  # 5: the code again
        system_row(labels, f"IMP-L{n}", {7: "9"}),  # 6: protection level out of range
        system_row(labels, f"IMP-C{n}", {2: "不存在的类别"}),  # 7: unknown category
    ])
    before = history_size(app)
    response = preview(web, "system", data)
    assert row_html(response, 2)[0] == "new"
    status, cell = row_html(response, 3)
    assert status == "error" and "没有这个部门" in cell and "归口部门" in cell
    status, cell = row_html(response, 4)
    assert status == "error" and "日期无效" in cell and "上线日期" in cell
    status, cell = row_html(response, 5)
    assert status == "error" and "第 2 行" in cell
    assert row_html(response, 6)[0] == "error"
    assert row_html(response, 7)[0] == "error"
    assert commit_token(response) is None  # no commit offered
    assert count(app, InformationSystem, code=good) == 0
    assert history_size(app) == before


def test_a_code_that_exists_under_another_key_column_is_refused(app, login_as):
    """Vendors match by credit code; a new one named like an existing vendor is refused
    as the form would (the name is unique)."""
    from app.extensions import db
    from app.procurement.models import Vendor

    with app.app_context():
        taken = db.session.query(Vendor.name).order_by(Vendor.id).first()[0]
    data = csv_bytes([["统一社会信用代码", "名称"], [f"91IMP{next(_n):013d}", taken]])
    response = preview(login_as("it_staff"), "vendor", data)
    status, cell = row_html(response, 2)
    assert status == "error" and "已存在" in cell


def test_users_unknown_role_and_bad_department_are_reported(app, login_as):
    from app.base import AppUser

    n = next(_n)
    data = csv_bytes([
        ["用户名", "姓", "名", "邮箱", "部门", "角色"],
        [f"imp_u{n}", "张", "三", f"imp_u{n}@example.com", "FIN", "超级用户"],
        [f"imp_v{n}", "李", "四", f"imp_v{n}@example.com", "无此部门", "业务录入员"],
    ])
    response = preview(login_as("admin"), "user", data)
    status, cell = row_html(response, 2)
    assert status == "error" and "超级用户" in cell
    status, cell = row_html(response, 3)
    assert status == "error" and "无此部门" in cell
    assert count(app, AppUser, username=f"imp_u{n}") == 0


def test_one_bad_row_and_nothing_is_written_even_at_commit(app, login_as, labels, make):
    """All or nothing: a file that was fine at preview but whose records changed before
    the commit writes nothing (the commit checks the file again)."""
    from app.organisation.models import InformationSystem

    web = login_as("clerk_fin")
    n = next(_n)
    codes = [f"IMP-A{n}", f"IMP-Z{n}"]
    shown = preview(web, "system", csv_bytes([labels] + [system_row(labels, c)
                                                         for c in codes]))
    assert commit_token(shown)
    make("system", dept="MKT", code=codes[1])  # meanwhile: another department's system
    response = commit(web, "system", shown)
    assert response.status_code == 409
    assert row_html(response, 3)[0] == "error"
    assert count(app, InformationSystem, code=codes[0]) == 0


def person_password(app, username):
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        return db.session.query(AppUser.password).filter_by(username=username).scalar()


def test_users_are_imported_without_a_usable_password(app, login_as, client):
    """No password comes from a file; a new user cannot log in until an Admin sets one
    (even with the stored value itself as the password)."""
    from werkzeug.security import check_password_hash

    from app.base import AppUser
    from app.extensions import db
    from conftest import login

    n = next(_n)
    data = csv_bytes([["用户名", "姓", "名", "邮箱", "部门", "角色", "是否启用"],
                      [f"imp_w{n}", "王", "五", f"imp_w{n}@example.com", "财务部",
                       "业务录入员、Auditor", "是"]])
    assert import_file(login_as("admin"), "user", data).status_code == 302
    with app.app_context():
        person = db.session.query(AppUser).filter_by(username=f"imp_w{n}").one()
        assert {r.name for r in person.roles} == {"Clerk", "Auditor"}
        assert person.department.code == "FIN"
        assert not check_password_hash(person.password, "!")
        assert not check_password_hash(person.password, "")
    for password in ("!", "", person_password(app, f"imp_w{n}")):
        response = login(client, f"imp_w{n}", password)
        assert "/login" in response.headers.get("Location", "/login")
        assert client.get("/import/").status_code in (302, 401, 403)


# ------------------------------------------------------------------ bad files

def test_gbk_csv_is_read_and_said_so(app, login_as, labels):
    from app.organisation.models import InformationSystem

    code = f"IMP-K{next(_n)}"
    data = csv_bytes([labels, system_row(labels, code)], encoding="gbk")
    web = login_as("admin")
    response = preview(web, "system", data)
    html = response.get_data(as_text=True)
    assert "GB18030" in html and row_html(response, 2)[0] == "new"
    assert f"导入系统{code}" in html
    assert commit(web, "system", response).status_code == 302
    assert count(app, InformationSystem, name=f"导入系统{code}") == 1


def test_wrong_columns_are_named_and_nothing_changes(app, login_as):
    before = history_size(app)
    data = csv_bytes([["编码", "名字", "颜色"], ["X1", "Y", "红"]])
    response = preview(login_as("admin"), "system", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "名称" in html and "归口部门" in html  # missing
    assert "名字" in html and "颜色" in html  # unknown
    assert history_size(app) == before


def test_zip_bomb_is_refused_before_parsing(app, login_as):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (60 * 1024 * 1024))
    response = preview(login_as("admin"), "system", buffer.getvalue(), "bomb.xlsx")
    assert response.status_code == 400
    assert "zip" in response.get_data(as_text=True)


def test_100000_rows_are_refused_quickly(app, login_as, labels):
    import time

    rows = [labels] + [system_row(labels, f"R{i}") for i in range(100_000)]
    data = csv_bytes(rows)
    started = time.monotonic()
    web = login_as("admin")
    web.application.config["IMPORT_MAX_BYTES"], saved = 50 * 1024 * 1024, \
        web.application.config["IMPORT_MAX_BYTES"]
    try:
        response = preview(web, "system", data)
    finally:
        web.application.config["IMPORT_MAX_BYTES"] = saved
    assert response.status_code == 400
    assert "5000" in response.get_data(as_text=True)
    assert time.monotonic() - started < 10
    # And at the default size limit the same file is refused for its size.
    response = preview(web, "system", data)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("data, filename", [
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "fake.csv"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image.xlsx"),
    (b"PK\x03\x04garbage", "broken.xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls"),
    (b"", "empty.csv"),
])
def test_non_spreadsheets_are_refused_with_a_message(app, login_as, data, filename):
    response = preview(login_as("admin"), "system", data, filename)
    assert response.status_code == 400
    assert "import-error" in response.get_data(as_text=True)


# ------------------------------------------------------------------ who may

def test_only_admin_imports_users_and_departments(login_as):
    data = csv_bytes([["用户名", "姓", "名", "邮箱", "部门", "角色"],
                      ["imp_x", "赵", "六", "imp_x@example.com", "FIN", "Admin"]])
    for username in ("it_staff", "head_fin", "clerk_fin"):
        web = login_as(username)
        assert preview(web, "user", data).status_code == 403
        assert web.get("/import/user/template.csv").status_code == 403
        assert web.get("/import/department/template.xlsx").status_code == 403
    for username in ("auditor", "manager", "expert"):
        web = login_as(username)
        assert web.get("/import/").status_code in (302, 403)


def test_a_clerk_imports_systems_of_own_department_only(app, login_as, labels):
    from app.organisation.models import InformationSystem

    n = next(_n)
    web = login_as("clerk_fin")
    assert preview(web, "vendor", csv_bytes([["统一社会信用代码", "名称"], ["x", "y"]])) \
        .status_code == 403
    data = csv_bytes([labels, system_row(labels, f"IMP-O{n}"),
                      system_row(labels, f"IMP-M{n}", {3: "MKT"})])
    response = preview(web, "system", data)
    assert row_html(response, 2)[0] == "new"
    status, cell = row_html(response, 3)
    assert status == "error" and "本部门" in cell
    assert commit_token(response) is None
    own = csv_bytes([labels, system_row(labels, f"IMP-O{n}")])
    assert import_file(web, "system", own).status_code == 302
    assert count(app, InformationSystem, code=f"IMP-O{n}") == 1
    # Another department's existing system cannot be changed through a file either.
    other = csv_bytes([labels, system_row(labels, "CRM", {3: "MKT", 1: "改名"})])
    status, cell = row_html(preview(web, "system", other), 2)
    assert status == "error"


# ------------------------------------------------------------------ requests

def test_posts_need_the_csrf_token(app, login_as, labels):
    web = login_as("admin")
    data = csv_bytes([labels, system_row(labels, f"IMP-F{next(_n)}")])
    response = web.post("/import/system/preview", data={"file": (io.BytesIO(data), "a.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 400
    shown = preview(web, "system", data)
    response = web.post("/import/system/commit", data={"token": commit_token(shown)})
    assert response.status_code == 400


def test_get_and_head_on_commit_and_preview_change_nothing(app, login_as, labels):
    from app.organisation.models import InformationSystem

    web = login_as("admin")
    code = f"IMP-H{next(_n)}"
    shown = preview(web, "system", csv_bytes([labels, system_row(labels, code)]))
    token = commit_token(shown)
    for method in ("GET", "HEAD"):
        for path in (f"/import/system/commit?token={token}", "/import/system/preview"):
            assert web.open(path, method=method).status_code == 405
    assert count(app, InformationSystem, code=code) == 0


def test_a_commit_is_bound_to_its_user_session_and_used_once(app, login_as, labels):
    from app.organisation.models import InformationSystem

    web = login_as("admin")
    code = f"IMP-U{next(_n)}"
    shown = preview(web, "system", csv_bytes([labels, system_row(labels, code)]))
    token = commit_token(shown)
    other = login_as("it_staff")  # another user (and session) cannot use the token
    response = other.post("/import/system/commit", data={"csrf_token": token_of(other),
                                                         "token": token})
    assert response.status_code == 409 and count(app, InformationSystem, code=code) == 0
    same_user_new_session = login_as("admin")
    response = same_user_new_session.post("/import/system/commit", data={
        "csrf_token": token_of(same_user_new_session), "token": token})
    assert response.status_code == 409 and count(app, InformationSystem, code=code) == 0
    assert commit(web, "system", shown).status_code == 302
    assert count(app, InformationSystem, code=code) == 1
    before = history_size(app)
    assert commit(web, "system", shown).status_code == 409  # used up
    assert history_size(app) == before


def test_junk_tokens_and_missing_files_get_a_message(login_as):
    web = login_as("admin")
    for token in ("", "../../etc/passwd", "x" * 30, "ä" * 30):
        response = web.post("/import/system/commit", data={"csrf_token": token_of(web),
                                                           "token": token})
        assert response.status_code == 409
    response = web.post("/import/system/preview", data={"csrf_token": token_of(web)})
    assert response.status_code == 400
    assert web.post("/import/nothing/preview", data={"csrf_token": token_of(web)}) \
        .status_code == 404


def test_english_labels_and_field_names_are_accepted_too(app, login_as):
    from app.extensions import db
    from app.procurement.models import Vendor, VendorRating

    code = f"91ENG{next(_n):013d}"
    data = csv_bytes([["Unified social credit code", "Name", "rating", "Contact email"],
                      [code, f"English Vendor {code}", "C (fair)", "a@example.com"]])
    assert import_file(login_as("it_staff"), "vendor", data).status_code == 302
    with app.app_context():
        vendor = db.session.query(Vendor).filter_by(credit_code=code).one()
        assert vendor.rating is VendorRating.c and vendor.contact_email == "a@example.com"


def test_departments_import_with_their_head_by_name(app, login_as):
    from app.extensions import db
    from app.organisation.models import Department, DepartmentKind

    code = f"D-IMP{next(_n)}"
    data = xlsx_bytes([["编码", "名称", "类型", "负责人"],
                       [code, f"导入部门{code}", "信息管理部门", "head_fin"]])
    assert import_file(login_as("admin"), "department", data, "d.xlsx").status_code == 302
    with app.app_context():
        department = db.session.query(Department).filter_by(code=code).one()
        assert department.kind is DepartmentKind.it and department.head.username == "head_fin"


def test_a_part_inflating_far_beyond_its_size_is_refused(app, login_as):
    """Under the total size limit, but one part would inflate a thousandfold."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (20 * 1024 * 1024))
    assert len(buffer.getvalue()) < 200 * 1024
    response = preview(login_as("admin"), "system", buffer.getvalue(), "ratio.xlsx")
    assert response.status_code == 400
    assert "zip" in response.get_data(as_text=True)
