"""REST API at /api/v1/<resource>/: same permissions and scoping as the screens."""
import prison
from flask import jsonify, request
from flask_appbuilder.api import ModelRestApi, expose, permission_name, protect, safe
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection

from .extensions import db
from .filters import INT64
from .labels import LABELS, labels_for
from .models import (
    Delegation,
    ExpertReview,
    Audit,
    AuditFinding,
    ChangeOrder,
    ChangeRequest,
    Contract,
    DataSharingRequest,
    Department,
    DevelopmentPlan,
    Incident,
    InformationSystem,
    PlanFeedback,
    ProjectRequest,
    Vendor,
)
from .history import current_request_id
from .paging import PAGE_MAX
from .security import PERMISSIONS, ScopedInterface, ScopeError, check_write, current_actor
from .validation import (
    DeleteRefused,
    RecordInvalid,
    check_delete,
    check_record,
    database_error,
    declare_schema_rules,
    is_database_error,
)
from .views import FilterInScope, _owner_relationship
from .workflow import N_

STAMPS = ["created_by.username", "created_on", "changed_by.username", "changed_on"]


def related_id_errors(model, payload):
    """Messages for related ids in ``payload`` that are malformed or do not exist."""
    errors = {}
    relationships = sa_inspect(model).relationships
    for key, value in payload.items():
        if key not in relationships or value is None:
            continue
        rel = relationships[key]
        target = rel.mapper.class_
        many = rel.direction is RelationshipDirection.MANYTOMANY
        values = value if many and isinstance(value, list) else [value]
        if many and not isinstance(value, list):
            errors[key] = gettext("Must be a list of ids.")
            continue
        for one in values:
            if isinstance(one, bool) or not isinstance(one, int):
                errors[key] = gettext("Must be an integer id.")
            elif one not in INT64 or db.session.get(target, one) is None:
                errors[key] = gettext("No record with id %(id)s.", id=one)
    return errors


def reject_unparsable_rison():
    """400 for a ``q`` that crashes the rison parser ("((((": RecursionError), which FAB
    answers with a 500; the ordinary parse errors FAB answers itself."""
    value = request.args.get("q")
    if not value:
        return None
    try:
        prison.loads(value)
    except prison.decoder.ParserException:
        return None
    except Exception:
        return jsonify(message=gettext("Not a valid rison argument.")), 400
    return None


# marshmallow's own messages (type errors, unknown fields), answered in the user's language.
MARSHMALLOW_MESSAGES = (
    N_("Missing data for required field."), N_("Field may not be null."),
    N_("Invalid input type."), N_("Invalid value."), N_("Not a valid string."),
    N_("Not a valid integer."), N_("Not a valid number."), N_("Not a valid boolean."),
    N_("Not a valid date."), N_("Not a valid datetime."), N_("Not a valid list."),
    N_("Unknown field."), N_("Not a valid email address."), N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid mapping type."),
)
_KNOWN = frozenset(MARSHMALLOW_MESSAGES)


def translated(message):
    """A message (text, list or field -> messages) with marshmallow's English texts
    translated; our own messages are translated already."""
    if isinstance(message, dict):
        return {key: translated(value) for key, value in message.items()}
    if isinstance(message, (list, tuple)):
        return [translated(value) for value in message]
    if isinstance(message, str) and message in _KNOWN:
        return gettext(message)
    if isinstance(message, str) and message.startswith("Must be one of: "):
        choices = message[len("Must be one of: "):].rstrip(".")
        return gettext("Must be one of: %(choices)s.", choices=choices)
    return message


