"""Conflict of interest (3.2.3), over HTTP: an expert of the applicant's department who
is assigned to a project can never submit its review, on the web or the API, and the
inbox never offers it. Written against what a user sees: whether IT's assignment is
refused outright or accepted, no opinion of such an expert is ever recorded."""
import re

import pytest

from conftest import login
from webhelpers import form_token

EXPERT_PASSWORD = "Expert-Pass-2026"


@pytest.fixture
def conflicted(app, make, ids, login_as):
    """(review id, expert username): an Expert of FIN, assigned by IT staff to a FIN
    project in expert review (through the add form, or stored when the form refuses)."""
    from app.base import AppUser
    from app.extensions import db
    from app.planning.models import ExpertReview, ProjectStatus

    project = make("project", dept="FIN", status=ProjectStatus.expert_review)
    username = f"fin_expert_{project}"
    sm = app.appbuilder.sm
    with app.app_context():
        user = sm.add_user(username, "专家", "财务", f"{username}@example.com",
                           sm.find_role("Expert"), password=EXPERT_PASSWORD)
        db.session.get(AppUser, user.id).department_id = ids.dept("FIN")
        db.session.commit()
        expert_id = user.id
    it_staff = login_as("it_staff")
    it_staff.post("/expertreviewview/add", data={
        "project": project, "expert": expert_id, "csrf_token": form_token(it_staff)})
    with app.app_context():
        review = db.session.query(ExpertReview).filter_by(project_id=project,
                                                          expert_id=expert_id).first()
        if review is None:  # the assignment itself was refused: the engine must hold too
            review = ExpertReview(project_id=project, department_id=ids.dept("FIN"),
                                  expert_id=expert_id)
            db.session.add(review)
        # everything else ready, so only the conflict stands in the way
        review.no_conflict, review.score, review.opinion = True, 90, "同意立项"
        db.session.commit()
        return review.id, username


def review_status(app, pk):
    from app.base import Approval
    from app.extensions import db
    from app.planning.models import ExpertReview

    with app.app_context():
        approvals = db.session.query(Approval).filter_by(record_type="ExpertReview",
                                                         record_id=pk).count()
        return db.session.get(ExpertReview, pk).status.name, approvals


def test_an_expert_of_the_applicants_department_cannot_submit_on_the_web(app, conflicted):
    pk, username = conflicted
    client = app.test_client()
    assert login(client, username, EXPERT_PASSWORD).status_code == 302
    response = client.post(f"/expertreviewview/transition/{pk}/submit",
                           data={"csrf_token": form_token(client)})
    assert response.status_code in (403, 404, 409, 422)
    assert review_status(app, pk) == ("assigned", 0)


def test_an_expert_of_the_applicants_department_cannot_submit_over_the_api(app, conflicted):
    pk, username = conflicted
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": username, "password": EXPERT_PASSWORD, "provider": "db"}).get_json()
    response = client.post(f"/api/v1/expert_review/{pk}/transition/submit", json={},
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code in (403, 404, 409, 422)
    assert review_status(app, pk) == ("assigned", 0)


def test_the_inbox_never_offers_a_conflicted_review(app, conflicted):
    pk, username = conflicted
    client = app.test_client()
    assert login(client, username, EXPERT_PASSWORD).status_code == 302
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    assert not re.search(rf"/expertreviewview/(show|transition)/{pk}\b", html)
    count = client.get("/inbox/count")
    assert count.status_code == 200
    assert count.get_json() == {"count": 0}


def test_an_expert_of_another_department_can_submit_the_same_kind_of_review(
        app, make, ids, login_as):
    """The control case: the refusal above is the conflict, not the setup."""
    from app.extensions import db
    from app.planning.models import ExpertReview, ProjectStatus

    project = make("project", dept="FIN", status=ProjectStatus.expert_review)
    with app.app_context():
        review = ExpertReview(project_id=project, department_id=ids.dept("FIN"),
                              expert_id=ids.user("expert"), no_conflict=True, score=80,
                              opinion="可行")
        db.session.add(review)
        db.session.commit()
        pk = review.id
    client = login_as("expert")
    assert re.search(rf"/expertreviewview/(show|transition)/{pk}\b",
                     client.get("/inbox/").get_data(as_text=True))
    response = client.post(f"/expertreviewview/transition/{pk}/submit",
                           data={"csrf_token": form_token(client)})
    assert response.status_code == 302
    assert review_status(app, pk) == ("submitted", 1)
