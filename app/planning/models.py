"""Planning and project initiation (regulation chapter 3): the development plan with the
departments' feedback (3.1), project requests and their expert reviews (3.2)."""
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    exists,
    or_,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import relationship, validates

from app.base import (
    APPLICANT,
    EXPERT,
    IT,
    MGMT,
    AppUser,
    StampMixin,
    WorkflowMixin,
    enum_column,
    sort_indexes,
)
from app.charts import Chart, Count, Sum
from app.compliance import rule
from app.deadlines import review_states
from app.i18n import LabelledEnum
from app.workflow import (
    N_,
    Condition,
    Delete,
    Edit,
    Guard,
    Transition,
    Workflow,
    filled,
    review_exits,
)


# ----------------------------------------------------------------------- Plans

class PlanStatus(LabelledEnum):
    draft = "Draft", "default"
    consultation = "Consultation", "info"
    mgmt_review = "Management approval", "warning"
    published = "Published", "success"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


class DevelopmentPlan(StampMixin, WorkflowMixin, Model):
    """The IS development plan: goals, tasks, priorities, schedule, by version (3.1.1-3.1.3).

    Drafted by IT staff, circulated for the departments' feedback (consultation), sent to
    management once IT has answered every item, published on management's approval.
    """

    __tablename__ = "development_plan"
    __reference__ = True  # the company's guiding document: everyone reads it, IT writes it
    __derived__ = ("previous_version", "plan_version")  # set by plan_new_version()
    __table_args__ = (
        UniqueConstraint("period", "plan_version", name="uq_development_plan_version"),
        CheckConstraint("plan_version >= 1", name="ck_development_plan_version"),
    ) + sort_indexes("development_plan", "plan_version")

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False, index=True)
    period = Column(String(32), nullable=False)
    plan_version = Column(Integer, nullable=False, default=1,
                          info={"min": 1, "check": "ck_development_plan_version"})
    previous_version_id = Column(Integer, ForeignKey(
        "development_plan.id", name="fk_development_plan_previous_version"))
    previous_version = relationship("DevelopmentPlan", remote_side=[id],
                                    backref="next_versions")
    goals = Column(Text, nullable=False)
    tasks = Column(Text, nullable=False)
    priorities = Column(Text)
    schedule = Column(Text)
    status = enum_column(PlanStatus, nullable=False, default=PlanStatus.draft, index=True)

    __title__ = "{title}（V{plan_version}）"  # what it is called (app/titles.py)


class PlanFeedback(StampMixin, Model):
    """A department's comment on a plan in consultation, and IT's response to it (3.1.2)."""

    __tablename__ = "plan_feedback"
    __scope__ = ("department_id",)
    __department_columns__ = ("plan", "plan_id", "department", "department_id", "opinion")

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("development_plan.id", name="fk_plan_feedback_plan"),
                     nullable=False, index=True)
    plan = relationship("DevelopmentPlan", backref="feedback")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_plan_feedback_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    opinion = Column(Text, nullable=False)
    it_response = Column(Text)

    def write_refusal(self):
        if self.plan is not None and self.plan.status is not PlanStatus.consultation:
            return N_("Feedback is recorded while the plan is in consultation.")
        return None

    __name_loads__ = ("plan", "department")  # what its name reads

    __title__ = "{plan} · {department}"  # what it is called (app/titles.py)


def _feedback_answered(plan):
    return all((item.it_response or "").strip() for item in plan.feedback)


def plan_new_version(plan):
    """A new draft that starts from a published plan: same content, next version (3.1.1).

    Not a workflow step: it creates a record. The caller adds and commits it.
    """
    if plan.status is not PlanStatus.published:
        raise ValueError(N_("Only a published plan can start a new version."))
    if plan.next_versions:
        raise ValueError(N_("A newer version of this plan exists already."))
    return DevelopmentPlan(title=plan.title, period=plan.period,
                           plan_version=plan.plan_version + 1, previous_version=plan,
                           goals=plan.goals, tasks=plan.tasks, priorities=plan.priorities,
                           schedule=plan.schedule)