class RecordApi(ModelRestApi):
    """Shared behaviour of every record API; subclasses are configuration."""

    method_permission_name = PERMISSIONS
    allow_browser_login = False
    page_size = 20
    max_page_size = 100
    label_columns = LABELS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "datamodel" not in cls.__dict__:
            return
        model = cls.datamodel.obj
        cls.class_permission_name = model.__name__
        cls.label_columns = dict(LABELS)
        owner = _owner_relationship(model)
        if owner:
            restrict = {owner: [["id", FilterInScope, None]]}
            cls.add_query_rel_fields = restrict
            cls.edit_query_rel_fields = restrict
        cls.show_columns = ["id"] + list(cls.show_columns) + STAMPS
        # Keys and dotted columns read like the screens ("applicant_department_id": 申请部门).
        cls.label_columns = labels_for(
            column for attr in ("list_columns", "show_columns", "add_columns", "edit_columns",
                                "search_columns")
            for column in getattr(cls, attr, None) or ())

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(reject_unparsable_rison)
        return blueprint

    def _init_model_schemas(self):
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            declare_schema_rules(schema, self.datamodel.obj)

    def _sanitize_page_args(self, page, page_size):
        """FAB passes a negative or huge page on to the database (500)."""
        page, page_size = super()._sanitize_page_args(page, page_size)
        return (None if page is None else min(max(page, 0), PAGE_MAX)), page_size

    def _write(self, handler, *args):
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=gettext("Request body must be a JSON object."))
        errors = related_id_errors(self.datamodel.obj, payload)
        if errors:
            return self.response_400(message=errors)
        return self._refusals(handler, *args)

    def _refusals(self, handler, *args):
        """Every refusal of a write as a clean answer: 403 scope, 409 still referred to or
        changed concurrently, 422 invalid (field messages); never SQL, never 500."""
        try:
            return handler(*args)
        except ScopeError as exc:
            db.session.rollback()
            return self.response_403(message=str(exc))
        except RecordInvalid as exc:
            db.session.rollback()
            return self.response_422(message=exc.errors)
        except DeleteRefused as exc:
            db.session.rollback()
            return self.response(409, message=str(exc))
        except Exception as exc:
            if not is_database_error(exc):
                raise
            status, message = database_error(exc, db.session)
            return self.response(status, message=message, request_id=current_request_id())

    # FAB's own versions answer a database error with its SQL (422) or a 500; these
    # are the same steps with the errors left to _refusals.
    def _post(self):
        try:
            item = self.add_model_schema.load(request.json)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        self.pre_add(item)
        self.datamodel.add(item)
        self.post_add(item)
        return self.response(201, result=self.add_model_schema.dump(item, many=False),
                             id=self.datamodel.get_pk_value(item))

    def _put(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            return self.response_404()
        try:
            data = self._merge_update_item(item, request.json)
            item = self.edit_model_schema.load(data, instance=item)
        except ValidationError as err:
            db.session.rollback()
            return self.response_422(message=err.messages)
        self.pre_update(item)
        self.datamodel.edit(item)
        self.post_update(item)
        return self.response(200, result=self.edit_model_schema.dump(item, many=False))

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            return self.response_404()
        self.pre_delete(item)
        self.datamodel.delete(item)
        self.post_delete(item)
        return self.response(200, message="OK")

    def post_headless(self):
        return self._write(self._post)

    def put_headless(self, pk):
        return self._write(self._put, pk)

    def delete_headless(self, pk):
        return self._refusals(self._delete, pk)

    def pre_add(self, item):
        check_record(item, db.session)

    def pre_update(self, item):
        check_record(item, db.session)

    def pre_delete(self, item):
        check_write(item, deleting=True)  # an outsider learns nothing about references
        check_delete(item, db.session)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        # FAB translates an empty description, which yields the catalog's header text.
        info = super()._get_field_info(field, filter_rel_field, page, page_size)
        if not self.description_columns.get(field.name):
            info["description"] = ""
        return info

    def response_400(self, message=None):
        return super().response_400(message=translated(message))

    def response_422(self, message=None):
        return super().response_422(message=translated(message))

    def response_403(self, message=None):
        return self.response(403, message=message or "Forbidden")

    # -- workflow: state and steps in GET, steps by POST ------------------
    def _workflow_state(self, record):
        from .approvals import transitions_for

        workflow = type(record).__workflow__
        state = getattr(record, workflow.state_field)
        return {"state": state.name, "state_label": str(state),
                "transitions": [{"name": t.name, "label": gettext(t.label),
                                 "needs_comment": t.needs_comment,
                                 "fields": [f for f in t.fields if f in self.edit_columns]}
                                for t in transitions_for(record, current_actor())]}

    def get_headless(self, pk, **kwargs):
        response = super().get_headless(pk, **kwargs)
        model = self.datamodel.obj
        if response.status_code != 200 or not hasattr(model, "__workflow__"):
            return response
        record = self.datamodel.get(pk, self._base_filters)
        body = response.get_json()
        body.update(self._workflow_state(record))
        body["version"] = record.version
        return self.response(200, **body)

    @expose("/<int:pk>/transition/<name>", methods=["POST"])
    @protect()
    @safe
    @permission_name("transition")
    def transition(self, pk, name):
        """Fire workflow step ``name``; JSON body {"comment": "...", "version": n, and the
        fields the step needs (``fields`` of the step in GET), written with the step in
        one transaction under the same rules as an edit}."""
        from .approvals import perform
        from .validation import RecordInvalid
        from .workflow import WorkflowError

        record = self.datamodel.get(pk, self._base_filters)
        if record is None or not hasattr(type(record), "__workflow__"):
            return self.response_404()
        payload = request.get_json(silent=True)
        if payload is None:
            payload = {}
        version = payload.get("version") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or not isinstance(payload.get("comment", ""), str) \
                or not (version is None or (isinstance(version, int)
                                            and not isinstance(version, bool))):
            return self.response_400(message=gettext(
                "Body must be {\"comment\": \"...\", \"version\": <record version>}."))
        values = {k: v for k, v in payload.items() if k not in ("comment", "version")}

        def write(transition):
            unknown = sorted(set(values) - (set(transition.fields) & set(self.edit_columns)))
            if unknown:
                raise RecordInvalid({key: [gettext("This step does not take this field.")]
                                     for key in unknown})
            try:
                self.edit_model_schema.load(values, instance=record, partial=True)
            except ValidationError as err:
                raise RecordInvalid(err.messages) from None

        try:
            perform(record, name, current_actor(), payload.get("comment", ""), version=version,
                    write=write if values else None)
        except WorkflowError as exc:
            return self.response(exc.status, message=gettext(str(exc)))
        except ScopeError as exc:
            return self.response_403(message=str(exc))
        except RecordInvalid as exc:
            return self.response_422(message=exc.errors)
        return self.response(200, id=record.id, version=record.version,
                             **self._workflow_state(record))


class DepartmentApi(RecordApi):
    resource_name = "department"
    datamodel = ScopedInterface(Department)
    list_columns = ["id", "code", "name", "kind", "head_id"]
    show_columns = ["code", "name", "kind", "head_id", "description"]
    add_columns = ["code", "name", "kind", "head", "description"]
    edit_columns = add_columns
    order_columns = ["code", "name"]


class InformationSystemApi(RecordApi):
    resource_name = "information_system"
    datamodel = ScopedInterface(InformationSystem)
    list_columns = ["id", "code", "name", "category", "owning_department_id",
                    "owning_department.name", "lifecycle", "protection_level"]
    show_columns = ["code", "name", "category", "owning_department_id", "it_custodian_id",
                    "business_owner_id", "lifecycle", "protection_level", "go_live_date",
                    "vendor_id", "description"]
    add_columns = ["code", "name", "category", "owning_department", "it_custodian",
                   "business_owner", "lifecycle", "protection_level", "go_live_date",
                   "vendor", "description"]
    edit_columns = add_columns
    order_columns = ["code", "name", "protection_level"]


class VendorApi(RecordApi):
    resource_name = "vendor"
    datamodel = ScopedInterface(Vendor)
    list_columns = ["id", "name", "credit_code", "rating"]
    show_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                    "contact_phone", "contact_email"]
    add_columns = show_columns
    edit_columns = show_columns
    order_columns = ["name"]


