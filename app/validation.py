"""Input rules: declared once beside the model, enforced at every entrance.

A model states its rules where its columns are:

* the column type: ``String(n)`` / ``Text`` -> at most n (``TEXT_MAX``) characters, no
  NUL byte or lone surrogate; ``Numeric(p, s)`` -> finite, |value| < 10^(p-s), at most s
  decimals; ``Integer`` -> within 32 bits (``BigInteger``: 64 bits);
* ``Column(..., info={"min": 0, "max": 100})`` for a range (the CHECK constraint named in
  ``info["check"]`` is the database's copy of the same rule);
* ``__rules__ = (Ordered("start_date", "end_date", check="ck_..."),
  Distinct("principal_id", "substitute_id", check="ck_..."))`` for rules over two columns;
* ``unique=True`` columns and ``UniqueConstraint``s: checked before insert and update.

From these come the WTForms validators of every RecordView form (``form_validators``),
the marshmallow validators of every RecordApi schema (``schema_validators``) and the
whole-record check run by both before the database sees the row (``record_errors``).
The database constraints stay as the last line; what still escapes is turned into a
plain message in one place (``database_error``), with the SQL going to the log only.

Also here: SQLite enforces foreign keys (``PRAGMA foreign_keys=ON`` on every connection)
and ``delete_refusal`` says why a record others point to cannot be deleted.
"""
import decimal
import logging
import re
import sqlite3

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Float, Integer, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import RelationshipDirection
from sqlalchemy.orm.exc import StaleDataError

log = logging.getLogger(__name__)

TEXT_MAX = 50_000  # characters of a Text column (a long plan fits; a pasted file does not)
INT32 = range(-2**31, 2**31)
INT64 = range(-2**63, 2**63)
# A NUL byte (PostgreSQL refuses it in text) or half of a UTF-16 surrogate pair (no
# encoding can store it).
BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


# ------------------------------------------------------------------ declarations

class Ordered:
    """``second`` is not before ``first`` (both optional: checked when both are set)."""

    def __init__(self, first, second, check=None):
        self.first, self.second, self.check = first, second, check

    def error(self, model, values):
        first, second = values.get(self.first), values.get(self.second)
        if first is None or second is None or second >= first:
            return None
        return self.second, gettext("%(second)s must not be before %(first)s.",
                                    second=label(model, self.second),
                                    first=label(model, self.first))


class Distinct:
    """``first`` and ``second`` are not the same value (a self-delegation, say)."""

    def __init__(self, first, second, check=None):
        self.first, self.second, self.check = first, second, check

    def error(self, model, values):
        first, second = values.get(self.first), values.get(self.second)
        if first is None or second is None or first != second:
            return None
        return self.second, gettext("%(second)s must differ from %(first)s.",
                                    second=label(model, self.second),
                                    first=label(model, self.first))


class AnyOf:
    """At least one of ``keys`` is set (a change order names its contract or project)."""

    def __init__(self, *keys, check=None):
        self.keys, self.check = keys, check

    def error(self, model, values):
        if any(values.get(key) is not None for key in self.keys):
            return None
        return self.keys[0], gettext("Fill in at least one of: %(fields)s.",
                                     fields="、".join(label(model, k) for k in self.keys))


class OneOf:
    """Exactly one of ``keys`` is set (an audit finding comes from an audit or from a
    supervision check)."""

    def __init__(self, *keys, check=None):
        self.keys, self.check = keys, check

    def error(self, model, values):
        if sum(values.get(key) is not None for key in self.keys) == 1:
            return None
        return self.keys[0], gettext("Fill in exactly one of: %(fields)s.",
                                     fields="、".join(label(model, k) for k in self.keys))


class RequiredWhen:
    """``field`` is filled in when ``when`` holds one of ``values`` (a single-source
    tender's justification). ``message``: a message id naming what is missing."""

    def __init__(self, field, when, values, message, check=None):
        self.field, self.when, self.values = field, when, tuple(values)
        self.message, self.check = message, check

    def error(self, model, values):
        if values.get(self.when) not in self.values:
            return None
        value = values.get(self.field)
        if value is not None and (not isinstance(value, str) or value.strip()):
            return None
        return self.field, gettext(self.message)


