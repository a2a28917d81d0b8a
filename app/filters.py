"""Search filters that answer junk input with "no such value" instead of a 500.

FAB hands the text of a filter to the database as it is: an unknown enum name
raises LookupError, a non-number in a numeric column fails on PostgreSQL, an
integer beyond 64 bits fails on SQLite, a number where text is expected fails
in Python, and a filter index the column does not have (``_flt_9_status``)
raises IndexError. ``typed_filters`` converts each value to its column's type
first; junk becomes None, which FAB already treats as "no such value" (equal:
nothing matches; greater/smaller: no condition). ``SafeFilters`` ignores
unknown filter indexes. Both are used by ``ScopedInterface`` (web and API) and by
the change log.

Text never reaches the driver in a failing form: a NUL byte or lone surrogate
becomes U+FFFD (it can match nothing stored), a value is cut at FILTER_TEXT_MAX
characters, and the LIKE filters (starts with, contains, ...) escape % _ and \\
so they are matched literally on every database.
"""
import copy
import datetime
import decimal

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import (
    FilterContains,
    FilterEndsWith,
    FilterNotContains,
    FilterNotEndsWith,
    FilterNotStartsWith,
    FilterStartsWith,
    get_field_setup_query,
)

from .validation import BAD_CHARACTERS

INT64 = range(-2**63, 2**63)
NUMERIC_LIMIT = decimal.Decimal(10) ** 18  # beyond every amount column, within every database
FILTER_TEXT_MAX = 1000  # longer than any searchable text a person types


def _text(value):
    text = value if isinstance(value, str) else str(value)
    return BAD_CHARACTERS.sub("\ufffd", text[:FILTER_TEXT_MAX])


def like_escape(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def case_insensitive_like(query, field, pattern):
    """``field ILIKE pattern`` (escaped with a backslash), as plain LIKE where that is the
    same: on SQLite, whose LIKE folds ASCII letters as its lower() does (and no others),
    without calling lower() twice per row (a "contains" count over 200,000 incident
    titles: 19 ms instead of 56-85 ms); and for a pattern without letters that have a
    case (Chinese text, numbers), where PostgreSQL's ILIKE folds every character of every
    row for nothing (a "starts with 中间" count: 32 ms instead of 119 ms;
    docs/performance.md)."""
    if query.session.get_bind().dialect.name == "sqlite" or not _has_case(pattern):
        return field.like(pattern, escape="\\")
    return field.ilike(pattern, escape="\\")


def _has_case(text):
    return text.lower() != text or text.upper() != text


def _escaped(fab_class, pattern, negate):
    class Escaped(fab_class):
        def apply(self, query, value):
            query, field = get_field_setup_query(query, self.model, self.column_name)
            clause = case_insensitive_like(query, field,
                                           pattern.format(like_escape(_text(value))))
            return query.filter(~clause if negate else clause)

    Escaped.__name__ = f"Escaped{fab_class.__name__}"
    return Escaped


ESCAPED_LIKE = {fab: _escaped(fab, pattern, negate) for fab, pattern, negate in (
    (FilterStartsWith, "{}%", False), (FilterNotStartsWith, "{}%", True),
    (FilterEndsWith, "%{}", False), (FilterNotEndsWith, "%{}", True),
    (FilterContains, "%{}%", False), (FilterNotContains, "%{}%", True),
)}


class SafeFilters(Filters):
    """Unknown filter indexes are ignored. A record type's columns are converted to filter
    objects once per data interface: FAB converts every column again for each Filters
    object, several times per list (copy, joined filters), every related tab included."""

    def add_filter_index(self, column_name, filter_instance_index, value):
        if filter_instance_index < len(self._all_filters.get(column_name, ())):
            super().add_filter_index(column_name, filter_instance_index, value)

    def _get_filters(self, cols):
        cache = self.datamodel.__dict__.setdefault("_converted_filters", {})
        key = (self.filter_converter, tuple(cols))
        if key not in cache:
            cache[key] = super()._get_filters(cols)
        # lists copied: views add their own filters to a column's list
        return {column: list(found) for column, found in cache[key].items()}

    def _like(self, filters, values):
        same = SafeFilters(self.filter_converter, self.datamodel)
        same.filters, same.values = filters, values
        return same

    def copy(self):
        return self._like(copy.copy(self.filters), copy.copy(self.values))

    def get_joined_filters(self, filters):
        return self._like(self.filters + filters.filters, self.values + filters.values)


def _integer(value):
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number in INT64 else None


def _boolean(value):
    """FAB's web form sends "y"; the API may send true/false, 1/0. Anything else: no match."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("y", "true", "1", "on", "yes"):
        return True
    if text in ("n", "false", "0", "off", "no"):
        return False
    return None


def _numeric(value):
    try:
        number = decimal.Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and abs(number) < NUMERIC_LIMIT else None


def _datetime(value):
    """Screens take date-times in the company's time zone (as they show them); the API in
    UTC, as stored. Anything else finds nothing."""
    from flask import has_request_context, request

    from .forms import filter_time

    text = _text(value)
    if has_request_context() and not request.path.startswith("/api/"):
        return filter_time(text)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else \
        parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _date(value):
    try:
        return datetime.date.fromisoformat(_text(value).strip()[:10])
    except ValueError:
        return None


def _typed_value(datamodel, column, value):
    if value is None:
        return value
    if isinstance(value, (list, tuple)):  # web filters and "in" / "not in"
        return [_typed_value(datamodel, column, item) for item in value]
    if datamodel.is_relation(column):  # related records are named by integer id
        return _integer(value)
    if datamodel.is_enum(column):
        members = datamodel.list_columns[column].type.enum_class.__members__
        return value if value in members or value in members.values() else None
    if datamodel.is_boolean(column):
        return _boolean(value)
    if datamodel.is_integer(column):
        return _integer(value)
    if datamodel.is_numeric(column) or datamodel.is_float(column):
        return _numeric(value)
    if datamodel.is_string(column) or datamodel.is_text(column):
        return _text(value)
    if datamodel.is_datetime(column) and isinstance(value, str):
        return _datetime(value)
    if datamodel.is_date(column) and isinstance(value, str):
        return _date(value)
    if isinstance(value, str):  # dates and the rest: FAB parses them, safely once clean
        return _text(value)
    return value


def _typed(flt, value):
    if flt.column_name not in flt.datamodel.list_properties:  # custom and dotted filters
        return value
    if getattr(flt, "reads_text", False):  # a filter that parses its own text (a period)
        return value
    if flt.arg_name in ("in", "not_in") and not isinstance(value, (list, tuple)):
        value = [value]  # FAB iterates the value: over the characters of a text
    return _typed_value(flt.datamodel, flt.column_name, value)


def typed_filters(filters):
    """A copy of ``filters`` with every value converted to its column's type."""
    if not filters or not filters.filters:
        return filters
    typed = filters.copy()
    typed.values = [_typed(flt, value) for flt, value in zip(filters.filters, filters.values)]
    typed.filters = [_escaping(flt) for flt in filters.filters]
    return typed


def _escaping(flt):
    escaped_class = ESCAPED_LIKE.get(type(flt))
    if escaped_class is None:
        return flt
    escaped = copy.copy(flt)
    escaped.__class__ = escaped_class
    return escaped
