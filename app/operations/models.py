"""Operation and maintenance (regulation chapter 5): incidents found in operation (5.1.2,
5.1.3) and the change requests approved before configuration, data, upgrade or
maintenance work on a system (5.1.4)."""
import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
)
from sqlalchemy.orm import relationship, validates

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
from app.i18n import LabelledEnum
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
