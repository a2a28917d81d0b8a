"""Operation and maintenance (regulation chapter 5): the operation log and inspection
checklists (5.1.1-5.1.4), incidents found in operation (5.1.2, 5.1.3), the change
requests approved before configuration, data, upgrade or maintenance work on a system
(5.1.4), and maintenance plans with their records (5.2)."""
import datetime as dt

from flask_appbuilder import Model
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
    Text,
    UniqueConstraint,
    and_,
    event,
    func,
    or_,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, backref, relationship, validates

from app.base import (
    APPLICANT,
    DEPT_HEAD,
    IT,
    Approval,
    StampMixin,
    WorkflowMixin,
    enum_column,
    sort_indexes,
    utcnow,
)
from app.charts import Chart, MeanHours, Month, seconds_between
from app.compliance import rule, setting, utc_now
from app.deadlines import Deadline, company_today
from app.i18n import LabelledEnum
from app.organisation.models import InformationSystem, Lifecycle
from app.procurement.models import ChangeStatus
from app.validation import Ordered
from app.workflow import ACTOR, NOW, N_, Edit, Transition, Workflow, filled

_C = ChangeStatus  # shared with change orders (4.2.4)


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
_REPORTER = dict(roles=APPLICANT, department="reporting_department_id")
_REPORT = ("title", "system", "severity", "description", "reporting_department", "reporter",
           "occurred_at")
Incident.__workflow__ = Workflow(
    states=IncidentStatus,
    covered=("root_cause", "resolution"),
    # The reporting department reports; IT handles (assignee, root cause, resolution).
    editable=(
        Edit((_I.reported,), fields=_REPORT, **_REPORTER),
        Edit((_I.reported, _I.in_progress, _I.resolved), IT,
             _REPORT + ("assignee", "resolved_at", "root_cause", "resolution")),
    ),
    transitions=(
        # Whoever starts handling is the handler; resolving and closing are stamped.
        Transition("start", N_("Start handling"), (_I.reported,), _I.in_progress, IT,
                   sets={"assignee_id": ACTOR}),
        Transition("resolve", N_("Mark as resolved"), (_I.in_progress,), _I.resolved, IT,
                   style="success", fields=("root_cause", "resolution"),
                   sets={"resolved_at": NOW},
                   guards=(filled("root_cause", "resolution",
                                  message=N_("Record the root cause and the resolution "
                                             "first.")),)),
        Transition("close", N_("Confirm and close"), (_I.resolved,), _I.closed,
                   style="success", sets={"closed_at": NOW}, **_REPORTER),
        Transition("close", N_("Confirm and close"), (_I.resolved,), _I.closed, IT,
                   style="success", sets={"closed_at": NOW}),
        Transition("reopen", N_("Reopen"), (_I.resolved,), _I.in_progress, needs_comment=True,
                   style="warning", **_REPORTER),
        Transition("reopen", N_("Reopen"), (_I.resolved,), _I.in_progress, IT,
                   needs_comment=True, style="warning"),
    ),
)


@rule("incident_handling", ("5.1.2",),
      N_("P1/P2 incidents closed with a root cause within the set time"), evidence=Incident)
def _incidents_not_closed_in_time():
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


_OWNER_HEAD = dict(roles=DEPT_HEAD, department="department_id")
_CHANGE_CONTENT = ("change_number", "system", "kind", "title", "change_plan", "rollback_plan",
                   "risk", "window_start", "window_end")
