"""Charts declared beside their record, aggregated in SQL (PRODUCT.md §5).

A chart is a few lines of data beside its model (``Model.__charts__ = (Chart(...),)``;
it drills into the model's screen in the menu): what to group by (an enum or many-to-one
column, or a time bucket ``Month``/``Quarter``/``Year`` of a date column, in company time), the
series (``Count``, ``Sum`` of an amount, ``MeanHours`` between two times) and optionally
a second column to stack by. ``chart_data`` compiles the declaration to one ``GROUP BY``
under the same department rule as the lists (``read_clause``): no row is ever loaded
into Python to be counted. Every point carries the number of records behind it and a
link to the list filtered to exactly those records (FAB's ``_flt_<n>_<column>=``
arguments; the ``Within`` and ``IsSet`` filters below are added to each list that a
chart drills into).
"""
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import current_app, url_for
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, false, func, literal, select, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float, String

from .extensions import db
from .filters import _text
from .deadlines import company_today

# The screens' machinery (forms, security) is imported where used: the chapters' models
# import this module for their declarations, before any screen exists (app/base.py).

FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)  # dates people may ask for
MAX_BUCKETS = 240  # twenty years of months: a longer range is cut to its last buckets


# ------------------------------------------------------------- portable SQL pieces

class seconds_between(FunctionElement):
    """Seconds from one date-time column to another (NULL when either is NULL)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_default(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def _is_datetime(column):
    return not isinstance(column.type, Date) or column.type.python_type is dt.datetime


def within_clause(column, start=None, end=None):
    """``column`` within the calendar days ``start``..``end`` (company time, inclusive);
    sargable: compares the stored column with constants."""
    from .forms import to_utc

    clauses = []
    if _is_datetime(column):
        if start is not None:
            clauses.append(column >= to_utc(dt.datetime.combine(start, dt.time())))
        if end is not None:
            clauses.append(column < to_utc(dt.datetime.combine(
                end + dt.timedelta(days=1), dt.time())))
    else:
        if start is not None:
            clauses.append(column >= start)
        if end is not None:
            clauses.append(column <= end)
    clauses.append(column.isnot(None))
    return clauses


# ----------------------------------------------------------------- declarations

@dataclass(frozen=True)
class Month:
    """Time bucket: the calendar month of a date or date-time column (company time).
    Without a date range a chart shows the ``last`` months up to today (None: from the
    first record to the last)."""

    column: str
    last: int | None = 12
    unit = "month"

    def key_of(self, day):
        return str(day.year) if self.unit == "year" else f"{day.year:04d}-{day.month:02d}"

    def days(self, key):
        """The first and last day of bucket ``key`` ('2026-03' or '2026')."""
        if self.unit == "year":
            year = int(key)
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        year, month = (int(part) for part in key.split("-"))
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return first, following - dt.timedelta(days=1)

    def keys(self, start, end):
        """Every bucket from the one of ``start`` to the one of ``end`` (no gaps)."""
        found, key = [], self.key_of(start)
        while key <= self.key_of(end) and len(found) <= MAX_BUCKETS * 20:
            found.append(key)
            key = self.key_of(self.days(key)[1] + dt.timedelta(days=1))
        return found[-MAX_BUCKETS:]

    def first_day(self, today):
        """The first day of the ``last`` buckets ending with today's."""
        if self.unit == "year":
            return dt.date(today.year - self.last + 1, 1, 1)
        months = today.year * 12 + today.month - 1 - (self.last - 1)
        return dt.date(months // 12, months % 12 + 1, 1)

    def label(self, key):
        if self.unit == "year":
            return gettext("%(year)s", year=key)
        year, month = key.split("-")
        return gettext("%(year)s-%(month)s", year=year, month=month)


@dataclass(frozen=True)
class Year(Month):
    """Time bucket: the calendar year (default: from the first record to the last)."""

    last: int | None = None
    unit = "year"


@dataclass(frozen=True)
class Quarter(Month):
    """Time bucket: the calendar quarter ('2026-Q1'); by default the last 8 quarters."""

    last: int | None = 8
    unit = "quarter"

    def key_of(self, day):
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"

    def days(self, key):
        year, quarter = int(key[:4]), int(key[-1])
        first = dt.date(year, 3 * quarter - 2, 1)
        following = dt.date(year + quarter // 4, 3 * (quarter % 4) + 1, 1)
        return first, following - dt.timedelta(days=1)

    def first_day(self, today):
        quarters = today.year * 4 + (today.month - 1) // 3 - (self.last - 1)
        return dt.date(quarters // 4, 3 * (quarters % 4) + 1, 1)

    def label(self, key):
        return gettext("%(year)s Q%(quarter)s", year=key[:4], quarter=key[-1])


@dataclass(frozen=True)
class Series:
    """One aggregate per group: ``count``, ``sum`` of a column, or ``mean_hours`` between
    two date-time columns. ``unit``: count, money or hours (how numbers are shown)."""

    agg: str
    label: object
    column: str | None = None
    start: str | None = None
    unit: str = "count"

    def value(self, model):
        if self.agg == "count":
            return func.count()
        if self.agg == "sum":
            return func.coalesce(func.sum(getattr(model, self.column)), 0)
        return func.avg(seconds_between(getattr(model, self.start),
                                        getattr(model, self.column))) / 3600.0

    def behind(self, model):
        """How many records stand behind the value (the drill-down list's count)."""
        if self.agg == "mean_hours":
            return func.count(getattr(model, self.column))
        return func.count()


def Count(label=_l("Records")):
    return Series("count", label)


def Sum(column, label):
    return Series("sum", label, column=column, unit="money")


def MeanHours(start, end, label):
    return Series("mean_hours", label, column=end, start=start, unit="hours")


@dataclass
class Chart:
    """A chart of one record type: group by ``by`` (column or bucket), ``series``,
    optionally stacked by ``stack``; ``date`` is the column of the date-range filter
    (default: the bucket's column, else created_on); ``where`` a deadline rule
    (app/deadlines.py) the records must meet; ``only`` the values of ``by`` shown (a
    point's link names its value, so it needs no filter of its own); ``top`` keeps the
    largest groups."""

    name: str
    title: object
    by: object
    series: tuple = (Count(),)
    stack: str | None = None
    kind: str = "bar"
    date: str | None = None
    where: object = None
    only: tuple = ()
    top: int | None = None
    view: type = field(default=None, repr=False)

    @property
    def model(self):
        return self.view.datamodel.obj

    @property
    def date_column(self):
        if self.date:
            return self.date
        return self.by.column if isinstance(self.by, Month) else "created_on"

    def filter_columns(self):
        """(column, filter class) the chart's drill-down needs on its list."""
        needed = [(self.date_column, FilterWithin)]
        if isinstance(self.by, Month):
            needed.append((self.by.column, FilterWithin))
        needed += [(s.column, FilterIsSet) for s in self.series if s.agg == "mean_hours"]
        return list(dict.fromkeys(needed))


# name -> Chart, filled when the menu's screens are registered (app/__init__.py), in the
# menu's order.
CHARTS = {}


def register(view):
    """The charts the view's record type declares (``__charts__``), drilling into the view."""
    for chart in view.datamodel.obj.__dict__.get("__charts__", ()):
        chart.view = view
        CHARTS[chart.name] = chart


# ---------------------------------------------------------------- list filters

def _days(value):
    """'2026-03-01..2026-03-31' -> (start, end); either side may be empty; junk: None."""
    text = _text(value).strip()
    start_text, sep, end_text = text.partition("..")
    if not sep:
        return None
    try:
        start = dt.date.fromisoformat(start_text) if start_text else None
        end = dt.date.fromisoformat(end_text) if end_text else None
    except ValueError:
        return None
    if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in (start, end)):
        return None  # beyond any record (and beyond date arithmetic at the ends)
    return start, end


class FilterWithin(BaseFilter):
    """Between two calendar days, inclusive, company time (chart drill-down)."""

    name = _l("Within")
    arg_name = "within"
    reads_text = True  # '2026-03-01..2026-03-31', not one date (app/filters.py)

    def apply(self, query, value):
        column = getattr(self.model, self.column_name)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            days = _days(item)
            if days is None:
                return query.filter(false())  # junk finds nothing
            query = query.filter(*within_clause(column, *days))
        return query


class FilterIsSet(BaseFilter):
    """The column has a value (the records behind a mean); the value is ignored."""

    name = _l("Is set")
    arg_name = "set"

    def apply(self, query, value):
        return query.filter(getattr(self.model, self.column_name).isnot(None))


def add_chart_filters(view):
    """Adds the Within/IsSet filters the view's charts drill into (called at view init)."""
    model = view.datamodel.obj
    for chart in CHARTS.values():
        if chart.model is not model:
            continue
        named = [c for c in (chart.by, chart.stack, _department_relation(model)[0])
                 if isinstance(c, str)]
        for column in named:  # FAB's own filters (equal), accepted from the URL
            view._filters._search_filters.setdefault(
                column, list(view._filters._all_filters.get(column, ())))
        for column, filter_class in chart.filter_columns():
            existing = view._filters._all_filters.setdefault(column, [])
            if any(type(f) is filter_class for f in existing):
                continue
            flt = filter_class(column, view.datamodel)
            existing.append(flt)
            view._filters._search_filters.setdefault(column, []).append(flt)


def _filter_index(view, column, test):
    for index, flt in enumerate(view._filters._all_filters.get(column, ())):
        if test(flt):
            return index
    raise LookupError(f"{type(view).__name__} has no such filter on {column}")


def _view_instance(view_class):
    for view in current_app.appbuilder.baseviews:
        if type(view) is view_class:
            return view
    raise LookupError(view_class.__name__)


# ---------------------------------------------------------------------- queries

@dataclass(frozen=True)
class ChartFilters:
    """The date range and department a chart is narrowed to (validated)."""

    start: dt.date | None = None
    end: dt.date | None = None
    department_id: int | None = None

    def args(self):
        out = {}
        if self.start:
            out["start"] = self.start.isoformat()
        if self.end:
            out["end"] = self.end.isoformat()
        if self.department_id:
            out["department"] = str(self.department_id)
        return out


class BadChartInput(ValueError):
    """A filter value that means nothing (shown to the user as is)."""


def parse_filters(args):
    """ChartFilters from request arguments; BadChartInput with a clear message on junk."""
    values = {}
    for key in ("start", "end"):
        text = _text(args.get(key, "")).strip()
        if not text:
            continue
        try:
            values[key] = dt.date.fromisoformat(text)
        except ValueError:
            raise BadChartInput(gettext("Not a valid date: %(value)s (for example "
                                        "2026-01-31).", value=text[:40])) from None
        if not FIRST_DAY <= values[key] <= LAST_DAY:
            raise BadChartInput(gettext("The date %(value)s is out of range.", value=text))
    if values.get("start") and values.get("end") and values["start"] > values["end"]:
        raise BadChartInput(gettext("The start date must not be after the end date."))
    department = _text(args.get("department", "")).strip()
    if department:
        from .base import department_model

        try:
            number = int(department)
        except ValueError:
            number = None
        if number is None or not 0 < number < 2**31 or \
                db.session.get(department_model(), number) is None:
            raise BadChartInput(gettext("No such department: %(value)s.",
                                        value=department[:40]))
        values["department_id"] = number
    return ChartFilters(**values)


def _dimension(model, by):
    """(SQL key expression, kind) of a group-by declaration (buckets: see _buckets)."""
    if isinstance(by, Month):
        return None, "bucket"
    mapper = sa_inspect(model)
    if by in mapper.relationships:
        (local, _remote), = mapper.relationships[by].local_remote_pairs
        return getattr(model, local.key), "relation"
    return getattr(model, by), "enum"


def _department_relation(model):
    """(relationship name, FK column) of the owning department (``__scope__[0]``)."""
    column_name = model.__scope__[0]
    mapper = sa_inspect(model)
    for rel in mapper.relationships:
        if mapper.columns[column_name] in rel.local_columns:
            return rel.key, getattr(model, column_name)
    return None, getattr(model, column_name)


def _named_target(model, by):
    """The related class of a many-to-one group-by, when its rows are labelled by their
    ``name`` column (departments, vendors); else None."""
    if isinstance(by, Month) or by not in sa_inspect(model).relationships:
        return None
    target = sa_inspect(model).relationships[by].mapper.class_
    return target if "name" in sa_inspect(target).columns else None


def _labels(model, by, kind, keys, named=None):
    """Display label per group key. ``named``: the names the chart's statement carried
    (related records with a name column); other related records: one query."""
    if kind == "bucket":
        return {key: by.label(key) for key in keys}
    if kind == "enum":
        return {key: str(key) if key is not None else "—" for key in keys}
    if named is not None:
        return {key: named.get(key) or "—" for key in keys}
    target = sa_inspect(model).relationships[by].mapper.class_
    ids = [key for key in keys if key is not None]
    rows = db.session.query(target).filter(target.id.in_(ids)).all() if ids else []
    labels = {row.id: str(row) for row in rows}
    return {key: labels.get(key, "—") for key in keys}


def _conditions(chart, scope, filters):
    from .security import read_clause

    model = chart.model
    where = []
    # The department filter on one's own department implies one's read rule (its first
    # alternative is that very column): left out, the planner reads one index range per
    # bucket instead of OR-ing the rule's alternatives (a department head's home page).
    implied = filters.department_id is not None and \
        filters.department_id == scope.department_id and "." not in model.__scope__[0]
    clause = None if implied else read_clause(model, scope)
    if clause is not None:
        where.append(clause)
    if filters.start or filters.end:
        where += within_clause(getattr(model, chart.date_column), filters.start, filters.end)
    if filters.department_id:
        where.append(_department_relation(model)[1] == filters.department_id)
    if chart.where is not None:
        where.append(chart.where.clause(model))
    if chart.only:
        where.append(getattr(model, chart.by).in_(chart.only))
    return where


def _bound(column, day):
    """Midnight of ``day`` in company time as stored in ``column`` (UTC), or the date."""
    from .forms import to_utc

    return to_utc(dt.datetime.combine(day, dt.time())) if _is_datetime(column) else day


def _buckets(chart, scope, filters):
    """The time buckets of the chart's window: from the date range, else the last
    ``by.last`` buckets up to today, else (one small query) from the first record to the
    last. A list of keys, and a SELECT of (key, lower, upper bound) to join on: each
    bucket is a range of the stored column, read on its index (no function per row)."""
    by, model = chart.by, chart.model
    column = getattr(model, by.column)
    today = company_today()
    start, end = filters.start, filters.end
    if start is None or end is None:
        if by.last:
            start, end = start or by.first_day(end or today), end or today
        else:
            # Two scalar subqueries: SQLite reads a lone min() or max() from the index's
            # end, but scans the table for both in one SELECT.
            where = _conditions(chart, scope, filters)
            low, high = db.session.execute(select(
                select(func.min(column)).where(*where).scalar_subquery(),
                select(func.max(column)).where(*where).scalar_subquery())).one()
            if low is None:
                return [], None
            from .forms import to_local

            local = (lambda v: to_local(v).date()) if _is_datetime(column) else (lambda v: v)
            start, end = start or local(low), end or local(high)
    if start > end:
        return [], None
    keys = by.keys(start, end)
    rows = []
    for key in keys:
        first, last = by.days(key)
        rows.append(select(literal(key, String()).label("k"),
                           literal(_bound(column, first), column.type).label("a"),
                           literal(_bound(column, last + dt.timedelta(days=1)),
                                   column.type).label("b")))
    return keys, union_all(*rows).subquery("buckets")


def chart_query(chart, scope, filters):
    """(the one GROUP BY statement of a chart: key(s), then value and count per series;
    the bucket keys of a time chart, else None)."""
    model = chart.model
    buckets = keys = None
    if isinstance(chart.by, Month):
        keys, buckets = _buckets(chart, scope, filters)
        if buckets is None:
            return select(literal(None).label("k")).where(false()), []
        key = buckets.c.k
    else:
        key = _dimension(model, chart.by)[0]
    group = [key]
    if chart.stack:
        group.append(_dimension(model, chart.stack)[0])
    values = []
    for index, series in enumerate(chart.series):
        values += [series.value(model).label(f"v{index}"),
                   series.behind(model).label(f"n{index}")]
    labelled = [key.label("k")] + ([group[1].label("s")] if chart.stack else [])
    statement = select(*labelled, *values).select_from(model)
    if buckets is not None:
        column = getattr(model, chart.by.column)
        statement = statement.join(buckets, and_(column >= buckets.c.a, column < buckets.c.b))
    statement = statement.where(*_conditions(chart, scope, filters)).group_by(*group)
    return _with_names(chart, statement), keys


def _with_names(chart, statement):
    """The grouped statement with the name of each related group beside its key
    (``k_name``, ``s_name``): one statement, no second query for the labels."""
    named = [(column, _named_target(chart.model, by))
             for column, by in (("k", chart.by), ("s", chart.stack)) if by is not None]
    named = [(column, target) for column, target in named if target is not None]
    if not named:
        return statement
    grouped = statement.subquery("grouped")
    joined, names, used = grouped, [], set()
    for column, target in named:
        # The table itself (outside the grouped subquery), an alias only if both
        # dimensions name the same table.
        table = target.__table__.alias(f"{column}_names") if target in used \
            else target.__table__
        used.add(target)
        joined = joined.outerjoin(table, table.c.id == grouped.c[column])
        names.append(table.c.name.label(f"{column}_name"))
    return select(*grouped.c, *names).select_from(joined)


def _number(value, series):
    if value is None:
        return None
    if series.agg == "count":
        return int(value)
    return round(float(value), 2)


def chart_data(chart, user=None, filters=ChartFilters()):
    """The chart's numbers for ``user`` (default: the current one) as a dict ready for
    JSON: categories, series with value, records behind and drill-down link per point."""
    from .security import current_actor, scope_for

    model = chart.model
    scope = scope_for(user if user is not None else current_actor())
    statement, buckets = chart_query(chart, scope, filters)
    # Rows as plain tuples, read by position (hundreds of groups: a Row's attribute
    # access by name costs more than the rest of the loop).
    rows = [tuple(row) for row in db.session.execute(statement)]
    at = {name: index for index, name in enumerate(statement.selected_columns.keys())}
    _key, kind = _dimension(model, chart.by)
    cells = {(row[0], row[1] if chart.stack else None): row for row in rows}
    names = {row[0]: row[at["k_name"]] for row in rows} if "k_name" in at else None
    stack_names = {row[1]: row[at["s_name"]] for row in rows} if "s_name" in at else None
    keys = list(dict.fromkeys(k for k, _s in cells))
    if kind == "bucket":
        keys = buckets
    elif kind == "enum":
        order = list(sa_inspect(model).columns[chart.by].type.enum_class)
        keys = sorted(keys, key=lambda k: order.index(k) if k in order else len(order))
    else:
        totals = {}
        for (k, _s), row in cells.items():
            totals[k] = totals.get(k, 0) + float(row[at["v0"]] or 0)
        keys = sorted(keys, key=lambda k: -totals[k])
    if chart.top:
        keys = keys[:chart.top]
    labels = _labels(model, chart.by, kind, keys, names)
    stacks = [None]
    stack_labels = {None: None}
    if chart.stack:
        _skey, stack_kind = _dimension(model, chart.stack)
        stacks = list(dict.fromkeys(s for _k, s in cells))
        if stack_kind == "enum":
            order = list(sa_inspect(model).columns[chart.stack].type.enum_class)
            stacks = [member for member in order if member in stacks]
        stack_labels = _labels(model, chart.stack, stack_kind, stacks, stack_names)
    links = _Links(chart, filters)
    series_out = []
    for index, series in enumerate(chart.series):
        for stack in stacks:
            points = []
            for key in keys:
                row = cells.get((key, stack))
                value = row[at[f"v{index}"]] if row is not None else None
                behind = int(row[at[f"n{index}"]]) if row is not None else 0
                if value is None and series.agg != "mean_hours":
                    value = 0
                points.append({"value": _number(value, series), "n": behind,
                               "url": links.url(key, stack, series)})
            label = str(series.label) if stack is None else str(stack_labels[stack])
            series_out.append({"name": label, "unit": series.unit, "data": points,
                               "stack": "total" if chart.stack else None,
                               "key": _plain_key(stack),
                               # an enum's own colour, as on its badges (danger, warning...)
                               "colour": getattr(stack, "colour", None)})
    return {"name": chart.name, "title": str(chart.title), "kind": chart.kind,
            "categories": [{"key": _plain_key(k), "label": labels[k],
                            "colour": getattr(k, "colour", None)} for k in keys],
            "series": series_out, "filters": filters.args()}


def _plain_key(key):
    return getattr(key, "name", key)


class _Links:
    """Drill-down links: the chart's list, filtered to exactly the records of a point."""

    def __init__(self, chart, filters):
        self.chart = chart
        self.filters = filters
        self.names = {}
        self.rest = {}
        try:
            self.view = _view_instance(chart.view)
            self.base = url_for(f"{type(self.view).__name__}.list") + "?"
        except LookupError:
            self.view = None

    def _arg(self, column, test, value, kind=None):
        """(``_flt_<index>_<column>``, value); the index looked up once per chart."""
        key = (column, kind or test)
        if key not in self.names:
            self.names[key] = f"_flt_{_filter_index(self.view, column, test)}_{column}"
        return self.names[key], value

    def _within(self, column, start, end):
        text = f"{start.isoformat() if start else ''}..{end.isoformat() if end else ''}"
        return self._arg(column, lambda f: isinstance(f, FilterWithin), text, "within")

    def _equal(self, by, key):
        if isinstance(by, Month):
            start, end = by.days(key)
            return self._within(by.column, start, end)
        value = getattr(key, "name", key)
        return self._arg(by, lambda f: type(f).__name__ in (
            "FilterEqual", "FilterRelationOneToManyEqual"), value, "equal")

    def url(self, key, stack, series):
        if self.view is None or key is None:
            return None
        chart, filters = self.chart, self.filters
        merged = bool(filters.start or filters.end) and isinstance(chart.by, Month) and \
            chart.by.column == chart.date_column
        if merged:  # the bucket and the date range make one range of the same column
            bucket_start, bucket_end = chart.by.days(key)
            first = self._within(chart.date_column,
                                 max(filter(None, (filters.start, bucket_start))),
                                 min(filter(None, (filters.end, bucket_end))))
        else:
            first = self._equal(chart.by, key)
        # The other arguments are the same for every point of a series: encoded once.
        cached = (stack, series.agg, series.column)
        if cached not in self.rest:
            self.rest[cached] = urlencode(self._rest(stack, series, merged))
        rest = self.rest[cached]
        return f"{self.base}{urlencode([first])}{'&' if rest else ''}{rest}"

    def _rest(self, stack, series, merged):
        chart, model, filters = self.chart, self.chart.model, self.filters
        args = []
        if chart.stack and stack is not None:
            args.append(self._equal(chart.stack, stack))
        if (filters.start or filters.end) and not merged:
            args.append(self._within(chart.date_column, filters.start, filters.end))
        if filters.department_id:
            relation, _column = _department_relation(model)
            args.append(self._arg(relation, lambda f: type(f).__name__ ==
                                  "FilterRelationOneToManyEqual", filters.department_id,
                                  "equal"))
        if series.agg == "mean_hours":
            args.append(self._arg(series.column, lambda f: isinstance(f, FilterIsSet), "y",
                                  "set"))
        if chart.where is not None:
            column = chart.where.column(model)
            args.append(self._arg(column, lambda f: getattr(f, "arg_name", "") ==
                                  f"deadline_{chart.where.name}", "y", "deadline"))
        return args


def chart_csv(data):
    """The chart's numbers as CSV text (UTF-8 with BOM, so spreadsheet programs read the
    Chinese labels)."""
    out = io.StringIO()
    writer = csv.writer(out)
    stacked = any(s["stack"] for s in data["series"])
    writer.writerow([gettext("Group"), *(s["name"] for s in data["series"])] if not stacked
                    else [gettext("Group"), gettext("Part"), gettext("Value"),
                          gettext("Records")])
    for index, category in enumerate(data["categories"]):
        if stacked:
            for series in data["series"]:
                point = series["data"][index]
                writer.writerow([category["label"], series["name"], point["value"],
                                 point["n"]])
        else:
            writer.writerow([category["label"], *(
                "" if s["data"][index]["value"] is None else s["data"][index]["value"]
                for s in data["series"])])
    return "\ufeff" + out.getvalue()


def number(value, unit):
    """A chart number as people read it: ¥1,234,567.00, 12.5 h, 1,234."""
    if value is None:
        return "—"
    if unit == "money":
        return f"¥{value:,.2f}"
    if unit == "hours":
        return gettext("%(hours)s h", hours=f"{value:,.1f}")
    return f"{value:,}"