_PL = PlanStatus
_PLAN_CONTENT = ("title", "period", "goals", "tasks", "priorities", "schedule")
DevelopmentPlan.__workflow__ = Workflow(
    states=PlanStatus,
    covered=_PLAN_CONTENT,
    frozen=frozenset({_PL.published}),
    reapproval=_PL.mgmt_review,
    editable=(
        Edit((_PL.draft, _PL.consultation, _PL.returned, _PL.published), IT, _PLAN_CONTENT),
    ),
    deletable=(Delete((_PL.draft,), IT),),
    transitions=(
        Transition("consult", N_("Open for consultation"), (_PL.draft, _PL.returned),
                   _PL.consultation, IT),
        Transition("submit", N_("Submit to management"), (_PL.consultation, _PL.returned),
                   _PL.mgmt_review, IT, submits=True,
                   guards=(Guard(_feedback_answered,
                                 N_("Respond to every department's feedback first.")),)),
        Transition("approve", N_("Approve and publish"), (_PL.mgmt_review,), _PL.published,
                   MGMT, approves=True, style="success"),
        Transition("return", N_("Return for revision"), (_PL.mgmt_review,), _PL.returned,
                   MGMT, needs_comment=True, style="warning"),
        Transition("reject", N_("Reject"), (_PL.mgmt_review,), _PL.rejected, MGMT,
                   needs_comment=True, style="danger"),
    ),
)


# -------------------------------------------------------------------- Projects

class ProjectStatus(LabelledEnum):
    draft = "Draft", "default"
    dept_review = "Department approval", "info"
    it_review = "IT preliminary review", "info"
    expert_review = "Expert review", "info"
    feasibility = "Feasibility study", "info"
    mgmt_review = "Management approval", "warning"
    approved = "Approved (initiated)", "success"
    procurement = "Procurement", "primary"
    implementation = "Implementation", "primary"
    acceptance = "Acceptance", "primary"
    closed = "Closed", "default"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


project_request_system = Table(
    "project_request_system",
    Model.metadata,
    Column("project_request_id", Integer, ForeignKey("project_request.id", ondelete="CASCADE"),
           primary_key=True),
    Column("system_id", Integer, ForeignKey("information_system.id", ondelete="CASCADE"),
           primary_key=True),
)


class ProjectRequest(StampMixin, WorkflowMixin, Model):
    """Project initiation request from a department, with its reports (3.2.1, 3.2.2)."""

    __tablename__ = "project_request"
    __scope__ = ("applicant_department_id",)
    __attachments__ = ("requirements_report", "feasibility_report", "acceptance_report")
    __table_args__ = (CheckConstraint("budget >= 0", name="ck_project_budget"),
                      *sort_indexes("project_request", "name", "budget", "status"))

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    applicant_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                     index=True)
    applicant_department = relationship("Department")
    background = Column(Text, nullable=False)
    goals = Column(Text, nullable=False)
    content = Column(Text, nullable=False)
    budget = Column(Numeric(14, 2), nullable=False,
                    info={"min": 0, "check": "ck_project_budget"})
    implementation_plan = Column(Text, nullable=False)
    systems = relationship("InformationSystem", secondary=project_request_system)
    requirements_report_id = Column(Integer, ForeignKey("attachment.id"))
    requirements_report = relationship("Attachment", foreign_keys=[requirements_report_id])
    feasibility_report_id = Column(Integer, ForeignKey("attachment.id"))
    feasibility_report = relationship("Attachment", foreign_keys=[feasibility_report_id])
    acceptance_report_id = Column(Integer, ForeignKey(
        "attachment.id", name="fk_project_request_acceptance_report"))
    acceptance_report = relationship("Attachment", foreign_keys=[acceptance_report_id])
    expert_opinion = Column(Text)
    status = enum_column(ProjectStatus, nullable=False, default=ProjectStatus.draft)

    @classmethod
    def expert_clause(cls, user_id):
        """Experts see the requests they are assigned to review, with their reports (3.2.3)."""
        from sqlalchemy import select

        return cls.id.in_(select(ExpertReview.project_id)
                          .where(ExpertReview.expert_id == user_id))

    __title__ = "{name}"  # what it is called (app/titles.py)


class ReviewStatus(LabelledEnum):
    assigned = "Assigned", "warning"
    submitted = "Opinion submitted", "success"


