"""Expert panels (3.2.3): IT assigns several experts to a project in expert review at
once, from the project's page or the API; each expert is checked by the review's rules."""
from app.base import AppUser
from app.extensions import db
from app.planning.models import ExpertReview
from app.security import ScopeError, check_write, writable_fields
from app.workflow import N_


def assign_experts(project, expert_ids):
    """IT assigns several experts to a project in expert review at once (3.2.3): one review
    each, all or none. Raises ScopeError (with the reason) when any one is refused."""
    ids = []
    for value in expert_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ScopeError(N_("Choose experts from the list.")) from None
        if not 0 < ids[-1] < 2**31:
            raise ScopeError(N_("Choose experts from the list."))
    if not ids:
        raise ScopeError(N_("Choose at least one expert."))
    experts = db.session.query(AppUser).filter(AppUser.id.in_(ids)).all()
    if len(experts) != len(set(ids)):
        raise ScopeError(N_("Choose experts from the list."))
    current = {r.expert_id for r in project.expert_reviews
               if r.project_round == (project.round or 0)}
    reviews = []
    try:
        for expert in experts:
            if expert.id in current:
                continue
            review = ExpertReview(project=project, expert=expert)
            check_write(review)
            db.session.add(review)
            reviews.append(review)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return reviews


def may_assign_experts(user):
    """Whether the workflow's rules let ``user`` assign experts (IT staff; Admin)."""
    if user is None:
        return False
    return {"project", "expert"} <= (writable_fields(ExpertReview(), user) or set())


def eligible_experts(project):
    """Experts who may review the project: the Expert role, not of the applicant department,
    not yet assigned in this round."""
    current = {r.expert_id for r in project.expert_reviews
               if r.project_round == (project.round or 0)}
    return [user for user in db.session.query(AppUser)
            .filter(AppUser.active.is_(True), AppUser.roles.any(name="Expert"))
            .order_by(AppUser.username)
            if user.department_id != project.applicant_department_id
            and user.id not in current]