ChangeRequest.__workflow__ = Workflow(
    states=ChangeStatus,
    covered=_CHANGE_CONTENT,
    frozen=frozenset({_C.requested, _C.approved}),
    reapproval=_C.requested,
    editable=(
        Edit((_C.requested, _C.returned, _C.approved), IT, _CHANGE_CONTENT),
        Edit((_C.requested, _C.returned, _C.approved), APPLICANT, _CHANGE_CONTENT,
             department="department_id"),
    ),
    transitions=(
        Transition("submit", N_("Submit again"), (_C.returned,), _C.requested, IT,
                   submits=True),
        Transition("submit", N_("Submit again"), (_C.returned,), _C.requested, APPLICANT,
                   department="department_id", submits=True),
        Transition("approve", N_("Approve the change"), (_C.requested,), _C.approved,
                   approves=True, style="success", **_OWNER_HEAD),
        Transition("return", N_("Return to the applicant"), (_C.requested,), _C.returned,
                   needs_comment=True, style="warning", **_OWNER_HEAD),
        Transition("reject", N_("Reject"), (_C.requested,), _C.rejected, needs_comment=True,
                   style="danger", **_OWNER_HEAD),
        Transition("implement", N_("Mark as implemented"), (_C.approved,), _C.implemented,
                   IT),
        Transition("verify", N_("Confirm the change works"), (_C.implemented,), _C.verified,
                   style="success", **_OWNER_HEAD),
        Transition("verify", N_("Confirm the change works"), (_C.implemented,), _C.verified,
                   IT, style="success"),
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


Incident.__charts__ = (
    Chart("incidents_by_month", _l("Incidents per month by severity"),
          Month("occurred_at"), stack="severity"),
    Chart("incident_resolution_hours", _l("Mean time to resolve incidents, per month"),
          Month("occurred_at"), kind="line", series=(
              MeanHours("occurred_at", "resolved_at", _l("Mean time to resolve")),)),
)
ChangeRequest.__charts__ = (
    Chart("change_requests_by_outcome", _l("Change requests by outcome"), "status",
          stack="kind"),
)


# A record page's tabs read one range of one index each (app/base.py sort_indexes): a
# system with 24,000 incidents shows its page as fast as one with three, to a Clerk of
# another department too.
Index("ix_incident_system_occurred", Incident.system_id, Incident.occurred_at,
      Incident.id, Incident.reporting_department_id)
Index("ix_change_request_system_number", ChangeRequest.system_id,
      ChangeRequest.change_number, ChangeRequest.id, ChangeRequest.department_id)
# Charts and scorecard rules at PRODUCT.md §8 scale read one index alone: a department's
# incidents per month and time to resolve (its home page, the department filter, a
# department head's charts), one range per month; change requests by outcome.
Index("ix_incident_department_occurred", Incident.reporting_department_id,
      Incident.occurred_at, Incident.severity, Incident.resolved_at)
Index("ix_change_request_status_kind", ChangeRequest.status, ChangeRequest.kind)


# ------------------------------------------------------- operation log (5.1.1-5.1.4)

class OperationKind(LabelledEnum):
    inspection = "Inspection", "info"
    monitoring = "Monitoring", "default"
    operation = "Operation", "primary"
    fault = "Fault handling", "danger"
    configuration = "Configuration change", "warning"
    data = "Data change", "warning"


# Entries that change a system: each must follow an approved change request (5.1.4).
CHANGE_KINDS = (OperationKind.configuration, OperationKind.data)
# A change request whose approval stands (editing it sends it back for approval).
APPROVED_CHANGES = (ChangeStatus.approved, ChangeStatus.implemented, ChangeStatus.verified)


class OperationResult(LabelledEnum):
    normal = "Normal", "success"
    abnormal = "Abnormal", "danger"


class InspectionChecklist(StampMixin, Model):
    """The inspection checklist of a system: what its inspections check (5.1.2)."""

    __tablename__ = "inspection_checklist"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __it_managed__ = True  # IT inspects every department's systems (5.1.1)
    __table_args__ = (
        UniqueConstraint("system_id", name="uq_inspection_checklist_system"),
    )

    id = Column(Integer, primary_key=True)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_inspection_checklist_system"),
                       nullable=False)
    system = relationship("InformationSystem",
                          backref=backref("inspection_checklist", uselist=False))
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_inspection_checklist_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    items = Column(Text, nullable=False)

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    __title__ = "{system}"  # what it is called (app/titles.py)


class OperationLog(StampMixin, Model):
    """Operation log entry: inspection, monitoring, operation, fault handling or a change
    to a system's configuration or data (5.1.1, 5.1.2, 5.1.3, 5.1.4).

    Written by IT staff. A configuration or data change that does not follow an approved
    change request of the same system is stored flagged as unauthorised (the save rule
    sets the flag, nobody types it) and listed for the IT department head (5.1.4).
    """

    __tablename__ = "operation_log"
    __scope__ = ("department_id",)
    __derived__ = ("department", "unauthorised")
    __it_managed__ = True  # IT keeps the log of every department's systems (5.1.1)
    # The kind and result sorts carry the department: a department's long log (a Clerk
    # of a busy system's department reads tens of thousands of entries) is paged on
    # them without reading the table; its time order is ix_operation_log_department_performed.
    __table_args__ = (sort_indexes("operation_log", "performed_at")
                      + sort_indexes("operation_log", "kind", "result",
                                     scope=("department_id",)))

    id = Column(Integer, primary_key=True)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_operation_log_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="operation_log")
    # The system's owning department, kept on the entry: its Clerks and DeptHead read it.
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_operation_log_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    kind = enum_column(OperationKind, nullable=False, default=OperationKind.operation)
    performed_at = Column(DateTime, nullable=False, default=utcnow)
    operator_id = Column(Integer, ForeignKey("ab_user.id", name="fk_operation_log_operator"))
    operator = relationship("AppUser", foreign_keys=[operator_id])
    content = Column(Text, nullable=False)
    result = enum_column(OperationResult, nullable=False, default=OperationResult.normal)
    # An inspection: the checklist items found abnormal.
    abnormal_items = Column(Text)
    change_request_id = Column(Integer, ForeignKey("change_request.id",
                                                   name="fk_operation_log_change_request"),
                               index=True)
    change_request = relationship("ChangeRequest", backref="operation_log")
    unauthorised = Column(Boolean, nullable=False, default=False)

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    @property
    def checklist(self):
        """The system's inspection checklist, shown with an inspection entry."""
        checklist = getattr(self.system, "inspection_checklist", None)
        return checklist.items if checklist is not None else None

    def authorised_change(self, session):
        """Whether the entry is not a change, or follows an approved change request of
        the same system (5.1.4): one approved when the change was performed, not after.
        A change request carried into the system in an approved state without its
        approval trail (a bulk load) is taken as approved since ever."""
        if self.kind not in CHANGE_KINDS:
            return True
        change = self.change_request
        system_id = self.system.id if self.system is not None else self.system_id
        if change is None or change.system_id != system_id \
                or change.status not in APPROVED_CHANGES:
            return False
        if self.performed_at is None or change.id is None:  # performed now
            return True
        approved_at = session.scalar(
            select(func.max(Approval.at)).where(
                Approval.record_type == ChangeRequest.__name__,
                Approval.record_id == change.id,
                Approval.to_state == ChangeStatus.approved.name))
        return approved_at is None or approved_at <= self.performed_at

    __title__ = "{system} #{id}"  # what it is called (app/titles.py)