class ExpertReview(StampMixin, WorkflowMixin, Model):
    """One expert's review of a project request: no conflict of interest, score, opinion (3.2.3)."""

    __tablename__ = "expert_review"
    __scope__ = ("department_id",)
    __personal__ = "expert_id"
    __derived__ = ("department", "project_round")
    __title_loads__ = ("project", "expert")  # what ``__str__`` reads: loaded with a page
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score BETWEEN 0 AND 100)", name="ck_review_score"),
        UniqueConstraint("project_id", "expert_id", "project_round",
                         name="uq_review_project_expert_round"),
    ) + sort_indexes("expert_review", "score", "status")

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project_request.id"), nullable=False, index=True)
    project = relationship("ProjectRequest", backref="expert_reviews")
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    department = relationship("Department")
    expert_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    expert = relationship("AppUser", foreign_keys=[expert_id])
    no_conflict = Column(Boolean, nullable=False, default=False)
    score = Column(Integer, info={"min": 0, "max": 100, "check": "ck_review_score"})
    opinion = Column(Text)
    status = enum_column(ReviewStatus, nullable=False, default=ReviewStatus.assigned)
    # The project's review round this opinion belongs to: a return starts a new round,
    # and only the current round's opinions count (3.2.3).
    project_round = Column(Integer, nullable=False, default=0, server_default="0")

    @validates("project")
    def _take_project_department(self, _key, project):
        # The review belongs to the project's department (scoping, conflict check) and
        # to the project's current review round.
        self.department_id = project.applicant_department_id if project else None
        self.project_round = project.round or 0 if project else 0
        return project

    def write_refusal(self):
        from sqlalchemy import inspect as sa_inspect

        if not sa_inspect(self).persistent:
            project = self.project
            if project is not None and project.status is not ProjectStatus.expert_review:
                return N_("Experts are assigned while the project is in expert review.")
            expert = self.expert
            if expert is not None and project is not None and (
                    expert.department_id == project.applicant_department_id):
                return N_("Conflict of interest: an expert of the applicant department "
                          "cannot review this project.")
            if expert is not None and not any(r.name == "Expert" for r in expert.roles):
                return N_("Only users with the Expert role can be assigned.")
        return None

    def reviewer_ids(self):
        return [self.expert_id]

    @classmethod
    def reviewer_clause(cls, user_id):
        """``reviewer_ids()`` as SQL: the user is the assigned expert (the inbox)."""
        return cls.expert_id == user_id

    @hybrid_property
    def review_department_id(self):
        """The department an expert of which may not review (conflict of interest); a
        column in SQL too."""
        return self.department_id

    __name_loads__ = ("project", "expert")  # what its name reads

    __title__ = "{project} · {expert}"  # what it is called (app/titles.py)


def _signed_contract(project):
    from app.procurement.models import SIGNED_CONTRACT_STATES

    return any(c.status in SIGNED_CONTRACT_STATES for c in project.contracts)


def _no_open_milestones(project):
    return all(m.done_on is not None for m in project.milestones)


def _open_milestones_named(project):
    """The refusal naming the milestones still open (4.2.2)."""
    from flask_babel import gettext

    from app.procurement.models import open_milestones

    names = "、".join(f"{m.name}（{m.due_on}）" for m in open_milestones(project))
    return gettext("These milestones are not done yet: %(names)s. Mark each done, with its "
                   "done date and evidence, before acceptance.", names=names)


def current_reviews(project):
    """The expert reviews of the project's current review round."""
    return [r for r in project.expert_reviews if r.project_round == (project.round or 0)]


def _expert_panel_done(project):
    reviews = current_reviews(project)
    return bool(reviews) and all(r.status is ReviewStatus.submitted for r in reviews)


_P = ProjectStatus
_PROJECT_REVIEWS = (
    # state under review, roles of the reviewer, department rule
    (_P.dept_review, frozenset({"DeptHead"}), "applicant_department_id"),
    (_P.it_review, frozenset({"ITStaff"}), None),
    (_P.expert_review, frozenset({"ITStaff"}), None),
    (_P.feasibility, frozenset({"ITStaff"}), None),
    (_P.mgmt_review, frozenset({"Management"}), None),
)

_PROJECT_CONTENT = ("name", "applicant_department", "background", "goals", "content",
                    "budget", "implementation_plan", "systems", "requirements_report")
_UNDER_REVIEW = (_P.dept_review, _P.it_review, _P.expert_review, _P.feasibility,
                 _P.mgmt_review)
_APPLICANT_DEPT = dict(roles=APPLICANT, department="applicant_department_id")

