"""到期提醒: what falls due that a person answers for, on a page and in a daily mail.

Nothing here decides what "due" means. The groups are the deadlines the record types
declare with a ``remind`` title (``__deadlines__``, app/deadlines.py: contracts ending,
rectifications due or overdue, maintenance overdue, vulnerabilities past their fix date,
agreements expiring, systems due for a scan, a drill or a backup by the scorecard's
rules, delegations ending) and the approvals waiting in the person's inbox (待我处理,
app/approvals.py) for longer than APPROVAL_WAIT_DAYS.

Who a reminder is for (``responsibility``), always within what the person may read (the
role's read permission and the department scope of the lists, app/security.py):

* a record naming the person as responsible (``__responsible__``: a milestone's or a
  maintenance plan's responsible person, a delegation's principal and substitute);
* Clerk and DeptHead: the records of their own department (the 归口部门 answers for its
  systems, contracts and rectifications, 1.3.2), and in the IT department those the IT
  department runs for everyone (``__it_managed__``);
* ITStaff: every record of the kinds the IT department writes (it runs contracts,
  maintenance, scans, backups and clearances for every department);
* everyone: the records waiting in their own inbox. Admin, Management, Auditor and
  Expert read everything or review: their due work is what waits for them there.

Each group is one bounded COUNT and one page of at most REMINDER_ITEMS rows; its "all"
link opens the record type's list with the deadline filter set to ``mine``, which applies
the same ``responsibility`` (exactly the records counted).
"""
import datetime as dt
import smtplib
import sys
from dataclasses import dataclass, field

import click
from urllib.parse import urljoin

from flask import current_app, request, url_for
from flask.cli import with_appcontext
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal, or_, select, true, union_all
from sqlalchemy.orm import joinedload

from .extensions import db
from .security import DEPARTMENT_ROLES, _path_clause, current_actor, read_clause, scope_for

# A group counts at most this many records ("1000+"): the page stays fast at any size.
COUNT_CAP = 1000


@dataclass
class Item:
    title: str
    url: str
    when: object = None  # the date the deadline sits on, when it is one


@dataclass
class Group:
    key: str
    title: str
    count: int
    items: list = field(default_factory=list)
    all_url: str = ""

    @property
    def capped(self):
        return self.count > COUNT_CAP

    @property
    def shown_count(self):
        return f"{COUNT_CAP}+" if self.capped else str(self.count)


def _roles(user):
    return {role.name for role in user.roles}


def may(user, permission, name):
    """Whether ``user``'s roles grant ``permission`` on ``name`` (a record type's name or
    a screen's), in a request or not (the mail command)."""
    return current_app.appbuilder.sm._has_view_access(user, permission, name)


def responsibility(model, user):
    """SQL condition: the records of ``model`` whose reminders are for ``user`` (see the
    module); None when none of them can be."""
    if user is None:
        return None
    people = [getattr(model, column) == user.id
              for column in getattr(model, "__responsible__", ())]
    if getattr(model, "__personal__", None):  # one's own records: by person only
        return or_(*people) if people else None
    roles = _roles(user)
    if "ITStaff" in roles and may(user, "can_write", model.__name__):
        return true()
    clauses = list(people)
    if roles & DEPARTMENT_ROLES and user.department_id:
        department = user.department
        if (getattr(model, "__it_managed__", False) and department is not None
                and department.kind.name == "it"):
            return true()
        clauses += [_path_clause(model, path, user.department_id)
                    for path in getattr(model, "__scope__", None) or ()]
    return or_(*clauses) if clauses else None


def reminder_rules():
    """[(model, deadline)] of every deadline with a reminder, in the chapters' order,
    then the delegations."""
    from .base import Delegation
    from .chapters import record_models
    from .deadlines import deadlines_for

    return [(model, rule) for model in (*record_models(), Delegation)
            for rule in deadlines_for(model) if rule.remind is not None]


def _view(model):
    return next((view for view in current_app.appbuilder.baseviews
                 if getattr(getattr(view, "datamodel", None), "obj", None) is model
                 and hasattr(view, "list_columns")), None)


def list_path(view, rule, value="mine"):
    """The list of ``view`` filtered by the deadline (``_flt_<n>_<column>=<value>``)."""
    column = rule.column(view.datamodel.obj)
    index = next(i for i, flt in enumerate(view._filters._all_filters[column])
                 if getattr(flt, "arg_name", "") == f"deadline_{rule.name}")
    return url_for(f"{type(view).__name__}.list", **{f"_flt_{index}_{column}": value})


