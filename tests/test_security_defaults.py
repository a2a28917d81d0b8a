"""Safe defaults of the web screens: CSRF on every form, no change by GET, a guarded login.

Every refusal is paired with a control: the same request with a valid token
does change the data, so the tests prove the token (and only the token) made
the difference.
"""
import pytest

from app.audit.models import Audit, AuditFinding
from app.operations.models import Incident
from app.organisation.models import InformationSystem
from app.planning.models import ProjectRequest
from app.procurement.models import Contract, Vendor
from conftest import PASSWORD, csrf_token
from webhelpers import count, form_token, row

# kind -> (model, web view)
KINDS = {
    "system": (InformationSystem, "InformationSystemView"),
    "vendor": (Vendor, "VendorView"),
    "project": (ProjectRequest, "ProjectRequestView"),
    "contract": (Contract, "ContractView"),
    "incident": (Incident, "IncidentView"),
    "audit": (Audit, "AuditView"),
    "finding": (AuditFinding, "AuditFindingView"),
}
BAD_TOKENS = {"missing": None, "forged": "IjAwMDAi.forged.token"}


def with_token(data, token):
    return data if token is None else {**data, "csrf_token": token}


def project_form(ids, name):
    return {"name": name, "applicant_department": ids.dept("FIN"), "background": "b",
            "goals": "g", "content": "c", "budget": "1000", "implementation_plan": "p"}


# ------------------------------------------------------------------------- CSRF

@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_add_without_a_valid_csrf_token_is_refused(app, login_as, ids, token):
    client = login_as("clerk_fin")
    name = f"无令牌新增-{token}"
    response = client.post("/projectrequestview/add", data=with_token(project_form(ids, name),
                                                                      token))
    assert response.status_code == 400
    assert count(app, ProjectRequest, name=name) == 0

    response = client.post("/projectrequestview/add",
                           data=with_token(project_form(ids, name), form_token(client)))
    assert response.status_code == 302
    assert count(app, ProjectRequest, name=name) == 1


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_edit_without_a_valid_csrf_token_is_refused(app, login_as, make, ids, token):
    pk = make("project", dept="FIN")
    before = row(app, ProjectRequest, pk)
    client = login_as("clerk_fin")
    response = client.post(f"/projectrequestview/edit/{pk}",
                           data=with_token(project_form(ids, "无令牌修改"), token))
    assert response.status_code == 400
    assert row(app, ProjectRequest, pk) == before

    response = client.post(f"/projectrequestview/edit/{pk}",
                           data=with_token(project_form(ids, "有令牌修改"), form_token(client)))
    assert response.status_code == 302
    assert row(app, ProjectRequest, pk)["name"] == "有令牌修改"


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_delete_and_muldelete_without_a_valid_csrf_token_are_refused(
        app, login_as, make, kind, token):
    model, view = KINDS[kind]
    pk = make(kind, dept="FIN")
    client = login_as("admin")
    base = f"/{view.lower()}"
    response = client.post(f"{base}/delete/{pk}", data=with_token({}, token))
    assert response.status_code == 400
    response = client.post(f"{base}/action_post", data=with_token(
        {"action": "muldelete", "rowid": [pk]}, token))
    assert response.status_code == 400
    assert row(app, model, pk) is not None

    if kind == "incident":
        return  # a reported incident is never deleted, token or not (app/operations/models.py)
    response = client.post(f"{base}/delete/{pk}", data={"csrf_token": form_token(client)})
    assert response.status_code == 302
    assert row(app, model, pk) is None


def test_a_token_of_another_session_is_refused(app, login_as, make, ids):
    pk = make("project", dept="FIN")
    other_session_token = form_token(login_as("clerk_fin"))
    client = login_as("clerk_fin")
    response = client.post(f"/projectrequestview/delete/{pk}",
                           data={"csrf_token": other_session_token})
    assert response.status_code == 400
    assert row(app, ProjectRequest, pk) is not None


def test_csrf_refusal_is_a_page_that_explains_itself(login_as, ids):
    client = login_as("clerk_fin")
    response = client.post("/projectrequestview/add", data=project_form(ids, "无令牌"))
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    assert len(html.strip()) > 0


# ---------------------------------------------------------- no change by GET

@pytest.mark.parametrize("kind", KINDS)
def test_get_requests_never_delete(app, login_as, make, kind):
    model, view = KINDS[kind]
    pk = make(kind, dept="FIN")
    client = login_as("admin")
    base = f"/{view.lower()}"
    assert client.get(f"{base}/delete/{pk}").status_code in (302, 400, 404, 405)
    assert client.get(f"{base}/action/muldelete/{pk}").status_code in (302, 400, 404, 405)
    assert client.get(f"{base}/action_post?action=muldelete&rowid={pk}").status_code == 405
    assert row(app, model, pk) is not None


def test_get_on_the_edit_and_add_forms_changes_nothing(app, login_as, make):
    pk = make("project", dept="FIN")
    before = row(app, ProjectRequest, pk)
    client = login_as("clerk_fin")
    assert client.get(f"/projectrequestview/edit/{pk}?name=GET修改").status_code == 200
    assert row(app, ProjectRequest, pk) == before
    assert client.get("/projectrequestview/add?name=GET新增").status_code == 200
    assert count(app, ProjectRequest, name="GET新增") == 0


# ------------------------------------------------------------------------ login

def _logged_in(client):
    """True when the session reaches a protected list instead of the login page."""
    response = client.get("/projectrequestview/list/")
    return response.status_code == 200


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_login_form_without_a_valid_token_does_not_log_in(client, token):
    client.get("/login/")  # a session exists, as for a real browser
    response = client.post("/login/", data=with_token(
        {"username": "clerk_fin", "password": PASSWORD}, token))
    assert response.status_code == 400
    assert not _logged_in(client)


def test_login_form_with_its_token_logs_in(client):
    response = client.post("/login/", data={"username": "clerk_fin", "password": PASSWORD,
                                            "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert _logged_in(client)


def test_login_by_get_does_not_log_in(client):
    client.get(f"/login/?username=clerk_fin&password={PASSWORD}")
    assert not _logged_in(client)


# ------------------------------------------------------------- API and CSRF

def test_json_api_with_a_jwt_needs_no_csrf_token(app, api_as, ids):
    client, headers = api_as("clerk_fin")
    response = client.post("/api/v1/project_request/", headers=headers, json={
        "name": "接口无需令牌", "applicant_department": ids.dept("FIN"), "background": "b",
        "goals": "g", "content": "c", "budget": 10, "implementation_plan": "p"})
    assert response.status_code == 201, response.get_json()
    assert count(app, ProjectRequest, name="接口无需令牌") == 1


def test_json_api_does_not_accept_the_web_session_instead_of_a_jwt(app, login_as, make, ids):
    """The API is exempt from CSRF only because a browser session cannot use it."""
    client = login_as("clerk_fin")
    response = client.post("/api/v1/project_request/", json={
        "name": "会话调用接口", "applicant_department": ids.dept("FIN"), "background": "b",
        "goals": "g", "content": "c", "budget": 10, "implementation_plan": "p"})
    assert response.status_code == 401
    assert count(app, ProjectRequest, name="会话调用接口") == 0
    pk = make("project", dept="FIN")
    assert client.delete(f"/api/v1/project_request/{pk}").status_code == 401
    assert row(app, ProjectRequest, pk) is not None