ProjectRequest.__workflow__ = Workflow(
    states=ProjectStatus,
    covered=_PROJECT_CONTENT + ("expert_opinion", "feasibility_report"),
    content=_PROJECT_CONTENT,
    # Content changed under review goes back to the department's approval; after the
    # project is approved (立项) it is refused: a change order is the way (4.2.4).
    frozen=frozenset(_UNDER_REVIEW),
    reapproval=_P.dept_review,
    editable=(
        Edit((_P.draft, _P.returned) + _UNDER_REVIEW, fields=_PROJECT_CONTENT,
             **_APPLICANT_DEPT),
        Edit((_P.expert_review,), IT, ("expert_opinion",)),
        Edit((_P.feasibility,), IT, ("feasibility_report",)),
        Edit((_P.implementation, _P.acceptance), IT, ("acceptance_report",)),
    ),
    deletable=(Delete((_P.draft,), **_APPLICANT_DEPT),),
    round_outputs=("expert_opinion", "feasibility_report"),
    transitions=(
        Transition("submit", N_("Submit for approval"), (_P.draft, _P.returned), _P.dept_review,
                   APPLICANT, department="applicant_department_id", submits=True,
                   guards=(filled("requirements_report",
                                  message=N_("Attach the requirements analysis report first.")),)),
        Transition("approve", N_("Approve for the department"), (_P.dept_review,), _P.it_review,
                   frozenset({"DeptHead"}), department="applicant_department_id",
                   approves=True, style="success"),
        Transition("approve", N_("Pass preliminary review"), (_P.it_review,), _P.expert_review,
                   frozenset({"ITStaff"}), approves=True, style="success"),
        Transition("approve", N_("Pass expert review"), (_P.expert_review,), _P.feasibility,
                   frozenset({"ITStaff"}), approves=True, style="success",
                   fields=("expert_opinion",),
                   guards=(Guard(_expert_panel_done,
                                 N_("Every assigned expert must submit an opinion first.")),
                           filled("expert_opinion",
                                  message=N_("Record the consolidated expert opinion first.")))),
        # Writing the feasibility study and sending it on is IT's work, not a review (3.2.4).
        Transition("submit_feasibility", N_("Submit feasibility report to management"),
                   (_P.feasibility,), _P.mgmt_review, frozenset({"ITStaff"}),
                   fields=("feasibility_report",),
                   guards=(filled("feasibility_report",
                                  message=N_("Attach the feasibility study report first.")),)),
        Transition("approve", N_("Approve the project (initiate)"), (_P.mgmt_review,), _P.approved,
                   frozenset({"Management"}), approves=True, style="success"),
        Transition("start_procurement", N_("Start procurement"), (_P.approved,), _P.procurement,
                   frozenset({"ITStaff"})),
        Transition("start_implementation", N_("Start implementation"), (_P.procurement,),
                   _P.implementation, frozenset({"ITStaff"}),
                   guards=(Guard(_signed_contract, N_("At least one signed contract is "
                                                        "needed before implementation.")),)),
        Transition("start_acceptance", N_("Start acceptance"), (_P.implementation,), _P.acceptance,
                   frozenset({"ITStaff"}),
                   guards=(Guard(_no_open_milestones,
                                 N_("Every milestone must be done before acceptance."),
                                 explain=_open_milestones_named),)),
        Transition("close", N_("Close (accepted)"), (_P.acceptance,), _P.closed,
                   frozenset({"ITStaff"}),
                   guards=(filled("acceptance_report",
                                  message=N_("Attach the acceptance report first.")),)),
    ) + review_exits(_PROJECT_REVIEWS, _P.returned, _P.rejected,
                     N_("Return to the applicant")),
)

# A submitted opinion goes back to its expert only while the panel it belongs to is still
# sitting: the project is in expert review and the opinion is of the current round (3.2.3).
PANEL_SITTING = Condition(
    lambda review: (review.project is not None
                    and review.project.status == ProjectStatus.expert_review
                    and review.project_round == (review.project.round or 0)),
    lambda model: exists().where(ProjectRequest.id == model.project_id,
                                 ProjectRequest.status == ProjectStatus.expert_review,
                                 ProjectRequest.round == model.project_round),
    N_("Only an opinion of the current round can be handed back, while the project is in "
       "expert review."))

