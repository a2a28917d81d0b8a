"""Every record of the regulation, in regulation order.

Department scoping is declared here, once per model, and enforced in
app/security.py:

* ``__scope__``: attribute paths to department ids. The first path is the
  owning department (the one whose Clerk/DeptHead may write the record); a
  record is visible to a scoped user whose department matches any path.
* ``__reference__ = True``: reference data, readable by everyone; writes are
  still limited to the owning department (when the model has ``__scope__``).
* ``__it_managed__ = True``: records the IT department runs for every department
  (contracts, 4.1.3): the IT department's Clerks and DeptHeads see all of them.
* ``__department_columns__``: the only attributes a Clerk/DeptHead may set on such a
  record (creating or deleting it sets every attribute); the rest is for IT staff or
  auditors (an audit finding's rectification, a plan feedback's comment).
* ``write_refusal()``: why the record cannot be written now (a message id), or None;
  checked for every user on every add, edit and delete.
* ``__title__``: what a record is called, a format over its columns and relations
  (``"{number} {name}"``), read by ``str()`` and by SQL alike (app/titles.py).
* ``__title_loads__``: the relations ``__str__`` reads, loaded with a page of records
  that shows them by name (the inbox).
"""
import datetime as dt
import secrets
from decimal import Decimal

from flask import current_app, has_app_context
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import declared_attr, deferred, relationship, validates

from .compliance import rule, setting, utc_now
from .i18n import LabelledEnum
from .titles import Titled
from .validation import AnyOf, Distinct, Ordered
from .workflow import (
    ACTOR,
    NOW,
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


def _session():
    """The application's session, when there is an application (refusal checks)."""
    if not has_app_context():
        return None
    from .extensions import db

    return db.session


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_security_stamp():
    return secrets.token_hex(16)


def enum_column(enum_class, **kwargs):
    """Stored by member name; a CHECK constraint keeps the column honest. The API takes
    and gives the member name too (``draft``), not the translated label."""
    return Column(
        Enum(enum_class, name=enum_class.__name__.lower(), native_enum=False, length=32,
             create_constraint=True, validate_strings=True),
        info={"marshmallow_by_value": False},
        **kwargs,
    )


def sort_indexes(table, *columns, scope=()):
    """An index ``(column, id)`` for each column a list of ``table`` sorts by. FAB orders
    by the column and then the key, so a page's keys come from the index alone, in order,
    however deep the page (app/views.py ``ListInterface``); it serves equality filters
    on the column too. ``scope``: the department columns of a table scoped through two
    paths (``__scope__``), carried in the index so that a department's long list is
    paged on it without reading the table."""
    return tuple(Index(f"ix_{table}_{column}_id", column, "id", *scope) for column in columns)


class StampMixin(Titled):
    """Who created and last changed a record, and when (UTC); and what it is called
    (``__title__``, app/titles.py).

    Filled by a session event (app/stamps.py), so CLI and seed code work too:
    there the user is empty and the record shows the system as author.
    """

    # Indexed: lists sort and filter by them (date ranges, the inbox, waiting approvals).
    created_on = Column(DateTime, nullable=False, default=utcnow, index=True)
    changed_on = Column(DateTime, nullable=False, default=utcnow, index=True)

    @declared_attr
    def created_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def changed_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    # Loaded when shown (a record's page), never joined into every list query: a list
    # that joins two users into each row sorts and pages the whole joined table.
    @declared_attr
    def created_by(cls):
        return relationship("AppUser", foreign_keys=[cls.created_by_fk])

    @declared_attr
    def changed_by(cls):
        return relationship("AppUser", foreign_keys=[cls.changed_by_fk])


class WorkflowMixin:
    """An approvable record: a version column for optimistic locking (exactly-once
    transitions) and who submitted it (separation of duties). Its workflow is
    declared as ``__workflow__`` beside the model (app/workflow.py)."""

    version = Column(Integer, nullable=False, default=1, server_default="1")
    # The review round: each submission starts a new one (app/workflow.py fire()).
    round = Column(Integer, nullable=False, default=0, server_default="0")

    @declared_attr
    def submitted_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id", name=f"fk_{cls.__tablename__}_submitter"),
                      nullable=True)

    @declared_attr
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


# ---------------------------------------------------------------- Organisation

class DepartmentKind(LabelledEnum):
    it = "IT department", "primary"
    business = "Business department", "default"


class Department(StampMixin, Model):
    """A department of the company; the IT department owns IS governance (2.1, 2.2)."""

    __tablename__ = "department"
    __table_args__ = sort_indexes("department", "kind")
    __reference__ = True

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), unique=True, nullable=False)
    kind = enum_column(DepartmentKind, nullable=False, default=DepartmentKind.business)
    head_id = Column(Integer, ForeignKey("ab_user.id",
                                         name="fk_department_head_id_ab_user"))
    head = relationship("AppUser", foreign_keys=[head_id])
    description = Column(Text)

    __title__ = "{name}"  # what it is called (app/titles.py)


class AppUser(FabUser):
    """A person using the back office; belongs to exactly one department (2.x)."""

    __tablename__ = "ab_user"
    department_id = Column(
        Integer, ForeignKey("department.id", name="fk_ab_user_department_id_department",
                            use_alter=True),
        index=True)
    department = relationship("Department", foreign_keys=[department_id])
    # Changes whenever the user's sessions and tokens must end (password change,
    # deactivation, logout); sessions and JWTs carry it (app/sessions.py).
    security_stamp = Column(String(32), nullable=False, default=new_security_stamp)

    def get_full_name(self):
        """Chinese order: family name first, no space."""
        name = f"{self.last_name or ''}{self.first_name or ''}".strip()
        return name or self.username

    def __str__(self):
        return self.get_full_name()

    @classmethod
    def __title_sql__(cls):
        """``get_full_name`` in SQL (app/titles.py)."""
        name = func.trim(func.coalesce(cls.last_name, "").concat(
            func.coalesce(cls.first_name, "")))
        return case((name == "", cls.username), else_=name)