class ProjectRequestAssignApi:
    """POST /api/v1/project_request/<id>/assign_experts {"experts": [ids]} (IT, 3.2.3)."""

    @expose("/<int:pk>/assign_experts", methods=["POST"])
    @protect()
    @safe
    @permission_name("transition")
    def assign_experts(self, pk):
        from .approvals import assign_experts, may_assign_experts

        project = self.datamodel.get(pk, self._base_filters)
        if project is None:
            return self.response_404()
        if not may_assign_experts(current_actor()):
            return self.response_403()
        payload = request.get_json(silent=True)
        experts = payload.get("experts") if isinstance(payload, dict) else None
        if not isinstance(experts, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) for e in experts):
            return self.response_400(message=gettext("Body must be {\"experts\": [ids]}."))
        try:
            reviews = assign_experts(project, experts)
        except ScopeError as exc:
            return self.response(422, message=gettext(str(exc)))
        return self.response(200, reviews=[r.id for r in reviews])


class ProjectRequestApi(ProjectRequestAssignApi, RecordApi):
    resource_name = "project_request"
    method_permission_name = {**PERMISSIONS, "assign_experts": "read"}
    datamodel = ScopedInterface(ProjectRequest)
    list_columns = ["id", "name", "applicant_department_id", "budget", "status"]
    show_columns = ["name", "applicant_department_id", "background", "goals", "content",
                    "budget", "implementation_plan", "status", "expert_opinion",
                    "requirements_report.filename", "requirements_report.sha256",
                    "feasibility_report.filename", "feasibility_report.sha256"]
    add_columns = ["name", "applicant_department", "background", "goals", "content",
                   "budget", "implementation_plan", "systems"]
    # Who writes which of them in which state: app/models.py (``Edit``).
    edit_columns = add_columns + ["expert_opinion"]
    order_columns = ["name", "budget", "status"]


