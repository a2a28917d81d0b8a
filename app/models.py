"""Every record of the regulation, in regulation order.

Department scoping is declared here, once per model, and enforced in
app/security.py:

* ``__scope__``: attribute paths to department ids. The first path is the
  owning department (the one whose Clerk/DeptHead may write the record); a
  record is visible to a scoped user whose department matches any path.
* ``__reference__ = True``: reference data, readable by everyone; writes are
  still limited to the owning department (when the model has ``__scope__``).
"""
import datetime as dt

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
)
from sqlalchemy.orm import declared_attr, deferred, relationship, validates

from .i18n import LabelledEnum
from .workflow import N_, Guard, Transition, Workflow, filled


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def enum_column(enum_class, **kwargs):
    """Stored by member name; a CHECK constraint keeps the column honest."""
    return Column(
        Enum(enum_class, name=enum_class.__name__.lower(), native_enum=False, length=32,
             create_constraint=True, validate_strings=True),
        **kwargs,
    )


class StampMixin:
    """Who created and last changed a record, and when (UTC).

    Filled by a session event (app/stamps.py), so CLI and seed code work too:
    there the user is empty and the record shows the system as author.
    """

    created_on = Column(DateTime, nullable=False, default=utcnow)
    changed_on = Column(DateTime, nullable=False, default=utcnow)

    @declared_attr
    def created_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def changed_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def created_by(cls):
        return relationship("AppUser", foreign_keys=[cls.created_by_fk], lazy="joined",
                            innerjoin=False)

    @declared_attr
    def changed_by(cls):
        return relationship("AppUser", foreign_keys=[cls.changed_by_fk], lazy="joined",
                            innerjoin=False)


class WorkflowMixin:
    """An approvable record: a version column for optimistic locking (exactly-once
    transitions) and who submitted it (separation of duties). Its workflow is
    declared as ``__workflow__`` beside the model (app/workflow.py)."""

    version = Column(Integer, nullable=False, default=1, server_default="1")

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
    __reference__ = True

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), unique=True, nullable=False)
    kind = enum_column(DepartmentKind, nullable=False, default=DepartmentKind.business)
    head_id = Column(Integer, ForeignKey("ab_user.id",
                                         name="fk_department_head_id_ab_user"))
    head = relationship("AppUser", foreign_keys=[head_id])
    description = Column(Text)

    def __str__(self):
        return self.name


class AppUser(FabUser):
    """A person using the back office; belongs to exactly one department (2.x)."""

    __tablename__ = "ab_user"
    department_id = Column(
        Integer, ForeignKey("department.id", name="fk_ab_user_department_id_department",
                            use_alter=True),
        index=True)
    department = relationship("Department", foreign_keys=[department_id])

    def get_full_name(self):
        """Chinese order: family name first, no space."""
        name = f"{self.last_name or ''}{self.first_name or ''}".strip()
        return name or self.username

    def __str__(self):
        return self.get_full_name()


class Delegation(StampMixin, Model):
    """A substitute who may act for a person during a date range (approval delegation)."""

    __tablename__ = "delegation"
    __personal__ = "principal_id"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="ck_delegation_dates"),
        CheckConstraint("principal_id <> substitute_id", name="ck_delegation_people"),
    )

    id = Column(Integer, primary_key=True)
    principal_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    principal = relationship("AppUser", foreign_keys=[principal_id])
    substitute_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    substitute = relationship("AppUser", foreign_keys=[substitute_id])
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    reason = Column(String(200))

    def __str__(self):
        return f"{self.substitute} → {self.principal}"


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
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), nullable=False, index=True)
    category = enum_column(SystemCategory, nullable=False, default=SystemCategory.business)
    owning_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                  index=True)
    owning_department = relationship("Department", foreign_keys=[owning_department_id])
    it_custodian_id = Column(Integer, ForeignKey("ab_user.id"))
    it_custodian = relationship("AppUser", foreign_keys=[it_custodian_id])
    business_owner_id = Column(Integer, ForeignKey("ab_user.id"))
    business_owner = relationship("AppUser", foreign_keys=[business_owner_id])
    lifecycle = enum_column(Lifecycle, nullable=False, default=Lifecycle.planned)
    protection_level = Column(Integer, nullable=False, default=2)
    go_live_date = Column(Date)
    vendor_id = Column(Integer, ForeignKey("vendor.id"), index=True)
    vendor = relationship("Vendor")
    description = Column(Text)

    def __str__(self):
        return f"{self.name}（{self.code}）"


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
    __table_args__ = (CheckConstraint("budget >= 0", name="ck_project_budget"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, index=True)
    applicant_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                     index=True)
    applicant_department = relationship("Department")
    background = Column(Text, nullable=False)
    goals = Column(Text, nullable=False)
    content = Column(Text, nullable=False)
    budget = Column(Numeric(14, 2), nullable=False)
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
    status = enum_column(ProjectStatus, nullable=False, default=ProjectStatus.draft,
                         index=True)

    @classmethod
    def expert_clause(cls):
        """Experts see the requests that are in expert review (3.2.3)."""
        return cls.status == ProjectStatus.expert_review

    def __str__(self):
        return self.name


