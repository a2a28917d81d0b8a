"""Column labels shared by screens and API docs: one vocabulary (English msgids)."""
from flask_babel import lazy_gettext as _l

LABELS = {
    "id": _l("ID"),
    "code": _l("Code"),
    "name": _l("Name"),
    "kind": _l("Kind"),
    "head": _l("Head"),
    "description": _l("Description"),
    "department": _l("Department"),
    "category": _l("Category"),
    "owning_department": _l("Owning department"),
    "it_custodian": _l("IT custodian"),
    "business_owner": _l("Business owner"),
    "lifecycle": _l("Lifecycle status"),
    "protection_level": _l("Protection level"),
    "go_live_date": _l("Go-live date"),
    "vendor": _l("Vendor"),
    "applicant_department": _l("Applicant department"),
    "background": _l("Background"),
    "goals": _l("Goals"),
    "content": _l("Content"),
    "budget": _l("Budget (CNY)"),
    "implementation_plan": _l("Implementation plan"),
    "systems": _l("Related systems"),
    "requirements_report": _l("Requirements analysis report"),
    "feasibility_report": _l("Feasibility study report"),
    "expert_opinion": _l("Expert review opinion"),
    "acceptance_report": _l("Acceptance report"),
    "expert": _l("Expert"),
    "no_conflict": _l("I declare no conflict of interest"),
    "score": _l("Score (0-100)"),
    "opinion": _l("Opinion"),
    "principal": _l("Delegating person"),
    "substitute": _l("Substitute"),
    "reason": _l("Reason"),
    "version": _l("Version"),
    "submitted_by": _l("Submitted by"),
    "status": _l("Status"),
    "credit_code": _l("Unified social credit code"),
    "qualification": _l("Qualification"),
    "rating": _l("Reputation rating"),
    "contact_person": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact email"),
    "number": _l("Contract number"),
    "project": _l("Project"),
    "system": _l("System"),
    "amount": _l("Amount (CNY)"),
    "sign_date": _l("Signing date"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "scope": _l("Scope"),
    "schedule": _l("Schedule"),
    "quality_terms": _l("Quality terms"),
    "acceptance_terms": _l("Acceptance terms"),
    "after_sales_terms": _l("After-sales terms"),
    "signed_file": _l("Signed contract file"),
    "title": _l("Title"),
    "severity": _l("Severity"),
    "reporting_department": _l("Reporting department"),
    "reporter": _l("Reporter"),
    "assignee": _l("Assignee"),
    "occurred_at": _l("Occurred at"),
    "resolved_at": _l("Resolved at"),
    "closed_at": _l("Closed at"),
    "time_to_resolve": _l("Time to resolve"),
    "root_cause": _l("Root cause"),
    "resolution": _l("Resolution"),
    "period_start": _l("Period start"),
    "period_end": _l("Period end"),
    "auditor": _l("Auditor"),
    "conclusion": _l("Conclusion"),
    "audit": _l("Audit"),
    "responsible_department": _l("Responsible department"),
    "due_date": _l("Rectification due date"),
    "rectification": _l("Rectification"),
    "rectification_evidence": _l("Rectification evidence"),
    "period": _l("Plan period"),
    "plan_version": _l("Plan version"),
    "previous_version": _l("Previous version"),
    "tasks": _l("Tasks"),
    "priorities": _l("Priorities"),
    "plan": _l("Development plan"),
    "it_response": _l("IT response"),
    "change_number": _l("Change number"),
    "change_content": _l("Change content"),
    "contract": _l("Contract"),
    "cost_impact": _l("Cost impact (CNY)"),
    "schedule_impact": _l("Schedule impact"),
    "change_plan": _l("Change plan"),
    "rollback_plan": _l("Rollback plan"),
    "risk": _l("Risk assessment"),
    "window_start": _l("Window start"),
    "window_end": _l("Window end"),
    "performed_at": _l("Performed at"),
    "operator": _l("Operator"),
    "result": _l("Result"),
    "abnormal_items": _l("Abnormal items"),
    "change_request": _l("Change request"),
    "unauthorised": _l("Unauthorised change"),
    "checklist": _l("Inspection checklist"),
    "items": _l("Checklist items"),
    "maintenance_plan": _l("Maintenance plan"),
    "cycle_days": _l("Cycle (days)"),
    "responsible": _l("Responsible person"),
    "next_due": _l("Next due date"),
    "performed_by": _l("Performed by"),
    "requesting_department": _l("Requesting department"),
    "providing_department": _l("Providing department"),
    "data_scope": _l("Data scope"),
    "purpose": _l("Purpose"),
    "owner_department": _l("Owner department"),
    "classification": _l("Classification"),
    "personal_data": _l("Holds personal data"),
    "retention_months": _l("Retention (months)"),
    "checked_on": _l("Checked on"),
    "dimension": _l("Quality dimension"),
    "issues": _l("Issues found"),
    "rectification_due": _l("Rectification due date"),
    "rectified_on": _l("Rectified on"),
    "taken_at": _l("Backup time"),
    "medium": _l("Backup medium"),
    "offsite_location": _l("Off-site location"),
    "succeeded": _l("Succeeded"),
    "restore_tested_on": _l("Restore test date"),
    "restore_result": _l("Restore test result"),
    "notes": _l("Notes"),
    "supervision_check": _l("Supervision check"),
    "inspector": _l("Inspector"),
    "checked_duties": _l("Duties of the IT and owning departments performed"),
    "checked_rules": _l("Construction and management rules applied"),
    "checked_operations": _l("Operation, maintenance and security management"),
    "checked_data": _l("Data management"),
    "result": _l("Result"),
    "follow_up": _l("Follow-up"),
    "created_by": _l("Created by"),
    "created_on": _l("Created on"),
    "changed_by": _l("Changed by"),
    "changed_on": _l("Changed on"),
}

# Chapter 6.3.3-6.4: personnel clearances, emergency plans, drills, security events.
LABELS.update({
    "person": _l("Person"),
    "post": _l("Post"),
    "background_checked_on": _l("Background check date"),
    "background_result": _l("Background check result"),
    "agreement_signed_on": _l("Confidentiality agreement signed on"),
    "agreement_expires_on": _l("Confidentiality agreement expires on"),
    "agreement_file": _l("Confidentiality agreement file"),
    "privileged_systems": _l("Systems with privileged access"),
    "edition": _l("Plan version"),
    "scenario": _l("Scenario and scope"),
    "procedure": _l("Handling procedure"),
    "responsibilities": _l("Roles and responsibilities"),
    "resources": _l("Emergency resources"),
    "document": _l("Plan document"),
    "emergency_plan": _l("Emergency plan"),
    "held_on": _l("Drill date"),
    "participants": _l("Participants"),
    "report": _l("Drill report"),
    "detected_at": _l("Detected at"),
    "incident": _l("Related incident"),
    "investigation": _l("Investigation and analysis"),
    "lessons": _l("Lessons learned"),
    "measures": _l("Improvement measures"),
    "handler": _l("Handler"),
})

# The part after the dot of a related column the API shows ("created_by.username").
SUB_LABELS = {
    "filename": _l("file name"),
    "sha256": _l("SHA-256"),
    "username": _l("login"),
    "name": _l("name"),
}


def column_label(column):
    """The label of any column a screen or the API names: "applicant_department_id" reads
    as 申请部门, "feasibility_report.filename" as 可行性研究报告（文件名）."""
    if column in LABELS:
        return LABELS[column]
    if "." in column:
        head, _dot, tail = column.partition(".")
        if tail in SUB_LABELS:
            return _l("%(field)s (%(part)s)", field=column_label(head), part=SUB_LABELS[tail])
        return column_label(head)
    for suffix in ("_id", "_fk"):
        if column.endswith(suffix) and column[:-len(suffix)] in LABELS:
            return LABELS[column[:-len(suffix)]]
    return None


def labels_for(columns):
    """LABELS plus a label for every derived column in ``columns``."""
    labels = dict(LABELS)
    for column in columns:
        label = column_label(column)
        if label is not None:
            labels.setdefault(column, label)
    return labels


# Model name -> the record's name for people ("Project request"), filled by RecordView
# (app/records.py) as each record screen is declared.
RECORD_LABELS = {}
