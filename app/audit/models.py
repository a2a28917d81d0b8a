"""Audit and supervision (regulation chapter 8): periodic audits (8.1), supervision checks
of the departments (8.2.2), and the findings of either, rectified by the responsible
department (8.1, 8.2.1)."""
import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import relationship

from app.base import APPLICANT, AUDITOR, StampMixin, WorkflowMixin, enum_column, sort_indexes
from app.charts import Chart
from app.compliance import rule, setting
from app.deadlines import Deadline, company_today, reminder_days
from app.i18n import LabelledEnum
from app.organisation.models import InformationSystem
from app.validation import OneOf, Ordered
from app.workflow import N_, Delete, Edit, Transition, Workflow, filled


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


class SupervisionResult(LabelledEnum):
    satisfactory = "Satisfactory", "success"
    improvement = "Needs improvement", "warning"
    unsatisfactory = "Unsatisfactory", "danger"


class SupervisionCheck(StampMixin, Model):
    """A supervision check of a department (8.2.1, 8.2.2): which of the 8.2.2 items were
    checked (the departments' performance of their duties, the rules of system
    construction and management, operation, maintenance and security, data management),
    the result, the issues found and their follow-up; its findings are audit findings."""

    __tablename__ = "supervision_check"
    __scope__ = ("department_id",)
    __table_args__ = sort_indexes("supervision_check", "title", "checked_on", "result")

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_supervision_check_department"), nullable=False, index=True)
    department = relationship("Department")
    checked_on = Column(Date, nullable=False, default=dt.date.today)
    inspector_id = Column(Integer, ForeignKey("ab_user.id",
                                              name="fk_supervision_check_inspector"))
    inspector = relationship("AppUser", foreign_keys=[inspector_id])
    # The items of 8.2.2 the check covered.
    checked_duties = Column(Boolean, nullable=False, default=False)
    checked_rules = Column(Boolean, nullable=False, default=False)
    checked_operations = Column(Boolean, nullable=False, default=False)
    checked_data = Column(Boolean, nullable=False, default=False)
    result = enum_column(SupervisionResult, nullable=False,
                         default=SupervisionResult.satisfactory)
    issues = Column(Text)
    follow_up = Column(Text)

    __title__ = "{title}"  # what it is called (app/titles.py)


SupervisionCheck.__charts__ = (
    Chart("supervision_by_result", _l("Supervision checks by result"), "result"),
)


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
    """A finding of an audit or of a supervision check, rectified by the responsible
    department (8.1, 8.2.1, 8.2.2).

    The responsible department's Clerk/DeptHead writes and submits the rectification; an
    auditor verifies it (or sends it back) and closes the finding.
    """

    __tablename__ = "audit_finding"
    __table_args__ = (
        CheckConstraint("(audit_id IS NULL) <> (supervision_check_id IS NULL)",
                        name="ck_audit_finding_source"),
    ) + sort_indexes("audit_finding", "title", "severity", "due_date", "status")
    __rules__ = (OneOf("audit_id", "supervision_check_id", check="ck_audit_finding_source"),)
    __scope__ = ("responsible_department_id",)
    __department_columns__ = ("rectification", "rectification_evidence",
                              "rectification_evidence_id")
    __attachments__ = ("rectification_evidence",)

    id = Column(Integer, primary_key=True)
    audit_id = Column(Integer, ForeignKey("audit.id"), index=True)
    audit = relationship("Audit", backref="findings")
    supervision_check_id = Column(Integer, ForeignKey(
        "supervision_check.id", name="fk_audit_finding_supervision_check"), index=True)
    supervision_check = relationship("SupervisionCheck", backref="findings")
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
_FINDING = ("audit", "supervision_check", "title", "description", "severity",
            "responsible_department", "system",
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
        Edit((_F.open,), AUDITOR, _FINDING),
        Edit((_F.open, _F.rectification_submitted), APPLICANT,
             ("rectification", "rectification_evidence"),
             department="responsible_department_id"),
    ),
    deletable=(Delete((_F.open,), AUDITOR),),
    transitions=(
        Transition("submit", N_("Submit the rectification"), (_F.open,),
                   _F.rectification_submitted, APPLICANT,
                   department="responsible_department_id", submits=True,
                   fields=("rectification", "rectification_evidence"),
                   guards=(filled("rectification",
                                  message=N_("Describe the rectification first.")),)),
        Transition("verify", N_("Verify the rectification"), (_F.rectification_submitted,),
                   _F.verified, AUDITOR, approves=True, style="success"),
        Transition("return", N_("Send back for rectification"), (_F.rectification_submitted,),
                   _F.open, AUDITOR, needs_comment=True, style="warning"),
        Transition("close", N_("Close the finding"), (_F.verified,), _F.closed, AUDITOR),
    ),
)


# Findings past their rectification date (8.2.1): a badge on the due date and a list filter.
OVERDUE = Deadline(
    "overdue", lambda model: "due_date", lambda: _l("Overdue"), "danger",
    lambda model: (model.due_date < company_today()) & (model.status != FindingStatus.closed),
    lambda record: record.due_date is not None and record.due_date < company_today()
    and record.status is not FindingStatus.closed,
    filter_name=_l("Overdue"), remind=lambda: _l("Audit rectifications overdue"))
# Open findings due within REMINDER_DAYS: the responsible department is reminded (8.2.1).
DUE_SOON = Deadline(
    "due", lambda model: "due_date",
    lambda: _l("Due within %(days)d days", days=reminder_days()), "warning",
    lambda model: model.due_date.between(
        company_today(), company_today() + dt.timedelta(days=reminder_days()))
    & (model.status == FindingStatus.open),
    lambda record: record.due_date is not None
    and company_today() <= record.due_date
    <= company_today() + dt.timedelta(days=reminder_days())
    and record.status is FindingStatus.open,
    filter_name=_l("Due soon"),
    remind=lambda: _l("Audit rectifications due within %(days)d days", days=reminder_days()))
AuditFinding.__deadlines__ = (OVERDUE, DUE_SOON)

AuditFinding.__charts__ = (
    Chart("findings_by_status", _l("Audit findings by status"), "status",
          stack="severity"),
    Chart("findings_overdue", _l("Overdue rectifications by department (top 20)"),
          "responsible_department", where=OVERDUE, top=20),
)


@rule("audited", ("8.1.1",), N_("Audited within the set period"),
      evidence=InformationSystem)
def _not_audited():
    cutoff = company_today() - dt.timedelta(days=setting("COMPLIANCE_AUDIT_DAYS"))
    audited = select(Audit.department_id).where(
        func.coalesce(Audit.period_end, Audit.period_start) >= cutoff)
    system = InformationSystem
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.owning_department_id.notin_(audited))


@rule("rectification_overdue", ("8.1.1",), N_("No audit rectification past its due date"),
      evidence=AuditFinding)
def _rectification_overdue():
    return (select(AuditFinding.system_id.label("system_id"),
                   AuditFinding.id.label("record_id"))
            .where(AuditFinding.system_id.isnot(None), OVERDUE.clause(AuditFinding)))


# An audit's findings on its page read one range of one index (app/base.py sort_indexes).
Index("ix_audit_finding_audit_due", AuditFinding.audit_id, AuditFinding.due_date,
      AuditFinding.id, AuditFinding.responsible_department_id)
# Findings by status: the chart reads this index alone.
Index("ix_audit_finding_status_severity", AuditFinding.status, AuditFinding.severity)
