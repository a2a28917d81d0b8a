"""Information security (regulation chapter 6): security policies (6.1), vulnerability
scans and their vulnerabilities, risk assessments (6.2), security training, personnel
clearances (6.3), emergency plans, drills and security events (6.4)."""
import datetime as dt

from flask_appbuilder import Model
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    event,
    select,
)
from sqlalchemy.orm import Session, object_session, relationship, validates

from app.base import (
    APPLICANT,
    IT,
    MGMT,
    StampMixin,
    WorkflowMixin,
    enum_column,
    sort_indexes,
    utcnow,
)
from app.charts import Chart, Month, Quarter
from app.compliance import failing_deadline, rule, setting
from app.deadlines import Deadline, company_today
from app.i18n import LabelledEnum
from app.organisation.models import InformationSystem, Lifecycle
from app.validation import Ordered
from app.workflow import ACTOR, NOW, N_, Edit, Transition, Workflow, filled
from app.operations.models import Severity
from app.workflow import Delete, Guard, review_exits


# ============================================================================
# 6.1 security policies, 6.2 vulnerability scans, vulnerabilities and risk
# assessments, 6.3.1-6.3.2 security training and attendance
# ============================================================================


# ------------------------------------------------------------ Security policies (6.1)

class PolicyCategory(LabelledEnum):
    network = "Network security", "primary"
    data = "Data security", "info"
    application = "Application security", "success"
    personnel = "Personnel security", "warning"


class PolicyStatus(LabelledEnum):
    draft = "Draft", "default"
    mgmt_review = "Management approval", "warning"
    approved = "Approved", "info"
    effective = "In effect", "success"
    superseded = "Superseded", "default"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


class SecurityPolicy(StampMixin, WorkflowMixin, Model):
    """An information security policy of the company (6.1.1, 6.1.2): network, data,
    application or personnel security, with its basis in laws and standards, objectives,
    principles and measures, by version.

    Drafted and submitted by IT staff, approved by management, published (in effect from
    its effective date) by IT staff; once a newer version is in effect, IT staff mark the
    older one superseded.
    """

    __tablename__ = "security_policy"
    __reference__ = True  # company-wide: every role reads it, IT writes it (2.1.5)
    __attachments__ = ("document",)
    __table_args__ = (
        UniqueConstraint("title", "policy_version", name="uq_security_policy_version"),
        CheckConstraint("policy_version >= 1", name="ck_security_policy_version"),
    ) + sort_indexes("security_policy", "title", "category", "effective_date", "status")

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    category = enum_column(PolicyCategory, nullable=False, default=PolicyCategory.network)
    policy_version = Column(Integer, nullable=False, default=1,
                            info={"min": 1, "check": "ck_security_policy_version"})
    # The version this one replaces; marked superseded once this one is in effect.
    previous_version_id = Column(Integer, ForeignKey(
        "security_policy.id", name="fk_security_policy_previous_version"), index=True)
    previous_version = relationship("SecurityPolicy", remote_side=[id],
                                    backref="next_versions")
    effective_date = Column(Date)
    basis = Column(Text)  # the laws, regulations and standards it follows (6.1.1)
    objectives = Column(Text, nullable=False)
    principles = Column(Text)
    measures = Column(Text, nullable=False)
    document_id = Column(Integer, ForeignKey("attachment.id",
                                             name="fk_security_policy_document"))
    document = relationship("Attachment", foreign_keys=[document_id])
    status = enum_column(PolicyStatus, nullable=False, default=PolicyStatus.draft)

    __title__ = "{title}（V{policy_version}）"  # what it is called (app/titles.py)


def _newer_version_in_effect(policy):
    return any(newer.status is PolicyStatus.effective for newer in policy.next_versions)


_SP = PolicyStatus
_POLICY_CONTENT = ("title", "category", "policy_version", "previous_version", "basis",
                   "objectives", "principles", "measures", "document")
SecurityPolicy.__workflow__ = Workflow(
    states=PolicyStatus,
    covered=_POLICY_CONTENT,
    content=_POLICY_CONTENT,
    # Changed under management's review: approved again. Approved or in effect: frozen,
    # a new version is the way.
    frozen=frozenset({_SP.mgmt_review}),
    reapproval=_SP.mgmt_review,
    editable=(
        Edit((_SP.draft, _SP.returned, _SP.mgmt_review), IT,
             _POLICY_CONTENT + ("effective_date",)),
        Edit((_SP.approved,), IT, ("effective_date",)),
    ),
    deletable=(Delete((_SP.draft,), IT),),
    transitions=(
        Transition("submit", N_("Submit to management"), (_SP.draft, _SP.returned),
                   _SP.mgmt_review, IT, submits=True),
        Transition("approve", N_("Approve the policy"), (_SP.mgmt_review,), _SP.approved,
                   MGMT, approves=True, style="success"),
        Transition("publish", N_("Publish (in effect)"), (_SP.approved,), _SP.effective, IT,
                   style="success", fields=("effective_date",),
                   guards=(filled("effective_date",
                                  message=N_("Set the effective date first.")),)),
        Transition("supersede", N_("Mark as superseded"), (_SP.effective,), _SP.superseded,
                   IT, guards=(Guard(_newer_version_in_effect,
                                     N_("A newer version of this policy must be in effect "
                                        "first.")),)),
    ) + review_exits(((_SP.mgmt_review, MGMT, None),), _SP.returned, _SP.rejected,
                     N_("Return to IT for revision")),
)


