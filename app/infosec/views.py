"""Information security (regulation chapter 6): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.records import RecordView, scoped
from app.security import ScopedInterface


# ============================================================================
# 6.1 security policies, 6.2 vulnerability scans, vulnerabilities and risk
# assessments, 6.3.1-6.3.2 security training and attendance
# ============================================================================

POLICY_SCREENS = [
]

POLICY_APIS = [
]

# (end of 6.1-6.3.2)


# ============================================================================
# 6.3.3 personnel clearances, 6.4 emergency plans, drills and security events
# ============================================================================

from app.forms import FilterDepartmentUsers, FilterHasRole, FilterVisible  # noqa: E402
from app.infosec.models import (  # noqa: E402
    APPROVED_PLANS,
    Drill,
    EmergencyPlan,
    PersonnelClearance,
    SecurityEvent,
)
from app.records import local_time  # noqa: E402
from app.security import current_actor  # noqa: E402


class FilterApprovedPlans(FilterVisible):
    """Dropdown filter: the emergency plans that may be drilled (approved or in force)."""

    arg_name = "approvedplan"

    def apply(self, query, value):
        return super().apply(query, value).filter(self.model.status.in_(APPROVED_PLANS))


class PersonnelClearanceView(RecordView):
    record_label = _l("Personnel clearance")
    datamodel = scoped(PersonnelClearance)
    list_columns = ["person", "post", "department", "background_result",
                    "agreement_signed_on", "agreement_expires_on"]
    search_columns = ["post", "department", "background_result", "background_checked_on",
                      "agreement_signed_on", "agreement_expires_on", "notes"]
    show_fieldsets = [
        (_l("Person"), {"fields": ["person", "post", "department", "privileged_systems"]}),
        (_l("Background check"), {"fields": ["background_checked_on", "background_result"]}),
        (_l("Confidentiality agreement"), {"fields": ["agreement_signed_on",
                                                      "agreement_expires_on",
                                                      "agreement_file", "notes"]}),
    ]
    add_columns = ["person", "post", "privileged_systems", "background_checked_on",
                   "background_result", "agreement_signed_on", "agreement_expires_on",
                   "agreement_file", "notes"]
    edit_columns = add_columns
    order_columns = ["post", "background_checked_on", "background_result",
                     "agreement_signed_on", "agreement_expires_on"]
    base_order = ("agreement_expires_on", "asc")
    description_columns = {
        "privileged_systems": _l("The systems the person administers or has privileged "
                                 "access to. A system's IT custodian counts as privileged "
                                 "staff of it whether listed or not (6.3.3)."),
    }


class EmergencyPlanView(RecordView):
    record_label = _l("Emergency plan")
    datamodel = scoped(EmergencyPlan)
    list_columns = ["title", "edition", "department", "status", "changed_on"]
    search_columns = ["title", "edition", "status", "department", "scenario", "procedure"]
    show_fieldsets = [
        (_l("Emergency plan"), {"fields": ["title", "edition", "department", "status",
                                           "systems", "document"]}),
        (_l("Plan content"), {"fields": ["scenario", "procedure", "responsibilities",
                                         "resources"]}),
    ]
    add_columns = ["title", "edition", "department", "systems", "scenario", "procedure",
                   "responsibilities", "resources", "document"]
    edit_columns = add_columns
    order_columns = ["title", "edition", "status"]
    base_order = ("title", "asc")
    related_records = (Drill,)


class DrillView(RecordView):
    record_label = _l("Emergency drill")
    datamodel = scoped(Drill)
    list_columns = ["held_on", "emergency_plan", "result", "participants"]
    search_columns = ["held_on", "result", "department", "scenario", "participants",
                      "issues"]
    show_fieldsets = [
        (_l("Emergency drill"), {"fields": ["emergency_plan", "held_on", "scenario", "participants",
                                            "result"]}),
        (_l("Findings"), {"fields": ["issues", "follow_up", "report"]}),
    ]
    add_columns = ["emergency_plan", "held_on", "scenario", "participants", "result", "issues",
                   "follow_up", "report"]
    edit_columns = add_columns
    order_columns = ["held_on", "result"]
    base_order = ("held_on", "desc")
    add_form_query_rel_fields = {"emergency_plan": [["id", FilterApprovedPlans, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    description_columns = {
        "emergency_plan": _l("Only an approved emergency plan (approved or in force) can be drilled."),
    }


class SecurityEventView(RecordView):
    record_label = _l("Security event")
    datamodel = scoped(SecurityEvent)
    list_columns = ["title", "system", "category", "severity", "status", "occurred_at"]
    search_columns = ["title", "category", "severity", "status", "department", "occurred_at",
                      "description", "lessons"]
    show_fieldsets = [
        (_l("Security event"), {"fields": ["title", "system", "department", "category",
                                           "severity", "status", "occurred_at",
                                           "detected_at", "description", "incident",
                                           "reporter", "handler", "closed_at"]}),
        (_l("Investigation and improvement"), {"fields": ["investigation", "lessons",
                                                          "measures"]}),
    ]
    add_columns = ["title", "system", "occurred_at", "detected_at", "category", "severity",
                   "description", "incident", "reporter", "handler", "investigation",
                   "lessons", "measures"]
    edit_columns = add_columns
    order_columns = ["title", "occurred_at", "category", "severity", "status"]
    base_order = ("occurred_at", "desc")
    formatters_columns = {"closed_at": local_time}
    add_form_defaults = {"reporter": current_actor}
    add_form_query_rel_fields = {
        # Only an incident the user may see can be named (scoping on related records).
        "incident": [["id", FilterVisible, None]],
        "reporter": [["username", FilterDepartmentUsers, "department_id"]],
        "handler": [["username", FilterHasRole, "ITStaff"]],
    }
    edit_form_query_rel_fields = add_form_query_rel_fields
    description_columns = {
        "incident": _l("The incident (5.1.2) the event was handled as, if any."),
    }


CONTINUITY_SCREENS = [
    (PersonnelClearanceView, _l("Personnel clearances"), "fa-id-badge"),
    (EmergencyPlanView, _l("Emergency plans"), "fa-life-ring"),
    (DrillView, _l("Emergency drills"), "fa-fire-extinguisher"),
    (SecurityEventView, _l("Security events"), "fa-exclamation-triangle"),
]


class PersonnelClearanceApi(RecordApi):
    resource_name = "personnel_clearance"
    datamodel = ScopedInterface(PersonnelClearance)
    list_columns = ["id", "person_id", "post", "department_id", "background_result",
                    "agreement_signed_on", "agreement_expires_on"]
    show_columns = ["person_id", "post", "department_id", "background_checked_on",
                    "background_result", "agreement_signed_on", "agreement_expires_on",
                    "privileged_systems.id", "agreement_file.filename",
                    "agreement_file.sha256", "notes"]
    add_columns = ["person", "post", "privileged_systems", "background_checked_on",
                   "background_result", "agreement_signed_on", "agreement_expires_on",
                   "notes"]
    edit_columns = add_columns
    order_columns = ["post", "background_checked_on", "agreement_expires_on"]


class EmergencyPlanApi(RecordApi):
    resource_name = "emergency_plan"
    datamodel = ScopedInterface(EmergencyPlan)
    list_columns = ["id", "title", "edition", "department_id", "status"]
    show_columns = ["title", "edition", "department_id", "status", "systems.id", "scenario", "procedure",
                    "responsibilities", "resources", "document.filename", "document.sha256"]
    add_columns = ["title", "edition", "department", "systems", "scenario", "procedure",
                   "responsibilities", "resources"]
    edit_columns = add_columns
    order_columns = ["title", "edition"]


class DrillApi(RecordApi):
    resource_name = "drill"
    datamodel = ScopedInterface(Drill)
    list_columns = ["id", "emergency_plan_id", "department_id", "held_on", "result"]
    show_columns = ["emergency_plan_id", "department_id", "held_on", "scenario", "participants", "result", "issues",
                    "follow_up", "report.filename", "report.sha256"]
    add_columns = ["emergency_plan", "held_on", "scenario", "participants", "result", "issues",
                   "follow_up"]
    edit_columns = add_columns
    order_columns = ["held_on", "result"]


class SecurityEventApi(RecordApi):
    resource_name = "security_event"
    datamodel = ScopedInterface(SecurityEvent)
    list_columns = ["id", "title", "system_id", "department_id", "category", "severity",
                    "status", "occurred_at"]
    show_columns = ["title", "system_id", "department_id", "occurred_at", "detected_at",
                    "category", "severity", "description", "incident_id", "reporter_id",
                    "handler_id", "investigation", "lessons", "measures", "closed_at",
                    "status"]
    add_columns = ["title", "system", "occurred_at", "detected_at", "category", "severity",
                   "description", "incident", "reporter", "handler", "investigation",
                   "lessons", "measures"]
    edit_columns = add_columns
    order_columns = ["title", "occurred_at", "category", "severity"]


CONTINUITY_APIS = [PersonnelClearanceApi, EmergencyPlanApi, DrillApi, SecurityEventApi]

# (end of 6.3.3-6.4)


# ------------------------------------------------------------------ Registration

MENU = [
    ("Security", _l("Information security"), "fa-shield",
     POLICY_SCREENS + CONTINUITY_SCREENS),
] if POLICY_SCREENS or CONTINUITY_SCREENS else []

APIS = POLICY_APIS + CONTINUITY_APIS