class Delegation(StampMixin, Model):
    """A substitute who may act for a person during a date range (approval delegation)."""

    __tablename__ = "delegation"
    __personal__ = "principal_id"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="ck_delegation_dates"),
        CheckConstraint("principal_id <> substitute_id", name="ck_delegation_people"),
    ) + sort_indexes("delegation", "start_date", "end_date")
    __rules__ = (Ordered("start_date", "end_date", check="ck_delegation_dates"),
                 Distinct("principal_id", "substitute_id", check="ck_delegation_people"))

    id = Column(Integer, primary_key=True)
    principal_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    principal = relationship("AppUser", foreign_keys=[principal_id])
    substitute_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    substitute = relationship("AppUser", foreign_keys=[substitute_id])
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    reason = Column(String(200), index=True)

    def write_refusal(self):
        from sqlalchemy.orm import object_session

        # Oneself as substitute and the order of the dates: ``__rules__``.
        principal = self.principal_id or getattr(self.principal, "id", None)
        substitute = self.substitute_id or getattr(self.substitute, "id", None)
        session = object_session(self) or _session()
        if session is not None and None not in (principal, substitute, self.start_date,
                                                self.end_date):
            with session.no_autoflush:
                circular = session.query(Delegation.id).filter(
                    Delegation.principal_id == substitute,
                    Delegation.substitute_id == principal,
                    Delegation.start_date <= self.end_date,
                    Delegation.end_date >= self.start_date,
                    Delegation.id != (self.id or -1)).first()
            if circular is not None:
                return N_("The substitute has named this person as their own substitute "
                          "for these dates: delegations cannot go in a circle.")
        return None

    # The relationships its name reads: lists of names load them with the page.
    __name_loads__ = ("substitute", "principal")

    __title__ = "{substitute} → {principal}"  # what it is called (app/titles.py)


# --------------------------------------------------------------------- Systems

class SystemCategory(LabelledEnum):
    oa = "Office automation", "info"
    business = "Business management", "primary"
    crm = "Customer relationship", "success"
    finance = "Finance", "warning"
    other = "Other", "default"


class Lifecycle(LabelledEnum):
    planned = "Planned", "default"
    building = "Under construction", "info"
    running = "Running", "success"
    retired = "Retired", "default"


class InformationSystem(StampMixin, Model):
    """An information system under centralized ownership by one department (1.2.1, 1.3.2)."""

    __tablename__ = "information_system"
    __scope__ = ("owning_department_id",)
    __reference__ = True
    __table_args__ = (
        CheckConstraint("protection_level BETWEEN 1 AND 5", name="ck_system_protection_level"),
    ) + sort_indexes("information_system", "name", "category", "lifecycle", "protection_level")

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), nullable=False)
    category = enum_column(SystemCategory, nullable=False, default=SystemCategory.business)
    owning_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                  index=True)
    owning_department = relationship("Department", foreign_keys=[owning_department_id])
    it_custodian_id = Column(Integer, ForeignKey("ab_user.id"))
    it_custodian = relationship("AppUser", foreign_keys=[it_custodian_id])
    business_owner_id = Column(Integer, ForeignKey("ab_user.id"))
    business_owner = relationship("AppUser", foreign_keys=[business_owner_id])
    lifecycle = enum_column(Lifecycle, nullable=False, default=Lifecycle.planned)
    protection_level = Column(Integer, nullable=False, default=2,
                              info={"min": 1, "max": 5, "check": "ck_system_protection_level"})
    go_live_date = Column(Date, index=True)
    vendor_id = Column(Integer, ForeignKey("vendor.id"), index=True)
    vendor = relationship("Vendor")
    description = Column(Text)

    __title__ = "{name}（{code}）"  # what it is called (app/titles.py)


# -------------------------------------------------------------------- Planning

_IT = frozenset({"ITStaff"})
_MGMT = frozenset({"Management"})
_DEPT_HEAD = frozenset({"DeptHead"})
_AUDITOR = frozenset({"Auditor"})


@rule("owners", ("1.3.2",), N_("Owning department, IT custodian and business owner set"),
      evidence=InformationSystem)
def _owners_missing():
    system = InformationSystem
    return select(system.id.label("system_id"), system.id.label("record_id")).where(or_(
        system.owning_department_id.is_(None), system.it_custodian_id.is_(None),
        system.business_owner_id.is_(None)))


# -------------------------------------------------------------------- Planning

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
        Edit((_PL.draft, _PL.consultation, _PL.returned, _PL.published), _IT, _PLAN_CONTENT),
    ),
    deletable=(Delete((_PL.draft,), _IT),),
    transitions=(
        Transition("consult", N_("Open for consultation"), (_PL.draft, _PL.returned),
                   _PL.consultation, _IT),
        Transition("submit", N_("Submit to management"), (_PL.consultation, _PL.returned),
                   _PL.mgmt_review, _IT, submits=True,
                   guards=(Guard(_feedback_answered,
                                 N_("Respond to every department's feedback first.")),)),
        Transition("approve", N_("Approve and publish"), (_PL.mgmt_review,), _PL.published,
                   _MGMT, approves=True, style="success"),
        Transition("return", N_("Return for revision"), (_PL.mgmt_review,), _PL.returned,
                   _MGMT, needs_comment=True, style="warning"),
        Transition("reject", N_("Reject"), (_PL.mgmt_review,), _PL.rejected, _MGMT,
                   needs_comment=True, style="danger"),
    ),
)


# ------------------------------------------------------------------- Projects

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
    return any(c.status in SIGNED_CONTRACT_STATES for c in project.contracts)


def current_reviews(project):
    """The expert reviews of the project's current review round."""
    return [r for r in project.expert_reviews if r.project_round == (project.round or 0)]


def _expert_panel_done(project):
    reviews = current_reviews(project)
    return bool(reviews) and all(r.status is ReviewStatus.submitted for r in reviews)


_APPLICANT = frozenset({"Clerk", "DeptHead"})
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
_APPLICANT_DEPT = dict(roles=_APPLICANT, department="applicant_department_id")

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
        Edit((_P.expert_review,), _IT, ("expert_opinion",)),
        Edit((_P.feasibility,), _IT, ("feasibility_report",)),
        Edit((_P.implementation, _P.acceptance), _IT, ("acceptance_report",)),
    ),
    deletable=(Delete((_P.draft,), **_APPLICANT_DEPT),),
    round_outputs=("expert_opinion", "feasibility_report"),
    transitions=(
        Transition("submit", N_("Submit for approval"), (_P.draft, _P.returned), _P.dept_review,
                   _APPLICANT, department="applicant_department_id", submits=True,
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
                   frozenset({"ITStaff"})),
        Transition("close", N_("Close (accepted)"), (_P.acceptance,), _P.closed,
                   frozenset({"ITStaff"}),
                   guards=(filled("acceptance_report",
                                  message=N_("Attach the acceptance report first.")),)),
    ) + review_exits(_PROJECT_REVIEWS, _P.returned, _P.rejected,
                     N_("Return to the applicant")),
)