# ------------------------------------------- Vulnerability scans and vulnerabilities (6.2.2)

class VulnerabilitySeverity(LabelledEnum):
    critical = "Critical", "danger"
    high = "High", "warning"
    medium = "Medium", "info"
    low = "Low", "default"


class VulnerabilityStatus(LabelledEnum):
    open = "To be fixed", "danger"
    fixing = "Fixing", "warning"
    fixed = "Fixed", "success"
    accepted = "Risk accepted", "default"


UNFIXED_STATES = (VulnerabilityStatus.open, VulnerabilityStatus.fixing)
SERIOUS = (VulnerabilitySeverity.critical, VulnerabilitySeverity.high)
DEFAULT_SEVERITY = VulnerabilitySeverity.medium


class FilledWhen:
    """Input rule (app/validation.py ``__rules__``): ``key`` is set whenever ``field``
    holds ``value`` (a fixed vulnerability has its fixed date)."""

    def __init__(self, key, field, value, message, check=None):
        self.key, self.field, self.value, self.message, self.check = (
            key, field, value, message, check)

    def error(self, model, values):
        state = values.get(self.field)
        if getattr(state, "name", state) != self.value.name or values.get(self.key) is not None:
            return None
        return self.key, gettext(self.message)


class VulnerabilityScan(StampMixin, Model):
    """A vulnerability scan of a system: when, with which tool, over what scope, by whom,
    its result and report; the vulnerabilities it found are listed on its page (6.2.2).

    Written by IT staff; seen by the system's owning department and the IT department.
    """

    __tablename__ = "vulnerability_scan"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __it_managed__ = True  # IT scans every department's systems (6.2.2)
    __attachments__ = ("report",)
    __table_args__ = sort_indexes("vulnerability_scan", "scanned_on", "tool")

    id = Column(Integer, primary_key=True)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_vulnerability_scan_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="vulnerability_scans")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_vulnerability_scan_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    scanned_on = Column(Date, nullable=False, default=lambda: company_today())
    tool = Column(String(100), nullable=False)
    scan_scope = Column(Text)
    performer_id = Column(Integer, ForeignKey("ab_user.id",
                                              name="fk_vulnerability_scan_performer"))
    performer = relationship("AppUser", foreign_keys=[performer_id])
    summary = Column(Text)
    report_id = Column(Integer, ForeignKey("attachment.id",
                                           name="fk_vulnerability_scan_report"))
    report = relationship("Attachment", foreign_keys=[report_id])

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    __title__ = "{system} · {scanned_on}"  # what it is called (app/titles.py)


class Vulnerability(StampMixin, Model):
    """A vulnerability found by a scan, fixed by a due date set by its severity
    (``VULNERABILITY_FIX_DAYS``), or its risk accepted (6.2.2).

    The system and department are the scan's; the due date is the save path's: the date
    found plus the days its severity allows. Written by IT staff; seen by the system's
    owning department and the IT department.
    """

    __tablename__ = "vulnerability"
    __scope__ = ("department_id",)
    __derived__ = ("system", "department", "due_date")
    __it_managed__ = True
    __table_args__ = (
        CheckConstraint("fixed_on IS NULL OR fixed_on >= found_on",
                        name="ck_vulnerability_dates"),
        CheckConstraint("status <> 'fixed' OR fixed_on IS NOT NULL",
                        name="ck_vulnerability_fixed_on"),
    ) + sort_indexes("vulnerability", "title", "severity", "status", "found_on", "due_date",
                     "identifier", "fixed_on")
    __rules__ = (
        Ordered("found_on", "fixed_on", check="ck_vulnerability_dates"),
        FilledWhen("fixed_on", "status", VulnerabilityStatus.fixed,
                   N_("Set the date the vulnerability was fixed."),
                   check="ck_vulnerability_fixed_on"),
    )

    id = Column(Integer, primary_key=True)
    scan_id = Column(Integer, ForeignKey("vulnerability_scan.id",
                                         name="fk_vulnerability_scan"), nullable=False)
    scan = relationship("VulnerabilityScan", backref="vulnerabilities")
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_vulnerability_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="vulnerabilities")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_vulnerability_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    title = Column(String(200), nullable=False)
    identifier = Column(String(64))  # CVE or the scanner's own id
    severity = enum_column(VulnerabilitySeverity, nullable=False, default=DEFAULT_SEVERITY)
    status = enum_column(VulnerabilityStatus, nullable=False,
                         default=VulnerabilityStatus.open)
    found_on = Column(Date, nullable=False, default=lambda: company_today())
    due_date = Column(Date)
    fixed_on = Column(Date)
    remediation = Column(Text)

    @validates("scan")
    def _take_scan_system(self, _key, scan):
        self.system = scan.system if scan else None
        self.department = scan.department if scan else None
        return scan

    __title__ = "{title}"  # what it is called (app/titles.py)


