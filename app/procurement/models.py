"""Construction and implementation (regulation chapter 4): vendors and the contracts
signed with them (4.1), change orders to a contract or an implementation plan (4.2.4)."""
import datetime as dt
from decimal import Decimal

from flask import current_app, has_app_context
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import relationship, validates

from app.base import DEPT_HEAD, IT, MGMT, StampMixin, WorkflowMixin, enum_column, sort_indexes
from app.charts import Chart, Sum, Year
from app.deadlines import Deadline, company_today, review_states
from app.i18n import LabelledEnum
from app.validation import AnyOf, Ordered
from app.workflow import N_, Condition, Delete, Edit, Transition, Workflow, filled, review_exits


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
    (_K.review, DEPT_HEAD, "it"),
    (_K.mgmt_review, MGMT, None),
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
        Edit((_K.draft, _K.returned, _K.review, _K.mgmt_review), IT, _CONTRACT_CONTENT),
        Edit((_K.signed,), IT, ("signed_file",)),
    ),
    deletable=(Delete((_K.draft,), IT),),
    transitions=(
        Transition("submit", N_("Submit for IT review"), (_K.draft, _K.returned), _K.review,
                   IT, submits=True),
        Transition("approve", N_("Approve and send to management"), (_K.review,),
                   _K.mgmt_review, DEPT_HEAD, department_kind="it", approves=True,
                   when=NEEDS_MANAGEMENT, style="success"),
        Transition("approve", N_("Approve for signing"), (_K.review,), _K.signed, DEPT_HEAD,
                   department_kind="it", approves=True,
                   when=~NEEDS_MANAGEMENT, style="success"),
        Transition("approve", N_("Approve for signing"), (_K.mgmt_review,), _K.signed, MGMT,
                   approves=True, style="success"),
        Transition("put_in_force", N_("Put in force"), (_K.signed,), _K.in_force, IT,
                   guards=(filled("signed_file",
                                  message=N_("Attach the signed contract file first.")),)),
        Transition("accept", N_("Record acceptance"), (_K.in_force,), _K.accepted, IT,
                   style="success"),
        Transition("close", N_("Close the contract"), (_K.accepted,), _K.closed, IT),
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
    editable=(Edit((_C.requested, _C.returned, _C.approved), IT, _ORDER_CONTENT),),
    transitions=(
        Transition("submit", N_("Submit again"), (_C.returned,), _C.requested, IT,
                   submits=True),
        Transition("approve", N_("Approve the change"), (_C.requested,), _C.approved, MGMT,
                   approves=True, style="success"),
        Transition("return", N_("Return to the applicant"), (_C.requested,), _C.returned,
                   MGMT, needs_comment=True, style="warning"),
        Transition("reject", N_("Reject"), (_C.requested,), _C.rejected, MGMT,
                   needs_comment=True, style="danger"),
        Transition("implement", N_("Mark as implemented"), (_C.approved,), _C.implemented,
                   IT),
        Transition("verify", N_("Confirm the change works"), (_C.implemented,), _C.verified,
                   DEPT_HEAD, department="department_id", style="success"),
    ),
)


def contract_days():
    return current_app.config["CONTRACT_DUE_DAYS"]


_CONTRACT_DONE = (ContractStatus.closed, ContractStatus.rejected)
# Contracts ending soon (4.2): a badge on the end date and a list filter.
ENDING_SOON = Deadline(
    "ending", lambda model: "end_date",
    lambda: _l("Ends within %(days)d days", days=contract_days()), "warning",
    lambda model: model.end_date.between(
        company_today(), company_today() + dt.timedelta(days=contract_days()))
    & model.status.notin_(_CONTRACT_DONE),
    lambda record: record.end_date is not None
    and company_today() <= record.end_date
    <= company_today() + dt.timedelta(days=contract_days())
    and record.status not in _CONTRACT_DONE,
    filter_name=_l("Ending soon"))
Contract.__deadlines__ = (ENDING_SOON,)

Contract.__charts__ = (
    Chart("contract_amount_by_vendor", _l("Contract amounts by vendor (top 15)"), "vendor",
          series=(Sum("amount", _l("Amount (CNY)")),), top=15),
    Chart("contract_amount_by_year", _l("Contract amounts by signing year"),
          Year("sign_date"), series=(Sum("amount", _l("Amount (CNY)")),)),
    Chart("approvals_waiting_contracts", _l("Contracts waiting for approval, by step"),
          "status", only=tuple(review_states(Contract))),
)


# A record page's tabs read one range of one index each (app/base.py sort_indexes): a
# system's, a project's or a vendor's contracts, a contract's or a project's change orders,
# in the tab's order, the scoping column riding along.
Index("ix_contract_system_number", Contract.system_id, Contract.number,
      Contract.id, Contract.department_id)
Index("ix_contract_project_number", Contract.project_id, Contract.number,
      Contract.id, Contract.department_id)
Index("ix_contract_vendor_number", Contract.vendor_id, Contract.number,
      Contract.id, Contract.department_id)
Index("ix_change_order_contract_number", ChangeOrder.contract_id, ChangeOrder.change_number,
      ChangeOrder.id, ChangeOrder.department_id)
Index("ix_change_order_project_number", ChangeOrder.project_id, ChangeOrder.change_number,
      ChangeOrder.id, ChangeOrder.department_id)
# 3.2.4/4.1.3 (the scorecard, app/planning): a project's signed contract.
Index("ix_contract_project_status", Contract.project_id, Contract.status)
