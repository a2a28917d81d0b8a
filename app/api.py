"""REST API at /api/v1/<resource>/: same permissions and scoping as the screens."""
import prison
from flask import jsonify, request
from flask_appbuilder.api import ModelRestApi, expose, permission_name, protect, safe
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import RelationshipDirection

from .extensions import db
from .filters import INT64
from .forms import FilterInScope
from .labels import LABELS, labels_for
from .history import current_request_id
from .paging import PAGE_MAX
from .security import (
    PERMISSIONS,
    ScopeError,
    check_write,
    current_actor,
    owner_relationship,
    read_clause,
    scope_for,
)
from .validation import (
    DeleteRefused,
    RecordInvalid,
    check_delete,
    check_record,
    database_error,
    declare_schema_rules,
    is_database_error,
)
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
            elif one not in INT64 or not _visible(target, one):
                errors[key] = gettext("No record with id %(id)s.", id=one)
    return errors


def _visible(model, pk):
    """Whether a record with this key exists and the user may see it: a related record
    outside one's scope is answered like a missing one (nothing about it leaks)."""
    key = sa_inspect(model).primary_key[0]
    query = select(key).where(key == pk)
    clause = read_clause(model, scope_for(current_actor()))
    if clause is not None:
        query = query.where(clause)
    return db.session.execute(query).first() is not None


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
        owner = owner_relationship(model)
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


def register_apis(appbuilder):
    """Every chapter's REST resources (app/chapters.py)."""
    from .chapters import apis

    for api in apis():
        appbuilder.add_api(api)
