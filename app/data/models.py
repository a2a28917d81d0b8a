"""Data management (regulation chapter 7): one department's request for another
department's data, reviewed and granted for a period (7.4)."""
from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import relationship

from app.base import (
    APPLICANT,
    DEPT_HEAD,
    IT,
    StampMixin,
    WorkflowMixin,
    enum_column,
    sort_indexes,
)
from app.compliance import rule
from app.deadlines import company_today
from app.i18n import LabelledEnum
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
