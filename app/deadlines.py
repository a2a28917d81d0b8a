"""Deadlines people chase in lists: findings past their rectification date (8.2.1),
contracts ending soon (4.2), approvals waiting too long (3.2, 4.1.3).

A record type declares its own beside it (``__deadlines__``: app/audit, app/procurement);
every approvable record has the approval one. Each rule is one declaration: the column its
badge sits on, a SQL condition for the list filter and the same test in Python for the
badge, so both always agree.
"""
import datetime as dt
from dataclasses import dataclass
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l
from markupsafe import Markup


def company_today():
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.now(dt.timezone.utc).astimezone(zone).date()


def _utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def review_states(model):
    """The states in which a record waits for an approval step."""
    workflow = getattr(model, "__workflow__", None)
    if workflow is None:
        return frozenset()
    return frozenset(s for t in workflow.transitions if t.approves for s in t.source)


def approval_days():
    return current_app.config["APPROVAL_WAIT_DAYS"]


@dataclass(frozen=True)
class Deadline:
    name: str
    column: Callable  # model -> the column name the badge and the filter sit on
    label: Callable  # () -> badge text
    colour: str
    clause: Callable  # model -> SQL condition
    applies: Callable  # record -> bool
    filter_name: object = None  # the list filter's name ("Overdue")

    def badge(self):
        return Markup(' <span class="label label-{} deadline deadline-{}">{}</span>').format(
            self.colour, self.name, self.label())


def _waiting_clause(model):
    workflow = model.__workflow__
    return (getattr(model, workflow.state_field).in_(review_states(model))
            & (model.changed_on < _utcnow() - dt.timedelta(days=approval_days())))


def _waiting(record):
    model = type(record)
    return (getattr(record, model.__workflow__.state_field) in review_states(model)
            and record.changed_on is not None
            and record.changed_on < _utcnow() - dt.timedelta(days=approval_days()))


WAITING = Deadline(
    "waiting", lambda model: model.__workflow__.state_field,
    lambda: _l("Waiting over %(days)d days", days=approval_days()), "warning",
    _waiting_clause, _waiting, filter_name=_l("Waiting too long"))


def deadlines_for(model):
    """The deadlines a record type declares beside it (``__deadlines__``: findings overdue,
    contracts ending soon), and approvals waiting too long for every approvable one."""
    rules = list(getattr(model, "__deadlines__", ()))
    if review_states(model):
        rules.append(WAITING)
    return rules


def deadline_filter(rule):
    """A list filter ("Overdue", ...) for the rule's column; its value is ignored."""

    class DeadlineFilter(BaseFilter):
        name = rule.filter_name
        arg_name = f"deadline_{rule.name}"

        def apply(self, query, value):
            return query.filter(rule.clause(self.model))

    DeadlineFilter.__name__ = f"Filter{rule.name.title()}"
    return DeadlineFilter
