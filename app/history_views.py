"""Screens over the change history: a record's History tab, the global change log
and every version of a record as it stood (5.1.3, 8.1)."""
import collections
import datetime as dt
import functools
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from flask import abort, current_app, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterGreater,
    FilterIn,
    FilterNotEqual,
    FilterSmaller,
    SQLAFilterConverter,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload

from .base import AppUser, Approval, ChainHead, ChangeEntry, Model
from .chapters import view_for_model
from .counting import AtLeast, bounded_count
from .extensions import db
from .filters import SafeFilters, typed_filters
from .history import APPROVAL, CLOCK_SLACK, EXPORT, SIGN_IN, record_versions
from .labels import LABELS, RECORD_LABELS
from .security import FabRouteGuard
from .titles import title_sql, titles

ACTIONS = {"insert": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
           "export": _l("Exported"), "login": _l("Signed in")}
# The fields of an export's entry (app/export.py): who exported what, as auditors read it.
EXPORT_LABELS = {
    "format": _l("Format"), "list": _l("List"), "filters": _l("Filters"),
    "order": _l("Sort"), "query": _l("Query string"), "rows": _l("Rows"),
    # A break-glass sign-in's entry (app/security.py).
    "method": _l("Sign-in method"), "directory": _l("Directory"), "address": _l("Address"),
}


def model_by_name(name):
    return _MODELS.get(name) or _find_model(name)


_MODELS = {}


def _find_model(name):
    for mapper in Model.registry.mappers:
        _MODELS[mapper.class_.__name__] = mapper.class_
    return _MODELS.get(name)


# Columns that only the machinery reads: counters and keys shown elsewhere.
INTERNAL_FIELDS = frozenset({"id", "version", "round", "project_round", "transition"})
# The fields of an approval (a decision in the evidence), as people name them.
APPROVAL_LABELS = {
    "record_type": _l("Record type"), "record_id": _l("Record"), "label": _l("Step"),
    "from_state": _l("From state"), "to_state": _l("To state"), "actor_id": _l("By"),
    "acting_for_id": _l("On behalf of"), "at": _l("Time"), "comment": _l("Comment"),
    "content_hash": _l("Content hash"), "approves": _l("Approves"),
    "submits": _l("Submits"),
}
# The re-approval step stores "Changed: field, field" (evidence, never rewritten).
REAPPROVAL_PREFIX = "Changed: "


def record_label(record_type):
    """The record type as people name it ("项目立项申请"), else the stored name."""
    label = RECORD_LABELS.get(record_type)
    if label is None and record_type == APPROVAL:
        label = _l("Approval")
    if label is None and record_type == EXPORT:
        label = _l("Export")
    if label is None and record_type == SIGN_IN:
        label = _l("Break-glass sign-in")
    if label is None and record_type == "AppUser":
        label = _l("User")
    return str(label) if label is not None else record_type


def field_label(model, field):
    if model is Approval and field in APPROVAL_LABELS:
        return APPROVAL_LABELS[field]
    for name in (field, field.removesuffix("_id"), field.removesuffix("_fk")):
        if name in LABELS:
            return LABELS[name]
    return field