ExpertReview.__workflow__ = Workflow(
    states=ReviewStatus,
    covered=("no_conflict", "score", "opinion"),
    # IT assigns (project, expert); the assigned expert writes the review until submitting
    # it; a submitted review is locked (IT may hand it back while the panel sits); experts
    # never delete.
    editable=(
        Edit((ReviewStatus.assigned,), IT, ("project", "expert")),
        Edit((ReviewStatus.assigned,), EXPERT, ("no_conflict", "score", "opinion"),
             reviewer=True),
    ),
    deletable=(Delete((ReviewStatus.assigned,), IT),),
    transitions=(
        Transition("submit", N_("Submit my opinion"), (ReviewStatus.assigned,),
                   ReviewStatus.submitted, EXPERT, reviewer=True,
                   fields=("no_conflict", "score", "opinion"),
                   guards=(Guard(lambda r: r.no_conflict,
                                 N_("Declare that you have no conflict of interest first.")),
                           filled("score", "opinion",
                                  message=N_("Give a score and an opinion first.")))),
        Transition("hand_back", N_("Hand back to the expert"), (ReviewStatus.submitted,),
                   ReviewStatus.assigned, IT, needs_comment=True, style="warning",
                   when=PANEL_SITTING),
    ),
)


_INITIATED = (ProjectStatus.approved, ProjectStatus.procurement, ProjectStatus.implementation,
              ProjectStatus.acceptance, ProjectStatus.closed)
_IMPLEMENTING = (ProjectStatus.implementation, ProjectStatus.acceptance, ProjectStatus.closed)


@rule("project_documents", ("3.2.2", "3.2.4", "4.1.3"),
      N_("Initiated projects have their requirements and feasibility reports, and a signed "
         "contract before implementation"), evidence=ProjectRequest)
def _projects_missing_documents():
    from app.procurement.models import SIGNED_CONTRACT_STATES, Contract

    project = ProjectRequest
    signed = select(Contract.project_id).where(Contract.project_id.isnot(None),
                                               Contract.status.in_(SIGNED_CONTRACT_STATES))
    return (select(project_request_system.c.system_id.label("system_id"),
                   project.id.label("record_id"))
            .join(project_request_system,
                  project_request_system.c.project_request_id == project.id)
            .where(project.status.in_(_INITIATED), or_(
                project.requirements_report_id.is_(None),
                project.feasibility_report_id.is_(None),
                and_(project.status.in_(_IMPLEMENTING), project.id.notin_(signed)))))


ProjectRequest.__charts__ = (
    Chart("projects_by_stage", _l("Project requests by stage"), "status"),
    Chart("project_budget_by_department", _l("Project requests and budgets by department"),
          "applicant_department", series=(Count(_l("Project requests")),
                                          Sum("budget", _l("Budget (CNY)"))), top=20),
    Chart("approvals_waiting_projects", _l("Project requests waiting for approval, by step"),
          "status", only=tuple(review_states(ProjectRequest))),
)


def _experts_of_own_department(session):
    """An expert reviewed a project of their own department (3.2.3)."""
    reviews = (session.query(ExpertReview)
               .join(AppUser, AppUser.id == ExpertReview.expert_id)
               .filter(ExpertReview.status == ReviewStatus.submitted,
                       AppUser.department_id == ExpertReview.department_id).all())
    return [{"record_type": "ExpertReview", "record_id": r.id,
             "details": f"{r.expert} · {r.project}"} for r in reviews]


# The separation-of-duties report checks it too (app/approvals.py), though the engine
# refuses it: data that bypassed the engine (an import, a database edit).
ExpertReview.__sod_checks__ = {
    "expert-own-department": (_l("Expert of the own department"), _experts_of_own_department),
}


# A record page's tabs read one range of one index each (app/base.py sort_indexes): a
# plan's feedback, a project's reviews, in the tab's order, the scoping column riding along.
Index("ix_plan_feedback_plan_changed", PlanFeedback.plan_id, PlanFeedback.changed_on,
      PlanFeedback.id, PlanFeedback.department_id)
Index("ix_expert_review_project_changed", ExpertReview.project_id, ExpertReview.changed_on,
      ExpertReview.id, ExpertReview.department_id)
# The budget chart by department reads this index alone.
Index("ix_project_request_department_budget", ProjectRequest.applicant_department_id,
      ProjectRequest.budget)