def vulnerability_due(found_on, severity):
    """The date a vulnerability found on ``found_on`` is to be fixed by: the days its
    severity allows (``VULNERABILITY_FIX_DAYS``)."""
    if found_on is None or severity is None:
        return None
    days = setting("VULNERABILITY_FIX_DAYS")[VulnerabilitySeverity(severity).name]
    return found_on + dt.timedelta(days=days)


@event.listens_for(Session, "before_flush")
def set_vulnerability_due_dates(session, _flush_context, _instances):
    """The save rule of 6.2.2: every vulnerability written is due by its severity."""
    with session.no_autoflush:
        for record in list(session.new) + list(session.dirty):
            if isinstance(record, Vulnerability):
                # Not yet set: the columns' defaults, which the insert will write.
                due = vulnerability_due(record.found_on or company_today(),
                                        record.severity or DEFAULT_SEVERITY)
                if record.due_date != due:
                    record.due_date = due


VULNERABILITY_OVERDUE = Deadline(
    "overdue", lambda model: "due_date", lambda: _l("Overdue"), "danger",
    lambda model: (model.due_date < company_today()) & model.status.in_(UNFIXED_STATES),
    lambda record: record.due_date is not None and record.due_date < company_today()
    and record.status in UNFIXED_STATES,
    filter_name=_l("Overdue"), remind=lambda: _l("Vulnerabilities past their fix date"))
# Not yet fixed (open or being fixed): the badge sits on the empty fixed date.
VULNERABILITY_UNFIXED = Deadline(
    "unfixed", lambda model: "fixed_on", lambda: _l("Not fixed"), "warning",
    lambda model: model.status.in_(UNFIXED_STATES),
    lambda record: record.status in UNFIXED_STATES,
    filter_name=_l("Not fixed"))
Vulnerability.__deadlines__ = (VULNERABILITY_OVERDUE, VULNERABILITY_UNFIXED)
Vulnerability.__charts__ = (
    Chart("open_vulnerabilities_by_severity", _l("Open vulnerabilities by severity"),
          "severity", where=VULNERABILITY_UNFIXED, date="found_on"),
    Chart("vulnerability_ageing", _l("Vulnerability ageing: open vulnerabilities by month "
                                     "found"),
          Month("found_on", last=None), stack="severity", where=VULNERABILITY_UNFIXED),
)


@rule("vulnerability_scan", ("6.2.2",),
      N_("Running system scanned for vulnerabilities within the set days"),
      evidence=InformationSystem)
def _not_scanned():
    since = company_today() - dt.timedelta(days=setting("COMPLIANCE_SCAN_DAYS"))
    scanned = select(VulnerabilityScan.system_id).where(VulnerabilityScan.scanned_on >= since)
    system = InformationSystem
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.lifecycle == Lifecycle.running, system.id.notin_(scanned))


# Running systems due for a scan: a filter of the systems list and a reminder (6.2.2).
InformationSystem.__deadlines__ = (
    *getattr(InformationSystem, "__deadlines__", ()),
    failing_deadline("scan_due", _not_scanned, "lifecycle", lambda: _l("Scan due"),
                     lambda: _l("Systems due for a vulnerability scan")))


@rule("vulnerability_overdue", ("6.2.2",),
      N_("No critical or high vulnerability past its fix date"), evidence=Vulnerability)
def _serious_vulnerabilities_overdue():
    return (select(Vulnerability.system_id.label("system_id"),
                   Vulnerability.id.label("record_id"))
            .where(Vulnerability.severity.in_(SERIOUS),
                   VULNERABILITY_OVERDUE.clause(Vulnerability)))


# ------------------------------------------------------------- Risk assessments (6.2.2)

class RiskLevel(LabelledEnum):
    high = "High", "danger"
    medium = "Medium", "warning"
    low = "Low", "success"


class ResidualRisk(LabelledEnum):
    """The risk left after treatment (its own type: one CHECK constraint per column)."""

    high = "High", "danger"
    medium = "Medium", "warning"
    low = "Low", "success"