class ContractApi(RecordApi):
    resource_name = "contract"
    datamodel = ScopedInterface(Contract)
    list_columns = ["id", "number", "name", "department_id", "vendor_id", "amount", "status"]
    show_columns = ["number", "name", "department_id", "project_id", "vendor_id", "system_id",
                    "amount", "sign_date", "start_date", "end_date", "scope", "schedule",
                    "quality_terms", "acceptance_terms", "after_sales_terms", "status",
                    "signed_file.filename", "signed_file.sha256"]
    add_columns = ["number", "name", "department", "project", "vendor", "system", "amount",
                   "sign_date", "start_date", "end_date", "scope", "schedule",
                   "quality_terms", "acceptance_terms", "after_sales_terms"]
    edit_columns = add_columns
    order_columns = ["number", "amount", "end_date"]


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
    list_columns = ["id", "title", "audit_id", "severity", "responsible_department_id",
                    "due_date", "status"]
    show_columns = ["audit_id", "title", "description", "severity",
                    "responsible_department_id", "system_id", "due_date", "rectification",
                    "rectification_evidence.filename", "rectification_evidence.sha256",
                    "status"]
    add_columns = ["audit", "title", "description", "severity", "responsible_department",
                   "system", "due_date", "rectification"]
    edit_columns = add_columns
    order_columns = ["title", "due_date", "severity"]


class ExpertReviewApi(RecordApi):
    resource_name = "expert_review"
    datamodel = ScopedInterface(ExpertReview)
    list_columns = ["id", "project_id", "expert_id", "no_conflict", "score", "status"]
    show_columns = ["project_id", "expert_id", "department_id", "no_conflict", "score",
                    "opinion", "status"]
    add_columns = ["project", "expert"]
    edit_columns = ["no_conflict", "score", "opinion"]
    order_columns = ["score"]


class DelegationApi(RecordApi):
    resource_name = "delegation"
    datamodel = ScopedInterface(Delegation)
    list_columns = ["id", "principal_id", "substitute_id", "start_date", "end_date"]
    show_columns = ["principal_id", "substitute_id", "start_date", "end_date", "reason"]
    add_columns = ["principal", "substitute", "start_date", "end_date", "reason"]
    edit_columns = add_columns
    order_columns = ["start_date"]


class DevelopmentPlanApi(RecordApi):
    resource_name = "development_plan"
    datamodel = ScopedInterface(DevelopmentPlan)
    list_columns = ["id", "title", "period", "plan_version", "status"]
    show_columns = ["title", "period", "plan_version", "previous_version_id", "goals", "tasks",
                    "priorities", "schedule", "status"]
    add_columns = ["title", "period", "goals", "tasks", "priorities", "schedule"]
    edit_columns = add_columns
    order_columns = ["title", "period", "plan_version"]


class PlanFeedbackApi(RecordApi):
    resource_name = "plan_feedback"
    datamodel = ScopedInterface(PlanFeedback)
    list_columns = ["id", "plan_id", "department_id", "opinion", "it_response"]
    show_columns = ["plan_id", "department_id", "opinion", "it_response"]
    add_columns = ["plan", "department", "opinion"]
    edit_columns = ["opinion", "it_response"]
    order_columns = ["plan_id", "department_id"]


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


class DataSharingRequestApi(RecordApi):
    resource_name = "data_sharing_request"
    datamodel = ScopedInterface(DataSharingRequest)
    list_columns = ["id", "title", "requesting_department_id", "providing_department_id",
                    "system_id", "start_date", "end_date", "status"]
    show_columns = ["title", "requesting_department_id", "providing_department_id",
                    "system_id", "data_scope", "purpose", "start_date", "end_date", "status"]
    add_columns = ["title", "requesting_department", "providing_department", "system",
                   "data_scope", "purpose", "start_date", "end_date"]
    edit_columns = add_columns
    order_columns = ["title", "start_date", "end_date"]


APIS = [DepartmentApi, InformationSystemApi, VendorApi, DevelopmentPlanApi, PlanFeedbackApi,
        ProjectRequestApi, ContractApi, ChangeOrderApi, IncidentApi, ChangeRequestApi,
        DataSharingRequestApi, AuditApi, AuditFindingApi, ExpertReviewApi, DelegationApi]


def register_apis(appbuilder):
    for api in APIS:
        appbuilder.add_api(api)
