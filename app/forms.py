"""Form fields every record form shares: what a form offers, it accepts.

* Dates and times are typed with the browser's own pickers (``<input type="date">``,
  ``<input type="datetime-local">``: in the browser's language, nothing fetched) and read
  in the company's time zone (``BABEL_DEFAULT_TIMEZONE``) to the minute; the stored value
  stays naive UTC. A value shown and sent back unchanged leaves the stored one untouched
  (seconds included).
* Text inputs carry their column's length limit (``maxlength``); long texts (``Text``
  columns) also get a character counter (app/static/forms.js).
* Dropdowns start with a Chinese placeholder (请选择…) and never send ``__None``; which
  records they list is declared in each view (``add_form_query_rel_fields`` with the
  filters below), a default such as "the current user" in ``add_form_defaults``.

``prepare_form`` applies all this to a FAB-built form class (called by RecordView);
``native_date_inputs`` gives the list search form the same pickers, and ``filter_time``
reads what is typed there in company time.
"""
import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, String, Text
from sqlalchemy import inspect as sa_inspect
from wtforms import DateField, DateTimeField
from wtforms.validators import InputRequired
from wtforms.fields.core import UnboundField
from wtforms.widgets import Input

from .security import current_actor, scope_for
from .validation import TEXT_MAX