def evidence_time(value):
    """Stored UTC, shown in the company's time zone to the second."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def person(user, login=None):
    """A person by name, the login on hover; the login alone when the account is gone."""
    if user is None:
        if not login:
            return str(_l("System"))
        return Markup('<span class="person" title="{}">{}</span>').format(login, login)
    return Markup('<span class="person" title="{}">{}</span>').format(user.username, str(user))


@functools.lru_cache(maxsize=None)
def _target(model, field):
    """The model a foreign-key column points to, or None."""
    mapper = sa_inspect(model)
    if field not in mapper.columns:
        return None
    column = mapper.columns[field]
    for rel in mapper.relationships:
        if column in rel.local_columns and rel.direction.name == "MANYTOONE":
            return rel.mapper.class_
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOMANY" and rel.key == field:
            return rel.mapper.class_
    for key in column.foreign_keys:  # a key without a relationship (submitted_by_fk)
        # The most derived class of the table (AppUser, not FAB's User).
        classes = [other.class_ for other in Model.registry.mappers
                   if other.local_table is key.column.table]
        if classes:
            return max(classes, key=lambda cls: len(cls.__mro__))
    return None


def _column(model, field):
    mapper = sa_inspect(model)
    return mapper.columns[field] if field in mapper.columns else None


def _with_names(model, query):
    """``query`` loading, with its rows, what their names read (``__name_loads__``)."""
    loads = getattr(model, "__name_loads__", ())
    return query.options(*[selectinload(getattr(model, name)) for name in loads]) \
        if loads else query


class Names:
    """The records a page of entries names, read in a fixed number of statements however
    many rows and record types the page shows (a page of the change log, a record's
    History tab): people as accounts, in one statement; every other record by its title
    (app/titles.py), all types in one statement; which records the reader may open, with
    their titles, in one more. A type whose title SQL cannot compute is read as objects,
    one statement per such type."""

    def __init__(self):
        self.wanted = collections.defaultdict(set)
        self.found = {}  # (model, id) -> an account (AppUser) or a title
        self.visible = {}

    def want(self, cls, value):
        if cls is not None and isinstance(value, int) and not isinstance(value, bool):
            self.wanted[cls].add(value)

    def fetch(self):
        titled = {}
        for cls, ids in self.wanted.items():
            ids = sorted(ids - {key for (c, key) in self.found if c is cls})
            if not ids:
                continue
            if cls is not AppUser and title_sql(cls) is not None:
                titled[cls] = ids
                continue
            for row in _with_names(cls, db.session.query(cls)).filter(cls.id.in_(ids)):
                self.found[(cls, row.id)] = row if cls is AppUser else str(row)
        self.found.update(titles(db.session, titled))
        self.wanted.clear()

    def get(self, cls, value):
        return self.found.get((cls, value))

    def link(self, record_type, record_id, text=None):
        """A link to the record's page when it exists and the viewer may see it."""
        url = self.visible.get((record_type, str(record_id)))
        if text is None:
            model = model_by_name(record_type)
            record = self.found.get((model, int(record_id))) if str(record_id).isdigit() \
                else None
            text = str(record) if record is not None else f"#{record_id}"
        if url is None:
            return text
        return Markup('<a href="{}">{}</a>').format(url, text)

    def find_visible(self, pairs):
        """Which (record type, id) pairs the viewer may open, with their titles: one
        statement for every type (each type's rows narrowed by the reader's scope)."""
        from .security import current_actor, read_clause, scope_for

        by_model, named = collections.defaultdict(set), {}
        for record_type, record_id in pairs:
            model = model_by_name(record_type)
            if model is not None and str(record_id).isdigit():
                by_model[model].add(int(record_id))
                named[model] = record_type
        scope = scope_for(current_actor())
        titled, conditions, views = {}, {}, {}
        for model, ids in by_model.items():
            view = view_for_model(model)
            if view is None or not current_app.appbuilder.sm.has_access(
                    "can_read", model.__name__):
                continue
            views[model] = view
            clause = read_clause(model, scope)
            if title_sql(model) is not None:
                titled[model] = ids
                if clause is not None:
                    conditions[model] = clause
                continue
            query = _with_names(model, db.session.query(model))
            query = query if clause is None else query.filter(clause)
            for row in query.filter(model.id.in_(sorted(ids))):
                self.found[(model, row.id)] = str(row)
                self.visible[(named[model], str(row.id))] = url_for(
                    f"{views[model].__name__}.show", pk=row.id)
        for (model, key), title in titles(db.session, titled, conditions).items():
            self.found[(model, key)] = title
            self.visible[(named[model], str(key))] = url_for(
                f"{views[model].__name__}.show", pk=key)


def _changes(entry):
    try:
        changes = json.loads(entry.changes)
    except (TypeError, ValueError):
        return {}
    return changes if isinstance(changes, dict) else {}


def _approval_subject(changes):
    """(record type, record id) an approval entry decides on."""
    record_type = (changes.get("record_type") or [None, None])
    record_id = (changes.get("record_id") or [None, None])
    return (record_type[1] or record_type[0]), (record_id[1] or record_id[0])


def _collect(names, model, field, value, changes):
    if model is Approval and field in ("actor_id", "acting_for_id"):
        names.want(AppUser, value)
        return
    target = _target(model, field) if model is not None else None
    if isinstance(value, list):
        for item in value:
            names.want(target, item)
    else:
        names.want(target, value)