class RiskAssessment(StampMixin, Model):
    """A security risk assessment of a system: scope, method, the risks identified, their
    level, the treatment plan, the residual risk and the next assessment's date (6.2.2).

    Written by IT staff; seen by the system's owning department and the IT department.
    """

    __tablename__ = "risk_assessment"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __it_managed__ = True
    __attachments__ = ("report",)
    __table_args__ = (
        CheckConstraint("next_assessment_on IS NULL OR next_assessment_on >= assessed_on",
                        name="ck_risk_assessment_dates"),
    ) + sort_indexes("risk_assessment", "assessed_on", "risk_level", "next_assessment_on",
                     "residual_risk")
    __rules__ = (Ordered("assessed_on", "next_assessment_on",
                         check="ck_risk_assessment_dates"),)

    id = Column(Integer, primary_key=True)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_risk_assessment_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="risk_assessments")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_risk_assessment_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    assessed_on = Column(Date, nullable=False, default=lambda: company_today())
    assessor_id = Column(Integer, ForeignKey("ab_user.id",
                                             name="fk_risk_assessment_assessor"))
    assessor = relationship("AppUser", foreign_keys=[assessor_id])
    assessment_scope = Column(Text, nullable=False)
    method = Column(String(200))
    risks = Column(Text, nullable=False)
    risk_level = enum_column(RiskLevel, nullable=False, default=RiskLevel.medium)
    treatment_plan = Column(Text)
    residual_risk = enum_column(ResidualRisk, nullable=False, default=ResidualRisk.low)
    next_assessment_on = Column(Date)
    report_id = Column(Integer, ForeignKey("attachment.id",
                                           name="fk_risk_assessment_report"))
    report = relationship("Attachment", foreign_keys=[report_id])

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    __title__ = "{system} · {assessed_on}"  # what it is called (app/titles.py)


RiskAssessment.__charts__ = (
    Chart("risk_assessments_by_level", _l("Risk assessments by risk level"), "risk_level",
          date="assessed_on"),
)


# --------------------------------------------------- Security training (6.3.1, 6.3.2)

class Training(StampMixin, Model):
    """A security training or education session (6.3.1): when, by whom, for whom, and which
    of the 6.3.2 topics it covered (security laws and regulations, policies and rules,
    practical security skills), with its materials; its attendance is listed on its page.

    Organised by IT staff; every department reads the sessions (company-wide).
    """

    __tablename__ = "training"
    __reference__ = True
    __attachments__ = ("materials",)
    __table_args__ = sort_indexes("training", "title", "held_on", "topic_law", "topic_policy",
                                  "topic_skills")

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    held_on = Column(Date, nullable=False, default=lambda: company_today())
    trainer = Column(String(100), nullable=False)
    # The topics of 6.3.2 the session covered.
    topic_law = Column(Boolean, nullable=False, default=False)
    topic_policy = Column(Boolean, nullable=False, default=False)
    topic_skills = Column(Boolean, nullable=False, default=False)
    audience = Column(Text)  # the departments or people it is meant for
    description = Column(Text)
    materials_id = Column(Integer, ForeignKey("attachment.id",
                                              name="fk_training_materials"))
    materials = relationship("Attachment", foreign_keys=[materials_id])

    __title__ = "{title}"  # what it is called (app/titles.py)


class TrainingAttendance(StampMixin, Model):
    """One person's attendance of a security training, with the assessment score when
    there was one (6.3.1, 6.3.2).

    Recorded by IT staff; a department sees its own people's attendance.
    """

    __tablename__ = "training_attendance"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __title_loads__ = ("training", "person")
    __name_loads__ = ("training", "person")
    __table_args__ = (
        UniqueConstraint("training_id", "person_id", name="uq_training_attendance_person"),
        CheckConstraint("score IS NULL OR (score BETWEEN 0 AND 100)",
                        name="ck_training_attendance_score"),
    ) + sort_indexes("training_attendance", "attended", "score", "remarks")

    id = Column(Integer, primary_key=True)
    training_id = Column(Integer, ForeignKey("training.id",
                                             name="fk_training_attendance_training"),
                         nullable=False)
    training = relationship("Training", backref="attendance")
    person_id = Column(Integer, ForeignKey("ab_user.id", name="fk_training_attendance_person"),
                       nullable=False, index=True)
    person = relationship("AppUser", foreign_keys=[person_id])
    # The person's department when recorded: the department reads its people's record.
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_training_attendance_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    attended = Column(Boolean, nullable=False, default=True)
    score = Column(Integer, info={"min": 0, "max": 100,
                                  "check": "ck_training_attendance_score"})
    remarks = Column(String(200))  # absent with leave, make-up session ...

    @validates("person")
    def _take_person_department(self, _key, person):
        session = object_session(person) if person is not None else None
        if session is None:
            self.department = person.department if person else None
        else:
            with session.no_autoflush:  # the attendance is not in the session yet
                self.department = person.department
        return person

    __title__ = "{training} · {person}"  # what it is called (app/titles.py)


