"""Construction and implementation (regulation chapter 4): screens and API resources."""
from flask import has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.forms import FilterHasRole
from app.planning.models import ProjectRequest
from app.procurement.models import (
    IMPLEMENTATION_PROJECT_STATES,
    TENDER_PROJECT_STATES,
    Bid,
    ChangeOrder,
    Contract,
    Milestone,
    ProgressReport,
    Tender,
    TenderStatus,
    Vendor,
)
from app.records import RecordView, scoped
from app.security import ScopedInterface, current_actor


def projects_in(states, label):
    """Dropdown filter: projects in one of ``states`` (a tender's approved projects)."""

    class FilterProjectsIn(BaseFilter):
        name = label
        arg_name = "project_in"

        def apply(self, query, value):
            return query.filter(ProjectRequest.status.in_(states))

    return FilterProjectsIn


class FilterBidsOfThisTender(BaseFilter):
    """Dropdown filter: the bids of the tender being edited (its winning bid's choices)."""

    name = _l("Bids of this tender")
    arg_name = "bids_of_tender"

    def apply(self, query, value):
        pk = (request.view_args or {}).get("pk") if has_request_context() else None
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            pk = 0
        return query.filter(Bid.tender_id == pk)


FilterTenderProjects = projects_in(TENDER_PROJECT_STATES, _l("Approved projects"))
FilterImplementationProjects = projects_in(IMPLEMENTATION_PROJECT_STATES,
                                           _l("Initiated projects"))


# ---------------------------------------------------------------------- Screens

class VendorView(RecordView):
    record_label = _l("Vendor")
    datamodel = scoped(Vendor)
    list_columns = ["name", "credit_code", "rating", "contact_person", "contact_phone"]
    search_columns = ["name", "credit_code", "rating", "contact_person"]
    show_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                    "contact_phone", "contact_email"]
    add_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                   "contact_phone", "contact_email"]
    edit_columns = add_columns
    order_columns = ["name", "rating"]
    base_order = ("name", "asc")
    related_records = (Contract,)


class TenderView(RecordView):
    record_label = _l("Tender")
    datamodel = scoped(Tender)
    label_columns = {"method": _l("Procurement method")}
    list_columns = ["tender_number", "title", "project", "department", "method", "opening_date",
                    "status"]
    search_columns = ["tender_number", "title", "project", "department", "method", "status",
                      "announcement_date", "opening_date", "justification"]
    show_fieldsets = [
        (_l("Tender"), {"fields": ["tender_number", "title", "status", "project", "department",
                                   "method", "justification"]}),
        (_l("Dates and result"), {"fields": ["announcement_date", "opening_date",
                                             "winning_bid"]}),
    ]
    add_columns = ["tender_number", "title", "project", "method", "justification",
                   "announcement_date", "opening_date"]
    edit_columns = add_columns + ["winning_bid"]
    order_columns = ["tender_number", "title", "method", "opening_date", "status"]
    base_order = ("tender_number", "desc")
    related_records = (Bid, Contract)
    add_form_query_rel_fields = {"project": [["id", FilterTenderProjects, None]]}
    # The search form offers the projects that may tender, not all 20,000 (a dropdown of
    # every project cost seconds a page at §8 scale); a closed project's tenders are on
    # its page. Any project id in the URL still filters.
    search_form_query_rel_fields = add_form_query_rel_fields
    edit_form_query_rel_fields = {**add_form_query_rel_fields,
                                  "winning_bid": [["id", FilterBidsOfThisTender, None]]}


class BidView(RecordView):
    record_label = _l("Bid")
    datamodel = scoped(Bid)
    list_columns = ["tender", "vendor", "amount", "technical_score", "commercial_score",
                    "total_score"]
    search_columns = ["tender", "vendor", "department", "amount", "technical_score",
                      "commercial_score", "total_score", "remarks"]
    show_columns = ["tender", "vendor", "department", "amount", "technical_score",
                    "commercial_score", "total_score", "remarks"]
    add_columns = ["tender", "vendor", "amount", "technical_score", "commercial_score",
                   "remarks"]
    edit_columns = add_columns
    order_columns = ["amount", "total_score"]
    base_order = ("total_score", "desc")
    add_form_query_rel_fields = {"tender": [["status", FilterEqual, TenderStatus.approved]]}
    # The tenders open for bids, not every tender (their bids are on each tender's page).
    search_form_query_rel_fields = add_form_query_rel_fields