def show_value(model, field, value, names=None, changes=None):
    """A stored history value as a reader expects it: names, labels, local times, dashes."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict) and "sha256" in value:
        from .attachments import attachment_version_link

        return attachment_version_link(value)
    if isinstance(value, bool):
        return str(_l("Yes")) if value else str(_l("No"))
    names = names if names is not None else _lookup(model, field, value)
    if model is Approval:
        shown = _approval_value(field, value, names, changes or {})
        if shown is not None:
            return shown
    column = _column(model, field) if model is not None else None
    target = _target(model, field) if model is not None else None
    if isinstance(value, list):
        return "、".join(_named(names, target, item) for item in value)
    if column is not None:
        enum_class = getattr(column.type, "enum_class", None)
        if enum_class is not None and value in enum_class.__members__:
            return str(enum_class[value])
        if target is not None and isinstance(value, int):
            return _named(names, target, value)
        if isinstance(column.type, sa.DateTime):
            return evidence_time(value)
    return str(value)


def _named(names, target, value):
    record = names.get(target, value) if target is not None else None
    if record is None:
        return f"#{value}"
    if target is AppUser:
        return person(record)
    return str(record)


def _approval_value(field, value, names, changes):
    subject_type, subject_id = _approval_subject(changes)
    if field == "record_type":
        return record_label(value)
    if field == "record_id":
        subject = model_by_name(subject_type)
        record = names.get(subject, value) if subject is not None else None
        return names.link(subject_type, value, str(record) if record is not None else None)
    if field in ("actor_id", "acting_for_id"):
        return _named(names, AppUser, value)
    if field == "label":
        return gettext(value)
    if field in ("from_state", "to_state"):
        subject = model_by_name(subject_type)
        workflow = getattr(subject, "__workflow__", None)
        column = _column(subject, workflow.state_field) if workflow else None
        enum_class = getattr(getattr(column, "type", None), "enum_class", None)
        if enum_class is not None and value in enum_class.__members__:
            return str(enum_class[value])
        return value
    if field == "at":
        return evidence_time(value)
    if field == "comment" and isinstance(value, str) and value.startswith(REAPPROVAL_PREFIX):
        subject = model_by_name(subject_type)
        fields = [f.strip() for f in value[len(REAPPROVAL_PREFIX):].split(",") if f.strip()]
        return gettext("Changed: %(fields)s", fields="、".join(
            str(field_label(subject, f)) for f in fields))
    return None


def _lookup(model, field, value):
    """Names for one value (the version page): a one-off batch."""
    names = Names()
    _collect(names, model, field, value, {})
    names.fetch()
    return names


def prepare(entries, values=True):
    """Names for every value of ``entries``: users, related records, links; batched.
    ``values=False``: only what a list of entries shows (people and record links), not
    the names inside their changes."""
    names = Names()
    subjects = []
    for entry in entries:
        names.want(AppUser, entry.user_id)
        names.want(AppUser, entry.acting_for_id)
        model = model_by_name(entry.record_type)
        changes = _changes(entry)
        subjects.append((entry.record_type, entry.record_id))
        if model is Approval:
            subjects.append(_approval_subject(changes))
        for field, pair in changes.items() if values else ():
            if isinstance(pair, list) and len(pair) == 2:
                for value in pair:
                    _collect(names, model, field, value, changes)
    names.find_visible(subjects)
    names.fetch()
    return names


def describe(entry, names=None):
    """[(label, before, after)] for one entry, for screens."""
    names = names if names is not None else prepare([entry])
    model = model_by_name(entry.record_type)
    changes = _changes(entry)
    rows = []
    for field, pair in sorted(changes.items()):
        if field in INTERNAL_FIELDS or not (isinstance(pair, list) and len(pair) == 2):
            continue
        before, after = pair
        if entry.record_type in (EXPORT, SIGN_IN):
            rows.append((EXPORT_LABELS.get(field, field), "—", "—" if after in (None, "")
                         else str(after)))
            continue
        rows.append((field_label(model, field), show_value(model, field, before, names, changes),
                     show_value(model, field, after, names, changes)))
    return rows


def who(entry, names):
    """The person of an entry (and whom they acted for), by name with login on hover."""
    shown = person(names.get(AppUser, entry.user_id), entry.username)
    if entry.acting_for:
        shown = Markup("{} ({})").format(shown, gettext(
            "on behalf of %(name)s", name=person(names.get(AppUser, entry.acting_for_id),
                                                 entry.acting_for)))
    return shown


# A record's History tab: newest first, this many entries a page, counted up to
# HISTORY_COUNT_CAP ("1,000+"; the change log filtered by the record shows them all).
HISTORY_PAGE_SIZE = 20
HISTORY_COUNT_CAP = 1000


def entries_for(record, page=0):
    """(entries of one page, count, the page shown) of a record's history, newest first;
    a page past the last one shows the last."""
    query = db.session.query(ChangeEntry).filter_by(record_type=type(record).__name__,
                                                   record_id=str(record.id))
    count = bounded_count(db.session, query.with_entities(ChangeEntry.seq),
                          HISTORY_COUNT_CAP)
    last = max(0, (count - 1) // HISTORY_PAGE_SIZE)
    page = min(max(page or 0, 0), last)
    entries = (query.order_by(ChangeEntry.seq.desc())
               .offset(page * HISTORY_PAGE_SIZE).limit(HISTORY_PAGE_SIZE).all())
    return entries, count, page


def changes_table(entry, names):
    """The change log's "changes": a small table of field, before, after."""
    rows = describe(entry, names)
    if not rows:
        return "—"
    body = Markup("").join(
        Markup("<tr><th>{}</th><td>{}</td><td>→ {}</td></tr>").format(label, before, after)
        for label, before, after in rows)
    return Markup('<table class="table table-condensed changes">{}</table>').format(body)


