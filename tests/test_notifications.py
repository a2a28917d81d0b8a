"""In-app notifications (app/notifications.py), over HTTP as the people who get them.

A step that puts a record in someone's inbox tells exactly those who may act on it (the
department's heads, not the submitter, not another department; a substitute standing in
today; never the submitter's own substitute), a final approval, a return and a rejection
tell the submitter with the comment; the bell counts the unread ones; one's own are
listed, opened and marked read by POST only, another user's answer 404 and stay as they
were, on the screens and in the API. The matrix at the end holds the database's choice of
recipients against the engine's, for every record of the demo.
"""
import datetime as dt
import hashlib
import re

import pytest

from webhelpers import flashes, form_token


# ------------------------------------------------------------------ helpers


def uid(app, username):
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        return db.session.query(AppUser.id).filter_by(username=username).scalar()


def attachment(app):
    from app.base import Attachment
    from app.extensions import db

    body = b"%PDF-1.4\n%requirements\n%%EOF\n"
    with app.app_context():
        row = Attachment(filename="需求分析报告.pdf", content_type="application/pdf",
                         size=len(body), sha256=hashlib.sha256(body).hexdigest(), data=body)
        db.session.add(row)
        db.session.commit()
        return row.id


def project(app, make, dept="FIN"):
    """A draft project request of ``dept`` that may be submitted (its report attached)."""
    return make("project", dept=dept, requirements_report_id=attachment(app))


def web_step(client, view, pk, name, comment=""):
    return client.post(f"/{view}/transition/{pk}/{name}",
                       data={"csrf_token": form_token(client), "comment": comment})


def told(app, record_type, pk):
    """{kind: {username, ...}} of the notifications of the record's latest step."""
    from app.base import AppUser, Approval, Notification
    from app.extensions import db

    with app.app_context():
        last = (db.session.query(Approval.id)
                .filter_by(record_type=record_type, record_id=pk)
                .order_by(Approval.id.desc()).limit(1).scalar())
        rows = (db.session.query(Notification.kind, AppUser.username)
                .join(AppUser, AppUser.id == Notification.user_id)
                .filter(Notification.approval_id == last).all())
    found = {}
    for kind, username in rows:
        found.setdefault(kind.name, set()).add(username)
    return found


def notification_of(app, username, record_type, pk, kind=None):
    """The newest notification of the user about the record: (id, read_at)."""
    from app.base import Notification
    from app.extensions import db

    with app.app_context():
        query = db.session.query(Notification.id, Notification.read_at).filter_by(
            user_id=uid(app, username), record_type=record_type, record_id=pk)
        if kind is not None:
            query = query.filter_by(kind=kind)
        return query.order_by(Notification.id.desc()).first()


def read_at(app, notification_id):
    from app.base import Notification
    from app.extensions import db

    with app.app_context():
        return db.session.get(Notification, notification_id).read_at


def unread_of(app, username):
    from app.base import Notification
    from app.extensions import db

    with app.app_context():
        return db.session.query(Notification).filter_by(
            user_id=uid(app, username), read_at=None).count()


def bell(client):
    """The number on the bell of a page (0 when the bell shows none)."""
    html = client.get("/inbox/").get_data(as_text=True)
    assert 'class="notification-bell"' in html
    match = re.search(r'class="badge notification-count">([^<]+)<', html)
    return 0 if match is None else match.group(1)


def people(app, role, dept=None):
    """Active users of ``role`` (in the department with code ``dept``, if given)."""
    from flask_appbuilder.security.sqla.models import Role

    from app.base import AppUser
    from app.extensions import db
    from app.organisation.models import Department

    with app.app_context():
        query = db.session.query(AppUser.username).filter(
            AppUser.active.is_(True), AppUser.roles.any(Role.name == role))
        if dept is not None:
            query = query.join(Department, Department.id == AppUser.department_id) \
                .filter(Department.code == dept)
        return {u for (u,) in query}


