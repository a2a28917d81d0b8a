"""Operation and maintenance (regulation chapter 5): screens and API resources."""
from flask import g, has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.forms import FilterDepartmentUsers, FilterHasRole, FilterOwnedInScope
from app.operations.models import (
    APPROVED_CHANGES,
    UNAUTHORISED,
    ChangeRequest,
    Incident,
    InspectionChecklist,
    MaintenancePlan,
    MaintenanceRecord,
    OperationLog,
)
from app.records import ListLink, RecordView, duration, local_time, scoped
from app.security import ScopedInterface, current_actor


# ---------------------------------------------------------------------- Screens

class FilterApprovedChanges(BaseFilter):
    """Dropdown filter of an operation log entry's change request (5.1.4): only approved
    ones (已批准, 已实施, 已验证), and of the entry's system once it is known: the system
    posted with the form (a change request of another system is refused, not stored), or
    the system of the entry being edited. A new entry's form, before a system is chosen,
    offers the approved change requests of every system in scope."""

    name = _l("Approved")
    arg_name = "approvedchange"

    def apply(self, query, value):
        query = query.filter(self.model.status.in_(APPROVED_CHANGES))
        system_id = _form_system_id()
        if system_id is not None:
            query = query.filter(self.model.system_id == system_id)
        return query


def _form_system_id():
    if has_request_context() and request.method == "POST":
        posted = request.form.get("system", "")
        if posted.isdigit():
            return int(posted)
    record = g.get("form_record")
    return getattr(record, "system_id", None) if record is not None else None


class IncidentView(RecordView):
    record_label = _l("Incident")
    datamodel = scoped(Incident)
    list_columns = ["title", "system", "severity", "status", "reporting_department",
                    "occurred_at"]
    search_columns = ["title", "severity", "status", "reporting_department", "occurred_at",
                      "resolved_at", "description"]
    show_fieldsets = [
        (_l("Incident"), {"fields": ["title", "system", "severity", "status", "description",
                                     "reporting_department", "reporter", "assignee"]}),
        (_l("Handling"), {"fields": ["occurred_at", "resolved_at", "time_to_resolve",
                                     "closed_at", "root_cause", "resolution"]}),
    ]
    add_columns = ["title", "system", "severity", "description", "reporting_department",
                   "reporter", "assignee", "occurred_at", "resolved_at", "root_cause",
                   "resolution"]
    edit_columns = add_columns
    order_columns = ["title", "severity", "status", "occurred_at"]
    base_order = ("occurred_at", "desc")
    formatters_columns = {"time_to_resolve": duration, "closed_at": local_time}
    add_form_defaults = {"reporter": current_actor}
    add_form_query_rel_fields = {
        "reporter": [["username", FilterDepartmentUsers, "reporting_department_id"]],
        "assignee": [["username", FilterHasRole, "ITStaff"]],
    }
    edit_form_query_rel_fields = add_form_query_rel_fields


