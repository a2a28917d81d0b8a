"""Construction and implementation (regulation chapter 4): vendors, tenders with their bids
and the contracts signed with the winners (4.1); the implementation's milestones and
progress reports (4.2.1-4.2.3); change orders to a contract or an implementation plan
(4.2.4)."""
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
from flask_babel import gettext
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import relationship, validates

from app.base import DEPT_HEAD, IT, MGMT, StampMixin, WorkflowMixin, enum_column, sort_indexes
from app.charts import Chart, Sum, Year
from app.compliance import rule
from app.deadlines import Deadline, company_today, review_states
from app.i18n import LabelledEnum
from app.planning.models import ProjectRequest, ProjectStatus, project_request_system
from app.validation import AnyOf, Consistent, Ordered, RequiredWhen
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
    # The tender the vendor won (4.1.1-4.1.3); empty for a contract without one.
    tender_id = Column(Integer, ForeignKey("tender.id", name="fk_contract_tender"), index=True)
    tender = relationship("Tender", backref="contracts")
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

_CONTRACT_CONTENT = ("number", "name", "department", "project", "tender", "vendor", "system",
                     "amount",
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
    filter_name=_l("Ending soon"),
    remind=lambda: _l("Contracts ending within %(days)d days", days=contract_days()))
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


# ------------------------------------------------------------ Tenders and bids (4.1)

class TenderMethod(LabelledEnum):
    public = "Public tender", "primary"
    invited = "Invited tender", "info"
    negotiation = "Competitive negotiation", "info"
    single_source = "Single source", "warning"
    inquiry = "Inquiry", "default"


class TenderStatus(LabelledEnum):
    draft = "Draft", "default"
    review = "IT department head approval", "info"
    mgmt_review = "Management approval", "warning"
    approved = "Approved, open for bids", "primary"
    awarded = "Awarded", "success"
    cancelled = "Cancelled", "default"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


# A tender is organised for a project that management has approved (立项) and that has
# not gone on to implementation (4.1.1).
TENDER_PROJECT_STATES = (ProjectStatus.approved, ProjectStatus.procurement)
# Milestones and progress reports belong to an initiated project that is not closed.
IMPLEMENTATION_PROJECT_STATES = (ProjectStatus.approved, ProjectStatus.procurement,
                                 ProjectStatus.implementation, ProjectStatus.acceptance)


def _stored_value(record, column, session):
    """``column`` of ``record`` as stored (None for a new record)."""
    if record is None or session is None or not sa_inspect(record).persistent:
        return None
    model = type(record)
    return session.query(getattr(model, column)).filter(model.id == record.id).scalar()


def project_in(states, message):
    """A rule for ``project``: a new record, or one moved to another project, names a
    project in one of ``states``."""

    def test(record, values, session):
        project_id = values.get("project_id")
        if project_id is None or session is None:
            return None
        if record is not None and sa_inspect(record).persistent and \
                _stored_value(record, "project_id", session) == project_id:
            return None
        project = session.get(ProjectRequest, project_id)
        if project is None or project.status in states:
            return None
        return gettext(message, state=str(project.status))

    return test


def _winning_bid_of_this_tender(record, values, session):
    bid_id = values.get("winning_bid_id")
    if bid_id is None or session is None:
        return None
    bid = session.get(Bid, bid_id)
    if bid is None or values.get("id") is None or bid.tender_id != values.get("id"):
        return gettext("The winning bid must be one of this tender's bids.")
    return None