@pytest.fixture
def delegate(app):
    """delegate("head_fin", "head_mkt"): a delegation in force today, removed afterwards."""
    from app.base import Delegation
    from app.extensions import db

    made = []

    def _delegate(principal, substitute):
        with app.app_context():
            today = dt.date.today()
            row = Delegation(principal_id=uid(app, principal),
                             substitute_id=uid(app, substitute), start_date=today,
                             end_date=today + dt.timedelta(days=3), reason="休假")
            db.session.add(row)
            db.session.commit()
            made.append(row.id)

    yield _delegate
    with app.app_context():
        for pk in made:
            db.session.delete(db.session.get(Delegation, pk))
        db.session.commit()


def standing_in(app, usernames):
    """Who stands in today for any of ``usernames`` (active substitutes)."""
    from sqlalchemy.orm import aliased

    from app.base import AppUser, Delegation
    from app.extensions import db

    principal, substitute = aliased(AppUser), aliased(AppUser)
    today = dt.date.today()
    with app.app_context():
        return {u for (u,) in db.session.query(substitute.username)
                .join(Delegation, Delegation.substitute_id == substitute.id)
                .join(principal, principal.id == Delegation.principal_id)
                .filter(principal.username.in_(usernames), substitute.active.is_(True),
                        Delegation.start_date <= today, Delegation.end_date >= today)}


# ------------------------------------------------- who is told when a record waits


def test_a_submitted_project_notifies_exactly_the_department_heads_who_may_approve_it(
        app, make, login_as):
    pk = project(app, make, "FIN")
    clerk = login_as("clerk_fin")
    assert web_step(clerk, "projectrequestview", pk, "submit").status_code == 302

    found = told(app, "ProjectRequest", pk)
    assert found == {"waiting": people(app, "DeptHead", "FIN")}
    assert "head_fin" in found["waiting"]
    for outsider in ("clerk_fin", "head_mkt", "clerk_mkt", "it_staff", "it_head", "manager"):
        assert notification_of(app, outsider, "ProjectRequest", pk) is None, outsider


def test_a_head_who_submits_their_own_project_is_not_told_to_approve_it(app, make,
                                                                       login_as):
    pk = project(app, make, "FIN")
    head = login_as("head_fin")
    assert web_step(head, "projectrequestview", pk, "submit").status_code == 302
    assert notification_of(app, "head_fin", "ProjectRequest", pk) is None
    assert "head_fin" not in told(app, "ProjectRequest", pk).get("waiting", set())


def test_an_approval_passes_the_record_to_the_next_step_s_people_only(app, make, api_as):
    pk = project(app, make, "FIN")
    clerk, clerk_headers = api_as("clerk_fin")
    head, head_headers = api_as("head_fin")
    assert clerk.post(f"/api/v1/project_request/{pk}/transition/submit", json={},
                      headers=clerk_headers).status_code == 200
    assert head.post(f"/api/v1/project_request/{pk}/transition/approve", json={},
                     headers=head_headers).status_code == 200

    found = told(app, "ProjectRequest", pk)
    # IT's preliminary review (初审): every IT officer (the role, in whatever department
    # the directory put them); not a final approval, so the
    # submitter hears nothing yet, and the head who approved is not told either.
    assert found == {"waiting": people(app, "ITStaff")}
    assert {"it_staff", "it_staff2"} <= found["waiting"]


def test_a_substitute_standing_in_today_is_told_too(app, make, login_as, delegate):
    delegate("head_fin", "head_mkt")
    pk = project(app, make, "FIN")
    assert web_step(login_as("clerk_fin"), "projectrequestview", pk,
                    "submit").status_code == 302
    assert told(app, "ProjectRequest", pk)["waiting"] == \
        people(app, "DeptHead", "FIN") | standing_in(app, people(app, "DeptHead", "FIN"))
    assert "head_mkt" in standing_in(app, {"head_fin"})
    # The substitute may take the step the notification announces (their inbox, paged
    # oldest first, may hold many older records in a long test run).
    page = login_as("head_mkt").get(f"/projectrequestview/show/{pk}").get_data(as_text=True)
    assert f"/projectrequestview/transition/{pk}/approve" in page