_EXPERT = frozenset({"Expert"})
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
        Edit((ReviewStatus.assigned,), _IT, ("project", "expert")),
        Edit((ReviewStatus.assigned,), _EXPERT, ("no_conflict", "score", "opinion"),
             reviewer=True),
    ),
    deletable=(Delete((ReviewStatus.assigned,), _IT),),
    transitions=(
        Transition("submit", N_("Submit my opinion"), (ReviewStatus.assigned,),
                   ReviewStatus.submitted, _EXPERT, reviewer=True,
                   fields=("no_conflict", "score", "opinion"),
                   guards=(Guard(lambda r: r.no_conflict,
                                 N_("Declare that you have no conflict of interest first.")),
                           filled("score", "opinion",
                                  message=N_("Give a score and an opinion first.")))),
        Transition("hand_back", N_("Hand back to the expert"), (ReviewStatus.submitted,),
                   ReviewStatus.assigned, _IT, needs_comment=True, style="warning",
                   when=PANEL_SITTING),
    ),
)


# ----------------------------------------------------------------- Procurement

class VendorRating(LabelledEnum):
    a = "A (excellent)", "success"
    b = "B (good)", "info"
    c = "C (fair)", "warning"
    d = "D (poor)", "danger"


class Vendor(StampMixin, Model):
    """A supplier of information systems, chosen on reputation and strength (2.1.7, 4.1.2)."""

    __tablename__ = "vendor"
    __table_args__ = sort_indexes("vendor", "rating")
    __reference__ = True

    id = Column(Integer, primary_key=True)
    name = Column(String(200), unique=True, nullable=False)
    credit_code = Column(String(18), unique=True, nullable=False)
    qualification = Column(Text)
    rating = enum_column(VendorRating, nullable=False, default=VendorRating.b)
    contact_person = Column(String(64), index=True)
    contact_phone = Column(String(32))
    contact_email = Column(String(200))

    __title__ = "{name}"  # what it is called (app/titles.py)


class ContractStatus(LabelledEnum):
    draft = "Draft", "default"
    review = "IT review", "info"
    mgmt_review = "Management approval", "warning"
    signed = "Signed", "primary"
    in_force = "In force", "success"
    accepted = "Accepted", "success"
    closed = "Closed", "default"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


SIGNED_CONTRACT_STATES = frozenset({ContractStatus.signed, ContractStatus.in_force,
                                    ContractStatus.accepted, ContractStatus.closed})