def _bounded_count(query):
    limited = query.limit(COUNT_CAP + 1).subquery()
    return db.session.execute(select(func.count()).select_from(limited)).scalar()


def _deadline_group(model, rule, user, limit):
    if not may(user, "can_read", model.__name__):
        return None
    theirs = responsibility(model, user)
    view = _view(model)
    if theirs is None or view is None:
        return None
    conditions = [rule.clause(model), theirs]
    read = read_clause(model, scope_for(user))
    if read is not None:
        conditions.append(read)
    column = rule.column(model)
    loads = [joinedload(getattr(model, name)) for name in getattr(model, "__title_loads__", ())]
    records = (db.session.query(model).options(*loads).filter(*conditions)
               .order_by(getattr(model, column), model.id).limit(limit).all())
    if not records:
        return None
    # Fewer than a page: that is all of them; else one bounded count.
    count = (len(records) if len(records) < limit
             else _bounded_count(select(model.id).where(*conditions)))
    show = f"{type(view).__name__}.show"
    items = []
    for record in records:
        when = getattr(record, column, None)
        items.append(Item(str(record), url_for(show, pk=record.id),
                          when if isinstance(when, dt.date) else None))
    return Group(f"{model.__tablename__}_{rule.name}", str(rule.remind()), count, items,
                 list_path(view, rule))


def _waiting_group(user, limit):
    """The records waiting in the user's inbox for longer than APPROVAL_WAIT_DAYS."""
    from .approvals import _inbox_sources
    from .chapters import view_for_model
    from .deadlines import WAITING, approval_days

    if not may(user, "can_read", "Inbox"):
        return None
    _actor, sources = _inbox_sources(user)
    if not sources:
        return None
    models = {model.__name__: model for model, _condition, _exact in sources}
    rows = union_all(*(select(literal(model.__name__).label("record_type"),
                              model.id.label("record_id"),
                              model.changed_on.label("changed_on"))
                       .where(and_(condition, WAITING.clause(model)))
                       for model, condition, _exact in sources)).subquery()
    shown = db.session.execute(
        select(rows.c.record_type, rows.c.record_id, rows.c.changed_on)
        .order_by(rows.c.changed_on, rows.c.record_type, rows.c.record_id)
        .limit(limit)).all()
    if not shown:
        return None
    count = len(shown) if len(shown) < limit else _bounded_count(select(rows.c.record_id))
    items = []
    for record_type, record_id, changed_on in shown:
        model = models[record_type]
        record = db.session.get(model, record_id)
        view = view_for_model(model)
        if record is None or view is None:
            continue
        items.append(Item(str(record), url_for(f"{view.__name__}.show", pk=record_id),
                          changed_on.date() if changed_on else None))
    title = gettext("Waiting in my inbox for over %(days)d days", days=approval_days())
    return Group("inbox_waiting", title, count, items, url_for("InboxView.index", waiting=1))


def reminders_for(user, limit=None):
    """The user's reminder groups that have something due, in order: the inbox first."""
    if user is None:
        return []
    limit = limit or current_app.config["REMINDER_ITEMS"]
    groups = [_waiting_group(user, limit)]
    groups += [_deadline_group(model, rule, user, limit) for model, rule in reminder_rules()]
    return [group for group in groups if group is not None]


def windows():
    """The configured windows, as the page and the mail state them."""
    config = current_app.config
    return {"days": config["REMINDER_DAYS"], "contract": config["CONTRACT_DUE_DAYS"],
            "clearance": config["CLEARANCE_WARNING_DAYS"],
            "waiting": config["APPROVAL_WAIT_DAYS"]}


class ReminderView(BaseView):
    """到期提醒: the signed-in user's groups of what falls due, each with its first records
    and a link to the list of all of them."""

    route_base = "/reminders"
    default_view = "index"
    class_permission_name = "Reminders"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self):
        from .deadlines import company_today

        groups = reminders_for(current_actor())
        return self.render_template("reminders.html", title=_l("Due soon"), groups=groups,
                                    windows=windows(), today=company_today())


# ------------------------------------------------------------------ the daily digest

class MailDown(click.ClickException):
    """The mail server cannot be reached or refuses us: nothing is recorded as sent."""

    exit_code = 2


def _external(path):
    """A link of the mail: the path under the configured address (APP_BASE_URL)."""
    return urljoin(request.host_url, path)


