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
)
from sqlalchemy.orm import declared_attr, deferred, relationship

from .i18n import LabelledEnum


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


class ProjectRequest(StampMixin, Model):
    """Project initiation request from a department, with its reports (3.2.1, 3.2.2)."""

    __tablename__ = "project_request"
    __scope__ = ("applicant_department_id",)
    __attachments__ = ("requirements_report", "feasibility_report")
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
    expert_opinion = Column(Text)
    status = enum_column(ProjectStatus, nullable=False, default=ProjectStatus.draft,
                         index=True)

    @classmethod
    def expert_clause(cls):
        """Experts see the requests that are in expert review (3.2.3)."""
        return cls.status == ProjectStatus.expert_review

    def __str__(self):
        return self.name


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
        Index("ix_change_entry_user_seq", "user_id", "seq"),
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