class Contract(StampMixin, WorkflowMixin, Model):
    """A contract signed with the winning vendor: scope, schedule, quality, acceptance (4.1.3).

    Drafted and submitted by IT staff, reviewed by the IT department's DeptHead, approved
    by management at or over CONTRACT_APPROVAL_THRESHOLD; then signed, in force (signed
    file attached), accepted and closed by IT staff.
    """

    __tablename__ = "contract"
    __scope__ = ("department_id", "system.owning_department_id")
    __it_managed__ = True  # the IT department signs every contract (4.1.3)
    __attachments__ = ("signed_file",)
    __table_args__ = (
        # Charts: amounts by vendor and by signing year read these indexes alone.
        Index("ix_contract_vendor_amount", "vendor_id", "amount"),
        Index("ix_contract_sign_amount", "sign_date", "amount"),
        CheckConstraint("amount >= 0", name="ck_contract_amount"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="ck_contract_dates"),
    ) + sort_indexes("contract", "name", "amount", "status", "end_date",
                   scope=("department_id", "system_id"))
    __rules__ = (Ordered("start_date", "end_date", check="ck_contract_dates"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(64), unique=True, nullable=False)
    name = Column(String(200), nullable=False)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    department = relationship("Department")
    project_id = Column(Integer, ForeignKey("project_request.id"), index=True)
    project = relationship("ProjectRequest", backref="contracts")
    vendor_id = Column(Integer, ForeignKey("vendor.id"), nullable=False, index=True)
    vendor = relationship("Vendor")
    system_id = Column(Integer, ForeignKey("information_system.id"), index=True)
    system = relationship("InformationSystem", backref="contracts")
    amount = Column(Numeric(14, 2), nullable=False,
                    info={"min": 0, "check": "ck_contract_amount"})
    sign_date = Column(Date, index=True)
    start_date = Column(Date, index=True)
    end_date = Column(Date)
    scope = Column(Text)
    schedule = Column(Text)
    quality_terms = Column(Text)
    acceptance_terms = Column(Text)
    after_sales_terms = Column(Text)
    signed_file_id = Column(Integer, ForeignKey("attachment.id"))
    signed_file = relationship("Attachment", foreign_keys=[signed_file_id])
    status = enum_column(ContractStatus, nullable=False, default=ContractStatus.draft)

    __title__ = "{number} {name}"  # what it is called (app/titles.py)


DEFAULT_CONTRACT_APPROVAL_THRESHOLD = Decimal("500000")


def contract_approval_threshold():
    """The amount (CNY) from which management approves a contract: config, else default."""
    if has_app_context():
        return Decimal(str(current_app.config.get("CONTRACT_APPROVAL_THRESHOLD",
                                                  DEFAULT_CONTRACT_APPROVAL_THRESHOLD)))
    return DEFAULT_CONTRACT_APPROVAL_THRESHOLD


# At or over the threshold, management approves the contract too (4.1.3).
NEEDS_MANAGEMENT = Condition(
    lambda contract: (contract.amount or 0) >= contract_approval_threshold(),
    lambda model: func.coalesce(model.amount, 0) >= contract_approval_threshold())


_K = ContractStatus
_CONTRACT_REVIEWS = (
    # state under review, roles of the reviewer, department kind
    (_K.review, _DEPT_HEAD, "it"),
    (_K.mgmt_review, _MGMT, None),
)

_CONTRACT_CONTENT = ("number", "name", "department", "project", "vendor", "system", "amount",
                     "sign_date", "start_date", "end_date", "scope", "schedule",
                     "quality_terms", "acceptance_terms", "after_sales_terms")
Contract.__workflow__ = Workflow(
    states=ContractStatus,
    covered=_CONTRACT_CONTENT + ("signed_file",),
    content=_CONTRACT_CONTENT,
    # Changed under review: reviewed again; once signed, a change order is the way (4.2.4).
    frozen=frozenset({_K.review, _K.mgmt_review}),
    reapproval=_K.review,
    editable=(
        Edit((_K.draft, _K.returned, _K.review, _K.mgmt_review), _IT, _CONTRACT_CONTENT),
        Edit((_K.signed,), _IT, ("signed_file",)),
    ),
    deletable=(Delete((_K.draft,), _IT),),
    transitions=(
        Transition("submit", N_("Submit for IT review"), (_K.draft, _K.returned), _K.review,
                   _IT, submits=True),
        Transition("approve", N_("Approve and send to management"), (_K.review,),
                   _K.mgmt_review, _DEPT_HEAD, department_kind="it", approves=True,
                   when=NEEDS_MANAGEMENT, style="success"),
        Transition("approve", N_("Approve for signing"), (_K.review,), _K.signed, _DEPT_HEAD,
                   department_kind="it", approves=True,
                   when=~NEEDS_MANAGEMENT, style="success"),
        Transition("approve", N_("Approve for signing"), (_K.mgmt_review,), _K.signed, _MGMT,
                   approves=True, style="success"),
        Transition("put_in_force", N_("Put in force"), (_K.signed,), _K.in_force, _IT,
                   guards=(filled("signed_file",
                                  message=N_("Attach the signed contract file first.")),)),
        Transition("accept", N_("Record acceptance"), (_K.in_force,), _K.accepted, _IT,
                   style="success"),
        Transition("close", N_("Close the contract"), (_K.accepted,), _K.closed, _IT),
    ) + review_exits(_CONTRACT_REVIEWS, _K.returned, _K.rejected,
                     N_("Return for revision"), rule="department_kind"),
)


class ChangeStatus(LabelledEnum):
    requested = "Requested", "warning"
    approved = "Approved", "success"
    implemented = "Implemented", "primary"
    verified = "Verified", "default"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


class ChangeOrder(StampMixin, WorkflowMixin, Model):
    """A change to a contract or an implementation plan, approved before it is made (4.2.4).

    Requested by IT staff, approved by management, implemented by IT staff, verified by
    the DeptHead of the contract's (else the project's) department.
    """

    __tablename__ = "change_order"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __table_args__ = (
        UniqueConstraint("change_number", name="uq_change_order_number"),
        CheckConstraint("contract_id IS NOT NULL OR project_id IS NOT NULL",
                        name="ck_change_order_subject"),
    ) + sort_indexes("change_order", "title", "cost_impact", "status")
    __rules__ = (AnyOf("contract_id", "project_id", check="ck_change_order_subject"),)

    id = Column(Integer, primary_key=True)
    change_number = Column(String(64), nullable=False)
    title = Column(String(200), nullable=False)
    contract_id = Column(Integer, ForeignKey("contract.id", name="fk_change_order_contract"),
                         index=True)
    contract = relationship("Contract", backref="change_orders")
    project_id = Column(Integer, ForeignKey("project_request.id",
                                            name="fk_change_order_project"), index=True)
    project = relationship("ProjectRequest", backref="change_orders")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_change_order_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    reason = Column(Text, nullable=False)
    change_content = Column(Text, nullable=False)
    cost_impact = Column(Numeric(14, 2))  # CNY; negative for a saving
    schedule_impact = Column(Text)
    status = enum_column(ChangeStatus, nullable=False, default=ChangeStatus.requested)

    @validates("contract", "project")
    def _take_department(self, key, value):
        # The change belongs to its contract's department, else its project's.
        contract = value if key == "contract" else self.contract
        project = value if key == "project" else self.project
        if contract is not None:
            self.department = contract.department
        elif project is not None:
            self.department = project.applicant_department
        return value

    def write_refusal(self):
        if self.contract is None and self.project is None:
            return N_("Name the contract or the project that changes.")
        return None

    __title__ = "{change_number} {title}"  # what it is called (app/titles.py)


_C = ChangeStatus
_ORDER_CONTENT = ("change_number", "contract", "project", "title", "reason",
                  "change_content", "cost_impact", "schedule_impact")
ChangeOrder.__workflow__ = Workflow(
    states=ChangeStatus,
    covered=_ORDER_CONTENT,
    frozen=frozenset({_C.requested, _C.approved}),
    reapproval=_C.requested,
    editable=(Edit((_C.requested, _C.returned, _C.approved), _IT, _ORDER_CONTENT),),
    transitions=(
        Transition("submit", N_("Submit again"), (_C.returned,), _C.requested, _IT,
                   submits=True),
        Transition("approve", N_("Approve the change"), (_C.requested,), _C.approved, _MGMT,
                   approves=True, style="success"),
        Transition("return", N_("Return to the applicant"), (_C.requested,), _C.returned,
                   _MGMT, needs_comment=True, style="warning"),
        Transition("reject", N_("Reject"), (_C.requested,), _C.rejected, _MGMT,
                   needs_comment=True, style="danger"),
        Transition("implement", N_("Mark as implemented"), (_C.approved,), _C.implemented,
                   _IT),
        Transition("verify", N_("Confirm the change works"), (_C.implemented,), _C.verified,
                   _DEPT_HEAD, department="department_id", style="success"),
    ),
)


_INITIATED = (ProjectStatus.approved, ProjectStatus.procurement, ProjectStatus.implementation,
              ProjectStatus.acceptance, ProjectStatus.closed)
_IMPLEMENTING = (ProjectStatus.implementation, ProjectStatus.acceptance, ProjectStatus.closed)


@rule("project_documents", ("3.2.2", "3.2.4", "4.1.3"),
      N_("Initiated projects have their requirements and feasibility reports, and a signed "
         "contract before implementation"), evidence=ProjectRequest)
def _projects_missing_documents():
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


# ------------------------------------------------------------------ Operations

class Severity(LabelledEnum):
    p1 = "P1 critical", "danger"
    p2 = "P2 major", "warning"
    p3 = "P3 minor", "info"
    p4 = "P4 low", "default"


class IncidentStatus(LabelledEnum):
    reported = "Reported", "warning"
    in_progress = "In progress", "info"
    resolved = "Resolved", "success"
    closed = "Closed", "default"


class Incident(StampMixin, WorkflowMixin, Model):
    """A fault found in operation, handled and traced to its root cause (5.1.2, 5.1.3).

    Taken up and resolved by IT staff (root cause and resolution recorded); closed when the
    reporting department's Clerk/DeptHead (or IT staff) confirms, or reopened.
    """

    __tablename__ = "incident"
    __scope__ = ("reporting_department_id", "system.owning_department_id")
    __table_args__ = (
        CheckConstraint("resolved_at IS NULL OR resolved_at >= occurred_at",
                        name="ck_incident_times"),
        # Charts: incidents per month by severity and the mean time to resolve read the
        # index alone.
        Index("ix_incident_occurred_severity_resolved", "occurred_at", "severity",
              "resolved_at"),
    ) + sort_indexes("incident", "title", "severity", "status", "occurred_at",
                   scope=("reporting_department_id", "system_id"))
    __rules__ = (Ordered("occurred_at", "resolved_at", check="ck_incident_times"),)

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    system_id = Column(Integer, ForeignKey("information_system.id"), nullable=False, index=True)
    system = relationship("InformationSystem", backref="incidents")
    severity = enum_column(Severity, nullable=False, default=Severity.p3)
    description = Column(Text, nullable=False)
    reporting_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                     index=True)
    reporting_department = relationship("Department")
    reporter_id = Column(Integer, ForeignKey("ab_user.id"))
    reporter = relationship("AppUser", foreign_keys=[reporter_id])
    assignee_id = Column(Integer, ForeignKey("ab_user.id"))
    assignee = relationship("AppUser", foreign_keys=[assignee_id])
    occurred_at = Column(DateTime, nullable=False, default=utcnow)
    resolved_at = Column(DateTime, index=True)
    closed_at = Column(DateTime)
    root_cause = Column(Text)
    resolution = Column(Text)
    status = enum_column(IncidentStatus, nullable=False, default=IncidentStatus.reported)

    @property
    def time_to_resolve(self):
        """From occurrence to resolution (a timedelta), or None while unresolved."""
        if self.resolved_at is None or self.occurred_at is None:
            return None
        return self.resolved_at - self.occurred_at

    __title__ = "{title}"  # what it is called (app/titles.py)


