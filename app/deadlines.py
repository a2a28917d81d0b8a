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
from sqlalchemy import false

# The value of a deadline filter that narrows the list to one's own reminders.
MINE = "mine"


def company_today():
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.now(dt.timezone.utc).astimezone(zone).date()


def reminder_days():
    return current_app.config["REMINDER_DAYS"]


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
    # A group of the reminders page and mail (app/reminders.py): () -> its title.
    remind: Callable = None
    # False: no badge in lists (a condition costlier than one page's rows can afford).
    listed: bool = True

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
    """A list filter ("Overdue", ...) for the rule's column. Its value is ignored, except
    ``mine``: then only the records the reminders page gives the current user for it
    (app/reminders.py ``responsibility``), so the page's "all" link lists exactly those."""

    class DeadlineFilter(BaseFilter):
        name = rule.filter_name
        arg_name = f"deadline_{rule.name}"
        reads_text = True  # its value is no value of the column (app/filters.py)

        def apply(self, query, value):
            query = query.filter(rule.clause(self.model))
            if value == MINE:
                from .reminders import responsibility
                from .security import current_actor

                theirs = responsibility(self.model, current_actor())
                query = query.filter(false() if theirs is None else theirs)
            return query

    DeadlineFilter.__name__ = f"Filter{rule.name.title()}"
    return DeadlineFilter