class Consistent:
    """A rule over the record and the records it names (a winning bid of the same
    tender, a contract's vendor that won its tender): ``test(record, values, session)``
    answers None or the message (translated) to show on ``field``."""

    reads_records = True

    def __init__(self, field, test, check=None):
        self.field, self.test, self.check = field, test, check

    def error(self, model, values, record=None, session=None):
        message = self.test(record, values, session)
        return (self.field, message) if message else None


class RecordInvalid(Exception):
    """The record breaks declared rules: ``errors`` maps field names to messages."""

    def __init__(self, errors):
        super().__init__(gettext("Please correct the marked fields."))
        self.errors = errors


# ------------------------------------------------------------------ field rules

def label(model, key):
    from .labels import LABELS

    name = field_name(model, key)
    return str(LABELS.get(name, LABELS.get(key, name)))


def field_name(model, column_key):
    """The name an entrance uses for a column: its relationship for a foreign key."""
    mapper = sa_inspect(model)
    if column_key not in mapper.columns:
        return column_key
    column = mapper.columns[column_key]
    for rel in mapper.relationships:
        if rel.direction is RelationshipDirection.MANYTOONE and column in rel.local_columns:
            return rel.key
    return column_key


def _text_rule(limit):
    def rule(value):
        if not isinstance(value, str):
            return None
        if BAD_CHARACTERS.search(value):
            return gettext("Contains characters that cannot be stored (such as a NUL byte).")
        if limit is not None and len(value) > limit:
            return gettext("At most %(max)d characters (now %(now)d).", max=limit,
                           now=len(value))
        return None
    return rule


def _integer_rule(bounds):
    def rule(value):
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        if value not in bounds:
            return gettext("The number is out of range.")
        return None
    return rule


def _numeric_rule(precision, scale):
    limit = decimal.Decimal(10) ** (precision - scale) if precision else None
    step = decimal.Decimal(1).scaleb(-scale) if scale is not None else None

    def rule(value):
        if not isinstance(value, (decimal.Decimal, int, float)) or isinstance(value, bool):
            return None
        number = decimal.Decimal(str(value)) if isinstance(value, float) else \
            decimal.Decimal(value)
        if not number.is_finite():
            return gettext("Not a valid number.")
        if limit is not None and abs(number) >= limit:
            return gettext("Must be less than %(limit)s in absolute value.",
                           limit=f"{limit:,}")
        if step is not None and number != number.quantize(step, rounding=decimal.ROUND_DOWN):
            return gettext("At most %(places)d decimal places.", places=scale)
        return None
    return rule


def _range_rule(low, high):
    def rule(value):
        if value is None or isinstance(value, bool) or \
                not isinstance(value, (int, float, decimal.Decimal)):
            return None
        try:
            if low is not None and value < low:
                return gettext("Must be at least %(min)s.", min=low)
            if high is not None and value > high:
                return gettext("Must be at most %(max)s.", max=high)
        except decimal.InvalidOperation:
            return gettext("Not a valid number.")
        return None
    return rule


def column_rules(column):
    """[rule(value) -> message or None] derived from one column's type and info."""
    rules = []
    kind = column.type
    if isinstance(kind, String):  # Text is a String without length
        limit = column.info.get("max_length", kind.length)
        if limit is None and isinstance(kind, Text):
            limit = TEXT_MAX
        rules.append(_text_rule(limit))
    elif isinstance(kind, BigInteger):
        rules.append(_integer_rule(INT64))
    elif isinstance(kind, Integer):
        rules.append(_integer_rule(INT32))
    elif isinstance(kind, Numeric) and not isinstance(kind, Float):
        rules.append(_numeric_rule(kind.precision, kind.scale))
    if "min" in column.info or "max" in column.info:
        rules.append(_range_rule(column.info.get("min"), column.info.get("max")))
    return rules


def field_rules(model):
    """{column key: [rules]} for every column of ``model`` with a rule."""
    rules = {}
    for column in sa_inspect(model).columns:
        derived = column_rules(column)
        if derived and not column.primary_key:
            rules[column.key] = derived
    return rules


def record_rules(model):
    return tuple(getattr(model, "__rules__", ()))


# ------------------------------------------------------------- form and schema

