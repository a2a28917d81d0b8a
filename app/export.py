"""Every list exports its current view: CSV and Excel, streamed (issue 12; 5.1.3, 8.2.1).

``ExportMixin`` gives every ``RecordView`` a route ``POST /<view>/export/<csv|xlsx>``
carrying the list's own query string (``_flt_*`` filters, ``_oc_``/``_od_`` sort). The
rows come from the same query path as the list (FAB's filters typed by
``ScopedInterface``, the same sort, department scoping), read in batches of
``EXPORT_BATCH`` from one streaming cursor (``yield_per`` + ``stream_results``: a
server-side cursor on PostgreSQL), so memory stays flat whatever the row count.

Columns: the record's readable fields, those of its page (``show_columns``: the list's
columns and the rest an Excel user wants), with the screen's Chinese labels; states by
their labels, times in the company's time zone, amounts as numbers (Excel: a currency
format), related records by their titles, read in the same statement as the row
(app/titles.py ``title_sql``: no query per row).

CSV starts answering at once (UTF-8 with BOM, so Excel reads Chinese). Excel (XlsxWriter,
constant memory) is written to a temporary file first and then sent (a zip is complete
only when closed): its headers go out at once, its first body byte after writing; at most
``EXPORT_XLSX_MAX_ROWS`` rows (Excel's own sheet limit), a longer list is refused with a
message pointing to CSV. See docs/performance.md.

An export is a read that auditors want on record: before the first row it appends one
entry to the hash-chained change history (app/history.py ``record_export``): who, which
list, which filter and sort, how many rows, which format. Because it writes that entry
it is a POST with the CSRF token (app/methods.py: GET never changes state).

"Cannot time out the worker": gunicorn's sync worker is killed when it does not report
alive for ``timeout`` seconds, and it does not report while sending a response.
gunicorn.conf.py hands the worker's heartbeat to ``HEARTBEAT``; the export calls it after
every batch, so a worker that keeps exporting stays alive and a stuck one is still killed.
"""
import codecs
import csv
import datetime as dt
import decimal
import enum
import io
import os
import re
import tempfile
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import Date, DateTime, LargeBinary, Numeric, Text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, Session, defer, selectinload

from .extensions import db
from .filters import FILTER_TEXT_MAX, INT64
from .i18n import duration
from .titles import title_sql
from .validation import BAD_CHARACTERS

FORMATS = {"csv": _l("CSV"), "xlsx": _l("Excel")}
# Rows read per statement (and per heartbeat).
EXPORT_BATCH = 1000
# Excel's sheet holds 1,048,576 rows, the header one of them.
XLSX_SHEET_ROWS = 1_048_575
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The worker's "I am alive" (gunicorn.conf.py sets it; nothing outside gunicorn).
HEARTBEAT = []


def beat():
    for notify in HEARTBEAT:
        notify()


def set_heartbeat(notify):
    HEARTBEAT[:] = [notify]


# ------------------------------------------------------------------ the columns

class Column:
    """One exported column: its label, how its value is read from a result row, and its
    kind (number, money, date, datetime or text)."""

    def __init__(self, name, label, read, kind="text"):
        self.name, self.label, self.read, self.kind = name, label, read, kind


def _attr(name):
    def read(row):
        value = getattr(row[0], name)
        return value() if callable(value) and not isinstance(value, enum.Enum) else value
    return read


# The screens' own formatters (registered by app/records.py): an export writes the value
# they format as data (a date, a number, a label), not their HTML.
GENERIC_FORMATTERS = set()


def _kind(column_type):
    if isinstance(column_type, Numeric):
        return "money"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, (sa.Integer, sa.Float)) and not isinstance(column_type,
                                                                         sa.Boolean):
        return "number"
    return "text"