class Tender(StampMixin, WorkflowMixin, Model):
    """A tender (招标采购) for an approved project: its method, dates, the bids received and
    the winning bid (4.1.1, 4.1.2).

    Written by IT staff for a project in 立项 or procurement; submitted for approval to the
    IT department's head, or, for single-source procurement (which needs its
    justification), to management; once approved it is open for bids, and awarded to the
    winning bid. The project's department reads its tenders.
    """

    __tablename__ = "tender"
    __scope__ = ("department_id",)
    __it_managed__ = True  # the IT department organises every tender (4.1.1)
    __derived__ = ("department",)
    __table_args__ = (
        CheckConstraint("opening_date IS NULL OR announcement_date IS NULL "
                        "OR opening_date >= announcement_date", name="ck_tender_dates"),
        CheckConstraint("method <> 'single_source' OR (justification IS NOT NULL "
                        "AND justification <> '')", name="ck_tender_justification"),
    ) + sort_indexes("tender", "tender_number", "title", "method", "announcement_date",
                     "opening_date", "status")
    __rules__ = (
        Ordered("announcement_date", "opening_date", check="ck_tender_dates"),
        RequiredWhen("justification", "method", (TenderMethod.single_source,),
                     N_("Single-source procurement needs its justification."),
                     check="ck_tender_justification"),
        Consistent("project", project_in(
            TENDER_PROJECT_STATES,
            N_("A tender is organised only for a project that management has approved "
               "(立项) and that is not yet in implementation; this project is: "
               "%(state)s."))),
        Consistent("winning_bid", _winning_bid_of_this_tender),
    )

    id = Column(Integer, primary_key=True)
    tender_number = Column(String(64), unique=True, nullable=False)
    title = Column(String(200), nullable=False)
    project_id = Column(Integer, ForeignKey("project_request.id", name="fk_tender_project"),
                       nullable=False, index=True)
    project = relationship("ProjectRequest", backref="tenders")
    department_id = Column(Integer, ForeignKey("department.id", name="fk_tender_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    method = enum_column(TenderMethod, nullable=False, default=TenderMethod.public)
    # Why only one supplier can deliver (required for single source).
    justification = Column(Text)
    announcement_date = Column(Date)
    opening_date = Column(Date)
    winning_bid_id = Column(Integer, ForeignKey("bid.id", name="fk_tender_winning_bid",
                                                use_alter=True), index=True)
    winning_bid = relationship("Bid", foreign_keys=[winning_bid_id], post_update=True)
    status = enum_column(TenderStatus, nullable=False, default=TenderStatus.draft)

    @validates("project")
    def _take_department(self, _key, project):
        # The tender belongs to its project's department (scoping).
        if project is not None:
            self.department = project.applicant_department
        return project

    __title__ = "{tender_number} {title}"  # what it is called (app/titles.py)


def _bid_tender_open(record, values, session):
    tender_id = values.get("tender_id")
    if tender_id is None or session is None:
        return None
    if record is not None and sa_inspect(record).persistent and \
            _stored_value(record, "tender_id", session) == tender_id:
        return None
    tender = session.get(Tender, tender_id)
    if tender is None or tender.status is TenderStatus.approved:
        return None
    return gettext("Bids are recorded while the tender is approved and open for bids; "
                   "this tender is: %(state)s.", state=str(tender.status))


class Bid(StampMixin, Model):
    """A vendor's bid in a tender: amount, technical and commercial scores (4.1.2).

    Recorded by IT staff while the tender is open for bids; the total score is the mean of
    the two scores. Seen with the tender by the project's department.
    """

    __tablename__ = "bid"
    __scope__ = ("department_id",)
    __it_managed__ = True
    __derived__ = ("department", "total_score")
    __title_loads__ = ("tender", "vendor")
    __name_loads__ = ("tender", "vendor")
    __table_args__ = (
        UniqueConstraint("tender_id", "vendor_id", name="uq_bid_tender_vendor"),
        CheckConstraint("amount >= 0", name="ck_bid_amount"),
        CheckConstraint("technical_score IS NULL OR technical_score BETWEEN 0 AND 100",
                        name="ck_bid_technical_score"),
        CheckConstraint("commercial_score IS NULL OR commercial_score BETWEEN 0 AND 100",
                        name="ck_bid_commercial_score"),
    ) + sort_indexes("bid", "amount", "total_score", "technical_score", "commercial_score")
    __rules__ = (Consistent("tender", _bid_tender_open),)

    id = Column(Integer, primary_key=True)
    tender_id = Column(Integer, ForeignKey("tender.id", name="fk_bid_tender"), nullable=False,
                       index=True)
    tender = relationship("Tender", foreign_keys=[tender_id], backref="bids")
    department_id = Column(Integer, ForeignKey("department.id", name="fk_bid_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    vendor_id = Column(Integer, ForeignKey("vendor.id", name="fk_bid_vendor"), nullable=False,
                       index=True)
    vendor = relationship("Vendor", backref="bids")
    amount = Column(Numeric(14, 2), nullable=False, info={"min": 0, "check": "ck_bid_amount"})
    technical_score = Column(Integer, info={"min": 0, "max": 100,
                                            "check": "ck_bid_technical_score"})
    commercial_score = Column(Integer, info={"min": 0, "max": 100,
                                             "check": "ck_bid_commercial_score"})
    # The mean of the two scores, kept by the record itself.
    total_score = Column(Numeric(5, 2))
    remarks = Column(Text)

    @validates("tender")
    def _take_department(self, _key, tender):
        if tender is not None:
            self.department_id = tender.department_id
            if tender.department is not None:
                self.department = tender.department
        return tender

    @validates("technical_score", "commercial_score")
    def _total(self, key, value):
        other = self.commercial_score if key == "technical_score" else self.technical_score
        try:
            self.total_score = (None if value is None or other is None
                                else (Decimal(value) + Decimal(other)) / 2)
        except (TypeError, ValueError, ArithmeticError):
            self.total_score = None
        return value

    __title__ = "{tender} · {vendor}"  # what it is called (app/titles.py)


_T = TenderStatus
SINGLE_SOURCE = Condition(
    lambda tender: tender.method is TenderMethod.single_source,
    lambda model: model.method == TenderMethod.single_source)
_TENDER_REVIEWS = (
    # state under review, roles of the reviewer, department kind
    (_T.review, DEPT_HEAD, "it"),
    (_T.mgmt_review, MGMT, None),
)
_TENDER_CONTENT = ("tender_number", "title", "project", "method", "justification",
                   "announcement_date", "opening_date")
Tender.__workflow__ = Workflow(
    states=TenderStatus,
    covered=_TENDER_CONTENT + ("winning_bid",),
    content=_TENDER_CONTENT,
    editable=(
        Edit((_T.draft, _T.returned), IT, _TENDER_CONTENT),
        # The bids are opened and scored while the tender is open: IT names the winner.
        Edit((_T.approved,), IT, ("winning_bid",)),
    ),
    deletable=(Delete((_T.draft,), IT),),
    transitions=(
        # Single source needs management's approval; every other method the IT
        # department head's (4.1.1, 4.1.2).
        Transition("submit", N_("Submit to the IT department head"), (_T.draft, _T.returned),
                   _T.review, IT, submits=True, when=~SINGLE_SOURCE),
        Transition("submit", N_("Submit to management (single source)"),
                   (_T.draft, _T.returned), _T.mgmt_review, IT, submits=True,
                   when=SINGLE_SOURCE),  # its justification: an input rule (CHECK too)
        Transition("approve", N_("Approve the tender"), (_T.review,), _T.approved, DEPT_HEAD,
                   department_kind="it", approves=True, style="success"),
        Transition("approve", N_("Approve the single-source procurement"), (_T.mgmt_review,),
                   _T.approved, MGMT, approves=True, style="success"),
        Transition("award", N_("Award to the winning bid"), (_T.approved,), _T.awarded, IT,
                   style="success",
                   guards=(filled("winning_bid",
                                  message=N_("Choose the winning bid first.")),)),
        Transition("cancel", N_("Cancel the tender"), (_T.approved,), _T.cancelled, IT,
                   needs_comment=True, style="danger"),
    ) + review_exits(_TENDER_REVIEWS, _T.returned, _T.rejected, N_("Return for revision"),
                     rule="department_kind"),
)


def _contract_matches_tender(record, values, session):
    """A contract under a tender is signed with its winner, for its project (4.1.3)."""
    tender_id = values.get("tender_id")
    if tender_id is None or session is None:
        return None
    tender = session.get(Tender, tender_id)
    if tender is None:
        return None
    bid = tender.winning_bid
    if tender.status is not TenderStatus.awarded or bid is None:
        return gettext("The tender %(tender)s has not been awarded: a contract follows the "
                       "award.", tender=tender.tender_number)
    if values.get("vendor_id") != bid.vendor_id:
        return gettext("The contract's vendor must be the tender's winning bidder "
                       "(%(vendor)s).", vendor=str(bid.vendor))
    if values.get("project_id") != tender.project_id:
        return gettext("The contract's project must be the tender's project (%(project)s).",
                       project=str(tender.project))
    return None


Contract.__rules__ = Contract.__rules__ + (Consistent("tender", _contract_matches_tender),)

Tender.__charts__ = (
    Chart("tenders_by_method", _l("Tenders by procurement method"), "method"),
    Chart("approvals_waiting_tenders", _l("Tenders waiting for approval, by step"), "status",
          only=tuple(review_states(Tender))),
)


# ------------------------------------------------------- Implementation (4.2.1-4.2.3)

class MilestoneKind(LabelledEnum):
    development = "Development", "primary"
    testing = "Testing", "info"
    deployment = "Deployment", "warning"
    training = "Training", "success"
    other = "Other", "default"


def _done_with_evidence(record, values, session):
    done = values.get("done_on")
    if done is None:
        return None
    if done > company_today():
        return gettext("The done date cannot be in the future.")
    # A file uploaded with the form is not stored yet: it has no id, but it is there.
    if values.get("evidence_id") is None and getattr(record, "evidence", None) is None:
        return gettext("A milestone is marked done with its evidence: attach it (a test "
                       "report, a deployment record, a training sign-in sheet ...).")
    return None


class Milestone(StampMixin, Model):
    """A milestone of a project's implementation plan: step, due date, responsible person
    (4.2.1); done on a date, with its evidence (4.2.2); past due and not done: overdue,
    followed by the IT department (4.2.3).

    Written by IT staff for a project from 立项 until acceptance; the project's department
    reads them. A project enters acceptance only when every milestone is done.
    """

    __tablename__ = "milestone"
    __scope__ = ("department_id",)
    __it_managed__ = True
    __derived__ = ("department",)
    __attachments__ = ("evidence",)
    __table_args__ = (
        CheckConstraint("done_on IS NULL OR evidence_id IS NOT NULL",
                        name="ck_milestone_evidence"),
    ) + sort_indexes("milestone", "name", "due_on", "done_on", "kind")
    __rules__ = (
        Consistent("done_on", _done_with_evidence, check="ck_milestone_evidence"),
        Consistent("project", project_in(
            IMPLEMENTATION_PROJECT_STATES,
            N_("Milestones belong to a project that management has approved (立项) and "
               "that is not closed; this project is: %(state)s."))),
    )

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project_request.id", name="fk_milestone_project"),
                        nullable=False, index=True)
    project = relationship("ProjectRequest", backref="milestones")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_milestone_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    name = Column(String(200), nullable=False)
    kind = enum_column(MilestoneKind, nullable=False, default=MilestoneKind.development)
    due_on = Column(Date, nullable=False)
    responsible_id = Column(Integer, ForeignKey("ab_user.id", name="fk_milestone_responsible"),
                            nullable=False, index=True)
    responsible = relationship("AppUser", foreign_keys=[responsible_id])
    done_on = Column(Date)
    evidence_id = Column(Integer, ForeignKey("attachment.id", name="fk_milestone_evidence"))
    evidence = relationship("Attachment", foreign_keys=[evidence_id])
    description = Column(Text)

    @validates("project")
    def _take_department(self, _key, project):
        if project is not None:
            self.department = project.applicant_department
        return project

    __title__ = "{name}"  # what it is called (app/titles.py)


# Milestones past their due date and not done (4.2.3): a badge and a list filter.
MILESTONE_OVERDUE = Deadline(
    "overdue", lambda model: "due_on", lambda: _l("Overdue"), "danger",
    lambda model: (model.due_on < company_today()) & model.done_on.is_(None),
    lambda record: record.due_on is not None and record.due_on < company_today()
    and record.done_on is None,
    filter_name=_l("Overdue"), remind=lambda: _l("Implementation milestones overdue"))
Milestone.__deadlines__ = (MILESTONE_OVERDUE,)
Milestone.__responsible__ = ("responsible_id",)
Milestone.__charts__ = (
    Chart("milestones_by_kind", _l("Implementation milestones by kind"), "kind"),
    Chart("milestones_overdue_by_department", _l("Overdue milestones by department"),
          "department", where=MILESTONE_OVERDUE, top=20),
)


def open_milestones(project):
    """The project's milestones not done yet, by due date."""
    return sorted((m for m in project.milestones if m.done_on is None),
                  key=lambda m: (m.due_on or dt.date.max, m.id or 0))


def overdue_milestones(project):
    return [m for m in open_milestones(project) if MILESTONE_OVERDUE.applies(m)]


class ProgressReport(StampMixin, Model):
    """A progress report of a project's implementation: progress, percent complete,
    issues and next steps, by its reporter (4.2.2, 4.2.3).

    Written by IT staff while the project is initiated and not closed; the project's
    department reads them.
    """

    __tablename__ = "progress_report"
    __scope__ = ("department_id",)
    __it_managed__ = True
    __derived__ = ("department",)
    __table_args__ = (
        CheckConstraint("percent_complete BETWEEN 0 AND 100",
                        name="ck_progress_report_percent"),
    ) + sort_indexes("progress_report", "report_date", "percent_complete",
                     "report_period")
    __rules__ = (
        Consistent("project", project_in(
            IMPLEMENTATION_PROJECT_STATES,
            N_("Progress is reported for a project that management has approved (立项) and "
               "that is not closed; this project is: %(state)s."))),
    )

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project_request.id",
                                            name="fk_progress_report_project"),
                        nullable=False, index=True)
    project = relationship("ProjectRequest", backref="progress_reports")
    department_id = Column(Integer, ForeignKey("department.id",
                                               name="fk_progress_report_department"),
                           nullable=False, index=True)
    department = relationship("Department")
    report_date = Column(Date, nullable=False, default=dt.date.today)
    report_period = Column(String(64))  # the period covered ("2026年3月", "第10周")
    summary = Column(Text, nullable=False)
    percent_complete = Column(Integer, nullable=False, default=0,
                              info={"min": 0, "max": 100,
                                    "check": "ck_progress_report_percent"})
    issues = Column(Text)
    next_steps = Column(Text)
    reporter_id = Column(Integer, ForeignKey("ab_user.id", name="fk_progress_report_reporter"),
                         nullable=False, index=True)
    reporter = relationship("AppUser", foreign_keys=[reporter_id])

    @validates("project")
    def _take_department(self, _key, project):
        if project is not None:
            self.department = project.applicant_department
        return project

    __name_loads__ = ("project",)
    __title_loads__ = ("project",)
    __title__ = "{project} · {report_date}"  # what it is called (app/titles.py)