MINUTE = "%Y-%m-%dT%H:%M"
TYPED_FORMATS = (MINUTE, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def company_zone():
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def to_local(value):
    """Naive UTC -> aware time in the company's zone."""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(company_zone())


def to_utc(value):
    """Naive company time -> naive UTC."""
    return value.replace(tzinfo=company_zone()).astimezone(dt.timezone.utc).replace(tzinfo=None)


def empty_to_none(value):
    return None if value == "" else value


def to_minute(value):
    return value.replace(second=0, microsecond=0)


# ------------------------------------------------------------------- widgets

class NativeInput(Input):
    """A Bootstrap-styled ``<input type=...>`` the browser renders with its own picker."""

    validation_attrs = ["required", "max", "min", "step"]

    def __init__(self, input_type, **attributes):
        super().__init__(input_type)
        self.attributes = attributes

    def __call__(self, field, **kwargs):
        kwargs.setdefault("class", "form-control")
        for key, value in self.attributes.items():
            kwargs.setdefault(key, value)
        return super().__call__(field, **kwargs)


class LocalDateTimeField(DateTimeField):
    """A date and time typed in the company's time zone, to the minute; ``data`` is naive
    UTC as stored."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("format", None)
        kwargs["widget"] = NativeInput("datetime-local", step="60")
        super().__init__(label, validators, format=list(TYPED_FORMATS), **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data).strftime(MINUTE) if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        if not text:
            self.data = None
            return
        for form in TYPED_FORMATS:
            try:
                typed = dt.datetime.strptime(text, form)
            except ValueError:
                continue
            self.data = to_utc(typed)
            return
        self.data = None
        raise ValueError(gettext("Not a valid date and time (for example 2026-11-30 14:05)."))

    def populate_obj(self, obj, name):
        stored = getattr(obj, name, None)
        if stored is not None and self.data is not None and \
                to_minute(stored) == to_minute(self.data):
            return  # shown to the minute and sent back unchanged: keep the stored seconds
        setattr(obj, name, self.data)


class LocalDateField(DateField):
    """A calendar date with the browser's date picker (ISO ``YYYY-MM-DD``)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("format", None)
        kwargs["widget"] = NativeInput("date")
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(gettext("Not a valid date (for example 2026-11-30).")) from None


class ChoiceSelectField(QuerySelectField):
    """FAB's related-record dropdown with a placeholder option (value "") instead of its
    blank ``__None`` choice. Required fields get the placeholder too: nothing is chosen
    for the user silently; their DataRequired says what is missing."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_blank"] = True
        kwargs["blank_text"] = _l("Please choose…")
        super().__init__(*args, **kwargs)

    def iter_choices(self):
        for value, label, selected, *rest in super().iter_choices():
            yield ("" if value == "__None" else value, label, selected, *rest)

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] == "":
            valuelist = ["__None"]
        super().process_formdata(valuelist)

    def _get_object_list(self):
        """The declared choices, plus what the record being edited holds now: a value
        stored before (a handler who has since left IT) can be kept, not re-chosen."""
        if self._object_list is None:
            objects = super()._get_object_list()
            stored = _stored_value(self.name)
            if stored is not None and all(obj is not stored for _pk, obj in objects):
                objects.append((str(self.get_pk_func(stored)), stored))
        return self._object_list


def _stored_value(name):
    record = g.get("form_record")
    if record is None or not sa_inspect(record).persistent:
        return None
    return getattr(record, name, None)


# ------------------------------------------------------------------- dropdown filters

# Declared on a text column ("username"), so the value, a name, stays text when the
# interface types filter values by column (app/filters.py typed_filters).

class FilterHasRole(BaseFilter):
    """Dropdown filter: active users holding the role named in the filter's value."""

    name = _l("Role")
    arg_name = "role"

    def apply(self, query, value):
        return query.filter(self.model.roles.any(name=value), self.model.active.is_(True))


class FilterDepartmentUsers(BaseFilter):
    """Dropdown filter: active users of the record's department (the value names the
    record's department column); on a new record without one, the user's own department
    (everyone's for those who see every department)."""

    name = _l("Department users")
    arg_name = "deptusers"

    def apply(self, query, value):
        record = g.get("form_record")
        department = getattr(record, value, None) if record is not None else None
        if department is None:
            actor = current_actor()
            if scope_for(actor).everything:
                return query.filter(self.model.active.is_(True))
            department = getattr(actor, "department_id", None) or -1
        return query.filter(self.model.department_id == department,
                            self.model.active.is_(True))


class FilterInScope(BaseFilter):
    """Dropdown filter: only the departments the current user may assign (a record's
    owning department, on every screen and API resource)."""

    name = _l("In scope")
    arg_name = "insc"

    def apply(self, query, value):
        scope = scope_for(current_actor())
        if scope.everything:
            return query
        return query.filter(self.model.id == (scope.department_id or -1))


class FilterVisible(BaseFilter):
    """Dropdown filter: only the records the user may see (an incident of another
    department is no choice, and a forged id of one is refused)."""

    name = _l("Visible")
    arg_name = "visible"

    def apply(self, query, value):
        from .security import read_clause

        clause = read_clause(self.model, scope_for(current_actor()))
        return query if clause is None else query.filter(clause)


class FilterOwnedInScope(BaseFilter):
    """Dropdown filter: records whose department column (the filter's column) is one the
    user may write for, e.g. the systems a department files change requests on."""

    name = _l("In scope")
    arg_name = "owned"

    def apply(self, query, value):
        scope = scope_for(current_actor())
        if scope.everything:
            return query
        return query.filter(getattr(self.model, self.column_name) == (scope.department_id or -1))


# ------------------------------------------------------------------- form classes

def _column(model, name):
    columns = sa_inspect(model).columns
    return columns[name] if name in columns else None


def native_date_inputs(form_class, model):
    """Only the date and date-time fields of ``form_class`` swapped for the browser's own
    pickers (the list search form: its other fields are FAB's filter widgets)."""
    for name in list(vars(form_class)):
        unbound = getattr(form_class, name)
        column = _column(model, name) if isinstance(unbound, UnboundField) else None
        if column is None:
            continue
        if isinstance(column.type, DateTime):
            unbound.field_class = LocalDateTimeField
        elif isinstance(column.type, Date):
            unbound.field_class = LocalDateField
        else:
            continue
        unbound.kwargs = {k: v for k, v in unbound.kwargs.items() if k != "widget"}


def filter_time(value):
    """A date-time typed into a list filter in the company's time zone, as stored (naive
    UTC); None when it is not one."""
    text = str(value).strip()
    for form in TYPED_FORMATS + ("%Y-%m-%d",):
        try:
            return to_utc(dt.datetime.strptime(text, form))
        except ValueError:
            continue
    return None


def prepare_form(form_class, model, defaults=None):
    """Swap the date/time fields for the native pickers, give text fields their length
    limit and dropdowns their placeholder, and set declared defaults (a callable is called
    per form). Changes the unbound fields of ``form_class`` in place."""
    defaults = defaults or {}
    for name in list(vars(form_class)):
        unbound = getattr(form_class, name)
        if not isinstance(unbound, UnboundField):
            continue
        kwargs = dict(unbound.kwargs)
        column = _column(model, name)
        field_class = unbound.field_class
        if column is not None and isinstance(column.type, DateTime):
            field_class = LocalDateTimeField
            kwargs.pop("widget", None)
        elif column is not None and isinstance(column.type, Date):
            field_class = LocalDateField
            kwargs.pop("widget", None)
        elif column is not None and isinstance(column.type, (String, Text)) and \
                not getattr(column.type, "enum_class", None) and \
                not getattr(column.type, "enums", None):
            limit = column.type.length or (TEXT_MAX if isinstance(column.type, Text) else None)
            if limit:
                render = dict(kwargs.get("render_kw") or {}, maxlength=limit)
                if isinstance(column.type, Text):
                    render["data-counter"] = "on"
                kwargs["render_kw"] = render
            if column.nullable:  # an empty box is "not filled in", as the API's null
                kwargs["filters"] = list(kwargs.get("filters") or ()) + [empty_to_none]
        elif field_class is QuerySelectField:
            field_class = ChoiceSelectField
        elif column is not None and isinstance(column.type, Boolean):
            # An unticked box sends nothing: it is "no", not a field left out.
            kwargs["validators"] = [v for v in kwargs.get("validators") or ()
                                    if not isinstance(v, InputRequired)]
        if name in defaults:
            kwargs["default"] = defaults[name]
        unbound.field_class = field_class
        unbound.kwargs = kwargs
