"""Operation and maintenance (regulation chapter 5): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.forms import FilterDepartmentUsers, FilterHasRole, FilterOwnedInScope
from app.operations.models import ChangeRequest, Incident
from app.records import RecordView, duration, local_time, scoped
from app.security import ScopedInterface, current_actor


# ---------------------------------------------------------------------- Screens

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


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Operations", _l("Operation and maintenance"), "fa-wrench", [
        (IncidentView, _l("Incidents"), "fa-bolt"),
        (ChangeRequestView, _l("Change requests"), "fa-cogs"),
    ]),
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


APIS = [IncidentApi, ChangeRequestApi]