_I = IncidentStatus
_REPORTER = dict(roles=_APPLICANT, department="reporting_department_id")
_REPORT = ("title", "system", "severity", "description", "reporting_department", "reporter",
           "occurred_at")
Incident.__workflow__ = Workflow(
    states=IncidentStatus,
    covered=("root_cause", "resolution"),
    # The reporting department reports; IT handles (assignee, root cause, resolution).
    editable=(
        Edit((_I.reported,), fields=_REPORT, **_REPORTER),
        Edit((_I.reported, _I.in_progress, _I.resolved), _IT,
             _REPORT + ("assignee", "resolved_at", "root_cause", "resolution")),
    ),
    transitions=(
        # Whoever starts handling is the handler; resolving and closing are stamped.
        Transition("start", N_("Start handling"), (_I.reported,), _I.in_progress, _IT,
                   sets={"assignee_id": ACTOR}),
        Transition("resolve", N_("Mark as resolved"), (_I.in_progress,), _I.resolved, _IT,
                   style="success", fields=("root_cause", "resolution"),
                   sets={"resolved_at": NOW},
                   guards=(filled("root_cause", "resolution",
                                  message=N_("Record the root cause and the resolution "
                                             "first.")),)),
        Transition("close", N_("Confirm and close"), (_I.resolved,), _I.closed,
                   style="success", sets={"closed_at": NOW}, **_REPORTER),
        Transition("close", N_("Confirm and close"), (_I.resolved,), _I.closed, _IT,
                   style="success", sets={"closed_at": NOW}),
        Transition("reopen", N_("Reopen"), (_I.resolved,), _I.in_progress, needs_comment=True,
                   style="warning", **_REPORTER),
        Transition("reopen", N_("Reopen"), (_I.resolved,), _I.in_progress, _IT,
                   needs_comment=True, style="warning"),
    ),
)


@rule("incident_handling", ("5.1.2",),
      N_("P1/P2 incidents closed with a root cause within the set time"), evidence=Incident)
def _incidents_not_closed_in_time():
    from .charts import seconds_between

    limit = setting("COMPLIANCE_INCIDENT_HOURS")
    now = utc_now()
    late = now - dt.timedelta(hours=limit)
    return (select(Incident.system_id.label("system_id"), Incident.id.label("record_id"))
            .where(Incident.severity.in_((Severity.p1, Severity.p2)),
                   Incident.occurred_at >= now - dt.timedelta(
                       days=setting("COMPLIANCE_WINDOW_DAYS")),
                   or_(and_(Incident.closed_at.is_(None), Incident.occurred_at < late),
                       seconds_between(Incident.occurred_at, Incident.closed_at) > limit * 3600,
                       and_(Incident.closed_at.isnot(None), Incident.root_cause.is_(None)))))


class ChangeKind(LabelledEnum):
    configuration = "Configuration change", "info"
    data = "Data change", "warning"
    upgrade = "Upgrade", "primary"
    maintenance = "Maintenance", "default"


class ChangeRequest(StampMixin, WorkflowMixin, Model):
    """Approval before configuration, data, upgrade or maintenance work on a system (5.1.4).

    Requested by IT staff or the owning department's Clerk/DeptHead, approved by the owning
    department's DeptHead, implemented by IT staff, verified by that DeptHead or IT staff.
    """

    __tablename__ = "change_request"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __table_args__ = (
        UniqueConstraint("change_number", name="uq_change_request_number"),
        CheckConstraint("window_end IS NULL OR window_start IS NULL "
                        "OR window_end >= window_start", name="ck_change_request_window"),
    ) + sort_indexes("change_request", "title", "kind", "window_start", "status")
    __rules__ = (Ordered("window_start", "window_end", check="ck_change_request_window"),)

    id = Column(Integer, primary_key=True)
    change_number = Column(String(64), nullable=False)
    title = Column(String(200), nullable=False)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_change_request_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="change_requests")
    # The system's owning department, kept on the record: it writes and approves it.
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_change_request_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    kind = enum_column(ChangeKind, nullable=False, default=ChangeKind.configuration)
    change_plan = Column(Text, nullable=False)
    rollback_plan = Column(Text, nullable=False)
    risk = Column(Text)
    window_start = Column(DateTime)
    window_end = Column(DateTime, index=True)
    status = enum_column(ChangeStatus, nullable=False, default=ChangeStatus.requested)

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    def write_refusal(self):
        if self.window_start and self.window_end and self.window_end < self.window_start:
            return N_("The change window must end after it starts.")
        return None

    __title__ = "{change_number} {title}"  # what it is called (app/titles.py)


_OWNER_HEAD = dict(roles=_DEPT_HEAD, department="department_id")
_CHANGE_CONTENT = ("change_number", "system", "kind", "title", "change_plan", "rollback_plan",
                   "risk", "window_start", "window_end")
ChangeRequest.__workflow__ = Workflow(
    states=ChangeStatus,
    covered=_CHANGE_CONTENT,
    frozen=frozenset({_C.requested, _C.approved}),
    reapproval=_C.requested,
    editable=(
        Edit((_C.requested, _C.returned, _C.approved), _IT, _CHANGE_CONTENT),
        Edit((_C.requested, _C.returned, _C.approved), _APPLICANT, _CHANGE_CONTENT,
             department="department_id"),
    ),
    transitions=(
        Transition("submit", N_("Submit again"), (_C.returned,), _C.requested, _IT,
                   submits=True),
        Transition("submit", N_("Submit again"), (_C.returned,), _C.requested, _APPLICANT,
                   department="department_id", submits=True),
        Transition("approve", N_("Approve the change"), (_C.requested,), _C.approved,
                   approves=True, style="success", **_OWNER_HEAD),
        Transition("return", N_("Return to the applicant"), (_C.requested,), _C.returned,
                   needs_comment=True, style="warning", **_OWNER_HEAD),
        Transition("reject", N_("Reject"), (_C.requested,), _C.rejected, needs_comment=True,
                   style="danger", **_OWNER_HEAD),
        Transition("implement", N_("Mark as implemented"), (_C.approved,), _C.implemented,
                   _IT),
        Transition("verify", N_("Confirm the change works"), (_C.implemented,), _C.verified,
                   style="success", **_OWNER_HEAD),
        Transition("verify", N_("Confirm the change works"), (_C.implemented,), _C.verified,
                   _IT, style="success"),
    ),
)