# What decides whether an entry is an authorised change (5.1.4).
AUTHORISATION_FIELDS = ("kind", "system", "system_id", "change_request", "change_request_id",
                        "performed_at")


def _authorisation_touched(record):
    state = sa_inspect(record)
    return state.pending or any(state.attrs[name].history.has_changes()
                                for name in AUTHORISATION_FIELDS)


@event.listens_for(Session, "before_flush")
def flag_unauthorised_changes(session, _flush_context, _instances):
    """The save rule of 5.1.4: an entry is flagged by what it references when it is
    written, and again when its kind, system, change request or time is changed; never
    by a later step of the change request (an approval after the change does not
    authorise it afterwards; an approved change request has no step back), nor by an
    edit of anything else (its content, result...)."""
    with session.no_autoflush:
        for record in list(session.new) + list(session.dirty):
            if isinstance(record, OperationLog) and _authorisation_touched(record):
                flag = not record.authorised_change(session)
                if record.unauthorised is not flag:
                    record.unauthorised = flag


UNAUTHORISED = Deadline(
    "unauthorised", lambda model: "kind", lambda: _l("Unauthorised change"), "danger",
    lambda model: model.unauthorised.is_(True),
    lambda record: bool(record.unauthorised),
    filter_name=_l("Unauthorised changes"))
OperationLog.__deadlines__ = (UNAUTHORISED,)

OperationLog.__charts__ = (
    Chart("operation_log_by_month", _l("Operation log entries per month by kind"),
          Month("performed_at"), stack="kind"),
    Chart("unauthorised_changes", _l("Unauthorised changes by system (top 20)"), "system",
          where=UNAUTHORISED, top=20, date="performed_at"),
)


@rule("inspected", ("5.1.2",), N_("Running system inspected within the set days"),
      evidence=InformationSystem)
def _not_inspected():
    cutoff = utc_now() - dt.timedelta(days=setting("COMPLIANCE_INSPECTION_DAYS"))
    inspected = select(OperationLog.system_id).where(
        OperationLog.kind == OperationKind.inspection, OperationLog.performed_at >= cutoff)
    system = InformationSystem
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.lifecycle == Lifecycle.running, system.id.notin_(inspected))