# 4.2.2/4.2.3: a project in implementation keeps to its plan: no milestone past due.
@rule("milestones_on_time", ("4.2.2", "4.2.3"),
      N_("Projects in implementation have no milestone past its due date"),
      evidence=Milestone)
def _milestones_overdue():
    from sqlalchemy import select

    milestone = Milestone
    return (select(project_request_system.c.system_id.label("system_id"),
                   milestone.id.label("record_id"))
            .join(project_request_system,
                  project_request_system.c.project_request_id == milestone.project_id)
            .join(ProjectRequest, ProjectRequest.id == milestone.project_id)
            .where(ProjectRequest.status.in_((ProjectStatus.implementation,
                                              ProjectStatus.acceptance)),
                   MILESTONE_OVERDUE.clause(milestone)))


# A record page's tabs read one range of one index each: a project's tenders, milestones
# and progress reports, a tender's bids and contracts, the scoping column riding along.
Index("ix_tender_project_number", Tender.project_id, Tender.tender_number, Tender.id,
      Tender.department_id)
Index("ix_bid_tender_total", Bid.tender_id, Bid.total_score, Bid.id, Bid.department_id)
Index("ix_milestone_project_due", Milestone.project_id, Milestone.due_on, Milestone.id,
      Milestone.department_id)
Index("ix_progress_report_project_date", ProgressReport.project_id,
      ProgressReport.report_date, ProgressReport.id, ProgressReport.department_id)
Index("ix_contract_tender_number", Contract.tender_id, Contract.number, Contract.id,
      Contract.department_id)
