"""Information security (regulation chapter 6): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.records import RecordView, scoped
from app.security import ScopedInterface
from app.forms import FilterHasRole
from app.infosec.models import (
    RiskAssessment,
    SecurityPolicy,
    Training,
    TrainingAttendance,
    Vulnerability,
    VulnerabilityScan,
)
from app.security import current_actor


# ============================================================================
# 6.1 security policies, 6.2 vulnerability scans, vulnerabilities and risk
# assessments, 6.3.1-6.3.2 security training and attendance
# ============================================================================


class SecurityPolicyView(RecordView):
    record_label = _l("Security policy")
    datamodel = scoped(SecurityPolicy)
    label_columns = {
        "measures": _l("Measures and requirements"),
        "document": _l("Policy document"),
    }
    list_columns = ["title", "category", "policy_version", "effective_date", "status"]
    search_columns = ["title", "category", "status", "effective_date", "objectives",
                      "measures", "created_on"]
    show_fieldsets = [
        (_l("Security policy"), {"fields": ["title", "category", "policy_version",
                                            "previous_version", "effective_date", "status",
                                            "document"]}),
        (_l("Content"), {"fields": ["basis", "objectives", "principles", "measures"]}),
    ]
    add_columns = ["title", "category", "policy_version", "previous_version",
                   "effective_date", "basis", "objectives", "principles", "measures",
                   "document"]
    edit_columns = add_columns
    order_columns = ["title", "category", "effective_date", "status"]
    base_order = ("effective_date", "desc")
    description_columns = {
        "previous_version": _l("The version this one replaces: once this one is in "
                               "effect, the older one is marked superseded."),
        "basis": _l("The national laws, regulations and industry standards it follows."),
    }


class VulnerabilityView(RecordView):
    record_label = _l("Vulnerability")
    datamodel = scoped(Vulnerability)
    list_columns = ["title", "system", "identifier", "severity", "status", "found_on",
                    "due_date"]
    search_columns = ["title", "identifier", "severity", "status", "department", "found_on",
                      "due_date", "fixed_on"]
    show_fieldsets = [
        (_l("Vulnerability"), {"fields": ["title", "identifier", "scan", "system",
                                          "department", "severity", "status"]}),
        (_l("Fixing"), {"fields": ["found_on", "due_date", "fixed_on", "remediation"]}),
    ]
    add_columns = ["scan", "title", "identifier", "severity", "status", "found_on",
                   "fixed_on", "remediation"]
    edit_columns = add_columns
    order_columns = ["title", "severity", "status", "found_on", "due_date"]
    base_order = ("due_date", "asc")
    label_columns = {"due_date": _l("Fix due date")}
    description_columns = {
        "due_date": _l("The date found plus the days its severity allows "
                       "(VULNERABILITY_FIX_DAYS)."),
        "fixed_on": _l("Required once the vulnerability is fixed."),
    }


class VulnerabilityScanView(RecordView):
    record_label = _l("Vulnerability scan")
    datamodel = scoped(VulnerabilityScan)
    label_columns = {"summary": _l("Result summary")}
    list_columns = ["scanned_on", "system", "tool", "performer", "summary"]
    search_columns = ["tool", "department", "scanned_on", "scan_scope", "summary"]
    show_columns = ["system", "department", "scanned_on", "tool", "scan_scope", "performer",
                    "summary", "report"]
    add_columns = ["system", "scanned_on", "tool", "scan_scope", "performer", "summary",
                   "report"]
    edit_columns = add_columns
    order_columns = ["scanned_on", "tool"]
    base_order = ("scanned_on", "desc")
    add_form_defaults = {"performer": current_actor}
    add_form_query_rel_fields = {"performer": [["username", FilterHasRole, "ITStaff"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    related_records = (Vulnerability,)


class RiskAssessmentView(RecordView):
    record_label = _l("Risk assessment")
    datamodel = scoped(RiskAssessment)
    label_columns = {"method": _l("Assessment method")}
    list_columns = ["assessed_on", "system", "risk_level", "residual_risk", "assessor",
                    "next_assessment_on"]
    search_columns = ["risk_level", "residual_risk", "department", "assessed_on",
                      "next_assessment_on", "risks"]
    show_fieldsets = [
        (_l("Risk assessment"), {"fields": ["system", "department", "assessed_on",
                                            "assessor", "assessment_scope", "method",
                                            "report"]}),
        (_l("Risks and treatment"), {"fields": ["risks", "risk_level", "treatment_plan",
                                                "residual_risk", "next_assessment_on"]}),
    ]
    add_columns = ["system", "assessed_on", "assessor", "assessment_scope", "method", "risks",
                   "risk_level", "treatment_plan", "residual_risk", "next_assessment_on",
                   "report"]
    edit_columns = add_columns
    order_columns = ["assessed_on", "risk_level", "next_assessment_on"]
    base_order = ("assessed_on", "desc")
    add_form_defaults = {"assessor": current_actor}
    add_form_query_rel_fields = {"assessor": [["username", FilterHasRole, "ITStaff"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields


class TrainingAttendanceView(RecordView):
    record_label = _l("Training attendance")
    datamodel = scoped(TrainingAttendance)
    list_columns = ["training", "person", "department", "attended", "score", "remarks"]
    search_columns = ["department", "attended", "score", "remarks", "created_on"]
    show_columns = ["training", "person", "department", "attended", "score", "remarks"]
    add_columns = ["training", "person", "attended", "score", "remarks"]
    edit_columns = add_columns
    order_columns = ["attended", "score"]
    base_order = ("changed_on", "desc")


class TrainingView(RecordView):
    record_label = _l("Security training")
    datamodel = scoped(Training)
    label_columns = {"held_on": _l("Training date")}
    list_columns = ["held_on", "title", "trainer", "topic_law", "topic_policy",
                    "topic_skills"]
    search_columns = ["title", "held_on", "topic_law", "topic_policy", "topic_skills",
                      "audience"]
    show_fieldsets = [
        (_l("Security training"), {"fields": ["title", "held_on", "trainer", "audience",
                                              "description", "materials"]}),
        (_l("Topics (6.3.2)"), {"fields": ["topic_law", "topic_policy", "topic_skills"]}),
    ]
    add_columns = ["title", "held_on", "trainer", "topic_law", "topic_policy", "topic_skills",
                   "audience", "description", "materials"]
    edit_columns = add_columns
    order_columns = ["title", "held_on"]
    base_order = ("held_on", "desc")
    related_records = (TrainingAttendance,)


POLICY_SCREENS = [
    (SecurityPolicyView, _l("Security policies"), "fa-file-text-o"),
    (VulnerabilityScanView, _l("Vulnerability scans"), "fa-search"),
    (VulnerabilityView, _l("Vulnerabilities"), "fa-bug"),
    (RiskAssessmentView, _l("Risk assessments"), "fa-exclamation-triangle"),
    (TrainingView, _l("Security training"), "fa-graduation-cap"),
    (TrainingAttendanceView, _l("Training attendance"), "fa-users"),
]


class SecurityPolicyApi(RecordApi):
    resource_name = "security_policy"
    datamodel = ScopedInterface(SecurityPolicy)
    list_columns = ["id", "title", "category", "policy_version", "effective_date", "status"]
    show_columns = ["title", "category", "policy_version", "previous_version_id",
                    "effective_date", "basis", "objectives", "principles", "measures",
                    "status"]
    add_columns = ["title", "category", "policy_version", "previous_version",
                   "effective_date", "basis", "objectives", "principles", "measures"]
    edit_columns = add_columns
    order_columns = ["title", "effective_date"]


class VulnerabilityScanApi(RecordApi):
    resource_name = "vulnerability_scan"
    datamodel = ScopedInterface(VulnerabilityScan)
    list_columns = ["id", "system_id", "department_id", "scanned_on", "tool"]
    show_columns = ["system_id", "department_id", "scanned_on", "tool", "scan_scope",
                    "performer_id", "summary"]
    add_columns = ["system", "scanned_on", "tool", "scan_scope", "performer", "summary"]
    edit_columns = add_columns
    order_columns = ["scanned_on", "tool"]


class VulnerabilityApi(RecordApi):
    resource_name = "vulnerability"
    datamodel = ScopedInterface(Vulnerability)
    list_columns = ["id", "scan_id", "system_id", "department_id", "title", "identifier",
                    "severity", "status", "found_on", "due_date", "fixed_on"]
    show_columns = ["scan_id", "system_id", "department_id", "title", "identifier",
                    "severity", "status", "found_on", "due_date", "fixed_on", "remediation"]
    add_columns = ["scan", "title", "identifier", "severity", "status", "found_on",
                   "fixed_on", "remediation"]
    edit_columns = add_columns
    order_columns = ["severity", "found_on", "due_date"]


class RiskAssessmentApi(RecordApi):
    resource_name = "risk_assessment"
    datamodel = ScopedInterface(RiskAssessment)
    list_columns = ["id", "system_id", "department_id", "assessed_on", "risk_level",
                    "residual_risk", "next_assessment_on"]
    show_columns = ["system_id", "department_id", "assessed_on", "assessor_id",
                    "assessment_scope", "method", "risks", "risk_level", "treatment_plan",
                    "residual_risk", "next_assessment_on"]
    add_columns = ["system", "assessed_on", "assessor", "assessment_scope", "method", "risks",
                   "risk_level", "treatment_plan", "residual_risk", "next_assessment_on"]
    edit_columns = add_columns
    order_columns = ["assessed_on", "next_assessment_on"]


class TrainingApi(RecordApi):
    resource_name = "training"
    datamodel = ScopedInterface(Training)
    list_columns = ["id", "title", "held_on", "trainer", "topic_law", "topic_policy",
                    "topic_skills"]
    show_columns = ["title", "held_on", "trainer", "topic_law", "topic_policy",
                    "topic_skills", "audience", "description"]
    add_columns = ["title", "held_on", "trainer", "topic_law", "topic_policy", "topic_skills",
                   "audience", "description"]
    edit_columns = add_columns
    order_columns = ["title", "held_on"]


class TrainingAttendanceApi(RecordApi):
    resource_name = "training_attendance"
    datamodel = ScopedInterface(TrainingAttendance)
    list_columns = ["id", "training_id", "person_id", "department_id", "attended", "score",
                    "remarks"]
    show_columns = ["training_id", "person_id", "department_id", "attended", "score",
                    "remarks"]
    add_columns = ["training", "person", "attended", "score", "remarks"]
    edit_columns = add_columns
    order_columns = ["score"]


POLICY_APIS = [SecurityPolicyApi, VulnerabilityScanApi, VulnerabilityApi, RiskAssessmentApi,
               TrainingApi, TrainingAttendanceApi]

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
    label_columns = {"document": _l("Plan document")}
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
    label_columns = {"held_on": _l("Drill date"), "report": _l("Drill report")}
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
    label_columns = {"measures": _l("Improvement measures")}
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
    ("InfoSecurity", _l("Information security"), "fa-shield",
     POLICY_SCREENS + CONTINUITY_SCREENS),
] if POLICY_SCREENS or CONTINUITY_SCREENS else []

APIS = POLICY_APIS + CONTINUITY_APIS