@rule("no_unauthorised_change", ("5.1.4",),
      N_("No unauthorised change in the operation log"), evidence=OperationLog)
def _unauthorised_changes():
    return (select(OperationLog.system_id.label("system_id"),
                   OperationLog.id.label("record_id"))
            .where(OperationLog.unauthorised.is_(True),
                   OperationLog.performed_at >= utc_now() - dt.timedelta(
                       days=setting("COMPLIANCE_WINDOW_DAYS"))))


# A system's page and the rules read one range of one index: its log by time and kind;
# the unauthorised changes by time.
Index("ix_operation_log_system_performed", OperationLog.system_id, OperationLog.performed_at,
      OperationLog.id, OperationLog.department_id)
Index("ix_operation_log_kind_performed", OperationLog.kind, OperationLog.performed_at,
      OperationLog.system_id)
Index("ix_operation_log_unauthorised", OperationLog.unauthorised, OperationLog.performed_at,
      OperationLog.system_id)
Index("ix_operation_log_department_performed", OperationLog.department_id,
      OperationLog.performed_at, OperationLog.kind)


# ------------------------------------------------------------------ maintenance (5.2)

class MaintenanceKind(LabelledEnum):
    daily = "Daily", "default"
    periodic = "Periodic", "info"
    emergency = "Emergency", "danger"


class MaintenanceCategory(LabelledEnum):
    inspection = "Inspection", "info"
    backup = "Backup", "primary"
    optimisation = "Optimisation", "default"
    upgrade = "Upgrade", "primary"
    vulnerability_fix = "Vulnerability fix", "danger"
    data_cleanup = "Data clean-up", "default"
    emergency_repair = "Emergency repair", "danger"


class MaintenancePlan(StampMixin, Model):
    """A maintenance plan of a system: what is done, how often, by whom, and when it is
    next due (5.2.1, 5.2.2).

    The next due date is the save path's: the last maintenance recorded against the plan
    plus its cycle, or, before any, the plan's start plus its cycle.
    """

    __tablename__ = "maintenance_plan"
    __scope__ = ("department_id",)
    __derived__ = ("department", "next_due")
    __it_managed__ = True  # IT maintains every department's systems (5.2)
    __table_args__ = (
        CheckConstraint("cycle_days >= 1", name="ck_maintenance_plan_cycle"),
    ) + sort_indexes("maintenance_plan", "title", "kind", "next_due")

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_maintenance_plan_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="maintenance_plans")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_maintenance_plan_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    kind = enum_column(MaintenanceKind, nullable=False, default=MaintenanceKind.periodic)
    content = Column(Text, nullable=False)
    cycle_days = Column(Integer, nullable=False, default=30,
                        info={"min": 1, "max": 3660, "check": "ck_maintenance_plan_cycle"})
    responsible_id = Column(Integer, ForeignKey("ab_user.id",
                                                name="fk_maintenance_plan_responsible"))
    responsible = relationship("AppUser", foreign_keys=[responsible_id])
    start_date = Column(Date, nullable=False, default=lambda: company_today())
    next_due = Column(Date)

    @validates("system")
    def _take_system_department(self, _key, system):
        self.department = system.owning_department if system else None
        return system

    __title__ = "{title}"  # what it is called (app/titles.py)


class MaintenanceRecord(StampMixin, Model):
    """Maintenance performed under a plan: inspection, backup, optimisation, upgrade,
    vulnerability fix, data clean-up or emergency repair, when, by whom, with what
    result (5.2.1, 5.2.3). Recording it moves the plan's next due date."""

    __tablename__ = "maintenance_record"
    __scope__ = ("department_id",)
    __derived__ = ("department",)
    __it_managed__ = True
    __table_args__ = sort_indexes("maintenance_record", "performed_at", "category")

    id = Column(Integer, primary_key=True)
    maintenance_plan_id = Column(Integer, ForeignKey("maintenance_plan.id",
                                                     name="fk_maintenance_record_plan"),
                                 nullable=False)
    maintenance_plan = relationship("MaintenancePlan", backref="records")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_maintenance_record_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    category = enum_column(MaintenanceCategory, nullable=False,
                           default=MaintenanceCategory.inspection)
    performed_at = Column(DateTime, nullable=False, default=utcnow)
    performed_by_id = Column(Integer, ForeignKey("ab_user.id",
                                                 name="fk_maintenance_record_performer"))
    performed_by = relationship("AppUser", foreign_keys=[performed_by_id])
    result = Column(Text, nullable=False)

    @validates("maintenance_plan")
    def _take_plan_department(self, _key, plan):
        self.department = plan.department if plan else None
        return plan

    __title__ = "{maintenance_plan} #{id}"  # what it is called (app/titles.py)