class ChangeRequestView(RecordView):
    record_label = _l("Change request")
    datamodel = scoped(ChangeRequest)
    list_columns = ["change_number", "title", "system", "kind", "window_start", "status"]
    search_columns = ["change_number", "title", "kind", "status", "department", "window_start",
                      "window_end"]
    show_fieldsets = [
        (_l("Change request"), {"fields": ["change_number", "title", "system", "department",
                                           "kind", "status"]}),
        (_l("Plan and window"), {"fields": ["change_plan", "rollback_plan", "risk",
                                            "window_start", "window_end"]}),
    ]
    add_columns = ["change_number", "title", "system", "kind", "change_plan",
                   "rollback_plan", "risk", "window_start", "window_end"]
    edit_columns = add_columns
    order_columns = ["change_number", "title", "kind", "window_start", "status"]
    base_order = ("change_number", "desc")
    # The system decides the requesting department: only systems of the user's own.
    add_form_query_rel_fields = {
        "system": [["owning_department_id", FilterOwnedInScope, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields


class OperationLogView(RecordView):
    record_label = _l("Operation log entry")
    datamodel = scoped(OperationLog)
    list_columns = ["performed_at", "system", "kind", "result", "operator", "content"]
    search_columns = ["kind", "result", "department", "performed_at", "unauthorised",
                      "content"]
    show_fieldsets = [
        (_l("Operation log entry"), {"fields": ["system", "department", "kind",
                                                "performed_at", "operator", "result",
                                                "content"]}),
        (_l("Inspection"), {"fields": ["checklist", "abnormal_items"]}),
        (_l("Change authorisation"), {"fields": ["change_request", "unauthorised"]}),
    ]
    add_columns = ["system", "kind", "performed_at", "operator", "content", "result",
                   "abnormal_items", "change_request"]
    edit_columns = add_columns
    order_columns = ["performed_at", "kind", "result"]
    base_order = ("performed_at", "desc")
    add_form_defaults = {"operator": current_actor}
    add_form_query_rel_fields = {
        "operator": [["username", FilterHasRole, "ITStaff"]],
        "change_request": [["change_number", FilterApprovedChanges, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    description_columns = {
        "change_request": _l("A configuration or data change must follow an approved change "
                             "request of the same system; otherwise it is recorded as "
                             "unauthorised (5.1.4). Only approved change requests are "
                             "offered, of the entry's system."),
        "abnormal_items": _l("For an inspection: the checklist items found abnormal."),
    }


class InspectionChecklistView(RecordView):
    record_label = _l("Inspection checklist")
    datamodel = scoped(InspectionChecklist)
    list_columns = ["system", "department", "items"]
    search_columns = ["department", "items"]
    show_columns = ["system", "department", "items"]
    add_columns = ["system", "items"]
    edit_columns = add_columns
    order_columns = []
    base_order = ("id", "asc")


class MaintenanceRecordView(RecordView):
    record_label = _l("Maintenance record")
    datamodel = scoped(MaintenanceRecord)
    list_columns = ["performed_at", "maintenance_plan", "category", "performed_by", "result"]
    search_columns = ["category", "department", "performed_at", "result"]
    show_columns = ["maintenance_plan", "department", "category", "performed_at",
                    "performed_by", "result"]
    add_columns = ["maintenance_plan", "category", "performed_at", "performed_by", "result"]
    edit_columns = add_columns
    order_columns = ["performed_at", "category"]
    base_order = ("performed_at", "desc")
    add_form_defaults = {"performed_by": current_actor}
    add_form_query_rel_fields = {
        "performed_by": [["username", FilterHasRole, "ITStaff"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields


class MaintenancePlanView(RecordView):
    record_label = _l("Maintenance plan")
    datamodel = scoped(MaintenancePlan)
    list_columns = ["title", "system", "kind", "cycle_days", "responsible", "next_due"]
    search_columns = ["title", "kind", "department", "next_due", "content"]
    show_columns = ["title", "system", "department", "kind", "content", "cycle_days",
                    "responsible", "start_date", "next_due"]
    add_columns = ["title", "system", "kind", "content", "cycle_days", "responsible",
                   "start_date"]
    edit_columns = add_columns
    order_columns = ["title", "kind", "next_due"]
    base_order = ("next_due", "asc")
    add_form_query_rel_fields = {
        "responsible": [["username", FilterHasRole, "ITStaff"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    description_columns = {
        "next_due": _l("The last maintenance recorded plus the cycle (before any: the start "
                       "plus the cycle)."),
    }
    related_records = (MaintenanceRecord,)


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Operations", _l("Operation and maintenance"), "fa-wrench", [
        (IncidentView, _l("Incidents"), "fa-bolt"),
        (ChangeRequestView, _l("Change requests"), "fa-cogs"),
        (OperationLogView, _l("Operation log"), "fa-list-alt"),
        (InspectionChecklistView, _l("Inspection checklists"), "fa-check-square"),
        (MaintenancePlanView, _l("Maintenance plans"), "fa-calendar"),
        (MaintenanceRecordView, _l("Maintenance records"), "fa-medkit"),
    ]),
]

# The unauthorised changes (5.1.4) for the IT department head: a menu entry opening the
# operation log filtered to them, and a card with their count on the IT head's home page.
MENU_LINKS = [
    ListLink("UnauthorisedChanges", "Operations", OperationLogView, UNAUTHORISED,
             _l("Unauthorised changes"), "fa-exclamation-triangle",
             home=lambda user, scope: scope.it_department
             and any(role.name == "DeptHead" for role in user.roles)),
]


# --------------------------------------------------------------------- REST API

class IncidentApi(RecordApi):
    resource_name = "incident"
    datamodel = ScopedInterface(Incident)
    list_columns = ["id", "title", "system_id", "severity", "status",
                    "reporting_department_id", "occurred_at"]
    show_columns = ["title", "system_id", "severity", "status", "description",
                    "reporting_department_id", "reporter_id", "assignee_id", "occurred_at",
                    "resolved_at", "closed_at", "root_cause", "resolution"]
    add_columns = ["title", "system", "severity", "description", "reporting_department",
                   "reporter", "assignee", "occurred_at", "resolved_at", "root_cause",
                   "resolution"]
    edit_columns = add_columns
    order_columns = ["title", "severity", "occurred_at"]


class ChangeRequestApi(RecordApi):
    resource_name = "change_request"
    datamodel = ScopedInterface(ChangeRequest)
    list_columns = ["id", "change_number", "title", "system_id", "department_id", "kind",
                    "window_start", "status"]
    show_columns = ["change_number", "title", "system_id", "department_id", "kind",
                    "change_plan", "rollback_plan", "risk", "window_start", "window_end",
                    "status"]
    add_columns = ["change_number", "title", "system", "kind", "change_plan",
                   "rollback_plan", "risk", "window_start", "window_end"]
    edit_columns = add_columns
    order_columns = ["change_number", "window_start"]


class OperationLogApi(RecordApi):
    resource_name = "operation_log"
    datamodel = ScopedInterface(OperationLog)
    list_columns = ["id", "system_id", "department_id", "kind", "performed_at", "result",
                    "unauthorised"]
    show_columns = ["system_id", "department_id", "kind", "performed_at", "operator_id",
                    "content", "result", "abnormal_items", "change_request_id",
                    "unauthorised"]
    add_columns = ["system", "kind", "performed_at", "operator", "content", "result",
                   "abnormal_items", "change_request"]
    edit_columns = add_columns
    order_columns = ["performed_at", "kind"]


class InspectionChecklistApi(RecordApi):
    resource_name = "inspection_checklist"
    datamodel = ScopedInterface(InspectionChecklist)
    list_columns = ["id", "system_id", "department_id"]
    show_columns = ["system_id", "department_id", "items"]
    add_columns = ["system", "items"]
    edit_columns = add_columns
    order_columns = []


class MaintenancePlanApi(RecordApi):
    resource_name = "maintenance_plan"
    datamodel = ScopedInterface(MaintenancePlan)
    list_columns = ["id", "title", "system_id", "department_id", "kind", "cycle_days",
                    "next_due"]
    show_columns = ["title", "system_id", "department_id", "kind", "content", "cycle_days",
                    "responsible_id", "start_date", "next_due"]
    add_columns = ["title", "system", "kind", "content", "cycle_days", "responsible",
                   "start_date"]
    edit_columns = add_columns
    order_columns = ["title", "next_due"]


class MaintenanceRecordApi(RecordApi):
    resource_name = "maintenance_record"
    datamodel = ScopedInterface(MaintenanceRecord)
    list_columns = ["id", "maintenance_plan_id", "department_id", "category",
                    "performed_at"]
    show_columns = ["maintenance_plan_id", "department_id", "category", "performed_at",
                    "performed_by_id", "result"]
    add_columns = ["maintenance_plan", "category", "performed_at", "performed_by", "result"]
    edit_columns = add_columns
    order_columns = ["performed_at"]


APIS = [IncidentApi, ChangeRequestApi, OperationLogApi, InspectionChecklistApi,
        MaintenancePlanApi, MaintenanceRecordApi]