class ReviewStatus(LabelledEnum):
    assigned = "Assigned", "warning"
    submitted = "Opinion submitted", "success"


class ExpertReview(StampMixin, WorkflowMixin, Model):
    """One expert's review of a project request: no conflict of interest, score, opinion (3.2.3)."""

    __tablename__ = "expert_review"
    __scope__ = ("department_id",)
    __personal__ = "expert_id"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score BETWEEN 0 AND 100)", name="ck_review_score"),
        UniqueConstraint("project_id", "expert_id", name="uq_review_project_expert"),
    )

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project_request.id"), nullable=False, index=True)
    project = relationship("ProjectRequest", backref="expert_reviews")
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    department = relationship("Department")
    expert_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    expert = relationship("AppUser", foreign_keys=[expert_id])
    no_conflict = Column(Boolean, nullable=False, default=False)
    score = Column(Integer)
    opinion = Column(Text)
    status = enum_column(ReviewStatus, nullable=False, default=ReviewStatus.assigned,
                         index=True)

    @validates("project")
    def _take_project_department(self, _key, project):
        # The review belongs to the project's department (scoping, conflict check).
        self.department_id = project.applicant_department_id if project else None
        return project

    def reviewer_ids(self):
        return [self.expert_id]

    @property
    def review_department_id(self):
        return self.department_id

    def __str__(self):
        return f"{self.project} · {self.expert}"


def _signed_contract(project):
    return any(c.status in SIGNED_CONTRACT_STATES for c in project.contracts)


def _expert_panel_done(project):
    reviews = project.expert_reviews
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

ProjectRequest.__workflow__ = Workflow(
    states=ProjectStatus,
    covered=("name", "applicant_department", "background", "goals", "content", "budget",
             "implementation_plan", "requirements_report"),
    frozen=frozenset({_P.it_review, _P.expert_review, _P.feasibility, _P.mgmt_review,
                      _P.approved}),
    reapproval=_P.dept_review,
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
                   guards=(Guard(_expert_panel_done,
                                 N_("Every assigned expert must submit an opinion first.")),
                           filled("expert_opinion",
                                  message=N_("Record the consolidated expert opinion first.")))),
        Transition("submit_feasibility", N_("Submit feasibility report to management"),
                   (_P.feasibility,), _P.mgmt_review, frozenset({"ITStaff"}), approves=True,
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
    ) + tuple(
        Transition("return", N_("Return to the applicant"), (state,), _P.returned, roles,
                   department=dept, needs_comment=True, style="warning")
        for state, roles, dept in _PROJECT_REVIEWS
    ) + tuple(
        Transition("reject", N_("Reject"), (state,), _P.rejected, roles, department=dept,
                   needs_comment=True, style="danger")
        for state, roles, dept in _PROJECT_REVIEWS
    ),
)

