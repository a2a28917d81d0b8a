"""Approvals nobody can bypass: separation of duties, stale requests, review rounds,
who may write what in which state, deletion, and expert work — over the web and the API.

The separation-of-duties matrix is generated from the workflow tables (every approving
step); records and expectations come from tests/test_workflows.py, whose rules are
restated there independently of the application's code.
"""
import datetime as dt
from decimal import Decimal

import pytest

from test_workflows import (  # noqa: F401  (api, web: fixtures)
    MODELS,
    USERS,
    Step,
    _views,
    api,
    api_url,
    build,
    expect,
    show_url,
    snapshot,
    steps,
    uid,
    web,
    web_url,
)

pytestmark = pytest.mark.matrix  # sampled in a normal run: tests/sampling.py

SUBMITTER = "head_mkt"  # submits the records under test: none of USERS
TODAY = dt.date.today()

APPROVING = [step for model in MODELS.values() for step in steps(model, sod=False)
             if any(t.approves for t in step.group())]
# How someone comes to stand behind a record, or to have decided on it already.
ATTACKS = ("acted_for", "substitute_of_submitter", "substitute_of_acted_for", "last_editor",
           "approved_another_step")


def _approval(session, record, **values):
    from app.base import Approval

    state = getattr(record, type(record).__workflow__.state_field).name
    defaults = dict(record_type=type(record).__name__, record_id=record.id,
                    transition="submit", label="submit", from_state=state, to_state=state,
                    content_hash="0" * 64, approves=False, submits=False, at=dt.datetime.now())
    session.add(Approval(**{**defaults, **values}))


def _delegation(session, principal, substitute):
    from app.base import Delegation

    row = Delegation(principal_id=uid(principal), substitute_id=uid(substitute),
                     start_date=TODAY - dt.timedelta(days=1), end_date=TODAY + dt.timedelta(days=1),
                     reason="测试代理")
    session.add(row)
    return row


def _approver(record, name):
    """A demo account the table lets take the step on this record now."""
    for username in USERS:
        if expect(record, name, username).status == 200 and \
                expect(record, name, username).acting_for == frozenset({None}):
            return username
    return None


def _other_state(step):
    states = [s.name for s in step.cls.__workflow__.states if s.name != step.state]
    return states[0]


@pytest.mark.parametrize("door", ["api", "web"])
@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("step", APPROVING, ids=str)
def test_nobody_approves_what_they_stand_behind_or_already_decided(app, api, web, step,
                                                                  attack, door):
    from app.base import Delegation
    from app.extensions import db

    made = []
    with app.app_context():
        record = build(step.cls, step.state, step, submitter=SUBMITTER)
        approver = _approver(record, step.name)
        assert approver, f"no demo account may take {step} at all"
        session = db.session
        if attack == "acted_for":  # someone submitted it acting for the approver
            _approval(session, record, submits=True, actor_id=uid(SUBMITTER),
                      acting_for_id=uid(approver))
        elif attack == "substitute_of_submitter":
            made.append(_delegation(session, SUBMITTER, approver))
        elif attack == "substitute_of_acted_for":
            _approval(session, record, submits=True, actor_id=uid(SUBMITTER),
                      acting_for_id=uid("clerk_mkt"))
            made.append(_delegation(session, "clerk_mkt", approver))
        elif attack == "last_editor":  # the approver changed the content under review
            _approval(session, record, transition="reapproval", actor_id=uid(approver))
        else:
            _approval(session, record, transition="approve", approves=True,
                      from_state=_other_state(step), actor_id=uid(approver))
        session.commit()
        record = session.get(step.cls, record.id)
        expected = expect(record, step.name, approver)
        pk = record.id
        made = [row.id for row in made]
    try:
        assert expected.status == 403, "the restated rules refuse it too"
        before = snapshot(app, step.cls, pk)
        if door == "api":
            client, headers = api(approver)
            response = client.post(api_url(app, step.cls, pk, step.name),
                                   json={"comment": "同意"}, headers=headers)
        else:
            client, token = web(approver)
            response = client.post(web_url(app, step.cls, pk, step.name),
                                   data={"csrf_token": token, "comment": "同意"})
        assert response.status_code == 403
        assert snapshot(app, step.cls, pk) == before
        page = web(approver)[0].get(show_url(app, step.cls, pk)).get_data(as_text=True)
        assert f'data-transition="{step.name}"' not in page
    finally:
        with app.app_context():
            for pk_ in made:
                db.session.delete(db.session.get(Delegation, pk_))
            db.session.commit()