class FormRule:
    """A WTForms validator running one declared rule on the field's data."""

    def __init__(self, rule):
        self.rule = rule
        self.field_flags = {}

    def __call__(self, form, field):
        from wtforms.validators import ValidationError

        if field.data is None or field.data == "":
            return
        message = self.rule(field.data)
        if message:
            raise ValidationError(message)


def form_validators(model, name):
    """WTForms validators for form field ``name`` of ``model`` (a column key)."""
    columns = sa_inspect(model).columns
    if name not in columns:
        return []
    return [FormRule(rule) for rule in column_rules(columns[name])]


def schema_validators(model, name):
    """marshmallow validators for schema field ``name`` of ``model``."""
    from marshmallow import ValidationError

    columns = sa_inspect(model).columns
    if name not in columns:
        return []

    def adapt(rule):
        def validate(value):
            message = rule(value)
            if message:
                raise ValidationError(message)
        return validate

    return [adapt(rule) for rule in column_rules(columns[name])]


# ----------------------------------------------------------- the whole record

def _values(item):
    """{column key: value}, foreign keys read through their relationship when set so."""
    state = sa_inspect(item)
    mapper = state.mapper
    values = {}
    for column in mapper.columns:
        values[column.key] = getattr(item, mapper.get_property_by_column(column).key, None)
    for rel in mapper.relationships:
        if rel.direction is not RelationshipDirection.MANYTOONE or rel.key not in state.dict:
            continue
        target = state.dict[rel.key]
        for column in rel.local_columns:
            values[column.key] = getattr(target, "id", None) if target is not None else None
    return values


