"""Audit and supervision (regulation chapter 8): screens and API resources. The
change log and the separation-of-duties report join this menu from the core."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.audit.models import Audit, AuditFinding, SupervisionCheck
from app.forms import FilterHasRole
from app.records import RecordView, scoped
from app.security import ScopedInterface


# ---------------------------------------------------------------------- Screens

class AuditView(RecordView):
    record_label = _l("Audit")
    datamodel = scoped(Audit)
    list_columns = ["title", "kind", "department", "period_start", "period_end", "auditor"]
    search_columns = ["title", "kind", "department", "period_start", "period_end"]
    show_columns = ["title", "kind", "department", "scope", "period_start", "period_end",
                    "auditor", "conclusion"]
    add_columns = ["title", "kind", "department", "scope", "period_start", "period_end",
                   "auditor", "conclusion"]
    edit_columns = add_columns
    order_columns = ["title", "kind", "period_start", "period_end"]
    base_order = ("period_start", "desc")
    add_form_query_rel_fields = {"auditor": [["username", FilterHasRole, "Auditor"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    related_records = (AuditFinding,)


class SupervisionCheckView(RecordView):
    record_label = _l("Supervision check")
    datamodel = scoped(SupervisionCheck)
    list_columns = ["title", "checked_on", "department", "inspector", "result"]
    search_columns = ["title", "department", "checked_on", "result", "issues"]
    show_fieldsets = [
        (_l("Check"), {"fields": ["title", "department", "checked_on", "inspector", "result"]}),
        (_l("Items checked (8.2.2)"), {"fields": ["checked_duties", "checked_rules",
                                                  "checked_operations", "checked_data"]}),
        (_l("Issues and follow-up"), {"fields": ["issues", "follow_up"]}),
    ]
    add_columns = ["title", "department", "checked_on", "inspector", "checked_duties",
                   "checked_rules", "checked_operations", "checked_data", "result", "issues",
                   "follow_up"]
    edit_columns = add_columns
    order_columns = ["title", "checked_on", "result"]
    base_order = ("checked_on", "desc")
    add_form_query_rel_fields = {"inspector": [["username", FilterHasRole, "Auditor"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    related_records = (AuditFinding,)


class AuditFindingView(RecordView):
    record_label = _l("Audit finding")
    datamodel = scoped(AuditFinding)
    list_columns = ["title", "audit", "supervision_check", "severity",
                    "responsible_department", "due_date", "status"]
    search_columns = ["title", "severity", "status", "responsible_department", "due_date"]
    show_columns = ["audit", "supervision_check", "title", "description", "severity",
                    "responsible_department", "system", "due_date", "rectification", "rectification_evidence", "status"]
    add_columns = ["audit", "supervision_check", "title", "description", "severity",
                   "responsible_department", "system", "due_date", "rectification"]
    edit_columns = add_columns
    order_columns = ["title", "severity", "due_date", "status"]
    base_order = ("due_date", "asc")


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Audits", _l("Audit and supervision"), "fa-search", [
        (AuditView, _l("Audits"), "fa-check-square-o"),
        (SupervisionCheckView, _l("Supervision checks"), "fa-eye"),
        (AuditFindingView, _l("Audit findings"), "fa-flag"),
    ]),
]


# --------------------------------------------------------------------- REST API

class AuditApi(RecordApi):
    resource_name = "audit"
    datamodel = ScopedInterface(Audit)
    list_columns = ["id", "title", "kind", "department_id", "period_start", "period_end"]
    show_columns = ["title", "kind", "department_id", "scope", "period_start", "period_end",
                    "auditor_id", "conclusion"]
    add_columns = ["title", "kind", "department", "scope", "period_start", "period_end",
                   "auditor", "conclusion"]
    edit_columns = add_columns
    order_columns = ["title", "period_start"]


class AuditFindingApi(RecordApi):
    resource_name = "audit_finding"
    datamodel = ScopedInterface(AuditFinding)
    list_columns = ["id", "title", "audit_id", "supervision_check_id", "severity",
                    "responsible_department_id", "due_date", "status"]
    show_columns = ["audit_id", "supervision_check_id", "title", "description", "severity",
                    "responsible_department_id", "system_id", "due_date", "rectification",
                    "rectification_evidence.filename", "rectification_evidence.sha256",
                    "status"]
    add_columns = ["audit", "supervision_check", "title", "description", "severity",
                   "responsible_department", "system", "due_date", "rectification"]
    edit_columns = add_columns
    order_columns = ["title", "due_date", "severity"]


class SupervisionCheckApi(RecordApi):
    resource_name = "supervision_check"
    datamodel = ScopedInterface(SupervisionCheck)
    list_columns = ["id", "title", "department_id", "checked_on", "inspector_id", "result"]
    show_columns = ["title", "department_id", "checked_on", "inspector_id", "checked_duties",
                    "checked_rules", "checked_operations", "checked_data", "result",
                    "issues", "follow_up"]
    add_columns = ["title", "department", "checked_on", "inspector", "checked_duties",
                   "checked_rules", "checked_operations", "checked_data", "result", "issues",
                   "follow_up"]
    edit_columns = add_columns
    order_columns = ["title", "checked_on", "result"]


APIS = [AuditApi, SupervisionCheckApi, AuditFindingApi]