TrainingAttendance.__charts__ = (
    Chart("training_attendance_by_department", _l("Training attendance by department"),
          "department", top=20),
)

# A record page's tabs read one range of one index each: a scan's vulnerabilities, a
# training's attendance; the open vulnerabilities by severity and due date for the rules.
Index("ix_vulnerability_by_scan_changed", Vulnerability.scan_id, Vulnerability.changed_on,
      Vulnerability.id, Vulnerability.department_id)
Index("ix_vulnerability_system_changed", Vulnerability.system_id, Vulnerability.changed_on,
      Vulnerability.id, Vulnerability.department_id)
Index("ix_vulnerability_status_severity_due", Vulnerability.status, Vulnerability.severity,
      Vulnerability.due_date, Vulnerability.system_id)
Index("ix_vulnerability_scan_system_scanned", VulnerabilityScan.system_id,
      VulnerabilityScan.scanned_on)
Index("ix_training_attendance_training_changed", TrainingAttendance.training_id,
      TrainingAttendance.changed_on, TrainingAttendance.id, TrainingAttendance.department_id)


# (end of 6.1-6.3.2)


# ============================================================================
# 6.3.3 personnel clearances, 6.4 emergency plans, drills and security events
# ============================================================================

# ------------------------------------------------------ personnel clearances (6.3.3)

class BackgroundResult(LabelledEnum):
    pending = "Pending", "warning"
    passed = "Passed", "success"
    failed = "Failed", "danger"


personnel_clearance_system = Table(
    "personnel_clearance_system",
    Model.metadata,
    Column("clearance_id", Integer, ForeignKey(
        "personnel_clearance.id", ondelete="CASCADE",
        name="fk_personnel_clearance_system_clearance"), primary_key=True),
    Column("system_id", Integer, ForeignKey(
        "information_system.id", ondelete="CASCADE",
        name="fk_personnel_clearance_system_system"), primary_key=True, index=True),
)


class PersonnelClearance(StampMixin, Model):
    """The security clearance of a person who manages or operates information systems:
    background check, confidentiality agreement and its expiry, and the systems the person
    has privileged (administrator) access to (6.3.3).

    Kept by IT staff; the person's department head reads it. A person is cleared while the
    background check has passed and the agreement is signed and not expired.
    """

    __tablename__ = "personnel_clearance"
    # The person's department, taken from the person.
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __attachments__ = ("agreement_file",)
    __table_args__ = (
        CheckConstraint("agreement_expires_on IS NULL OR agreement_signed_on IS NULL "
                        "OR agreement_expires_on > agreement_signed_on",
                        name="ck_personnel_clearance_agreement"),
    ) + sort_indexes("personnel_clearance", "post", "background_checked_on",
                     "background_result", "agreement_signed_on", "agreement_expires_on")
    __rules__ = (Ordered("agreement_signed_on", "agreement_expires_on",
                         check="ck_personnel_clearance_agreement"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("ab_user.id", name="fk_personnel_clearance_person"),
                       nullable=False, index=True)
    person = relationship("AppUser", foreign_keys=[person_id])
    # What the person does with the systems (system administrator, DBA, operator ...).
    post = Column(String(100), nullable=False)
    department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_personnel_clearance_department"), nullable=False,
        index=True)
    department = relationship("Department")
    background_checked_on = Column(Date)
    background_result = enum_column(BackgroundResult, nullable=False,
                                    default=BackgroundResult.pending)
    agreement_signed_on = Column(Date)
    agreement_expires_on = Column(Date)
    agreement_file_id = Column(Integer, ForeignKey(
        "attachment.id", name="fk_personnel_clearance_agreement_file"))
    agreement_file = relationship("Attachment", foreign_keys=[agreement_file_id])
    privileged_systems = relationship("InformationSystem",
                                      secondary=personnel_clearance_system)
    notes = Column(Text)

    @validates("person")
    def _take_person_department(self, _key, person):
        self.department = person.department if person else None
        return person

    def write_refusal(self):
        if self.agreement_signed_on and self.agreement_expires_on is None:
            return N_("Set the expiry date of the signed confidentiality agreement.")
        if self.agreement_expires_on and self.agreement_signed_on is None:
            return N_("Set the date the confidentiality agreement was signed.")
        if (self.agreement_signed_on and self.agreement_expires_on
                and self.agreement_expires_on <= self.agreement_signed_on):
            return N_("The agreement must expire after it was signed.")
        return None

    @property
    def cleared(self):
        """Background check passed and the agreement valid today (6.3.3)."""
        today = company_today()
        return (self.background_result is BackgroundResult.passed
                and self.agreement_signed_on is not None
                and self.agreement_signed_on <= today
                and self.agreement_expires_on is not None
                and self.agreement_expires_on >= today)

    __title__ = "{person} · {post}"  # what it is called (app/titles.py)