def test_the_submitter_s_own_substitute_is_not_told_to_approve(app, make, login_as,
                                                                delegate):
    """head_fin stands in for clerk_fin today: whoever stands in for the submitter may not
    approve the submission (separation of duties), so is not told to."""
    delegate("clerk_fin", "head_fin")
    pk = project(app, make, "FIN")
    assert web_step(login_as("clerk_fin"), "projectrequestview", pk,
                    "submit").status_code == 302
    assert "head_fin" not in told(app, "ProjectRequest", pk).get("waiting", set())


def test_content_changed_after_approval_is_put_before_the_approvers_again(app, make,
                                                                         api_as, login_as):
    """The clerk changes the budget the head approved: the record goes back to the head's
    approval (re-approval) and the head is told; the clerk who changed it is not."""
    from test_workflows import _edit_form

    from app.planning.models import ProjectRequest

    pk = project(app, make, "FIN")
    for username, name in (("clerk_fin", "submit"), ("head_fin", "approve")):
        client, headers = api_as(username)
        assert client.post(f"/api/v1/project_request/{pk}/transition/{name}", json={},
                           headers=headers).status_code == 200
    clerk = login_as("clerk_fin")
    response = clerk.post(f"/projectrequestview/edit/{pk}", data={
        **_edit_form(app, ProjectRequest, pk, budget="2500"), "csrf_token": form_token(clerk)})
    assert response.status_code == 302
    found = told(app, "ProjectRequest", pk)
    assert found == {"waiting": people(app, "DeptHead", "FIN")} and "head_fin" in \
        found["waiting"]


# ---------------------------------------------- the submitter hears the decision


def test_a_return_tells_the_submitter_with_the_reason(app, make, login_as):
    pk = project(app, make, "FIN")
    assert web_step(login_as("clerk_fin"), "projectrequestview", pk,
                    "submit").status_code == 302
    head = login_as("head_fin")
    assert web_step(head, "projectrequestview", pk, "return",
                    "预算依据不足，请补充").status_code == 302

    found = told(app, "ProjectRequest", pk)
    assert found["returned"] == {"clerk_fin"}
    # The department may submit it again; the submitter hears of the return only once,
    # the head who returned it not at all.
    assert "clerk_fin" not in found.get("waiting", set())
    assert "head_fin" not in found.get("waiting", set())
    page = login_as("clerk_fin").get("/notifications/?show=unread").get_data(as_text=True)
    assert "预算依据不足，请补充" in page


def test_a_rejection_tells_the_submitter_and_nobody_is_left_waiting(app, make, api_as):
    pk = project(app, make, "FIN")
    clerk, clerk_headers = api_as("clerk_fin")
    head, head_headers = api_as("head_fin")
    clerk.post(f"/api/v1/project_request/{pk}/transition/submit", json={},
               headers=clerk_headers)
    assert head.post(f"/api/v1/project_request/{pk}/transition/reject",
                     json={"comment": "不符合年度规划"},
                     headers=head_headers).status_code == 200
    assert told(app, "ProjectRequest", pk) == {"rejected": {"clerk_fin"}}
    listed = clerk.get("/api/v1/notification/?unread=true", headers=clerk_headers).get_json()
    mine = [n for n in listed["result"] if n["record_id"] == pk
            and n["record_type"] == "ProjectRequest"]
    assert mine[0]["kind"] == "rejected" and mine[0]["comment"] == "不符合年度规划"
    assert mine[0]["by"] == "李强"


