"""Data management (regulation chapter 7): the data catalogue of each system (7.1), data
quality checks (7.2), the business systems' backups and restore tests (7.3.3), and one
department's request for another department's data, reviewed and granted for a period
(7.4)."""
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
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import relationship, validates

from app.base import (
    APPLICANT,
    DEPT_HEAD,
    IT,
    StampMixin,
    WorkflowMixin,
    enum_column,
    sort_indexes,
    utcnow,
)
from app.charts import Chart
from app.compliance import failing_deadline, rule, setting, utc_now
from app.deadlines import Deadline, company_today
from app.i18n import LabelledEnum
from app.organisation.models import InformationSystem, Lifecycle
from app.validation import Distinct, Ordered
from app.workflow import N_, Delete, Edit, Transition, Workflow, filled, review_exits


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
    (_S.provider_review, DEPT_HEAD, "providing_department_id"),
    (_S.it_review, IT, None),
)
_SHARING_CONTENT = ("title", "requesting_department", "providing_department", "system",
                    "data_scope", "purpose")
_REQUESTER = dict(roles=APPLICANT, department="requesting_department_id")
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
        Edit((_S.it_review,), IT, ("start_date", "end_date")),
    ),
    deletable=(Delete((_S.requested,), **_REQUESTER),),
    transitions=(
        Transition("submit", N_("Submit to the providing department"),
                   (_S.requested, _S.returned), _S.provider_review, APPLICANT,
                   department="requesting_department_id", submits=True),
        Transition("approve", N_("Agree to provide the data"), (_S.provider_review,),
                   _S.it_review, DEPT_HEAD, department="providing_department_id",
                   approves=True, style="success"),
        Transition("approve", N_("Grant access"), (_S.it_review,), _S.granted, IT,
                   approves=True, style="success",
                   guards=(filled("end_date",
                                  message=N_("Set the end date of the grant first.")),)),
        Transition("revoke", N_("Revoke the grant"), (_S.granted,), _S.revoked, IT,
                   needs_comment=True, style="danger"),
        Transition("revoke", N_("Revoke the grant"), (_S.granted,), _S.revoked, DEPT_HEAD,
                   department="providing_department_id", needs_comment=True,
                   style="danger"),
        Transition("expire", N_("Mark as expired"), (_S.granted,), _S.expired, IT),
    ) + review_exits(_SHARING_REVIEWS, _S.returned, _S.rejected,
                     N_("Return to the applicant")),
)


@rule("sharing_expired", ("7.4.2",), N_("No data-sharing grant past its end date"),
      evidence=DataSharingRequest)
def _sharing_past_end():
    request = DataSharingRequest
    return (select(request.system_id.label("system_id"), request.id.label("record_id"))
            .where(request.status == SharingStatus.granted,
                   request.end_date < company_today()))


# ------------------------------------------------------------ Data catalogue (7.1)

class Classification(LabelledEnum):
    public = "Public", "success"
    internal = "Internal", "info"
    confidential = "Confidential", "warning"
    secret = "Secret", "danger"


class DataAsset(StampMixin, Model):
    """A data catalogue entry of a system: what data it holds, which department owns it,
    how it is classified, whether it holds personal data and how long it is kept (7.1.1,
    7.1.2)."""

    __tablename__ = "data_asset"
    __scope__ = ("owner_department_id", "system.owning_department_id")
    __table_args__ = (
        CheckConstraint("retention_months IS NULL OR retention_months BETWEEN 0 AND 1200",
                        name="ck_data_asset_retention"),
    ) + sort_indexes("data_asset", "name", "classification", "retention_months",
                     "personal_data", scope=("owner_department_id", "system_id"))

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_data_asset_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="data_assets")
    owner_department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_data_asset_owner_department"), nullable=False, index=True)
    owner_department = relationship("Department")
    classification = enum_column(Classification, nullable=False,
                                 default=Classification.internal)
    personal_data = Column(Boolean, nullable=False, default=False)
    # Months the data is kept; empty: kept as long as the system.
    retention_months = Column(Integer, info={"min": 0, "max": 1200,
                                             "check": "ck_data_asset_retention"})
    description = Column(Text)

    __title__ = "{name}"  # what it is called (app/titles.py)


DataAsset.__charts__ = (
    Chart("data_assets_by_classification", _l("Data catalogue by classification"),
          "classification"),
)


# -------------------------------------------------------------- Data quality (7.2)

class QualityDimension(LabelledEnum):
    accuracy = "Accuracy", "primary"
    completeness = "Completeness", "info"
    consistency = "Consistency", "warning"
    timeliness = "Timeliness", "success"


class DataQualityCheck(StampMixin, Model):
    """A data quality check of a department's data, or of one of its systems: one
    dimension scored 0-100, the issues found and the date they are to be rectified by
    (7.2.1, 7.2.2)."""

    __tablename__ = "data_quality_check"
    __scope__ = ("department_id", "system.owning_department_id")
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="ck_data_quality_score"),
        CheckConstraint("rectified_on IS NULL OR rectified_on >= checked_on",
                        name="ck_data_quality_dates"),
    ) + sort_indexes("data_quality_check", "title", "checked_on", "dimension", "score",
                     "rectification_due", scope=("department_id", "system_id"))
    __rules__ = (Ordered("checked_on", "rectified_on", check="ck_data_quality_dates"),)

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)  # the data checked
    department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_data_quality_department"), nullable=False, index=True)
    department = relationship("Department")
    # Empty: the department's data as a whole.
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_data_quality_system"), index=True)
    system = relationship("InformationSystem")
    checked_on = Column(Date, nullable=False, default=dt.date.today)
    dimension = enum_column(QualityDimension, nullable=False,
                            default=QualityDimension.accuracy)
    score = Column(Integer, nullable=False, default=100,
                   info={"min": 0, "max": 100, "check": "ck_data_quality_score"})
    issues = Column(Text)
    rectification_due = Column(Date)
    rectified_on = Column(Date)

    __title__ = "{title}"  # what it is called (app/titles.py)