def cleared_clause(clearance=None):
    """SQL condition of a clearance that clears its person today (6.3.3)."""
    clearance = clearance or PersonnelClearance
    today = company_today()
    return and_(clearance.background_result == BackgroundResult.passed,
                clearance.agreement_signed_on <= today,
                clearance.agreement_expires_on >= today)


def _expiring_clause(model):
    today = company_today()
    soon = today + dt.timedelta(days=setting("CLEARANCE_WARNING_DAYS"))
    return and_(model.agreement_expires_on >= today, model.agreement_expires_on <= soon)


def _expiring(record):
    today = company_today()
    expires = record.agreement_expires_on
    return expires is not None and today <= expires <= today + dt.timedelta(
        days=setting("CLEARANCE_WARNING_DAYS"))


# The confidentiality agreement running out soon, or run out (6.3.3): badges on the
# expiry date and list filters.
AGREEMENT_EXPIRING = Deadline(
    "expiring", lambda model: "agreement_expires_on", lambda: _l("Expiring soon"), "warning",
    _expiring_clause, _expiring, filter_name=_l("Agreement expiring soon"),
    remind=lambda: _l("Confidentiality agreements expiring within %(days)d days",
                      days=setting("CLEARANCE_WARNING_DAYS")))
AGREEMENT_EXPIRED = Deadline(
    "expired", lambda model: "agreement_expires_on", lambda: _l("Expired"), "danger",
    lambda model: model.agreement_expires_on < company_today(),
    lambda record: record.agreement_expires_on is not None
    and record.agreement_expires_on < company_today(),
    filter_name=_l("Agreement expired"))
PersonnelClearance.__deadlines__ = (AGREEMENT_EXPIRING, AGREEMENT_EXPIRED)
PersonnelClearance.__charts__ = (
    Chart("clearances_by_result", _l("Personnel clearances by background check result"),
          "background_result"),
)


@rule("privileged_cleared", ("6.3.3",),
      N_("Everyone with privileged access to the system cleared, with a valid "
         "confidentiality agreement"), evidence=PersonnelClearance)
def _privileged_not_cleared():
    clearance, link = PersonnelClearance, personnel_clearance_system
    cleared = select(clearance.person_id).where(cleared_clause(clearance))
    return (select(link.c.system_id.label("system_id"), clearance.id.label("record_id"))
            .join(clearance, clearance.id == link.c.clearance_id)
            .where(clearance.person_id.notin_(cleared)))


@rule("custodian_cleared", ("6.3.3",),
      N_("The running system's IT custodian cleared, with a valid confidentiality agreement"),
      evidence=InformationSystem)
def _custodian_not_cleared():
    # The IT custodian administers the system: privileged staff whether listed or not.
    system = InformationSystem
    cleared = select(PersonnelClearance.person_id).where(cleared_clause())
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.lifecycle == Lifecycle.running, system.it_custodian_id.isnot(None),
        system.it_custodian_id.notin_(cleared))


# ------------------------------------------------------- emergency plans (6.4.1)

class PlanState(LabelledEnum):
    draft = "Draft", "default"
    submitted = "Submitted for approval", "info"
    approved = "Approved", "success"
    in_force = "In force", "success"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


# A plan that has been approved (and not taken back into revision): it covers its systems
# and may be drilled.
APPROVED_PLANS = (PlanState.approved, PlanState.in_force)

emergency_plan_system = Table(
    "emergency_plan_system",
    Model.metadata,
    Column("emergency_plan_id", Integer, ForeignKey(
        "emergency_plan.id", ondelete="CASCADE", name="fk_emergency_plan_system_plan"),
        primary_key=True),
    Column("system_id", Integer, ForeignKey(
        "information_system.id", ondelete="CASCADE", name="fk_emergency_plan_system_system"),
        primary_key=True, index=True),
)