class Plan:
    """What an export of a view selects: its columns as plain SQL columns and related
    records' titles (scalar subqueries) where it can; the record itself (ORM) only when
    a field is a property, a method or a list of related records (loaded per batch)."""

    def __init__(self, view):
        model = view.datamodel.obj
        mapper = sa_inspect(model)
        names = list(dict.fromkeys(c for c in (view.show_columns or view.list_columns) if c))
        self.columns, self.selected, self.options = [], [], []
        self.entity = False
        loaded = set()
        for name in names:
            label = str(view.label_columns.get(name, name))
            formatter = view.formatters_columns.get(name)
            custom = formatter if formatter not in GENERIC_FORMATTERS else None
            source, kind = None, "text"
            if name in mapper.columns:
                kind = _kind(mapper.columns[name].type)
                source = getattr(model, name)
            elif name in mapper.relationships:
                relation = mapper.relationships[name]
                target = relation.mapper.class_
                expression = title_sql(target) if relation.direction is \
                    RelationshipDirection.MANYTOONE and target is not model and \
                    len(relation.local_columns) == 1 else None
                if expression is not None:
                    (local,) = relation.local_columns
                    (remote,) = relation.remote_side
                    source = sa.select(expression).where(remote == local) \
                        .correlate(model).scalar_subquery().label(f"title_{name}")
                else:
                    big = [defer(getattr(target, attr.key))
                           for attr in relation.mapper.column_attrs
                           if isinstance(attr.columns[0].type, LargeBinary)]
                    self.options.append(selectinload(getattr(model, name)).options(*big))
                    loaded.add(name)
            if source is not None:
                self.selected.append(source)
                read = ("at", len(self.selected) - 1)
            else:  # read from the record: a property, a method, a list of records
                self.entity = True
                read = ("attr", name)
            self.columns.append((Column(name, label, None, kind if custom is None else
                                        "text"), read, custom))
        if self.entity:
            self.options += [defer(getattr(model, attr.key)) for attr in mapper.column_attrs
                             if attr.key not in loaded
                             and isinstance(attr.columns[0].type, (Text, LargeBinary))]
        offset = 1 if self.entity else 0
        for column, (how, where), custom in self.columns:
            read = _attr(where) if how == "attr" else \
                (lambda index: lambda row: row[index])(where + offset)
            if custom is not None:
                read = (lambda read, custom: lambda row: _custom(custom, read(row)))(
                    read, custom)
            column.read = read
        self.columns = [column for column, _read, _custom in self.columns]
        self.model = model

    def query(self, session):
        """The SELECT of the rows (the list's filters and order are applied by the caller)."""
        entities = ([self.model] if self.entity else []) + self.selected
        if not self.entity:  # rows stay rows (a query of one column yields scalars)
            entities.append(getattr(self.model, "id"))
        query = session.query(*entities)
        return query.options(*self.options) if self.entity else query


def _custom(formatter, value):
    """A screen's own formatter (a duration ...), as text; nothing stays empty."""
    if value is None or value == "":
        return None
    shown = formatter(value)
    return shown.striptags() if isinstance(shown, Markup) else shown


# ------------------------------------------------------------------ the values

class Cells:
    """Values as a spreadsheet reads them: the company's time, labels, titles."""

    def __init__(self):
        self.zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        self.yes, self.no = gettext("Yes"), gettext("No")
        self.labels = {}  # enum member -> its label, translated once per export

    def value(self, value):
        """A str, int, Decimal, date or (local, naive) datetime, or None."""
        kind = type(value)
        if kind is str:
            return value or None
        if value is None:
            return None
        if kind is dt.datetime:  # stored UTC
            return value.replace(tzinfo=dt.timezone.utc).astimezone(self.zone) \
                .replace(tzinfo=None, second=0, microsecond=0)
        if kind is bool:
            return self.yes if value else self.no
        if isinstance(value, enum.Enum):
            label = self.labels.get(value)
            if label is None:
                label = self.labels[value] = str(value)
            return label
        if isinstance(value, (dt.date, int, decimal.Decimal, float)):
            return value
        if isinstance(value, dt.timedelta):
            return duration(value)
        if isinstance(value, Markup):
            return value.striptags() or None
        if isinstance(value, str):
            return value or None
        if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__") and \
                not isinstance(value, bytes):
            return "、".join(str(v) for v in value) or None
        return str(value) or None

    def text(self, value):
        """The same value as CSV text; text that a spreadsheet would take for a formula
        starts with an apostrophe (CSV injection)."""
        value = self.value(value)
        if value is None:
            return ""
        if type(value) is str:
            return "'" + value if value.startswith(CSV_FORMULA_START) else value
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, (int, decimal.Decimal, float)):
            return str(value)
        return "'" + value if value.startswith(CSV_FORMULA_START) else value


# ------------------------------------------------------------------ the view