ExpertReview.__workflow__ = Workflow(
    states=ReviewStatus,
    covered=("no_conflict", "score", "opinion"),
    transitions=(
        Transition("submit", N_("Submit my opinion"), (ReviewStatus.assigned,),
                   ReviewStatus.submitted, frozenset({"Expert"}), reviewer=True,
                   guards=(Guard(lambda r: r.no_conflict,
                                 N_("Declare that you have no conflict of interest first.")),
                           filled("score", "opinion",
                                  message=N_("Give a score and an opinion first.")))),
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
    __reference__ = True

    id = Column(Integer, primary_key=True)
    name = Column(String(200), unique=True, nullable=False)
    credit_code = Column(String(18), unique=True, nullable=False)
    qualification = Column(Text)
    rating = enum_column(VendorRating, nullable=False, default=VendorRating.b)
    contact_person = Column(String(64))
    contact_phone = Column(String(32))
    contact_email = Column(String(200))

    def __str__(self):
        return self.name


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


class Contract(StampMixin, Model):
    """A contract signed with the winning vendor: scope, schedule, quality, acceptance (4.1.3)."""

    __tablename__ = "contract"
    __scope__ = ("department_id", "system.owning_department_id")
    __attachments__ = ("signed_file",)
    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_contract_amount"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="ck_contract_dates"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(64), unique=True, nullable=False)
    name = Column(String(200), nullable=False, index=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    department = relationship("Department")
    project_id = Column(Integer, ForeignKey("project_request.id"), index=True)
    project = relationship("ProjectRequest", backref="contracts")
    vendor_id = Column(Integer, ForeignKey("vendor.id"), nullable=False, index=True)
    vendor = relationship("Vendor")
    system_id = Column(Integer, ForeignKey("information_system.id"), index=True)
    system = relationship("InformationSystem", backref="contracts")
    amount = Column(Numeric(14, 2), nullable=False)
    sign_date = Column(Date)
    start_date = Column(Date)
    end_date = Column(Date)
    scope = Column(Text)
    schedule = Column(Text)
    quality_terms = Column(Text)
    acceptance_terms = Column(Text)
    after_sales_terms = Column(Text)
    signed_file_id = Column(Integer, ForeignKey("attachment.id"))
    signed_file = relationship("Attachment", foreign_keys=[signed_file_id])
    status = enum_column(ContractStatus, nullable=False, default=ContractStatus.draft,
                         index=True)

    def __str__(self):
        return f"{self.number} {self.name}"


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


class Incident(StampMixin, Model):
    """A fault found in operation, handled and traced to its root cause (5.1.2, 5.1.3)."""

    __tablename__ = "incident"
    __scope__ = ("reporting_department_id", "system.owning_department_id")
    __table_args__ = (
        CheckConstraint("resolved_at IS NULL OR resolved_at >= occurred_at",
                        name="ck_incident_times"),
    )

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    system_id = Column(Integer, ForeignKey("information_system.id"), nullable=False, index=True)
    system = relationship("InformationSystem", backref="incidents")
    severity = enum_column(Severity, nullable=False, default=Severity.p3, index=True)
    description = Column(Text, nullable=False)
    reporting_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                     index=True)
    reporting_department = relationship("Department")
    reporter_id = Column(Integer, ForeignKey("ab_user.id"))
    reporter = relationship("AppUser", foreign_keys=[reporter_id])
    assignee_id = Column(Integer, ForeignKey("ab_user.id"))
    assignee = relationship("AppUser", foreign_keys=[assignee_id])
    occurred_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    resolved_at = Column(DateTime)
    root_cause = Column(Text)
    resolution = Column(Text)
    status = enum_column(IncidentStatus, nullable=False, default=IncidentStatus.reported,
                         index=True)

    def __str__(self):
        return self.title


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
    )

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

    def __str__(self):
        return self.title


class FindingSeverity(LabelledEnum):
    high = "High", "danger"
    medium = "Medium", "warning"
    low = "Low", "info"


class FindingStatus(LabelledEnum):
    open = "Open", "danger"
    rectification_submitted = "Rectification submitted", "warning"
    verified = "Verified", "info"
    closed = "Closed", "success"


class AuditFinding(StampMixin, Model):
    """A finding of an audit, rectified by the responsible department (8.1, 8.2.1)."""

    __tablename__ = "audit_finding"
    __scope__ = ("responsible_department_id",)

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
    status = enum_column(FindingStatus, nullable=False, default=FindingStatus.open, index=True)

    def __str__(self):
        return self.title


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
        Index("ix_change_entry_record", "record_type", "record_id", "seq"),
        Index("ix_change_entry_user_seq", "username", "seq"),
        Index("ix_change_entry_occurred_seq", "occurred_at", "seq"),
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


GOVERNED_MODELS = (
    Department, InformationSystem, Vendor, ProjectRequest, Contract, Incident, Audit,
    AuditFinding,
)