def test_the_final_approval_tells_the_submitter_and_an_intermediate_one_does_not(
        app, make, api_as):
    """A data sharing request: the providing department approves (not final), then IT
    grants it (final: approved)."""
    pk = make("sharing", dept="FIN", providing_department_id=_dept(app, "MKT"),
              system_id=_system(app, "CRM"), end_date=dt.date(2027, 6, 30))
    clerk, clerk_headers = api_as("clerk_fin")
    url = f"/api/v1/data_sharing_request/{pk}/transition/"
    assert clerk.post(url + "submit", json={}, headers=clerk_headers).status_code == 200
    assert told(app, "DataSharingRequest", pk) == {"waiting": people(app, "DeptHead", "MKT")}

    head, head_headers = api_as("head_mkt")
    assert head.post(url + "approve", json={}, headers=head_headers).status_code == 200
    assert told(app, "DataSharingRequest", pk) == {"waiting": people(app, "ITStaff")}

    it, it_headers = api_as("it_staff")
    response = it.post(url + "approve", json={"comment": "同意共享至年底"}, headers=it_headers)
    assert response.status_code == 200, response.get_json()
    found = told(app, "DataSharingRequest", pk)
    assert found.get("approved") == {"clerk_fin"}, found
    listed = clerk.get("/api/v1/notification/", headers=clerk_headers).get_json()["result"]
    mine = [n for n in listed if n["record_type"] == "DataSharingRequest"
            and n["record_id"] == pk and n["kind"] == "approved"]
    assert mine and mine[0]["comment"] == "同意共享至年底"
    assert mine[0]["url"] == f"/datasharingrequestview/show/{pk}"


def _dept(app, code):
    from app.extensions import db
    from app.organisation.models import Department

    with app.app_context():
        return db.session.query(Department.id).filter_by(code=code).scalar()


def _system(app, code):
    from app.extensions import db
    from app.organisation.models import InformationSystem

    with app.app_context():
        return db.session.query(InformationSystem.id).filter_by(code=code).scalar()


# ------------------------------------------------------------ the bell and the list


def test_the_bell_counts_the_unread_and_the_list_shows_them_newest_first(app, make,
                                                                         login_as):
    head = login_as("head_fin")
    clerk = login_as("clerk_fin")
    before = unread_of(app, "head_fin")
    first, second = project(app, make), project(app, make)
    web_step(clerk, "projectrequestview", first, "submit")
    web_step(clerk, "projectrequestview", second, "submit")
    expected = before + 2
    assert bell(head) == (str(expected) if expected <= 99 else "99+")

    html = head.get("/notifications/?show=unread").get_data(as_text=True)
    rows = [int(i) for i in re.findall(r'<tr class="notification-unread" data-id="(\d+)"',
                                       html)]
    newer, older = (notification_of(app, "head_fin", "ProjectRequest", pk)[0]
                    for pk in (second, first))
    assert rows[:2] == [newer, older]
    assert rows == sorted(rows, reverse=True)


def test_a_user_without_notifications_sees_a_bell_without_a_number(app, login_as):
    from app.base import Notification
    from app.extensions import db

    with app.app_context():
        db.session.query(Notification).filter_by(user_id=uid(app, "auditor")).update(
            {"read_at": dt.datetime(2026, 1, 1)})
        db.session.commit()
    auditor = login_as("auditor")
    assert bell(auditor) == 0
    assert "没有未读通知" in auditor.get("/notifications/?show=unread").get_data(as_text=True)