# ------------------------------------------------------------- delegations


def _delegation_api(api, username, principal, substitute):
    client, headers = api(username)
    return client.post("/api/v1/delegation/", headers=headers, json={
        "principal": uid(principal), "substitute": uid(substitute),
        "start_date": TODAY.isoformat(), "end_date": (TODAY + dt.timedelta(days=3)).isoformat(),
        "reason": "出差"})


def test_nobody_names_themselves_substitute(app, api, web):
    from app.base import Delegation
    from webhelpers import count

    before = count(app, Delegation)
    response = _delegation_api(api, "head_fin", "head_fin", "head_fin")
    assert response.status_code in (400, 403, 422)
    client, token = web("head_fin")
    page = client.post("/delegationview/add", data={
        "principal": uid("head_fin"), "substitute": uid("head_fin"),
        "start_date": TODAY.isoformat(), "end_date": TODAY.isoformat(), "reason": "x",
        "csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "代理人" in page and "委托人" in page
    assert count(app, Delegation) == before


def test_delegations_cannot_go_in_a_circle(app, api):
    from app.base import Delegation
    from app.extensions import db
    from webhelpers import count

    first = _delegation_api(api, "head_fin", "head_fin", "it_staff")
    assert first.status_code == 201, first.get_json()
    try:
        before = count(app, Delegation)
        back = _delegation_api(api, "it_staff", "it_staff", "head_fin")
        assert back.status_code in (403, 422)
        assert count(app, Delegation) == before
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Delegation, first.get_json()["id"]))
            db.session.commit()


# ------------------------------------------------ stale requests and rounds


def _project(app, state, **values):
    from app.planning.models import ProjectRequest

    with app.app_context():
        step = Step("ProjectRequest", "approve", state) if state != "draft" else None
        record = build(ProjectRequest, state, step, submitter="clerk_fin")
        for key, value in values.items():
            setattr(record, key, value)
        from app.extensions import db

        db.session.commit()
        return record.id, record.version


@pytest.mark.parametrize("door", ["api", "web"])
def test_a_step_sent_on_an_old_version_is_409_and_moves_nothing(app, api, web, door):
    from app.planning.models import ProjectRequest

    pk, version = _project(app, "dept_review")
    before = snapshot(app, ProjectRequest, pk)
    if door == "api":
        client, headers = api("head_fin")

        def send(v):
            return client.post(api_url(app, ProjectRequest, pk, "approve"),
                               json={"comment": "同意", "version": v}, headers=headers)
        ok = 200
    else:
        client, token = web("head_fin")

        def send(v):
            return client.post(web_url(app, ProjectRequest, pk, "approve"),
                               data={"csrf_token": token, "comment": "同意", "version": v})
        ok = 302
    assert send(version - 1).status_code == 409
    assert snapshot(app, ProjectRequest, pk) == before
    assert send(version).status_code == ok
    moved = snapshot(app, ProjectRequest, pk)
    assert moved.state.name == "it_review"
    assert send(version).status_code == 409  # the same click again
    assert snapshot(app, ProjectRequest, pk) == moved


def test_the_record_page_carries_the_version_its_buttons_act_on(app, web):
    from app.planning.models import ProjectRequest

    pk, version = _project(app, "dept_review")
    client, _ = web("head_fin")
    page = client.get(show_url(app, ProjectRequest, pk)).get_data(as_text=True)
    assert f'name="version" value="{version}"' in page


