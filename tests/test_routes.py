"""Only POST changes state (5.1.4, 1.3.3): every URL rule of the application, FAB's own
included, is walked with GET, HEAD and OPTIONS on live records and nothing changes;
every rule that accepts POST refuses a request without a CSRF token."""
import itertools

import pytest
from flask_appbuilder import Model
from sqlalchemy import func, select

from conftest import PASSWORD

# Routes exempt from the CSRF token, and why. Nothing else is.
CSRF_EXEMPT_PREFIXES = {
    # The JWT API: authenticated by a bearer token that a browser never sends by itself
    # (allow_browser_login = False), so a forged cross-site request has no credentials.
    "/api/v1/": "JWT bearer token, never a cookie",
}


def csrf_exempt(rule):
    return any(rule.rule.startswith(prefix) for prefix in CSRF_EXEMPT_PREFIXES)


def table_state(app):
    """Row count of every table and the number of change-history entries."""
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in Model.metadata.sorted_tables}


def view_of(app, endpoint):
    function = app.view_functions.get(endpoint)
    return getattr(function, "__self__", None)


def model_of(view):
    datamodel = getattr(view, "datamodel", None)
    return getattr(datamodel, "obj", None)


def sample_values(app, rule):
    """Every combination of real values for the rule's arguments (live records)."""
    from app.base import Attachment, ChangeEntry
    from app.extensions import db

    view = view_of(app, rule.endpoint)
    model = model_of(view)
    with app.app_context():
        entry = db.session.query(ChangeEntry).filter(
            ChangeEntry.record_type != "Approval").order_by(ChangeEntry.seq.desc()).first()
        choices = {}
        for arg in rule.arguments:
            if arg == "pk":
                pk = db.session.query(model.id).order_by(model.id.desc()).limit(1).scalar() \
                    if model is not None else None
                choices[arg] = [pk if pk is not None else 1]
            elif arg == "name" and "action" in rule.endpoint:
                choices[arg] = sorted(getattr(view, "actions", {})) or ["muldelete"]
            elif arg == "name":
                workflow = getattr(model, "__workflow__", None)
                names = sorted({t.name for t in workflow.transitions}) if workflow else []
                choices[arg] = names or ["submit"]
            elif arg == "attachment_id":
                choices[arg] = [db.session.query(func.max(Attachment.id)).scalar() or 1]
            elif arg == "record_type":
                choices[arg] = [entry.record_type]
            elif arg == "record_id":
                choices[arg] = [entry.record_id]
            elif arg == "seq":
                choices[arg] = [entry.seq]
            elif arg == "locale":
                choices[arg] = ["zh"]
            elif arg == "version":
                choices[arg] = ["v1"]
            else:
                choices[arg] = ["1"]
    keys = sorted(choices)
    for combo in itertools.product(*(choices[k] for k in keys)):
        yield dict(zip(keys, combo))


def url_for_rule(app, rule, values):
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, method=next(
            m for m in ("GET", "POST", "PUT", "DELETE") if m in rule.methods))


def reaches(app, url, method):
    """The endpoint a request reaches (another rule may share the URL for that method)."""
    from werkzeug.exceptions import HTTPException

    try:
        return app.url_map.bind("localhost").match(url, method=method)[0]
    except HTTPException:
        return None


def admin_clients(app, login_as):
    web = login_as("admin")
    response = web.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db"})
    token = response.get_json()["access_token"]
    return web, {"Authorization": f"Bearer {token}"}


def all_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"
                   and not r.endpoint.endswith(".static")),
                  key=lambda r: (r.rule, r.endpoint))


def test_get_head_and_options_change_nothing_on_any_route(app, login_as, make):
    """Every rule, as Admin, on live records: state-changing rules answer 405, no rule
    answers 500, and no table changes (no history entry, no record gone)."""
    from app.methods import refuses_safe_methods

    make("incident", dept="FIN")  # a live record at the end of its table
    web, headers = admin_clients(app, login_as)
    before = table_state(app)
    walked, refused = 0, []
    for rule in all_rules(app):
        for values in sample_values(app, rule):
            url = url_for_rule(app, rule, values)
            for method in ("GET", "HEAD", "OPTIONS"):
                response = web.open(url, method=method, headers=headers)
                walked += 1
                assert response.status_code != 500, (method, url)
                if reaches(app, url, method) == rule.endpoint and refuses_safe_methods(rule):
                    assert response.status_code == 405, (method, url, response.status_code)
                    refused.append(url)
    assert table_state(app) == before
    assert walked > 1000
    assert any("/incidentview/delete/" in u for u in refused)
    assert any("/users/delete/" in u for u in refused)
    assert any("/roles/action/" in u for u in refused)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