@rule("changes_approved", ("5.1.4",),
      N_("No configuration or data change implemented without approval"),
      evidence=ChangeRequest)
def _changes_without_approval():
    approved = select(Approval.record_id).where(Approval.record_type == "ChangeRequest",
                                                Approval.to_state == ChangeStatus.approved.name)
    return (select(ChangeRequest.system_id.label("system_id"),
                   ChangeRequest.id.label("record_id"))
            .where(ChangeRequest.kind.in_((ChangeKind.configuration, ChangeKind.data)),
                   ChangeRequest.status.in_((ChangeStatus.implemented, ChangeStatus.verified)),
                   ChangeRequest.id.notin_(approved)))


# ------------------------------------------------------------------------ Data

class SharingStatus(LabelledEnum):
    requested = "Request drafted", "default"
    provider_review = "Providing department review", "info"
    it_review = "IT review", "info"
    granted = "Granted", "success"
    revoked = "Revoked", "danger"
    expired = "Expired", "default"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


class DataSharingRequest(StampMixin, WorkflowMixin, Model):
    """One department's request for another department's data, reviewed and granted
    for a period (7.4.1, 7.4.2).

    Submitted by the requesting department's Clerk/DeptHead, approved by the providing
    department's DeptHead, then by IT staff, who grant it (end date required); revoked by
    IT staff or the providing DeptHead, or marked expired by IT staff.
    """

    __tablename__ = "data_sharing_request"
    __scope__ = ("requesting_department_id", "providing_department_id")
    __table_args__ = (
        CheckConstraint("requesting_department_id <> providing_department_id",
                        name="ck_data_sharing_departments"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="ck_data_sharing_period"),
    ) + sort_indexes("data_sharing_request", "title", "start_date", "end_date", "status",
                   scope=("requesting_department_id", "providing_department_id"))
    __rules__ = (
        Distinct("requesting_department_id", "providing_department_id",
                 check="ck_data_sharing_departments"),
        Ordered("start_date", "end_date", check="ck_data_sharing_period"),
    )

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    requesting_department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_data_sharing_requesting_department"), nullable=False,
        index=True)
    requesting_department = relationship("Department",
                                         foreign_keys=[requesting_department_id])
    providing_department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_data_sharing_providing_department"), nullable=False,
        index=True)
    providing_department = relationship("Department", foreign_keys=[providing_department_id])
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_data_sharing_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="data_sharing_requests")
    data_scope = Column(Text, nullable=False)
    purpose = Column(Text, nullable=False)
    start_date = Column(Date)
    end_date = Column(Date)
    status = enum_column(SharingStatus, nullable=False, default=SharingStatus.requested)

    def write_refusal(self):
        requesting = self.requesting_department_id or getattr(
            self.requesting_department, "id", None)
        providing = self.providing_department_id or getattr(
            self.providing_department, "id", None)
        if requesting is not None and requesting == providing:
            return N_("The providing department must be another department.")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            return N_("The end date must not be before the start date.")
        return None

    __title__ = "{title}"  # what it is called (app/titles.py)


_S = SharingStatus
_SHARING_REVIEWS = (
    # state under review, roles of the reviewer, department rule
    (_S.provider_review, _DEPT_HEAD, "providing_department_id"),
    (_S.it_review, _IT, None),
)
_SHARING_CONTENT = ("title", "requesting_department", "providing_department", "system",
                    "data_scope", "purpose")
_REQUESTER = dict(roles=_APPLICANT, department="requesting_department_id")
DataSharingRequest.__workflow__ = Workflow(
    states=SharingStatus,
    covered=_SHARING_CONTENT + ("start_date", "end_date"),
    content=_SHARING_CONTENT,
    frozen=frozenset({_S.provider_review, _S.it_review, _S.granted}),
    reapproval=_S.provider_review,
    editable=(
        Edit((_S.requested, _S.returned), fields=_SHARING_CONTENT + ("start_date", "end_date"),
             **_REQUESTER),
        Edit((_S.provider_review, _S.it_review, _S.granted), fields=_SHARING_CONTENT,
             **_REQUESTER),
        # IT sets the period it grants (7.4.2).
        Edit((_S.it_review,), _IT, ("start_date", "end_date")),
    ),
    deletable=(Delete((_S.requested,), **_REQUESTER),),
    transitions=(
        Transition("submit", N_("Submit to the providing department"),
                   (_S.requested, _S.returned), _S.provider_review, _APPLICANT,
                   department="requesting_department_id", submits=True),
        Transition("approve", N_("Agree to provide the data"), (_S.provider_review,),
                   _S.it_review, _DEPT_HEAD, department="providing_department_id",
                   approves=True, style="success"),
        Transition("approve", N_("Grant access"), (_S.it_review,), _S.granted, _IT,
                   approves=True, style="success",
                   guards=(filled("end_date",
                                  message=N_("Set the end date of the grant first.")),)),
        Transition("revoke", N_("Revoke the grant"), (_S.granted,), _S.revoked, _IT,
                   needs_comment=True, style="danger"),
        Transition("revoke", N_("Revoke the grant"), (_S.granted,), _S.revoked, _DEPT_HEAD,
                   department="providing_department_id", needs_comment=True,
                   style="danger"),
        Transition("expire", N_("Mark as expired"), (_S.granted,), _S.expired, _IT),
    ) + review_exits(_SHARING_REVIEWS, _S.returned, _S.rejected,
                     N_("Return to the applicant")),
)


@rule("sharing_expired", ("7.4.2",), N_("No data-sharing grant past its end date"),
      evidence=DataSharingRequest)
def _sharing_past_end():
    from .deadlines import company_today

    request = DataSharingRequest
    return (select(request.system_id.label("system_id"), request.id.label("record_id"))
            .where(request.status == SharingStatus.granted,
                   request.end_date < company_today()))


# ----------------------------------------------------------------------- Audit

class AuditKind(LabelledEnum):
    compliance = "Compliance audit", "primary"
    effectiveness = "Effectiveness audit", "info"
    normative = "Normative audit", "warning"
    accuracy = "Accuracy audit", "success"