def _unique_sets(model):
    table = sa_inspect(model).local_table
    sets = [(column,) for column in table.columns if column.unique]
    sets += [tuple(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    sets += [tuple(index.columns) for index in table.indexes if index.unique]
    seen, result = set(), []
    for columns in sets:
        key = tuple(c.key for c in columns)
        if key not in seen and not any(c.primary_key for c in columns):
            seen.add(key)
            result.append(columns)
    return result


def record_errors(item, session):
    """{field name: [messages]} for everything ``item`` breaks; {} when it is fine."""
    model = type(item)
    with session.no_autoflush:
        values = _values(item)
        errors = {}

        def add(key, message):
            errors.setdefault(field_name(model, key), []).append(message)

        for key, rules in field_rules(model).items():
            value = values.get(key)
            if value is None:
                continue
            for rule in rules:
                message = rule(value)
                if message:
                    add(key, message)
                    break
        if errors:  # the rest would send malformed values to the database
            return errors
        for rule in record_rules(model):
            if getattr(rule, "reads_records", False):
                found = rule.error(model, values, item, session)
            else:
                found = rule.error(model, values)
            if found:
                add(*found)
        mapper = sa_inspect(model)
        pk = mapper.primary_key[0]
        own_id = values.get(pk.key)
        for columns in _unique_sets(model):
            keys = [c.key for c in columns]
            if any(values.get(k) is None for k in keys):
                continue
            query = session.query(pk).filter(*[mapper.columns[k] == values[k] for k in keys])
            if own_id is not None:
                query = query.filter(pk != own_id)
            if query.first() is None:
                continue
            if len(keys) == 1:
                add(keys[0], gettext("%(field)s already exists.", field=label(model, keys[0])))
            else:
                names = "、".join(label(model, k) for k in keys)
                add(keys[-1], gettext("This combination of %(fields)s already exists.",
                                      fields=names))
    return errors


def check_record(item, session):
    errors = record_errors(item, session)
    if errors:
        raise RecordInvalid(errors)


# ------------------------------------------------------------------ deleting

def _referring_columns(model):
    """(mapped class, foreign-key column) pairs pointing at ``model``'s table, except
    association rows the ORM removes itself and keys with ON DELETE CASCADE/SET NULL."""
    from flask_appbuilder import Model

    table = sa_inspect(model).local_table
    pairs = []
    for mapper in Model.registry.mappers:
        for fk in mapper.local_table.foreign_keys:
            if fk.column.table is table and fk.ondelete is None:
                pairs.append((mapper.class_, fk.parent))
    return pairs


def delete_refusal(item, session):
    """Why ``item`` cannot be deleted (other records point to it), or None."""
    from .labels import RECORD_LABELS

    model = type(item)
    own_id = sa_inspect(item).identity
    if own_id is None:
        return None
    kinds = []
    with session.no_autoflush:
        for other, column in _referring_columns(model):
            query = session.query(column).filter(column == own_id[0])
            if other is model:
                query = query.filter(sa_inspect(other).primary_key[0] != own_id[0])
            if query.first() is not None:
                name = RECORD_LABELS.get(other.__name__) or (
                    _l("User") if other.__tablename__ == "ab_user" else other.__name__)
                name = str(name)
                if name not in kinds:
                    kinds.append(name)
    if not kinds:
        return None
    return gettext("This record cannot be deleted: other records still refer to it "
                   "(%(kinds)s).", kinds="、".join(kinds))


class DeleteRefused(Exception):
    """The record is still referred to; the message says by what."""


def check_delete(item, session):
    reason = delete_refusal(item, session)
    if reason:
        raise DeleteRefused(reason)


# ------------------------------------------------------- what still escapes

def database_error(exc, session):
    """(status, message) for a database error that escaped every rule: 409 for a
    concurrent change or lock, 422 otherwise. The SQL goes to the log, never out."""
    from .history import current_request_id

    session.rollback()
    cause = exc.__cause__ if not isinstance(exc, (SQLAlchemyError, StaleDataError)) and \
        isinstance(exc.__cause__, (SQLAlchemyError, StaleDataError)) else exc
    request_id = current_request_id()
    log.error("Database refused a change (request %s): %s", request_id, cause)
    if isinstance(cause, StaleDataError) or _is_conflict(cause):
        return 409, gettext("Someone else changed this record at the same time. Reload it "
                            "and try again. (Request %(id)s)", id=request_id)
    return 422, gettext("The database refused the change: it breaks a rule or conflicts "
                        "with other records. Nothing was saved. (Request %(id)s)",
                        id=request_id)


def _is_conflict(exc):
    if isinstance(exc, OperationalError):
        text = str(getattr(exc, "orig", exc)).lower()
        return "lock" in text or "deadlock" in text or "serializ" in text
    code = getattr(getattr(exc, "orig", None), "pgcode", None)
    return code in ("40001", "40P01", "55P03")


def is_database_error(exc):
    return isinstance(exc, (SQLAlchemyError, StaleDataError)) or \
        isinstance(exc.__cause__, (SQLAlchemyError, StaleDataError))


def handle_database_error(error):
    """App-wide last resort (a list or page query that failed): a plain page or JSON."""
    from flask import current_app, request

    from .errors import _render
    from .extensions import db

    status, message = database_error(error, db.session)
    if isinstance(error, DBAPIError) and status == 422:
        status = 400
    if request.path.startswith("/api/"):
        from flask import jsonify

        from .history import current_request_id
        return jsonify(message=message, request_id=current_request_id()), status
    current_app.logger.info("Database error answered %s", status)
    return _render(status, message)


# ------------------------------------------------------------------ SQLite

@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record):
    """SQLite checks foreign keys only when asked, per connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# ------------------------------------------------------------------ web forms

def _safe_enum_field_class():
    from flask_appbuilder.fields import EnumField

    class SafeEnumField(EnumField):
        """FAB's EnumField looks an unknown choice up with ``__members__[value]``
        (KeyError: 500); here it is a field error."""

        def process_formdata(self, valuelist):
            if valuelist and self._enum_class is not None:
                value = valuelist[0]
                if not isinstance(value, self._enum_class) and \
                        value not in self._enum_class.__members__:
                    self.data = None
                    raise ValueError(gettext("Not a valid choice"))
            super().process_formdata(valuelist)

        def pre_validate(self, form):
            if self.process_errors:  # said once, by process_formdata
                return
            super().pre_validate(form)

    return SafeEnumField


def declare_form_rules(form_class, model):
    """Give every field of a FAB-built form class the model's declared rules (and make
    its enum fields refuse unknown choices). Changes the unbound fields in place."""
    from flask_appbuilder.fields import EnumField
    from flask_appbuilder.validators import Unique
    from wtforms.fields.core import UnboundField
    from wtforms.validators import Length

    safe_enum = _safe_enum_field_class()
    for name in list(vars(form_class)):
        unbound = getattr(form_class, name)
        if not isinstance(unbound, UnboundField):
            continue
        if isinstance(unbound.field_class, type) and issubclass(unbound.field_class, EnumField):
            unbound.field_class = safe_enum
        rules = form_validators(model, name)
        # FAB's Length says the same in WTForms' words, and its Unique ("already exists",
        # within the user's scope only): the declared rules and record_errors replace them.
        replaced = (Length, Unique) if rules else (Unique,)
        kwargs = dict(unbound.kwargs)
        kept = [v for v in kwargs.get("validators") or () if not isinstance(v, replaced)]
        kwargs["validators"] = kept + rules
        unbound.kwargs = kwargs


def declare_schema_rules(schema, model):
    """Give every field of a marshmallow schema (FAB's add/edit schema) the rules."""
    from marshmallow import fields, validate

    for name, field in schema.fields.items():
        rules = schema_validators(model, field.attribute or name)
        if rules:
            kept = [v for v in field.validators if not isinstance(v, validate.Length)]
            field.validators = kept + rules
            if isinstance(field, fields.Decimal):
                field.places = None  # it would round 12.345 to 12.34 before any rule sees it


class ValidatedSaveMixin:
    """ModelView add/edit/delete where bad input never loses what the user typed.

    FAB flashes an exception raised while saving (a database error as its raw text, SQL
    included) and redirects, dropping the form. Here a broken rule marks its field, a
    refusal is flashed, a database error becomes a plain message with the request id,
    and the form is shown again with the user's input.
    """

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            if form is not None:
                declare_form_rules(form, self.datamodel.obj)

    def _save(self, form, item, adding):
        from flask import flash

        from .extensions import db

        try:
            form.populate_obj(item)
            if adding:
                self.pre_add(item)
                self.datamodel.add(item)
            else:
                self.pre_update(item)
                self.datamodel.edit(item)
        except RecordInvalid as exc:
            db.session.rollback()
            for name, messages in exc.errors.items():
                if name in form:
                    form[name].errors = list(form[name].errors) + list(messages)
                else:
                    flash(f"{label(type(item), name)}: {'；'.join(messages)}", "danger")
            flash(str(exc), "danger")
            return False
        except Exception as exc:  # noqa: BLE001 - FAB flashes these too; we keep the form
            if is_database_error(exc):
                _status, message = database_error(exc, db.session)
            else:
                db.session.rollback()
                log.info("Save refused: %s", exc)
                message = str(exc)
            flash(message, "danger")
            return False
        try:
            self.post_add(item) if adding else self.post_update(item)
        except Exception:  # noqa: BLE001 - the record is saved; FAB ignores these as well
            log.exception("post_add/post_update failed")
        flash(self.add_row_message if adding else self.edit_row_message, "success")
        return True

    def _add(self):
        from flask import request
        from flask_appbuilder.urltools import get_filter_args

        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                if self._save(form, self.datamodel.obj(), adding=True):
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        from flask import abort, request
        from flask_appbuilder.urltools import (
            get_filter_args,
            get_order_args,
            get_page_args,
            get_page_size_args,
        )

        pages, page_sizes, orders = get_page_args(), get_page_size_args(), get_order_args()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk  # FAB's Unique validator skips the record itself
            if form.validate():
                self.process_form(form, False)
                if self._save(form, item, adding=False):
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(item, filters={}, orders=orders, pages=pages,
                                               page_sizes=page_sizes, widgets=widgets)

    def _delete(self, pk):
        from flask import abort, flash

        from .extensions import db

        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
        except Exception as exc:  # noqa: BLE001 - refused: say why, change nothing
            if is_database_error(exc):
                _status, message = database_error(exc, db.session)
            else:
                db.session.rollback()
                message = str(exc)
            flash(message, "danger")
            return
        self.post_delete(item)
        flash(self.delete_row_message, "success")
        self.update_redirect()


def handle_out_of_range(error):
    """An integer too large for the driver (``/users/show/99999999999999999999999`` on
    SQLite) in a route that passed it on unchecked: bad input, 400."""
    from .errors import MESSAGES, _render
    from .extensions import db

    db.session.rollback()
    log.info("Out-of-range value refused: %s", error)
    return _render(400, MESSAGES[400])