class ExportMixin:
    """``POST /<view>/export/<csv|xlsx>`` with the list's query string (see the module)."""

    def export_urls(self):
        """{format: (label, url)} for the list page's 导出 menu (the current filters and
        sort ride along)."""
        query = request.query_string.decode("latin-1")
        return {fmt: (label, url_for(f"{type(self).__name__}.export", fmt=fmt)
                      + (f"?{query}" if query else ""))
                for fmt, label in FORMATS.items()}

    def _export_request(self):
        """(filters, order column, order direction) as the list reads them, or a 400."""
        name = type(self).__name__
        bad = False
        for key, value in request.args.items(multi=True):
            if key.startswith("_flt_"):
                if len(value) > FILTER_TEXT_MAX or BAD_CHARACTERS.search(value):
                    bad = True
                _index, _sep, column = key[len("_flt_"):].partition("_")
                if column in self.datamodel.list_properties and \
                        self.datamodel.is_relation(column):
                    try:
                        bad = bad or int(value) not in INT64
                    except ValueError:
                        bad = True
        if bad:
            abort(400)
        get_filter_args(self._filters)
        order_column = request.args.get(f"_oc_{name}", "")
        order_direction = request.args.get(f"_od_{name}", "")
        if order_column not in (self.order_columns or ()) or \
                order_direction not in ("asc", "desc"):
            order_column, order_direction = "", ""
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        return self._filters.get_joined_filters(self._base_filters), order_column, \
            order_direction

    def _describe_filters(self, filters):
        shown = []
        for flt, value in self._filters.get_filters_values():
            label = self.label_columns.get(flt.column_name, flt.column_name)
            shown.append(f"{label} {flt.name} {value}")
        return "；".join(shown)

    @expose("/export/<fmt>", methods=["POST"])
    @has_access
    def export(self, fmt):
        if fmt not in FORMATS:
            abort(404)
        filters, order_column, order_direction = self._export_request()
        datamodel = self.datamodel
        model = datamodel.obj
        pk = getattr(model, datamodel.get_pk_name())
        count = datamodel._apply_inner_all(datamodel.session.query(pk), filters) \
            .order_by(None).count()
        limit = current_app.config.get("EXPORT_XLSX_MAX_ROWS", XLSX_SHEET_ROWS)
        if fmt == "xlsx" and count > limit:
            flash(gettext("%(count)s rows are more than an Excel export holds (%(limit)s): "
                          "narrow the filter, or export CSV.", count=f"{count:,}",
                          limit=f"{limit:,}"), "warning")
            query = urlencode(list(request.args.items(multi=True)))
            return redirect(url_for(f"{type(self).__name__}.list")
                            + (f"?{query}" if query else ""))
        plan = Plan(self)
        columns = plan.columns
        order = ""
        if order_column:
            order = f"{self.label_columns.get(order_column, order_column)} " + (
                gettext("descending") if order_direction == "desc" else gettext("ascending"))
        # The rows' statement is built now, as this user (scope, filters, sort), before
        # the export's entry is committed.
        batch = current_app.config.get("EXPORT_BATCH", EXPORT_BATCH)
        query = datamodel._apply_inner_all(plan.query(datamodel.session), filters,
                                           order_column, order_direction, aliases_mapping={})
        query = query.yield_per(batch).execution_options(stream_results=True)
        from .history import record_export

        record_export(db.session, model.__name__, {
            "format": str(FORMATS[fmt]), "list": str(self.list_title),
            "filters": self._describe_filters(filters) or None, "order": order or None,
            "query": request.query_string.decode("latin-1")[:2000] or None, "rows": count,
        })

        def rows():
            # A session of its own: its connection is given back when the last row is
            # sent (or the download is cut), whatever happens to the request's session.
            session = Session(bind=db.engine)
            try:
                for index, row in enumerate(query.with_session(session), 1):
                    yield row
                    if index % batch == 0:
                        beat()
            finally:
                session.close()

        stamp = dt.datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
        filename = f"{self.list_title}-{stamp:%Y%m%d-%H%M}.{fmt}"
        ascii_name = f"{model.__name__}-{stamp:%Y%m%d-%H%M}.{fmt}"
        disposition = (f"attachment; filename=\"{ascii_name}\"; "
                       f"filename*=UTF-8''{quote(filename)}")
        body = _csv(columns, rows()) if fmt == "csv" else _xlsx(columns, rows(),
                                                                 str(self.list_title))
        mimetype = "text/csv" if fmt == "csv" else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = Response(stream_with_context(body), mimetype=mimetype)
        response.headers["Content-Disposition"] = disposition
        response.headers["X-Export-Rows"] = str(count)
        response.headers["Cache-Control"] = "no-store"
        # A proxy must pass the rows on as they come (nginx buffers otherwise).
        response.headers["X-Accel-Buffering"] = "no"
        return response


def _csv(columns, rows):
    cells = Cells()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.label for c in columns])
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for index, row in enumerate(rows, 1):
        writer.writerow([cells.text(c.read(row)) for c in columns])
        if index % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _sheet_name(title):
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1"


def _xlsx(columns, rows, title):
    import xlsxwriter

    yield b""  # the status and headers leave now; the file follows when written
    cells = Cells()
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="export-")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True,
                                          "tmpdir": tempfile.gettempdir(),
                                          "strings_to_formulas": False,
                                          "strings_to_urls": False,
                                          "strings_to_numbers": False})
        sheet = book.add_worksheet(_sheet_name(title))
        bold = book.add_format({"bold": True})
        formats = {
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "money": book.add_format({"num_format": "¥#,##0.00"}),
        }
        for index, column in enumerate(columns):
            sheet.set_column(index, index, 20 if column.kind in formats else 24)
        sheet.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            sheet.write_string(0, index, column.label, bold)
        for number, row in enumerate(rows, 1):
            for index, column in enumerate(columns):
                value = cells.value(column.read(row))
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(number, index, value, formats["datetime"])
                elif isinstance(value, dt.date):
                    sheet.write_datetime(number, index, value, formats["date"])
                elif isinstance(value, (int, float, decimal.Decimal)):
                    sheet.write_number(number, index, float(value),
                                       formats["money"] if column.kind == "money" else None)
                else:
                    sheet.write_string(number, index, value)
        book.close()
        beat()
        with open(path, "rb") as stream:
            while chunk := stream.read(256 * 1024):
                yield chunk
                beat()
    finally:
        os.unlink(path)