def test_a_return_starts_a_new_round_the_old_opinions_no_longer_count(app, api):
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    pk, _ = _project(app, "expert_review")
    with app.app_context():
        record = db.session.get(ProjectRequest, pk)
        assert record.expert_opinion and record.expert_reviews
    client, headers = api("it_staff")
    response = client.post(api_url(app, ProjectRequest, pk, "return"),
                           json={"comment": "请补充预算明细"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    clerk, clerk_headers = api("clerk_fin")
    response = clerk.post(api_url(app, ProjectRequest, pk, "submit"), json={},
                          headers=clerk_headers)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        record = db.session.get(ProjectRequest, pk)
        assert record.expert_opinion is None  # the old one is in the history only
        record.status = ProjectStatus.expert_review  # (test shortcut through two steps)
        record.expert_opinion = "沿用上一轮意见"
        db.session.commit()
    response = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=api("it_head")[1] if False else headers)
    assert response.status_code in (403, 422)
    if response.status_code == 422:
        assert "专家" in response.get_json()["message"]
    assert snapshot(app, ProjectRequest, pk).state.name == "expert_review"


# ---------------------------------------------- who writes what, in which state


def _put(api, username, resource, pk, body):
    client, headers = api(username)
    return client.put(f"/api/v1/{resource}/{pk}", json=body, headers=headers)


def _edit_form_fields(web, username, model, pk, app):
    import re

    client, _ = web(username)
    response = client.get(f"{_views(app, model)[0]}/edit/{pk}")
    if response.status_code != 200:
        return None
    form = response.get_data(as_text=True).split('id="model_form"')[1].split("</form>")[0]
    names = set(re.findall(r'name="([a-z_]+)"', form)) - {"csrf_token"}
    return {n.removesuffix("_upload") for n in names}


@pytest.mark.parametrize("state,writer,shown,refused", [
    ("draft", "clerk_fin", {"name", "budget", "requirements_report"}, "expert_opinion"),
    ("expert_review", "it_staff", {"expert_opinion"}, "budget"),
    ("feasibility", "it_staff", {"feasibility_report"}, "expert_opinion"),
    ("implementation", "clerk_fin", set(), "budget"),
    ("implementation", "it_staff", {"acceptance_report"}, "budget"),
])
def test_forms_offer_and_the_api_takes_only_the_fields_of_the_state(app, api, web, state,
                                                                    writer, shown, refused):
    from app.planning.models import ProjectRequest

    pk, _ = _project(app, state)
    fields = _edit_form_fields(web, writer, ProjectRequest, pk, app)
    assert shown <= (fields or set())  # None: nothing to write, the form does not open
    assert refused not in (fields or set())
    before = snapshot(app, ProjectRequest, pk)
    value = "2500" if refused == "budget" else "改写"
    response = _put(api, writer, "project_request", pk,
                    {refused: float(value) if refused == "budget" else value})
    assert response.status_code in (403, 422), response.get_json()
    assert snapshot(app, ProjectRequest, pk) == before


def test_a_clerk_cannot_change_the_budget_of_a_project_in_implementation(app, api):
    from app.planning.models import ProjectRequest
    from webhelpers import row

    pk, _ = _project(app, "implementation")
    before = row(app, ProjectRequest, pk)["budget"]
    response = _put(api, "clerk_fin", "project_request", pk, {"budget": 99999})
    assert response.status_code == 403
    assert "budget" in response.get_json()["message"] or "预算" in response.get_json()["message"]
    assert row(app, ProjectRequest, pk)["budget"] == before


def test_the_applicant_cannot_write_the_opinions_and_reports_the_it_steps_check(app, api):
    from app.planning.models import ProjectRequest
    from webhelpers import row

    pk, _ = _project(app, "expert_review")
    before = row(app, ProjectRequest, pk)
    response = _put(api, "clerk_fin", "project_request", pk, {"expert_opinion": "同意立项"})
    assert response.status_code in (403, 422)  # not even a column the applicant's API takes
    assert row(app, ProjectRequest, pk) == before


def test_the_head_who_changed_the_budget_under_review_cannot_approve_it(app, api, web):
    from app.planning.models import ProjectRequest

    pk, _ = _project(app, "dept_review")
    response = _put(api, "head_fin", "project_request", pk, {"budget": 1234})
    assert response.status_code == 200, response.get_json()
    moved = snapshot(app, ProjectRequest, pk)
    client, headers = api("head_fin")
    response = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=headers)
    assert response.status_code == 403
    assert snapshot(app, ProjectRequest, pk) == moved


@pytest.mark.parametrize("state,username,allowed", [
    ("draft", "clerk_fin", True),
    ("draft", "admin", True),
    ("draft", "it_staff", False),
    ("returned", "clerk_fin", False),
    ("dept_review", "head_fin", False),
    ("approved", "admin", False),
])
@pytest.mark.parametrize("door", ["api", "web"])
def test_only_a_draft_can_be_deleted_and_only_by_its_department(app, api, web, state,
                                                                username, allowed, door):
    from app.planning.models import ProjectRequest
    from webhelpers import row

    pk, _ = _project(app, state)
    if door == "api":
        client, headers = api(username)
        response = client.delete(f"/api/v1/project_request/{pk}", headers=headers)
        assert response.status_code == (200 if allowed else 403)
    else:
        client, token = web(username)
        client.post(f"/projectrequestview/delete/{pk}", data={"csrf_token": token})
    assert (row(app, ProjectRequest, pk) is None) == allowed