class EmergencyPlan(StampMixin, WorkflowMixin, Model):
    """A security emergency plan: the systems it covers, scenario and scope, the handling
    procedure, who does what, the resources it relies on (6.4.1).

    Drafted and submitted by IT staff, approved by management, put in force by IT staff;
    a revision takes it back to draft, to be approved again.
    """

    __tablename__ = "emergency_plan"
    # Every department has its duties in an emergency: everyone reads the plans. The
    # department is the one responsible for the plan (the IT department, as a rule).
    __reference__ = True
    __scope__ = ("department_id",)
    __attachments__ = ("document",)
    __table_args__ = sort_indexes("emergency_plan", "title", "edition", "status")

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    edition = Column(String(32), nullable=False, default="1.0")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_emergency_plan_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    systems = relationship("InformationSystem", secondary=emergency_plan_system,
                           backref="emergency_plans")
    scenario = Column(Text, nullable=False)
    procedure = Column(Text, nullable=False)
    responsibilities = Column(Text, nullable=False)
    resources = Column(Text, nullable=False)
    document_id = Column(Integer, ForeignKey("attachment.id",
                                             name="fk_emergency_plan_document"))
    document = relationship("Attachment", foreign_keys=[document_id])
    status = enum_column(PlanState, nullable=False, default=PlanState.draft)

    __title__ = "{title}"  # what it is called (app/titles.py)


_P = PlanState
_PLAN_CONTENT = ("title", "edition", "department", "systems", "scenario", "procedure", "responsibilities",
                 "resources", "document")
EmergencyPlan.__workflow__ = Workflow(
    states=PlanState,
    covered=_PLAN_CONTENT,
    editable=(Edit((_P.draft, _P.returned), IT, _PLAN_CONTENT),),
    deletable=(Delete((_P.draft,), IT),),
    transitions=(
        Transition("submit", N_("Submit for approval"), (_P.draft, _P.returned), _P.submitted,
                   IT, submits=True,
                   guards=(Guard(lambda plan: bool(plan.systems),
                                 N_("Name the systems the plan covers first."),
                                 ("systems",)),)),
        # Management gives the final approval of the company's plans (PRODUCT.md §1).
        Transition("approve", N_("Approve the plan"), (_P.submitted,), _P.approved, MGMT,
                   approves=True, style="success"),
        Transition("enforce", N_("Put the plan in force"), (_P.approved,), _P.in_force, IT,
                   style="success"),
        # A revision starts from the approved text and goes through approval again.
        Transition("revise", N_("Revise the plan"), (_P.approved, _P.in_force), _P.draft, IT,
                   needs_comment=True, style="warning"),
    ) + review_exits(((_P.submitted, MGMT, None),), _P.returned, _P.rejected,
                     N_("Return for revision")),
)


# ----------------------------------------------------------------- drills (6.4.2)

class DrillResult(LabelledEnum):
    passed = "Passed", "success"
    partly = "Partly passed", "warning"
    failed = "Failed", "danger"