class ExactMatchConverter(SQLAFilterConverter):
    """Text columns of the change log (user, record type, record id, request id) are
    matched exactly, so every filter runs on an index, even at millions of entries."""

    conversion_table = tuple(
        ("is_string", [FilterEqual, FilterNotEqual, FilterIn]) if kind == "is_string" else
        (kind, filters) for kind, filters in SQLAFilterConverter.conversion_table)


def _record_types_by_name(filters):
    """The record type filter takes the name people read (项目立项申请) as well as the
    stored one (ProjectRequest)."""
    if not filters or not filters.filters:
        return filters
    names = {record_label(name).strip().lower(): name
             for name in list(RECORD_LABELS) + [APPROVAL, EXPORT, SIGN_IN]}

    def stored(value):
        if isinstance(value, list):
            return [stored(one) for one in value]
        return names.get(value.strip().lower(), value) if isinstance(value, str) else value

    values = [stored(value) if flt.column_name == "record_type" else value
              for flt, value in zip(filters.filters, filters.values)]
    if values == filters.values:
        return filters
    renamed = filters.copy()
    renamed.values = values
    return renamed


# A filtered change log counts at most this many entries ("10,000+") and pages through
# them; a date range or a narrower filter reaches older ones.
LOG_COUNT_CAP = 10_000


def _shifted(moment, delta):
    """``moment + delta``, held at the ends of the calendar (a filter on the year 1)."""
    try:
        return moment + delta
    except OverflowError:
        return dt.datetime.max if delta > dt.timedelta(0) else dt.datetime.min