# Issues past their rectification date (7.2.2): a badge on the due date and a list filter.
QUALITY_OVERDUE = Deadline(
    "overdue", lambda model: "rectification_due", lambda: _l("Overdue"), "danger",
    lambda model: (model.rectification_due < company_today())
    & model.rectified_on.is_(None),
    lambda record: record.rectification_due is not None
    and record.rectification_due < company_today() and record.rectified_on is None,
    filter_name=_l("Overdue"), remind=lambda: _l("Data quality rectifications overdue"))
DataQualityCheck.__deadlines__ = (QUALITY_OVERDUE,)
DataQualityCheck.__charts__ = (
    Chart("data_quality_by_dimension", _l("Data quality checks by dimension"), "dimension"),
)


@rule("data_quality_overdue", ("7.2.2",), N_("No data quality issue past its rectification date"),
      evidence=DataQualityCheck)
def _quality_overdue():
    check = DataQualityCheck
    return (select(check.system_id.label("system_id"), check.id.label("record_id"))
            .where(check.system_id.isnot(None), QUALITY_OVERDUE.clause(check)))


# ------------------------------------------------------------------ Backups (7.3.3)

class BackupKind(LabelledEnum):
    full = "Full", "primary"
    incremental = "Incremental", "info"


class RestoreResult(LabelledEnum):
    not_tested = "Not tested", "default"
    passed = "Restored", "success"
    failed = "Failed", "danger"


class BackupRecord(StampMixin, Model):
    """A backup of a business system: when, full or incremental, on which medium, where it
    is kept off site, whether it succeeded, and its restore test (7.3.3)."""

    __tablename__ = "backup_record"
    # The department owning the backed-up system, taken from the system.
    __scope__ = ("department_id",)
    __table_args__ = sort_indexes("backup_record", "taken_at", "kind", "restore_tested_on",
                                  "medium", "offsite_location", "succeeded", "restore_result")

    id = Column(Integer, primary_key=True)
    system_id = Column(Integer, ForeignKey("information_system.id",
                                           name="fk_backup_record_system"),
                       nullable=False, index=True)
    system = relationship("InformationSystem", backref="backup_records")
    department_id = Column(Integer, ForeignKey(
        "department.id", name="fk_backup_record_department"), nullable=False, index=True)
    department = relationship("Department")
    taken_at = Column(DateTime, nullable=False, default=utcnow)
    kind = enum_column(BackupKind, nullable=False, default=BackupKind.full)
    medium = Column(String(100), nullable=False)
    # Where the copy is kept off site; empty: not stored off site.
    offsite_location = Column(String(200))
    succeeded = Column(Boolean, nullable=False, default=True)
    restore_tested_on = Column(Date)
    restore_result = enum_column(RestoreResult, nullable=False,
                                 default=RestoreResult.not_tested)
    notes = Column(Text)

    @validates("system")
    def _department_of_system(self, _key, system):
        if system is not None:
            self.department = system.owning_department
        return system

    def write_refusal(self):
        tested = self.restore_result not in (None, RestoreResult.not_tested)
        if tested and self.restore_tested_on is None:
            return N_("Set the date of the restore test with its result.")
        return None

    __title__ = "{system} · {medium}"  # what it is called (app/titles.py)


BackupRecord.__charts__ = (
    Chart("backups_by_kind", _l("Backups by kind"), "kind"),
)


@rule("backup", ("7.3.3",),
      N_("A successful off-site backup within the set period and a restore test within a year"),
      evidence=InformationSystem)
def _not_backed_up():
    backup, system = BackupRecord, InformationSystem
    since = utc_now() - dt.timedelta(days=setting("COMPLIANCE_BACKUP_DAYS"))
    restore_since = company_today() - dt.timedelta(days=setting("COMPLIANCE_RESTORE_DAYS"))
    backed_up = select(backup.system_id).where(
        backup.succeeded.is_(True), backup.offsite_location.isnot(None),
        backup.offsite_location != "", backup.taken_at >= since)
    restored = select(backup.system_id).where(
        backup.restore_result == RestoreResult.passed, backup.restore_tested_on >= restore_since)
    return select(system.id.label("system_id"), system.id.label("record_id")).where(
        system.lifecycle == Lifecycle.running,
        (system.id.notin_(backed_up)) | (system.id.notin_(restored)))


# Running systems due for a backup or a restore test: a filter of the systems list and a
# reminder (7.3.3).
InformationSystem.__deadlines__ = (
    *getattr(InformationSystem, "__deadlines__", ()),
    failing_deadline("backup_due", _not_backed_up, "lifecycle", lambda: _l("Backup due"),
                     lambda: _l("Systems due for a backup or restore test")))