class MilestoneView(RecordView):
    record_label = _l("Milestone")
    datamodel = scoped(Milestone)
    list_columns = ["name", "project", "kind", "responsible", "due_on", "done_on"]
    # No dropdown of every user (5,000 at §8 scale) in the search form.
    search_columns = ["name", "project", "department", "kind", "due_on", "done_on",
                      "description"]
    show_columns = ["name", "project", "department", "kind", "responsible", "due_on",
                    "done_on", "evidence", "description"]
    add_columns = ["project", "name", "kind", "responsible", "due_on", "done_on",
                   "description"]
    edit_columns = add_columns
    order_columns = ["name", "due_on", "done_on", "kind"]
    base_order = ("due_on", "asc")
    add_form_defaults = {"responsible": current_actor}
    add_form_query_rel_fields = {"project": [["id", FilterImplementationProjects, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    # The projects under way (a closed project's milestones are on its page).
    search_form_query_rel_fields = add_form_query_rel_fields


class ProgressReportView(RecordView):
    record_label = _l("Progress report")
    datamodel = scoped(ProgressReport)
    label_columns = {"summary": _l("Progress summary")}
    list_columns = ["project", "report_date", "report_period", "percent_complete", "reporter"]
    search_columns = ["project", "department", "report_date", "report_period", "percent_complete",
                      "reporter", "summary", "issues"]
    show_columns = ["project", "department", "report_date", "report_period", "percent_complete",
                    "summary", "issues", "next_steps", "reporter"]
    add_columns = ["project", "report_date", "report_period", "percent_complete", "summary",
                   "issues", "next_steps", "reporter"]
    edit_columns = add_columns
    order_columns = ["report_date", "percent_complete"]
    base_order = ("report_date", "desc")
    add_form_defaults = {"reporter": current_actor}
    add_form_query_rel_fields = {
        "project": [["id", FilterImplementationProjects, None]],
        "reporter": [["username", FilterHasRole, "ITStaff"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    search_form_query_rel_fields = add_form_query_rel_fields


class ContractView(RecordView):
    record_label = _l("Contract")
    datamodel = scoped(Contract)
    list_columns = ["number", "name", "vendor", "department", "amount", "status", "end_date"]
    search_columns = ["number", "name", "amount", "status", "department", "sign_date",
                      "start_date", "end_date"]
    show_fieldsets = [
        (_l("Contract"), {"fields": ["number", "name", "status", "department", "project",
                                     "tender", "vendor", "system", "amount",
                                     "signed_file"]}),
        (_l("Dates"), {"fields": ["sign_date", "start_date", "end_date"]}),
        (_l("Terms"), {"fields": ["scope", "schedule", "quality_terms", "acceptance_terms",
                                  "after_sales_terms"]}),
    ]
    add_columns = ["number", "name", "department", "project", "tender", "vendor", "system",
                   "amount", "sign_date", "start_date", "end_date", "scope", "schedule",
                   "quality_terms", "acceptance_terms", "after_sales_terms"]
    edit_columns = add_columns
    order_columns = ["number", "name", "amount", "status", "end_date"]
    base_order = ("number", "desc")
    related_records = (ChangeOrder,)
    add_form_query_rel_fields = {"tender": [["status", FilterEqual, TenderStatus.awarded]]}
    edit_form_query_rel_fields = add_form_query_rel_fields


class ChangeOrderView(RecordView):
    record_label = _l("Change order")
    datamodel = scoped(ChangeOrder)
    list_columns = ["change_number", "title", "contract", "project", "department",
                    "cost_impact", "status"]
    search_columns = ["change_number", "title", "status", "department", "cost_impact",
                      "created_on", "reason"]
    show_fieldsets = [
        (_l("Change order"), {"fields": ["change_number", "title", "status", "contract",
                                         "project", "department"]}),
        (_l("Change"), {"fields": ["reason", "change_content", "cost_impact",
                                   "schedule_impact"]}),
    ]
    add_columns = ["change_number", "title", "contract", "project", "reason",
                   "change_content", "cost_impact", "schedule_impact"]
    edit_columns = add_columns
    order_columns = ["change_number", "title", "cost_impact", "status"]
    base_order = ("change_number", "desc")


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Procurement", _l("Procurement and contracts"), "fa-handshake-o", [
        (VendorView, _l("Vendors"), "fa-truck"),
        (TenderView, _l("Tenders"), "fa-bullhorn"),
        (BidView, _l("Bids"), "fa-list-ol"),
        (ContractView, _l("Contracts"), "fa-file-o"),
        (MilestoneView, _l("Implementation milestones"), "fa-flag-checkered"),
        (ProgressReportView, _l("Progress reports"), "fa-tasks"),
        (ChangeOrderView, _l("Change orders"), "fa-random"),
    ]),
]


# --------------------------------------------------------------------- REST API

class VendorApi(RecordApi):
    resource_name = "vendor"
    datamodel = ScopedInterface(Vendor)
    list_columns = ["id", "name", "credit_code", "rating"]
    show_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                    "contact_phone", "contact_email"]
    add_columns = show_columns
    edit_columns = show_columns
    order_columns = ["name"]


class ContractApi(RecordApi):
    resource_name = "contract"
    datamodel = ScopedInterface(Contract)
    list_columns = ["id", "number", "name", "department_id", "vendor_id", "amount", "status"]
    show_columns = ["number", "name", "department_id", "project_id", "tender_id", "vendor_id",
                    "system_id",
                    "amount", "sign_date", "start_date", "end_date", "scope", "schedule",
                    "quality_terms", "acceptance_terms", "after_sales_terms", "status",
                    "signed_file.filename", "signed_file.sha256"]
    add_columns = ["number", "name", "department", "project", "tender", "vendor", "system",
                   "amount", "sign_date", "start_date", "end_date", "scope", "schedule",
                   "quality_terms", "acceptance_terms", "after_sales_terms"]
    edit_columns = add_columns
    order_columns = ["number", "amount", "end_date"]


class ChangeOrderApi(RecordApi):
    resource_name = "change_order"
    datamodel = ScopedInterface(ChangeOrder)
    list_columns = ["id", "change_number", "title", "contract_id", "project_id",
                    "department_id", "cost_impact", "status"]
    show_columns = ["change_number", "title", "contract_id", "project_id", "department_id",
                    "reason", "change_content", "cost_impact", "schedule_impact", "status"]
    add_columns = ["change_number", "title", "contract", "project", "reason",
                   "change_content", "cost_impact", "schedule_impact"]
    edit_columns = add_columns
    order_columns = ["change_number", "cost_impact"]


class TenderApi(RecordApi):
    resource_name = "tender"
    datamodel = ScopedInterface(Tender)
    list_columns = ["id", "tender_number", "title", "project_id", "department_id", "method",
                    "opening_date", "winning_bid_id", "status"]
    show_columns = ["tender_number", "title", "project_id", "department_id", "method",
                    "justification", "announcement_date", "opening_date", "winning_bid_id",
                    "status"]
    add_columns = ["tender_number", "title", "project", "method", "justification",
                   "announcement_date", "opening_date"]
    # Who writes which of them in which state: app/procurement/models.py (``Edit``).
    edit_columns = add_columns + ["winning_bid"]
    order_columns = ["tender_number", "opening_date"]


class BidApi(RecordApi):
    resource_name = "bid"
    datamodel = ScopedInterface(Bid)
    list_columns = ["id", "tender_id", "vendor_id", "amount", "technical_score",
                    "commercial_score", "total_score"]
    show_columns = ["tender_id", "vendor_id", "department_id", "amount", "technical_score",
                    "commercial_score", "total_score", "remarks"]
    add_columns = ["tender", "vendor", "amount", "technical_score", "commercial_score",
                   "remarks"]
    edit_columns = add_columns
    order_columns = ["amount", "total_score"]


class MilestoneApi(RecordApi):
    resource_name = "milestone"
    datamodel = ScopedInterface(Milestone)
    list_columns = ["id", "project_id", "name", "kind", "responsible_id", "due_on",
                    "done_on"]
    show_columns = ["project_id", "department_id", "name", "kind", "responsible_id",
                    "due_on", "done_on", "description", "evidence.filename",
                    "evidence.sha256"]
    add_columns = ["project", "name", "kind", "responsible", "due_on", "done_on",
                   "description"]
    edit_columns = add_columns
    order_columns = ["due_on", "done_on"]


class ProgressReportApi(RecordApi):
    resource_name = "progress_report"
    datamodel = ScopedInterface(ProgressReport)
    list_columns = ["id", "project_id", "report_date", "report_period", "percent_complete",
                    "reporter_id"]
    show_columns = ["project_id", "department_id", "report_date", "report_period",
                    "percent_complete", "summary", "issues", "next_steps", "reporter_id"]
    add_columns = ["project", "report_date", "report_period", "percent_complete", "summary",
                   "issues", "next_steps", "reporter"]
    edit_columns = add_columns
    order_columns = ["report_date", "percent_complete"]


APIS = [VendorApi, TenderApi, BidApi, ContractApi, MilestoneApi, ProgressReportApi,
        ChangeOrderApi]