class LogQuery:
    """One change-log request as the database can answer it fast at millions of entries.

    Every page is ordered by ``seq`` (sorting by time is the same order: entries are
    numbered as they are written), and every filter runs as a range scan of a composite
    index ``(<filter columns>, seq)`` that stops after one page. A date range becomes a
    range of seq, looked up on the ``(occurred_at, seq)`` index: inside it, a "safe"
    range whose entries all match by their numbers alone (the clock may differ by up to
    CLOCK_SLACK between entries), and at each end a few entries (within CLOCK_SLACK of
    a bound) whose times are checked one by one. The time condition never reaches the
    big query, so no planner walks one index filtering on another. Without other filters
    count and pages follow from the numbering 1..n without gaps (the chain head holds
    n), exactly and at any depth; with them the count is bounded (LOG_COUNT_CAP) and the
    page is chosen on the index alone before whole rows are read."""

    def __init__(self, session, filters):
        self.session = session
        self.low, self.high = 1, None  # seq bounds, inclusive
        self.conditions = []  # other filters, applied as FAB does: (filter, value)
        self.times = []  # conditions on the time, checked only near the bounds
        self.after, self.before = [], []
        self.bounds = []  # (filter kind, moment) of each condition on the time
        for flt, value in zip(filters.filters, filters.values) if filters else ():
            self._add(flt, value)
        self.safe = self._resolve_times()
        self._edges = self._safe_count = None

    def _resolve_times(self):
        """The chain head and every number a condition on the time needs, in one
        statement: the range of numbers to read and, inside it, the "safe" range whose
        entries all match by their numbers alone (the clock may differ by up to
        CLOCK_SLACK between entries; none for one moment: each is checked)."""
        tick = dt.timedelta(microseconds=1)
        wanted = []  # (what, last at or before the moment?, moment)
        for kind, value in self.bounds:
            if kind is not FilterSmaller:  # matches come after the last entry before
                wanted.append(("low", True, _shifted(value, -CLOCK_SLACK)))
            if kind is not FilterGreater:  # ... and before the first entry after
                wanted.append(("high", False, _shifted(value, CLOCK_SLACK)))
        wanted += [("safe low", False, _shifted(moment, CLOCK_SLACK + tick))
                   for moment in self.after]
        wanted += [("safe high", True, _shifted(moment, -CLOCK_SLACK - tick))
                   for moment in self.before]
        head, *found = self._seqs(wanted)
        self.head = head or 0
        for (what, _before, _moment), seq in zip(wanted, found):
            if what == "low":
                self._bound(low=(seq or 0) + 1)
            elif what == "high" and seq is not None:
                self._bound(high=seq - 1)
        self.high = self.head if self.high is None else min(self.high, self.head)
        low, high = self.low, self.high
        for (what, _before, _moment), seq in zip(wanted, found):
            if what == "safe low":
                low = max(low, self.head + 1 if seq is None else seq)
            elif what == "safe high":
                high = min(high, 0 if seq is None else seq)
        return low, high

    def _seqs(self, wanted):
        """[the chain head's number] + for each (before, moment) of ``wanted`` the last
        entry written at or before the moment (before) or the first at or after it, or
        None: one statement, each a walk of the (occurred_at, seq) index."""
        columns = [sa.select(ChainHead.seq).where(ChainHead.id == 1).scalar_subquery()]
        for before, moment in ((before, moment) for _what, before, moment in wanted):
            if not before and moment == dt.datetime.max:
                columns.append(sa.null())
            elif before:
                columns.append(
                    sa.select(ChangeEntry.seq).where(ChangeEntry.occurred_at <= moment)
                    .order_by(ChangeEntry.occurred_at.desc(), ChangeEntry.seq.desc())
                    .limit(1).scalar_subquery())
            else:
                columns.append(
                    sa.select(ChangeEntry.seq).where(ChangeEntry.occurred_at >= moment)
                    .order_by(ChangeEntry.occurred_at, ChangeEntry.seq)
                    .limit(1).scalar_subquery())
        return list(self.session.execute(sa.select(*[
            column.label(f"n{i}") for i, column in enumerate(columns)])).one())

    def _bound(self, low=None, high=None):
        if low is not None:
            self.low = max(self.low, low)
        if high is not None:
            self.high = high if self.high is None else min(self.high, high)

    def _add(self, flt, value):
        if isinstance(value, list) and flt.arg_name not in ("in", "not_in"):
            for one in value:  # the web sends every filter value as a list (FAB ANDs them)
                self._add(flt, one)
            return
        kind = type(flt)
        if kind in (FilterGreater, FilterSmaller) and value is None:
            return  # junk bound: no condition (as FAB does)
        if flt.column_name == "seq" and isinstance(value, int) and \
                kind in (FilterGreater, FilterSmaller, FilterEqual):
            self._bound(low=value + 1 if kind is FilterGreater else
                        value if kind is FilterEqual else None,
                        high=value - 1 if kind is FilterSmaller else
                        value if kind is FilterEqual else None)
            return
        if flt.column_name == "occurred_at" and isinstance(value, dt.datetime) and \
                kind in (FilterGreater, FilterSmaller, FilterEqual):
            column = ChangeEntry.occurred_at
            self.bounds.append((kind, value))  # numbers looked up with the head
            if kind is FilterGreater:
                self.after.append(value)
                self.times.append(column > value)
            elif kind is FilterSmaller:
                self.before.append(value)
                self.times.append(column < value)
            else:  # one moment: no range of numbers that needs no check
                self.after.append(dt.datetime.max)
                self.times.append(column == value)
            return
        self.conditions.append((flt, value))

    def _select(self, low, high, timed=False):
        query = self.session.query(ChangeEntry.seq)
        if low > 1:  # no bound where there is none: the planners estimate better
            query = query.filter(ChangeEntry.seq >= low)
        if high < self.head:
            query = query.filter(ChangeEntry.seq <= high)
        for flt, value in self.conditions:
            query = flt.apply(query, value)
        return query.filter(*self.times) if timed else query

    def edges(self):
        """The matching numbers outside the safe range (newest first): (above, below)."""
        if self._edges is None:
            low, high = self.safe
            if low > high:  # no safe range: one range, each entry's time checked
                above = self._matching(self.low, self.high)
                self._edges = above, []
            else:
                self._edges = (self._matching(high + 1, self.high),
                               self._matching(self.low, low - 1))
        return self._edges

    def _matching(self, low, high):
        if low > high:
            return []
        return [seq for (seq,) in self._select(low, high, timed=True)
                .order_by(ChangeEntry.seq.desc())]

    def safe_count(self):
        if self._safe_count is None:
            low, high = self.safe
            if low > high:
                self._safe_count = 0
            elif not self.conditions:
                self._safe_count = high - low + 1
            else:
                self._safe_count = bounded_count(self.session, self._select(low, high),
                                                 LOG_COUNT_CAP)
        return self._safe_count

    def count(self):
        if self.high < self.low:
            return 0
        above, below = self.edges()
        inside = self.safe_count()
        if isinstance(inside, AtLeast):
            return AtLeast(LOG_COUNT_CAP)
        total = len(above) + inside + len(below)
        return AtLeast(LOG_COUNT_CAP) if self.conditions and total > LOG_COUNT_CAP else total

    def page(self, descending, page, page_size):
        page, page_size = page or 0, page_size or 20
        start = page * page_size
        if self.high < self.low or (self.conditions and start >= LOG_COUNT_CAP):
            return []
        above, below = self.edges()
        first, last = (above, below) if descending else (below[::-1], above[::-1])
        chosen = first[start:start + page_size]
        wanted = page_size - len(chosen)
        inside = self.safe_count()
        skip = max(0, start - len(first))
        if wanted and skip < inside:
            chosen += self._safe_page(descending, skip, wanted)
            wanted = page_size - len(chosen)
        if wanted:
            skip = max(0, start - len(first) - int(inside))
            chosen += last[skip:skip + wanted]
        order = ChangeEntry.seq.desc() if descending else ChangeEntry.seq.asc()
        return (self.session.query(ChangeEntry).filter(ChangeEntry.seq.in_(chosen))
                .order_by(order).all()) if chosen else []

    def _safe_page(self, descending, skip, size):
        low, high = self.safe
        if not self.conditions:  # numbered 1..n: the page is a range of numbers
            if descending:
                return list(range(high - skip, max(low, high - skip - size + 1) - 1, -1))
            return list(range(low + skip, min(high, low + skip + size - 1) + 1))
        order = ChangeEntry.seq.desc() if descending else ChangeEntry.seq.asc()
        return [seq for (seq,) in self._select(low, high).order_by(order)
                .limit(size).offset(skip)]