def digest_text(user, groups, today):
    """The digest mail (subject, body) in Chinese, with links to the application (within
    a request context on APP_BASE_URL)."""
    with force_locale("zh"):
        total = sum(group.count for group in groups)
        subject = gettext("[%(app)s] Due soon: %(n)d items (%(day)s)",
                          app=current_app.config["APP_NAME"], n=total, day=today.isoformat())
        lines = [gettext("Dear %(name)s,", name=user.get_full_name()), "",
                 gettext("These records fall due or are overdue (as of %(day)s):",
                         day=today.isoformat()), ""]
        for group in groups:
            lines.append(gettext("[%(title)s] %(n)s in all", title=group.title,
                                 n=group.shown_count))
            for item in group.items:
                when = f" ({item.when.isoformat()})" if item.when else ""
                lines.append(f"  - {item.title}{when}  {_external(item.url)}")
            if group.count > len(group.items):
                lines.append("  " + gettext("All of them: %(url)s",
                                            url=_external(group.all_url)))
            lines.append("")
        lines += [gettext("All your reminders: %(url)s",
                          url=_external(url_for("ReminderView.index"))), "",
            gettext("This mail is sent once a day by %(app)s; nothing to answer.",
                    app=current_app.config["APP_NAME"])]
    return subject, "\n".join(lines) + "\n"


def _recipients():
    from .base import AppUser

    return (db.session.query(AppUser).filter(AppUser.active.is_(True))
            .order_by(AppUser.id).all())


def _open_connection():
    from .extensions import mail

    connection = mail.get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        raise MailDown(_mail_error(error)) from None
    return connection


def _mail_error(error):
    config = current_app.config
    return (f"cannot send through {config['MAIL_SERVER']}:{config['MAIL_PORT']} "
            f"({type(error).__name__}: {error}); nothing was recorded as sent, run again "
            "once the mail server answers.")


def send_digests(dry_run=False, day=None, echo=click.echo):
    """Mail each active person with an e-mail address and something due one digest for
    ``day`` (today), once: a digest sent is recorded (user, day) and committed before
    the next person's. Returns the counts."""
    from flask_mailman import EmailMessage

    from .base import ReminderDigest
    from .deadlines import company_today

    day = day or company_today()
    base = current_app.config["APP_BASE_URL"]
    counts = {"sent": 0, "already": 0, "nothing": 0, "no_address": 0, "refused": 0}
    connection = None if dry_run else _open_connection()
    already = {user_id for (user_id,) in db.session.query(ReminderDigest.user_id)
               .filter(ReminderDigest.day == day)}
    try:
        for user in _recipients():
            address = (user.email or "").strip()
            if "@" not in address:
                counts["no_address"] += 1
                continue
            if user.id in already:
                counts["already"] += 1
                continue
            with current_app.test_request_context(base_url=base), force_locale("zh"):
                groups = reminders_for(user, current_app.config["REMINDER_ITEMS"])
                if not groups:
                    counts["nothing"] += 1
                    continue
                subject, body = digest_text(user, groups, day)
            total = sum(group.count for group in groups)
            if dry_run:
                echo(f"To: {address}\nSubject: {subject}\n\n{body}")
                counts["sent"] += 1
                continue
            # Recorded first (the unique key holds off a second run at the same moment),
            # committed only once the server took the mail.
            db.session.add(ReminderDigest(user_id=user.id, day=day, recipient=address,
                                          items=total))
            db.session.flush()
            message = EmailMessage(subject, body, to=[address], connection=connection)
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused:
                # This address only: the others still get theirs, this one next run.
                db.session.rollback()
                echo(f"{address}: refused by the mail server; not recorded as sent.",
                     err=True)
                counts["refused"] += 1
                continue
            except (OSError, smtplib.SMTPException) as error:
                db.session.rollback()
                raise MailDown(_mail_error(error)) from None
            db.session.commit()
            counts["sent"] += 1
    finally:
        if connection is not None:
            connection.close()
    return counts


@click.group("reminders")
def reminders_cli():
    """到期提醒: the daily digests by mail."""


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="Print the mails that would be sent; send and "
                                              "record nothing.")
@with_appcontext
def send_command(dry_run):
    """Mail each person one digest of what falls due (once a day; run it from cron)."""
    counts = send_digests(dry_run=dry_run)
    verb = "would be sent" if dry_run else "sent"
    click.echo(f"{counts['sent']} digests {verb}; {counts['already']} already sent today; "
               f"{counts['nothing']} people with nothing due; {counts['no_address']} "
               f"without an e-mail address; {counts['refused']} refused by the mail server.")
    if counts["refused"]:
        sys.exit(1)