class Audit(StampMixin, Model):
    """A periodic audit of construction, operation, security or data (8.1.1, 8.1.2)."""

    __tablename__ = "audit"
    __scope__ = ("department_id",)
    __table_args__ = (
        CheckConstraint("period_end IS NULL OR period_start IS NULL OR period_end >= period_start",
                        name="ck_audit_period"),
    ) + sort_indexes("audit", "title", "kind", "period_start", "period_end")
    __rules__ = (Ordered("period_start", "period_end", check="ck_audit_period"),)

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    kind = enum_column(AuditKind, nullable=False, default=AuditKind.compliance)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    department = relationship("Department")
    scope = Column(Text, nullable=False)
    period_start = Column(Date)
    period_end = Column(Date)
    auditor_id = Column(Integer, ForeignKey("ab_user.id"))
    auditor = relationship("AppUser", foreign_keys=[auditor_id])
    conclusion = Column(Text)

    __title__ = "{title}"  # what it is called (app/titles.py)


class FindingSeverity(LabelledEnum):
    high = "High", "danger"
    medium = "Medium", "warning"
    low = "Low", "info"


class FindingStatus(LabelledEnum):
    open = "Open", "danger"
    rectification_submitted = "Rectification submitted", "warning"
    verified = "Verified", "info"
    closed = "Closed", "success"


class AuditFinding(StampMixin, WorkflowMixin, Model):
    """A finding of an audit, rectified by the responsible department (8.1, 8.2.1).

    The responsible department's Clerk/DeptHead writes and submits the rectification; an
    auditor verifies it (or sends it back) and closes the finding.
    """

    __tablename__ = "audit_finding"
    __table_args__ = sort_indexes("audit_finding", "title", "severity", "due_date", "status")
    __scope__ = ("responsible_department_id",)
    __department_columns__ = ("rectification", "rectification_evidence",
                              "rectification_evidence_id")
    __attachments__ = ("rectification_evidence",)

    id = Column(Integer, primary_key=True)
    audit_id = Column(Integer, ForeignKey("audit.id"), nullable=False, index=True)
    audit = relationship("Audit", backref="findings")
    title = Column(String(200), nullable=False)
    description = Column(Text, nullable=False)
    severity = enum_column(FindingSeverity, nullable=False, default=FindingSeverity.medium)
    responsible_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                       index=True)
    responsible_department = relationship("Department")
    system_id = Column(Integer, ForeignKey("information_system.id"), index=True)
    system = relationship("InformationSystem")
    due_date = Column(Date)
    rectification = Column(Text)
    rectification_evidence_id = Column(Integer, ForeignKey(
        "attachment.id", name="fk_audit_finding_rectification_evidence"))
    rectification_evidence = relationship("Attachment",
                                          foreign_keys=[rectification_evidence_id])
    status = enum_column(FindingStatus, nullable=False, default=FindingStatus.open)

    __title__ = "{title}"  # what it is called (app/titles.py)


_F = FindingStatus
_FINDING = ("audit", "title", "description", "severity", "responsible_department", "system",
            "due_date")
AuditFinding.__workflow__ = Workflow(
    states=FindingStatus,
    covered=("title", "description", "severity", "responsible_department", "rectification",
             "rectification_evidence"),
    content=("rectification", "rectification_evidence"),
    frozen=frozenset({_F.rectification_submitted}),
    reapproval=_F.rectification_submitted,
    # Auditors record the finding; the responsible department writes the rectification.
    editable=(
        Edit((_F.open,), _AUDITOR, _FINDING),
        Edit((_F.open, _F.rectification_submitted), _APPLICANT,
             ("rectification", "rectification_evidence"),
             department="responsible_department_id"),
    ),
    deletable=(Delete((_F.open,), _AUDITOR),),
    transitions=(
        Transition("submit", N_("Submit the rectification"), (_F.open,),
                   _F.rectification_submitted, _APPLICANT,
                   department="responsible_department_id", submits=True,
                   fields=("rectification", "rectification_evidence"),
                   guards=(filled("rectification",
                                  message=N_("Describe the rectification first.")),)),
        Transition("verify", N_("Verify the rectification"), (_F.rectification_submitted,),
                   _F.verified, _AUDITOR, approves=True, style="success"),
        Transition("return", N_("Send back for rectification"), (_F.rectification_submitted,),
                   _F.open, _AUDITOR, needs_comment=True, style="warning"),
        Transition("close", N_("Close the finding"), (_F.verified,), _F.closed, _AUDITOR),
    ),
)


@rule("audited", ("8.1.1",), N_("Audited within the set period"),
      evidence=InformationSystem)
def _not_audited():
    from .deadlines import company_today

    cutoff = company_today() - dt.timedelta(days=setting("COMPLIANCE_AUDIT_DAYS"))
    audited = select(Audit.department_id).where(
        func.coalesce(Audit.period_end, Audit.period_start) >= cutoff)
    system = InformationSystem
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.owning_department_id.notin_(audited))


@rule("rectification_overdue", ("8.1.1",), N_("No audit rectification past its due date"),
      evidence=AuditFinding)
def _rectification_overdue():
    from .deadlines import OVERDUE

    return (select(AuditFinding.system_id.label("system_id"),
                   AuditFinding.id.label("record_id"))
            .where(AuditFinding.system_id.isnot(None), OVERDUE.clause(AuditFinding)))


# ----------------------------------------------------------------- Attachments

class Attachment(Model):
    """A file kept as evidence (reports, signed contracts), checked by content (1.3.3)."""

    __tablename__ = "attachment"

    id = Column(Integer, primary_key=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False, index=True)
    data = deferred(Column(LargeBinary, nullable=False))
    uploaded_on = Column(DateTime, nullable=False, default=utcnow)
    uploaded_by_fk = Column(Integer, ForeignKey("ab_user.id"))

    def __str__(self):
        return self.filename


# -------------------------------------------------------------------- Evidence