class ChangeLogInterface(SQLAInterface):
    """Filters, counts and pages of the change log at millions of entries (LogQuery)."""

    filter_converter_class = ExactMatchConverter

    def apply_filters(self, query, filters):
        # Junk in a filter (a huge number, a NUL byte) finds nothing instead of failing.
        return super().apply_filters(query, typed_filters(_record_types_by_name(filters)))

    def get_filters(self, search_columns=None, search_filters=None):
        return SafeFilters(self.filter_converter_class, self,
                           search_columns=search_columns or [], search_filters=search_filters)

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False):
        log = LogQuery(self.session, typed_filters(_record_types_by_name(filters)))
        return log.count(), log.page(order_direction != "asc", page, page_size)


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
    # Time is the order of the numbers; a log "sorted by user" is the user filter.
    order_columns = ["seq", "occurred_at"]
    base_order = ("seq", "desc")
    label_columns = {
        "seq": _l("No."), "occurred_at": _l("Time"), "username": _l("User"),
        "acting_for": _l("On behalf of"), "record_type": _l("Record type"),
        "record_id": _l("Record"), "action": _l("Action"), "request_id": _l("Request id"),
        "changes": _l("Changes"), "prev_hash": _l("Previous hash"), "hash": _l("Hash"),
    }
    formatters_columns = {
        "action": lambda v: str(ACTIONS.get(v, v)),
    }

    def _readable(self, entry, values, names):
        """One entry's values as people read them (names resolved for the whole page)."""
        values["occurred_at"] = evidence_time(entry.occurred_at)
        values["username"] = person(names.get(AppUser, entry.user_id), entry.username)
        values["acting_for"] = (person(names.get(AppUser, entry.acting_for_id),
                                       entry.acting_for) if entry.acting_for else "—")
        values["record_type"] = record_label(entry.record_type)
        if entry.record_type == APPROVAL:  # a decision: link to the record decided on
            subject_type, subject_id = _approval_subject(_changes(entry))
            link = Markup("{} · {}").format(record_label(subject_type),
                                            names.link(subject_type, subject_id))
        elif entry.record_type in (EXPORT, SIGN_IN):  # an export, a sign-in: no versions
            values["record_id"] = (record_label(entry.record_id) if entry.record_type == EXPORT
                                   else entry.record_id)
            if "changes" in values:
                values["changes"] = changes_table(entry, names)
            return values
        else:
            link = names.link(entry.record_type, entry.record_id)
        version = url_for("ChangeLogView.version", record_type=entry.record_type,
                          record_id=entry.record_id, seq=entry.seq)
        values["record_id"] = Markup('{} · <a class="version-link" href="{}">{}</a>').format(
            link, version, gettext("This version"))
        if "changes" in values:
            values["changes"] = changes_table(entry, names)
        return values

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         **kwargs):
        # Sorted only by the columns offered for sorting (FAB sorts by any attribute).
        if order_column not in self.order_columns:
            order_column, order_direction = "", ""
        widgets = super()._get_list_widget(filters, actions, order_column, order_direction,
                                           **kwargs)
        args = widgets["list"].template_args
        # The page's entries, as the list query loaded them (no second query).
        session = self.datamodel.session
        by_id = {pk: session.get(ChangeEntry, pk) for pk in args["pks"]}
        by_id = {pk: entry for pk, entry in by_id.items() if entry is not None}
        names = prepare(list(by_id.values()), values="changes" in self.list_columns)
        args["value_columns"] = [self._readable(by_id[pk], dict(values), names)
                                 for pk, values in zip(args["pks"], args["value_columns"])
                                 if pk in by_id]
        return widgets

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        widgets = super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        args = widgets["show"].template_args
        values = self._readable(item, dict(zip(self.show_columns, args["value_columns"])),
                                prepare([item]))
        args["value_columns"] = [values[column] for column in self.show_columns]
        return widgets

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
        names = prepare([v for v, _state in versions])
        for field, value in state.items():
            _collect(names, model, field, value, state)
        names.find_visible([(record_type, record_id)] + (
            [_approval_subject({k: [None, v] for k, v in state.items()})]
            if model is Approval else []))
        names.fetch()
        as_changes = {k: [None, v] for k, v in state.items()}
        fields = [(field_label(model, f), show_value(model, f, v, names, as_changes))
                  for f, v in sorted(state.items()) if f not in INTERNAL_FIELDS]
        return self.render_template(
            "history_version.html", entry=entry, fields=fields, versions=versions,
            record_type=record_type, record_id=record_id, actions=ACTIONS,
            when=evidence_time, who=lambda e: who(e, names),
            record_link=names.link(record_type, record_id, gettext("Open the record")),
            title=_l("%(type)s #%(id)s as of change %(seq)s",
                     type=record_label(record_type), id=record_id, seq=seq))