# ---------------------------------------------------------------- experts


def _assigned_review(app, project_state="expert_review", expert="expert"):
    from app.extensions import db
    from app.planning.models import ExpertReview, ProjectRequest

    pk, _ = _project(app, project_state)
    with app.app_context():
        project = db.session.get(ProjectRequest, pk)
        for review in list(project.expert_reviews):
            db.session.delete(review)
        review = ExpertReview(project=project, expert_id=uid(expert))
        db.session.add(review)
        db.session.commit()
        return pk, review.id


def test_an_expert_sees_only_the_projects_assigned_to_them(app, api, web):
    from app.planning.models import ProjectRequest

    assigned, _ = _assigned_review(app)
    unassigned, _ = _project(app, "expert_review")
    client, headers = api("expert")
    assert client.get(f"/api/v1/project_request/{assigned}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/project_request/{unassigned}",
                      headers=headers).status_code == 404
    browser, _ = web("expert")
    assert browser.get(show_url(app, ProjectRequest, unassigned)).status_code == 404
    assert browser.get(show_url(app, ProjectRequest, assigned)).status_code == 200


def test_an_expert_cannot_create_an_expert_review(app, api):
    from app.planning.models import ExpertReview
    from webhelpers import count

    pk, _ = _project(app, "expert_review")
    before = count(app, ExpertReview)
    client, headers = api("expert")
    response = client.post("/api/v1/expert_review/", headers=headers,
                           json={"project": pk, "expert": uid("expert")})
    # 400: a project the expert is not assigned to is no project they may name (related
    # ids are checked within the user's scope).
    assert response.status_code in (400, 403, 404, 422)
    assert count(app, ExpertReview) == before