@pytest.mark.parametrize("route", ["/incidentview/delete/{incident}", "/users/delete/{user}",
                                   "/incidentview/action/muldelete/{incident}",
                                   "/users/action/muldelete/{user}"])
def test_head_or_get_on_a_delete_refuses_and_deletes_nothing(app, login_as, make, route,
                                                            method):
    from app.base import AppUser
    from app.extensions import db
    from app.operations.models import Incident

    incident = make("incident", dept="FIN")
    sm = app.appbuilder.sm
    with app.app_context():
        user = sm.add_user(f"victim_{incident}_{method.lower()}", "受", "害", 
                           f"victim_{incident}_{method.lower()}@example.com",
                           sm.find_role("Clerk"), password="Victim-Pass-2026")
        user.department_id = db.session.query(AppUser.department_id).filter_by(
            username="clerk_fin").scalar()
        db.session.commit()
        user_id = user.id
    admin = login_as("admin")
    response = admin.open(route.format(incident=incident, user=user_id), method=method)
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")
    with app.app_context():
        assert db.session.get(Incident, incident) is not None
        assert db.session.get(AppUser, user_id) is not None


def test_the_delete_button_of_the_list_still_deletes_by_post_with_its_token(app, login_as,
                                                                           make):
    """FAB 5's delete button fills the hidden POST form #action_form (which carries the
    CSRF token) with the delete URL and submits it (ab_actions.js)."""
    import re

    from app.extensions import db
    from app.planning.models import ProjectRequest

    # A draft: after submission records leave by a workflow step, never by deletion.
    project = make("project", dept="FIN")
    admin = login_as("admin")
    html = admin.get("/projectrequestview/list/?_oc_ProjectRequestView=changed_on"
                     "&_od_ProjectRequestView=desc").get_data(as_text=True)
    assert f"execute_single_delete('/projectrequestview/delete/{project}'" in html
    form = re.search(r'(?s)<form id="action_form" action="[^"]*" method="POST".*?</form>', html)
    assert form, "the hidden POST form of the delete button"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0)).group(1)
    assert admin.post(f"/projectrequestview/delete/{project}",
                      data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(ProjectRequest, project) is None


# --------------------------------------------------------------- CSRF

def post_rules(app):
    return [r for r in all_rules(app) if "POST" in r.methods and not csrf_exempt(r)]


def test_the_csrf_exemptions_are_only_the_jwt_api(app):
    exempt = [r.rule for r in all_rules(app) if "POST" in r.methods and csrf_exempt(r)]
    assert exempt and all(rule.startswith("/api/v1/") for rule in exempt)
    assert len(post_rules(app)) > 60


def test_every_post_route_refuses_a_request_without_csrf_token(app, login_as, make):
    """Signed in as Admin, every POST rule (web forms, deletes, actions, transitions,
    FAB's security forms, login and logout) answers 400 and changes nothing."""
    make("incident", dept="FIN")
    web = login_as("admin")
    before = table_state(app)
    checked = 0
    for rule in post_rules(app):
        for values in sample_values(app, rule):
            url = url_for_rule(app, rule, values)
            response = web.post(url, data={"action": "muldelete", "rowid": values.get("pk", 1),
                                            "comment": "无令牌", "name": "forged"})
            assert response.status_code == 400, (url, response.status_code)
            checked += 1
    assert checked > 100
    assert table_state(app) == before
    assert web.get("/inbox/").status_code == 200  # the session survived (logout refused too)


def test_new_version_of_a_published_plan_needs_the_csrf_token(app, login_as):
    from app.extensions import db
    from app.planning.models import DevelopmentPlan, PlanStatus

    with app.app_context():
        plan = (db.session.query(DevelopmentPlan.id)
                .filter(DevelopmentPlan.status == PlanStatus.published).first())
    if plan is None:
        pytest.skip("the demo data has no published plan")
    before = table_state(app)
    web = login_as("it_staff")
    assert web.post(f"/developmentplanview/new_version/{plan[0]}").status_code == 400
    assert web.get(f"/developmentplanview/new_version/{plan[0]}").status_code == 405
    assert table_state(app) == before