def test_opening_a_notification_marks_it_read_and_goes_to_the_record(app, make, login_as):
    pk = project(app, make)
    web_step(login_as("clerk_fin"), "projectrequestview", pk, "submit")
    nid, read = notification_of(app, "head_fin", "ProjectRequest", pk)
    assert read is None
    head = login_as("head_fin")
    html = head.get("/notifications/?show=unread").get_data(as_text=True)
    assert f'action="/notifications/open/{nid}"' in html
    response = head.post(f"/notifications/open/{nid}", data={"csrf_token": form_token(head)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projectrequestview/show/{pk}")
    assert read_at(app, nid) is not None


def test_mark_one_read_then_mark_all_read(app, make, login_as):
    pk1, pk2 = project(app, make), project(app, make)
    clerk = login_as("clerk_fin")
    web_step(clerk, "projectrequestview", pk1, "submit")
    web_step(clerk, "projectrequestview", pk2, "submit")
    head = login_as("head_fin")
    one, _ = notification_of(app, "head_fin", "ProjectRequest", pk1)
    two, _ = notification_of(app, "head_fin", "ProjectRequest", pk2)
    response = head.post(f"/notifications/read/{one}",
                         data={"csrf_token": form_token(head), "show": "unread"})
    assert response.status_code == 302 and "show=unread" in response.headers["Location"]
    assert read_at(app, one) is not None and read_at(app, two) is None
    again = read_at(app, one)
    assert head.post(f"/notifications/read/{one}",
                     data={"csrf_token": form_token(head)}).status_code == 302
    assert read_at(app, one) == again  # already read: left as it was

    response = head.post("/notifications/read-all", data={"csrf_token": form_token(head)},
                         follow_redirects=True)
    assert response.status_code == 200
    assert read_at(app, two) is not None and unread_of(app, "head_fin") == 0
    assert bell(head) == 0


def test_mark_all_read_leaves_what_arrived_after_the_page_was_shown(app, make, login_as):
    clerk, head = login_as("clerk_fin"), login_as("head_fin")
    shown = project(app, make)
    web_step(clerk, "projectrequestview", shown, "submit")
    html = head.get("/notifications/").get_data(as_text=True)
    up_to = re.search(r'name="up_to" value="(\d+)"', html).group(1)
    later = project(app, make)
    web_step(clerk, "projectrequestview", later, "submit")
    head.post("/notifications/read-all", data={"csrf_token": form_token(head), "up_to": up_to})
    assert notification_of(app, "head_fin", "ProjectRequest", shown)[1] is not None
    assert notification_of(app, "head_fin", "ProjectRequest", later)[1] is None


def test_mark_all_read_with_a_bad_number_says_so_and_changes_nothing(app, make, login_as):
    pk = project(app, make)
    web_step(login_as("clerk_fin"), "projectrequestview", pk, "submit")
    head = login_as("head_fin")
    before = unread_of(app, "head_fin")
    response = head.post("/notifications/read-all", data={
        "csrf_token": form_token(head), "up_to": "abc"}, follow_redirects=True)
    assert response.status_code == 200
    assert any("通知编号无效" in text for text in flashes(response.get_data(as_text=True)))
    assert unread_of(app, "head_fin") == before > 0


@pytest.mark.parametrize("query", ["page=0", "page=-3", "page=abc", "page=99999999",
                                   "show=nonsense", "show=unread&page=2",
                                   "page=" + "9" * 40])
def test_the_list_survives_junk_paging_and_filters(login_as, query):
    response = login_as("head_fin").get(f"/notifications/?{query}")
    assert response.status_code in (200, 302)


def test_the_list_pages_newest_first_without_repeats(app, login_as):
    from app.base import Notification
    from app.extensions import db

    with app.app_context():
        total = db.session.query(Notification).filter_by(
            user_id=uid(app, "it_staff2")).count()
    client = login_as("it_staff2")
    seen = []
    for page in range(1, 200):
        html = client.get(f"/notifications/?show=all&page={page}").get_data(as_text=True)
        ids = [int(i) for i in re.findall(r'data-id="(\d+)"', html)]
        seen += ids
        if 'rel="next"' not in html:
            break
    assert len(seen) == len(set(seen)) == total > 20
    assert seen == sorted(seen, reverse=True)


# ------------------------------------------------- refusals: another user's, methods


def test_another_user_s_notification_answers_404_and_stays_unread(app, make, login_as,
                                                                  api_as):
    pk = project(app, make)
    web_step(login_as("clerk_fin"), "projectrequestview", pk, "submit")
    nid, _ = notification_of(app, "head_fin", "ProjectRequest", pk)
    other = login_as("head_mkt")
    token = form_token(other)
    for path in (f"/notifications/read/{nid}", f"/notifications/open/{nid}"):
        assert other.post(path, data={"csrf_token": token}).status_code == 404
    assert other.post("/notifications/read/999999999",
                      data={"csrf_token": token}).status_code == 404
    assert f'data-id="{nid}"' not in other.get("/notifications/").get_data(as_text=True)
    client, headers = api_as("head_mkt")
    assert client.get(f"/api/v1/notification/{nid}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/notification/{nid}/read", headers=headers).status_code == 404
    listed = client.get("/api/v1/notification/?per_page=100", headers=headers).get_json()
    assert nid not in [n["id"] for n in listed["result"]]
    # Marking all one's own read leaves everyone else's as it was.
    assert client.post("/api/v1/notification/read", json={},
                       headers=headers).status_code == 200
    other.post("/notifications/read-all", data={"csrf_token": token})
    assert read_at(app, nid) is None


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
def test_only_post_marks_read_on_the_screens(app, make, login_as, method):
    pk = project(app, make)
    web_step(login_as("clerk_fin"), "projectrequestview", pk, "submit")
    nid, _ = notification_of(app, "head_fin", "ProjectRequest", pk)
    head = login_as("head_fin")
    for path in (f"/notifications/read/{nid}", f"/notifications/open/{nid}",
                 "/notifications/read-all"):
        response = head.open(path, method=method)
        assert response.status_code == 405, (method, path, response.status_code)
    assert read_at(app, nid) is None


def test_posting_without_the_csrf_token_marks_nothing(app, make, login_as):
    pk = project(app, make)
    web_step(login_as("clerk_fin"), "projectrequestview", pk, "submit")
    nid, _ = notification_of(app, "head_fin", "ProjectRequest", pk)
    head = login_as("head_fin")
    before = unread_of(app, "head_fin")
    for path in (f"/notifications/read/{nid}", f"/notifications/open/{nid}",
                 "/notifications/read-all"):
        assert head.post(path).status_code == 400
    assert read_at(app, nid) is None and unread_of(app, "head_fin") == before


def test_signed_out_visitors_get_no_notifications(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert client.get("/api/v1/notification/").status_code == 401


# ------------------------------------------------------------------------ the API


def test_the_api_lists_reads_and_marks_one_s_own(app, make, api_as):
    pk = project(app, make)
    clerk, clerk_headers = api_as("clerk_fin")
    clerk.post(f"/api/v1/project_request/{pk}/transition/submit", json={},
               headers=clerk_headers)
    client, headers = api_as("head_fin")
    body = client.get("/api/v1/notification/?unread=true&per_page=5", headers=headers)
    assert body.status_code == 200
    data = body.get_json()
    assert data["unread"] >= 1 and len(data["result"]) <= 5
    assert all(not n["read"] for n in data["result"])
    newest = data["result"][0]
    assert (newest["record_type"], newest["record_id"], newest["kind"]) == \
        ("ProjectRequest", pk, "waiting")
    assert newest["url"] == f"/projectrequestview/show/{pk}"

    one = client.get(f"/api/v1/notification/{newest['id']}", headers=headers)
    assert one.status_code == 200 and one.get_json()["result"]["id"] == newest["id"]
    marked = client.post(f"/api/v1/notification/{newest['id']}/read", headers=headers)
    assert marked.status_code == 200 and marked.get_json()["result"]["read"] is True
    assert read_at(app, newest["id"]) is not None

    everything = client.post("/api/v1/notification/read", json={}, headers=headers)
    assert everything.status_code == 200 and everything.get_json()["marked"] >= 0
    assert client.get("/api/v1/notification/", headers=headers).get_json()["unread"] == 0


@pytest.mark.parametrize("query", ["unread=maybe", "page=x", "per_page=1.5"])
def test_the_api_refuses_bad_parameters_with_a_message(api_as, query):
    client, headers = api_as("head_fin")
    response = client.get(f"/api/v1/notification/?{query}", headers=headers)
    assert response.status_code == 400 and response.get_json()["message"]


@pytest.mark.parametrize("body", [[], {"up_to": "x"}, {"up_to": True}, {"other": 1},
                                  {"up_to": 2**70}])
def test_the_api_refuses_a_bad_mark_all_body_and_marks_nothing(app, make, api_as, body):
    pk = project(app, make)
    clerk, clerk_headers = api_as("clerk_fin")
    clerk.post(f"/api/v1/project_request/{pk}/transition/submit", json={},
               headers=clerk_headers)
    client, headers = api_as("head_fin")
    before = unread_of(app, "head_fin")
    response = client.post("/api/v1/notification/read", json=body, headers=headers)
    assert response.status_code == 400 and response.get_json()["message"]
    assert unread_of(app, "head_fin") == before > 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH"])
def test_the_api_marks_read_only_by_post(app, make, api_as, method):
    pk = project(app, make)
    clerk, clerk_headers = api_as("clerk_fin")
    clerk.post(f"/api/v1/project_request/{pk}/transition/submit", json={},
               headers=clerk_headers)
    nid, _ = notification_of(app, "head_fin", "ProjectRequest", pk)
    client, headers = api_as("head_fin")
    for path in (f"/api/v1/notification/{nid}/read", "/api/v1/notification/read"):
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 405, (method, path, response.status_code)
    assert read_at(app, nid) is None


def test_a_session_cookie_does_not_open_the_api(login_as):
    """Like every API of the product: the JWT only (a cookie would skip CSRF)."""
    web = login_as("head_fin")
    assert web.get("/api/v1/notification/").status_code == 401
    assert web.post("/api/v1/notification/read", json={}).status_code == 401


# -------------------------------------------------------- the matrix: SQL and engine


def test_the_database_tells_exactly_whom_the_engine_lets_act_on_every_demo_record(
        app, delegate):
    """For every workflow record of the demo in its current state: the people the SQL picks
    (waiting_for) are those users the engine lets take a step forward (or, where no step
    goes forward, any step), themselves or for whom they stand in (two delegations in
    force: a head for another head, a head for a clerk)."""
    from app.approvals import actor_for, duties_for_many, workflow_models
    from app.base import AppUser
    from app.extensions import db
    from app.notifications import open_steps, waiting_for
    from app.workflow import NO_DUTIES, available

    delegate("head_fin", "head_mkt")
    delegate("clerk_mkt", "it_head")
    with app.app_context():
        users = db.session.query(AppUser).filter(AppUser.active.is_(True)).all()
        actors = {u.id: actor_for(u) for u in users}
        compared = told = 0
        for model in workflow_models():
            records = db.session.query(model).all()
            duties = duties_for_many(model, records)
            for record in records:
                facts = duties.get(record.id, NO_DUTIES)
                _state, steps = open_steps(record)
                names = {t.name for t in steps}
                engine = {user_id for user_id, actor in actors.items()
                          if {t.name for t in available(model.__workflow__, record, actor,
                                                        facts)} & names}
                query = waiting_for(record, facts)
                sql = set() if query is None else set(db.session.scalars(query))
                assert sql == engine, (model.__name__, record.id, record.status.name)
                compared += 1
                told += bool(sql)
        db.session.rollback()
    assert compared > 60 and told > 20


# ---------------------------------------------------------- in a real browser


def test_a_head_follows_the_bell_to_the_record_in_chromium(app, make, login_as, browser,
                                                          live_server):
    """head_fin sees the number on the bell, opens 通知, clicks the waiting project: its
    page opens and the bell shows one less."""
    from conftest import PASSWORD

    pk = project(app, make)
    web_step(login_as("clerk_fin"), "projectrequestview", pk, "submit")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_server + "/login/")
        page.fill("#username", "head_fin")
        page.fill("#password", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state()
        before = unread_of(app, "head_fin")
        shown = page.inner_text(".notification-bell .notification-count")
        assert shown == (str(before) if before <= 99 else "99+")
        page.click(".notification-bell a")
        page.wait_for_load_state()
        assert "/notifications/" in page.url
        nid = notification_of(app, "head_fin", "ProjectRequest", pk)[0]
        row = page.locator(f'tr[data-id="{nid}"]')
        row.locator("button.btn-link").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/projectrequestview/show/{pk}")
        after = unread_of(app, "head_fin")
        assert after == before - 1
        badge = page.locator(".notification-bell .notification-count")
        assert (badge.count() == 0) if after == 0 else \
            badge.inner_text() == (str(after) if after <= 99 else "99+")
    finally:
        context.close()