class Drill(StampMixin, Model):
    """An emergency drill of an approved plan: when, the scenario, who took part, the
    result, the issues found and the follow-up actions (6.4.2)."""

    __tablename__ = "drill"
    __reference__ = True  # like its plan
    # The department responsible for the plan, taken from the plan.
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __attachments__ = ("report",)
    __table_args__ = sort_indexes("drill", "held_on", "result")

    id = Column(Integer, primary_key=True)
    emergency_plan_id = Column(Integer, ForeignKey("emergency_plan.id",
                                                   name="fk_drill_plan"),
                               nullable=False, index=True)
    emergency_plan = relationship("EmergencyPlan", backref="drills")
    department_id = Column(Integer, ForeignKey("department.id", name="fk_drill_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    held_on = Column(Date, nullable=False, default=lambda: company_today())
    scenario = Column(Text, nullable=False)
    participants = Column(Text, nullable=False)
    result = enum_column(DrillResult, nullable=False, default=DrillResult.passed)
    issues = Column(Text)
    follow_up = Column(Text)
    report_id = Column(Integer, ForeignKey("attachment.id", name="fk_drill_report"))
    report = relationship("Attachment", foreign_keys=[report_id])

    @validates("emergency_plan")
    def _take_plan_department(self, _key, plan):
        self.department = plan.department if plan else None
        return plan

    def write_refusal(self):
        from sqlalchemy import inspect as sa_inspect

        state = sa_inspect(self)
        plan_changed = state.attrs.emergency_plan.history.has_changes() or \
            state.attrs.emergency_plan_id.history.has_changes()
        if (state.transient or state.pending or plan_changed) and self.emergency_plan is not None \
                and self.emergency_plan.status not in APPROVED_PLANS:
            return N_("Only an approved emergency plan can be drilled.")
        return None

    __title__ = "{emergency_plan} · {held_on}"  # what it is called (app/titles.py)


Drill.__charts__ = (
    Chart("drills_by_result", _l("Drills by result"), "result"),
    Chart("drills_per_quarter", _l("Drills per quarter by result"), Quarter("held_on"),
          stack="result"),
)


@rule("emergency_plan", ("6.4.1", "6.4.2"),
      N_("Running system covered by an approved emergency plan drilled within the set days"),
      evidence=InformationSystem)
def _no_drilled_plan():
    system, link = InformationSystem, emergency_plan_system
    since = company_today() - dt.timedelta(days=setting("COMPLIANCE_DRILL_DAYS"))
    drilled = (select(link.c.system_id)
               .join(EmergencyPlan, EmergencyPlan.id == link.c.emergency_plan_id)
               .join(Drill, Drill.emergency_plan_id == EmergencyPlan.id)
               .where(EmergencyPlan.status.in_(APPROVED_PLANS), Drill.held_on >= since))
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.lifecycle == Lifecycle.running, system.id.notin_(drilled))


# Running systems due for a drill of an approved emergency plan: a filter of the systems
# list and a reminder (6.4.2).
InformationSystem.__deadlines__ = (
    *getattr(InformationSystem, "__deadlines__", ()),
    failing_deadline("drill_due", _no_drilled_plan, "lifecycle", lambda: _l("Drill due"),
                     lambda: _l("Systems due for an emergency drill")))


# ------------------------------------------------------- security events (6.4.3)

class EventCategory(LabelledEnum):
    malware = "Malware", "danger"
    intrusion = "Intrusion", "danger"
    data_leak = "Data leak", "danger"
    denial_of_service = "Denial of service", "warning"
    unauthorised_access = "Unauthorised access", "warning"
    physical = "Physical or environmental", "info"
    other = "Other", "default"


class EventStatus(LabelledEnum):
    reported = "Reported", "warning"
    investigating = "Under investigation", "info"
    closed = "Closed", "default"


class SecurityEvent(StampMixin, WorkflowMixin, Model):
    """A security event of a system: investigated and analysed, its lessons learned and
    improvement measures recorded before it is closed (6.4.3).

    Reported by the system's department or IT staff; investigated and closed by IT staff
    (closing needs the investigation, lessons and measures). It may name the incident
    (5.1.2) it was handled as.
    """

    __tablename__ = "security_event"
    # The department owning the system, taken from the system.
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __table_args__ = (
        CheckConstraint("detected_at IS NULL OR detected_at >= occurred_at",
                        name="ck_security_event_times"),
    ) + sort_indexes("security_event", "title", "occurred_at", "category", "severity",
                     "status")
    __rules__ = (Ordered("occurred_at", "detected_at", check="ck_security_event_times"),)

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_security_event_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="security_events")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_security_event_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    occurred_at = Column(DateTime, nullable=False, default=utcnow)
    detected_at = Column(DateTime)
    category = enum_column(EventCategory, nullable=False, default=EventCategory.other)
    severity = enum_column(Severity, nullable=False, default=Severity.p3)
    description = Column(Text, nullable=False)
    incident_id = Column(Integer, ForeignKey("incident.id", name="fk_security_event_incident"),
                         index=True)
    incident = relationship("Incident", backref="security_events")
    investigation = Column(Text)
    lessons = Column(Text)
    measures = Column(Text)
    reporter_id = Column(Integer, ForeignKey("ab_user.id", name="fk_security_event_reporter"))
    reporter = relationship("AppUser", foreign_keys=[reporter_id])
    handler_id = Column(Integer, ForeignKey("ab_user.id", name="fk_security_event_handler"))
    handler = relationship("AppUser", foreign_keys=[handler_id])
    closed_at = Column(DateTime)
    status = enum_column(EventStatus, nullable=False, default=EventStatus.reported)

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    __title__ = "{title}"  # what it is called (app/titles.py)


_E = EventStatus
_EVENT_REPORT = ("title", "system", "occurred_at", "detected_at", "category", "severity",
                 "description", "incident", "reporter")
_EVENT_FINDINGS = ("investigation", "lessons", "measures")
SecurityEvent.__workflow__ = Workflow(
    states=EventStatus,
    covered=_EVENT_FINDINGS,
    editable=(
        Edit((_E.reported,), APPLICANT, _EVENT_REPORT, department="department_id"),
        Edit((_E.reported, _E.investigating), IT,
             _EVENT_REPORT + ("handler",) + _EVENT_FINDINGS),
    ),
    transitions=(
        Transition("start", N_("Start the investigation"), (_E.reported,), _E.investigating,
                   IT, sets={"handler_id": ACTOR}),
        Transition("close", N_("Close with lessons and measures"), (_E.investigating,),
                   _E.closed, IT, style="success", fields=_EVENT_FINDINGS,
                   sets={"closed_at": NOW},
                   guards=(filled(*_EVENT_FINDINGS,
                                  message=N_("Record the investigation, the lessons learned "
                                             "and the improvement measures first.")),)),
        Transition("reopen", N_("Reopen the investigation"), (_E.closed,), _E.investigating,
                   IT, needs_comment=True, style="warning"),
    ),
)

SecurityEvent.__charts__ = (
    Chart("security_events_by_month", _l("Security events per month by category"),
          Month("occurred_at"), stack="category"),
)


# (end of 6.3.3-6.4)