class ChangeEntry(Model):
    """One insert, update or delete of a governed record; append-only, hash-chained
    (5.1.3 traceability, 5.1.4 and 1.3.3 no unauthorised change)."""

    __tablename__ = "change_entry"
    __table_args__ = (
        # A record's entries; the record id first, so the id alone is a range too.
        Index("ix_change_entry_record", "record_id", "record_type", "seq"),
        # The change log's filters and their combinations, each in the order of the log
        # (seq), so a page is the first rows of one range; a date range is a range of seq
        # (history_views.LogQuery). User, type and action combined: the action rides along.
        Index("ix_change_entry_user_seq", "username", "seq"),
        Index("ix_change_entry_occurred_seq", "occurred_at", "seq"),
        Index("ix_change_entry_type_seq", "record_type", "seq"),
        Index("ix_change_entry_action_seq", "action", "seq"),
        Index("ix_change_entry_user_action_seq", "username", "action", "seq"),
        Index("ix_change_entry_type_action_seq", "record_type", "action", "seq"),
        Index("ix_change_entry_user_type_seq", "username", "record_type", "seq", "action"),
    )

    id = Column(Integer, primary_key=True)
    seq = Column(Integer, nullable=False, unique=True)
    occurred_at = Column(DateTime, nullable=False)
    user_id = Column(Integer, index=False)
    username = Column(String(128))
    acting_for_id = Column(Integer)
    acting_for = Column(String(128))
    request_id = Column(String(40), nullable=False, index=True)
    record_type = Column(String(64), nullable=False)
    record_id = Column(String(64), nullable=False)
    action = Column(String(8), nullable=False)
    changes = Column(Text, nullable=False)
    prev_hash = Column(String(64), nullable=False)
    hash = Column(String(64), nullable=False, unique=True)

    def __str__(self):
        return f"#{self.seq} {self.record_type}:{self.record_id} {self.action}"


class Approval(Model):
    """One decision of a workflow: who moved which record from where to where, when, why,
    and the hash of the content decided on. Immutable (3.2, 4.1.3, 5.1.4, 8.1)."""

    __tablename__ = "approval"
    __table_args__ = (Index("ix_approval_record", "record_type", "record_id", "id"),)

    id = Column(Integer, primary_key=True)
    record_type = Column(String(64), nullable=False)
    record_id = Column(Integer, nullable=False)
    transition = Column(String(64), nullable=False)
    label = Column(String(200), nullable=False)
    from_state = Column(String(32), nullable=False)
    to_state = Column(String(32), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"))
    actor = relationship("AppUser", foreign_keys=[actor_id])
    acting_for_id = Column(Integer, ForeignKey("ab_user.id"))
    acting_for = relationship("AppUser", foreign_keys=[acting_for_id])
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    comment = Column(Text)
    content_hash = Column(String(64), nullable=False)
    approves = Column(Boolean, nullable=False, default=False)
    submits = Column(Boolean, nullable=False, default=False)

    def __str__(self):
        return f"{self.record_type}#{self.record_id} {self.transition}"


class ChainHead(Model):
    """The end of the change-history chain: one row, locked by every writer so
    concurrent transactions extend the chain one after another."""

    __tablename__ = "change_chain_head"

    id = Column(Integer, primary_key=True)
    seq = Column(Integer, nullable=False, default=0)
    hash = Column(String(64), nullable=False)


class ComplianceSnapshot(Model):
    """One system's compliance score on one day: the scorecard's trend (8.2.1). Plain ids,
    not references: a day's scores stay as they were taken."""

    __tablename__ = "compliance_snapshot"
    __table_args__ = (UniqueConstraint("day", "system_id", name="uq_compliance_snapshot"),)

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    system_id = Column(Integer, nullable=False)
    department_id = Column(Integer)
    score = Column(Integer, nullable=False)
    level = Column(String(8), nullable=False)
    failing = Column(String(500))  # the keys of the rules failed, comma-separated


GOVERNED_MODELS = (
    Department, InformationSystem, Vendor, DevelopmentPlan, PlanFeedback, ProjectRequest,
    Contract, ChangeOrder, Incident, ChangeRequest, DataSharingRequest, Audit, AuditFinding,
)


# A record page's tabs list the related records of one record in the tab's default order
# (the related view's base_order, then id, as FAB sorts), the viewer's scoping column riding
# along: each tab's count and page read one range of one index (index only), so a system
# with 24,000 incidents shows its page as fast as one with three, to a Clerk of another
# department too.
RELATED_TAB_INDEXES = (
    Index("ix_incident_system_occurred", Incident.system_id, Incident.occurred_at,
          Incident.id, Incident.reporting_department_id),
    Index("ix_contract_system_number", Contract.system_id, Contract.number,
          Contract.id, Contract.department_id),
    Index("ix_contract_project_number", Contract.project_id, Contract.number,
          Contract.id, Contract.department_id),
    Index("ix_contract_vendor_number", Contract.vendor_id, Contract.number,
          Contract.id, Contract.department_id),
    Index("ix_change_request_system_number", ChangeRequest.system_id,
          ChangeRequest.change_number, ChangeRequest.id, ChangeRequest.department_id),
    Index("ix_change_order_contract_number", ChangeOrder.contract_id, ChangeOrder.change_number,
          ChangeOrder.id, ChangeOrder.department_id),
    Index("ix_change_order_project_number", ChangeOrder.project_id, ChangeOrder.change_number,
          ChangeOrder.id, ChangeOrder.department_id),
    Index("ix_plan_feedback_plan_changed", PlanFeedback.plan_id, PlanFeedback.changed_on,
          PlanFeedback.id, PlanFeedback.department_id),
    Index("ix_expert_review_project_changed", ExpertReview.project_id, ExpertReview.changed_on,
          ExpertReview.id, ExpertReview.department_id),
    Index("ix_audit_finding_audit_due", AuditFinding.audit_id, AuditFinding.due_date,
          AuditFinding.id, AuditFinding.responsible_department_id),
)


# Charts and scorecard rules at PRODUCT.md §8 scale (app/charts.py, app/compliance.py):
# each lets a declared chart or rule read one index alone instead of the table's wide rows.
CHART_INDEXES = (
    # A department's incidents per month and time to resolve (its home page, the
    # department filter, a department head's charts): one range per month.
    Index("ix_incident_department_occurred", Incident.reporting_department_id,
          Incident.occurred_at, Incident.severity, Incident.resolved_at),
    Index("ix_project_request_department_budget", ProjectRequest.applicant_department_id,
          ProjectRequest.budget),
    Index("ix_change_request_status_kind", ChangeRequest.status, ChangeRequest.kind),
    Index("ix_audit_finding_status_severity", AuditFinding.status, AuditFinding.severity),
    # 5.1.4: the approvals that moved a change request to "approved".
    Index("ix_approval_type_state", Approval.record_type, Approval.to_state,
          Approval.record_id),
    # 3.2.4/4.1.3: a project's signed contract.
    Index("ix_contract_project_status", Contract.project_id, Contract.status),
)

def _inbox_indexes():
    """待我处理 finds each workflow's records by state, oldest change first, and pages
    them by (changed_on, id) (app/approvals.py inbox_page): one index per workflow table."""
    for mapper in list(Model.registry.mappers):
        model = mapper.class_
        workflow = getattr(model, "__workflow__", None)
        if workflow is not None:
            Index(f"ix_{model.__tablename__}_{workflow.state_field}_changed_on",
                  getattr(model, workflow.state_field), model.changed_on, model.id)


_inbox_indexes()