def _next_due(session, plan):
    """The plan's last maintenance (stored or being saved) plus its cycle, or its start
    plus its cycle."""
    if plan.cycle_days is None:
        return plan.next_due
    gone = {record.id for record in session.deleted if isinstance(record, MaintenanceRecord)}
    dates = [record.performed_at.date() for record in session.new
             if isinstance(record, MaintenanceRecord) and record.maintenance_plan is plan
             and record.performed_at is not None]
    dates += [record.performed_at.date() for record in session.dirty
              if isinstance(record, MaintenanceRecord) and record.maintenance_plan is plan
              and record.performed_at is not None]
    if plan.id is not None:
        query = select(func.max(MaintenanceRecord.performed_at)).where(
            MaintenanceRecord.maintenance_plan_id == plan.id)
        touched = gone | {record.id for record in session.dirty
                          if isinstance(record, MaintenanceRecord) and record.id}
        if touched:
            query = query.where(MaintenanceRecord.id.notin_(touched))
        stored = session.execute(query).scalar()
        if stored is not None:
            dates.append(stored.date() if isinstance(stored, dt.datetime) else stored)
    last = max(dates) if dates else plan.start_date
    if last is None:
        return plan.next_due
    return last + dt.timedelta(days=plan.cycle_days)


@event.listens_for(Session, "before_flush")
def move_next_due(session, _flush_context, _instances):
    """Recording (or changing, or deleting) maintenance moves its plan's next due date;
    the plan's own change history shows the move."""
    with session.no_autoflush:
        plans = {id(record): record for record in list(session.new) + list(session.dirty)
                 if isinstance(record, MaintenancePlan)}
        for record in list(session.new) + list(session.dirty) + list(session.deleted):
            plan = getattr(record, "maintenance_plan", None)
            if isinstance(record, MaintenanceRecord) and plan is not None:
                plans[id(plan)] = plan
        for plan in plans.values():
            if plan in session.deleted:
                continue
            due = _next_due(session, plan)
            if plan.next_due != due:
                plan.next_due = due


OVERDUE_MAINTENANCE = Deadline(
    "overdue", lambda model: "next_due", lambda: _l("Overdue"), "danger",
    lambda model: model.next_due < company_today(),
    lambda record: record.next_due is not None and record.next_due < company_today(),
    filter_name=_l("Overdue"), remind=lambda: _l("Maintenance overdue"))
MaintenancePlan.__deadlines__ = (OVERDUE_MAINTENANCE,)
MaintenancePlan.__responsible__ = ("responsible_id",)

MaintenancePlan.__charts__ = (
    Chart("maintenance_overdue", _l("Overdue maintenance plans by kind"), "kind",
          where=OVERDUE_MAINTENANCE),
)
MaintenanceRecord.__charts__ = (
    Chart("maintenance_by_month", _l("Maintenance performed per month by category"),
          Month("performed_at"), stack="category"),
)


@rule("maintenance_on_time", ("5.2.1",), N_("Maintenance plans not overdue"),
      evidence=MaintenancePlan)
def _maintenance_overdue():
    grace = company_today() - dt.timedelta(days=setting("COMPLIANCE_MAINTENANCE_GRACE_DAYS"))
    return (select(MaintenancePlan.system_id.label("system_id"),
                   MaintenancePlan.id.label("record_id"))
            .where(MaintenancePlan.next_due < grace))


# A plan's records on its page, newest first, read one range of one index.
Index("ix_maintenance_record_plan_performed", MaintenanceRecord.maintenance_plan_id,
      MaintenanceRecord.performed_at, MaintenanceRecord.id, MaintenanceRecord.department_id)
Index("ix_maintenance_record_performed_category", MaintenanceRecord.performed_at,
      MaintenanceRecord.category)
Index("ix_maintenance_plan_kind_next_due", MaintenancePlan.kind, MaintenancePlan.next_due)