def test_a_submitted_review_is_locked_until_it_hands_it_back(app, api):
    from app.planning.models import ExpertReview
    from webhelpers import row

    _, review = _assigned_review(app)
    expert, headers = api("expert")
    body = {"no_conflict": True, "score": 80, "opinion": "可行"}
    assert expert.put(f"/api/v1/expert_review/{review}", json=body,
                      headers=headers).status_code == 200
    response = expert.post(f"/api/v1/expert_review/{review}/transition/submit", json={},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    response = expert.put(f"/api/v1/expert_review/{review}", json={"score": 10},
                          headers=headers)
    assert response.status_code == 403
    assert row(app, ExpertReview, review)["score"] == 80
    it, it_headers = api("it_staff")
    assert it.post(f"/api/v1/expert_review/{review}/transition/hand_back", json={},
                   headers=it_headers).status_code == 422  # a comment is required
    assert it.post(f"/api/v1/expert_review/{review}/transition/hand_back",
                   json={"comment": "请补充风险评估"}, headers=it_headers).status_code == 200
    assert expert.put(f"/api/v1/expert_review/{review}", json={"score": 75},
                      headers=headers).status_code == 200


@pytest.mark.parametrize("username,allowed", [("expert", False), ("it_staff", True)])
def test_experts_never_delete_reviews(app, api, username, allowed):
    from app.planning.models import ExpertReview
    from webhelpers import row

    _, review = _assigned_review(app)
    client, headers = api(username)
    response = client.delete(f"/api/v1/expert_review/{review}", headers=headers)
    assert response.status_code == (200 if allowed else 403)
    assert (row(app, ExpertReview, review) is None) == allowed


def _expert_users(app, count_, department="OPS"):
    """Extra users with the Expert role (made once)."""
    from app.base import AppUser
    from app.extensions import db
    from app.organisation.models import Department

    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role("Expert")
        dept = db.session.query(Department).filter_by(code=department).one()
        ids = []
        for n in range(count_):
            username = f"panel_{department.lower()}_{n}"
            user = sm.find_user(username=username)
            if user is None:
                user = sm.add_user(username, "评审", f"专家{n}", f"{username}@example.com",
                                   role, password="Demo-Pass-2026")
                user.department_id = dept.id
                db.session.commit()
            ids.append(user.id)
        return ids


@pytest.mark.parametrize("door", ["api", "web"])
def test_it_assigns_several_experts_at_once(app, api, web, door):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    experts = _expert_users(app, 3)
    pk, _ = _project(app, "expert_review")
    if door == "api":
        client, headers = api("it_staff")
        response = client.post(f"/api/v1/project_request/{pk}/assign_experts",
                               json={"experts": experts}, headers=headers)
        assert response.status_code == 200, response.get_json()
    else:
        client, token = web("it_staff")
        page = client.get(show_url(app, ProjectRequest, pk)).get_data(as_text=True)
        assert "assign-experts" in page
        response = client.post(f"/projectrequestview/assign_experts/{pk}",
                               data={"expert": experts, "csrf_token": token})
        assert response.status_code == 302
    with app.app_context():
        project = db.session.get(ProjectRequest, pk)
        assert set(experts) <= {r.expert_id for r in project.expert_reviews}


@pytest.mark.parametrize("username", ["expert", "clerk_fin", "head_fin"])
def test_only_it_assigns_experts(app, api, username):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    experts = _expert_users(app, 1)
    pk, _ = _project(app, "expert_review")
    with app.app_context():
        before = len(db.session.get(ProjectRequest, pk).expert_reviews)
    client, headers = api(username)
    response = client.post(f"/api/v1/project_request/{pk}/assign_experts",
                           json={"experts": experts}, headers=headers)
    assert response.status_code in (403, 404)
    with app.app_context():
        assert len(db.session.get(ProjectRequest, pk).expert_reviews) == before


def test_an_expert_of_the_applicant_department_cannot_be_assigned(app, api):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    insider = _expert_users(app, 1, department="FIN")
    pk, _ = _project(app, "expert_review")
    with app.app_context():
        before = len(db.session.get(ProjectRequest, pk).expert_reviews)
    client, headers = api("it_staff")
    response = client.post(f"/api/v1/project_request/{pk}/assign_experts",
                           json={"experts": insider}, headers=headers)
    assert response.status_code == 422
    assert "利益冲突" in response.get_json()["message"]
    with app.app_context():
        assert len(db.session.get(ProjectRequest, pk).expert_reviews) == before


def test_the_separation_of_duties_report_stays_empty(app, login_as):
    from app.approvals import separation_of_duties_violations

    forged = range(987654, 987664)  # tests/test_sod.py writes violations past the engine
    with app.app_context():
        assert [v for v in separation_of_duties_violations()
                if v["record_id"] not in forged] == []


def test_it_starts_a_new_version_of_a_published_plan_as_a_draft(app, web):
    from app.extensions import db
    from app.planning.models import DevelopmentPlan, PlanStatus

    with app.app_context():
        plan = DevelopmentPlan(title="新版本测试规划", period="2031-2035", goals="g", tasks="t",
                               status=PlanStatus.published)
        db.session.add(plan)
        db.session.commit()
        pk = plan.id
    client, token = web("it_staff")
    response = client.post(f"/developmentplanview/new_version/{pk}",
                           data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        drafts = db.session.query(DevelopmentPlan).filter_by(previous_version_id=pk).all()
        assert [(d.plan_version, d.status) for d in drafts] == [(2, PlanStatus.draft)]


@pytest.mark.parametrize("junk", [["abc"], [10**30], [-1], [], [True]])
def test_junk_expert_ids_are_a_clear_refusal(app, api, web, junk):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    pk, _ = _project(app, "expert_review")
    with app.app_context():
        before = len(db.session.get(ProjectRequest, pk).expert_reviews)
    client, headers = api("it_staff")
    response = client.post(f"/api/v1/project_request/{pk}/assign_experts",
                           json={"experts": junk}, headers=headers)
    assert response.status_code in (400, 422)
    browser, token = web("it_staff")
    response = browser.post(f"/projectrequestview/assign_experts/{pk}",
                            data={"expert": [str(j) for j in junk], "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert len(db.session.get(ProjectRequest, pk).expert_reviews) == before


@pytest.mark.parametrize("version", ["abc", "99999999999999999999999", "-1", "1.5"])
def test_a_junk_version_on_a_step_changes_nothing(app, web, version):
    from app.planning.models import ProjectRequest

    pk, _ = _project(app, "dept_review")
    before = snapshot(app, ProjectRequest, pk)
    client, token = web("head_fin")
    response = client.post(web_url(app, ProjectRequest, pk, "approve"),
                           data={"csrf_token": token, "comment": "同意", "version": version})
    assert response.status_code in (400, 409)
    assert snapshot(app, ProjectRequest, pk) == before
