"""Screens over the change history: a record's History tab, the global change log
and every version of a record as it stood (5.1.3, 8.1)."""
import json

from flask import abort
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterIn,
    FilterNotEqual,
    SQLAFilterConverter,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect

from .extensions import db
from .filters import SafeFilters, typed_filters
from .history import record_versions
from .labels import LABELS
from .models import ChainHead, ChangeEntry, Model
from .security import FabRouteGuard
from .views import RECORD_LABELS

ACTIONS = {"insert": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted")}


def model_by_name(name):
    for mapper in Model.registry.mappers:
        if mapper.class_.__name__ == name:
            return mapper.class_
    return None


def field_label(model, field):
    if field in LABELS:
        return LABELS[field]
    if field.endswith("_id") and field[:-3] in LABELS:
        return LABELS[field[:-3]]
    return field


def _related_name(model, field, value):
    """The name of the record a foreign key points to (still existing), else #id."""
    column = sa_inspect(model).columns[field]
    for rel in sa_inspect(model).relationships:
        if column in rel.local_columns:
            target = db.session.get(rel.mapper.class_, value)
            return str(target) if target is not None else f"#{value}"
    return str(value)


def show_value(model, field, value):
    """A stored history value as a reader expects it: enum labels, names, dashes."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict) and "sha256" in value:
        from .attachments import attachment_version_link

        return attachment_version_link(value)
    if isinstance(value, bool):
        return str(_l("Yes")) if value else str(_l("No"))
    if model is not None and field in sa_inspect(model).columns:
        enum_class = getattr(sa_inspect(model).columns[field].type, "enum_class", None)
        if enum_class is not None and value in enum_class.__members__:
            return str(enum_class[value])
        if sa_inspect(model).columns[field].foreign_keys and isinstance(value, int):
            return _related_name(model, field, value)
    if isinstance(value, list):
        return ", ".join(f"#{v}" for v in value)
    return str(value)


def describe(entry):
    """[(label, before, after)] for one entry, for screens."""
    model = model_by_name(entry.record_type)
    rows = []
    for field, (before, after) in sorted(json.loads(entry.changes).items()):
        if field == "id":
            continue
        rows.append((field_label(model, field), show_value(model, field, before),
                     show_value(model, field, after)))
    return rows


def entries_for(record):
    name = type(record).__name__
    return (db.session.query(ChangeEntry)
            .filter_by(record_type=name, record_id=str(record.id))
            .order_by(ChangeEntry.seq.desc()).limit(200).all())


def changes_formatter(value):
    """The change log's "changes" column: before → after per field."""
    try:
        items = sorted(json.loads(value).items())
    except (TypeError, ValueError):
        return value
    parts = Markup("<br>").join(
        Markup("<b>{}</b>: {} → {}").format(field, json.dumps(before, ensure_ascii=False),
                                           json.dumps(after, ensure_ascii=False))
        for field, (before, after) in items if field != "id")
    return parts


class ExactMatchConverter(SQLAFilterConverter):
    """Text columns of the change log (user, record type, record id, request id) are
    matched exactly, so every filter runs on an index, even at millions of entries."""

    conversion_table = tuple(
        ("is_string", [FilterEqual, FilterNotEqual, FilterIn]) if kind == "is_string" else
        (kind, filters) for kind, filters in SQLAFilterConverter.conversion_table)


class ChangeLogInterface(SQLAInterface):
    """The unfiltered count is the chain head's sequence number (entries are numbered
    1..n without gaps), so the first page of millions of entries needs no COUNT(*)."""

    filter_converter_class = ExactMatchConverter

    def apply_filters(self, query, filters):
        # Junk in a filter (a huge number, a NUL byte) finds nothing instead of failing.
        return super().apply_filters(query, typed_filters(filters))

    def get_filters(self, search_columns=None, search_filters=None):
        return SafeFilters(self.filter_converter_class, self,
                           search_columns=search_columns or [], search_filters=search_filters)

    def query_count(self, query, filters=None, select_columns=None):
        if filters is None or not filters.filters:
            head = self.session.get(ChainHead, 1)
            if head is not None:
                return head.seq
        return super().query_count(query, filters, select_columns)


class ChangeLogView(FabRouteGuard, ModelView):
    """The global change log: every change, filterable by user, record type, date range
    and request id. Read-only for everyone, including Admin."""

    route_base = "/changelog"
    datamodel = ChangeLogInterface(ChangeEntry)
    class_permission_name = "ChangeLog"
    method_permission_name = {"list": "read", "show": "read", "version": "read"}
    base_permissions = ["can_read"]
    list_title = _l("Change log")
    show_title = _l("Change entry")
    list_columns = ["seq", "occurred_at", "username", "acting_for", "record_type", "record_id",
                    "action", "request_id"]
    show_columns = ["seq", "occurred_at", "username", "acting_for", "request_id",
                    "record_type", "record_id", "action", "changes", "prev_hash", "hash"]
    search_columns = ["username", "record_type", "record_id", "action", "request_id",
                      "occurred_at", "seq"]
    order_columns = ["seq", "occurred_at", "username", "record_type"]
    base_order = ("seq", "desc")
    label_columns = {
        "seq": _l("No."), "occurred_at": _l("Time (UTC)"), "username": _l("User"),
        "acting_for": _l("On behalf of"), "record_type": _l("Record type"),
        "record_id": _l("Record id"), "action": _l("Action"), "request_id": _l("Request id"),
        "changes": _l("Changes"), "prev_hash": _l("Previous hash"), "hash": _l("Hash"),
    }
    formatters_columns = {
        "changes": changes_formatter,
        "username": lambda v: v or str(_l("System")),
        "action": lambda v: str(ACTIONS.get(v, v)),
    }

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         **kwargs):
        # Sorted only by the columns offered for sorting (FAB sorts by any attribute).
        if order_column not in self.order_columns:
            order_column, order_direction = "", ""
        return super()._get_list_widget(filters, actions, order_column, order_direction,
                                        **kwargs)

    @expose("/version/<record_type>/<record_id>/<int:seq>")
    @has_access
    def version(self, record_type, record_id, seq):
        """The record as it stood after entry ``seq``, with links to every version."""
        model = model_by_name(record_type)
        versions = record_versions(db.session, record_type, record_id)
        chosen = next((v for v in versions if v[0].seq == seq), None)
        if model is None or chosen is None:
            abort(404)
        entry, state = chosen
        fields = [(field_label(model, f), show_value(model, f, v))
                  for f, v in sorted(state.items()) if f != "id"]
        return self.render_template(
            "history_version.html", entry=entry, fields=fields, versions=versions,
            record_type=record_type, record_id=record_id, actions=ACTIONS,
            title=_l("%(type)s #%(id)s as of change %(seq)s",
                     type=RECORD_LABELS.get(record_type) or record_type, id=record_id, seq=seq))

