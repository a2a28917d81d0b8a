"""What every record is built from, and the core's own tables.

Each chapter of the regulation declares its records in its package (app/organisation,
app/planning, ...: the list is app/chapters.py) from the mixins and column helpers here.
The core's own tables live here too: the users (a user belongs to one department, the
unit of scoping), their delegations, attachments and the evidence (change entries,
approvals, the chain head, compliance snapshots).

Department scoping is declared on each model, once, and enforced in app/security.py:

* ``__scope__``: attribute paths to department ids. The first path is the
  owning department (the one whose Clerk/DeptHead may write the record); a
  record is visible to a scoped user whose department matches any path.
* ``__reference__ = True``: reference data, readable by everyone; writes are
  still limited to the owning department (when the model has ``__scope__``).
* ``__it_managed__ = True``: records the IT department runs for every department
  (contracts, 4.1.3): the IT department's Clerks and DeptHeads see all of them.
* ``__personal__`` (``__personal_readers__``): the column naming the person whose record
  it is (an expert's review, one's delegation), who reads and writes it (and the columns
  naming others who read it too).
* ``__responsible__``: columns naming the people a record's reminders are for beside its
  department (app/reminders.py), e.g. a milestone's responsible person.
* ``__department_columns__``: the only attributes a Clerk/DeptHead may set on such a
  record (creating or deleting it sets every attribute); the rest is for IT staff or
  auditors (an audit finding's rectification, a plan feedback's comment).
* ``write_refusal()``: why the record cannot be written now (a message id), or None;
  checked for every user on every add, edit and delete.
* ``__title__``: what a record is called, a format over its columns and relations
  (``"{number} {name}"``), read by ``str()`` and by SQL alike (app/titles.py).
* ``__title_loads__``: the relations ``__str__`` reads, loaded with a page of records
  that shows them by name (the inbox).

Beside them, in the chapter: ``__workflow__`` (app/workflow.py), ``__rules__``
(app/validation.py), ``__charts__`` (app/charts.py), ``__deadlines__``
(app/deadlines.py), ``__sod_checks__`` (app/approvals.py) and the scorecard rules
(``@rule``, app/compliance.py).
"""
import datetime as dt
import secrets

from flask import has_app_context
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User as FabUser
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    case,
    event,
    func,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, backref, declared_attr, deferred, relationship

from .deadlines import Deadline, company_today, reminder_days
from .i18n import LabelledEnum
from .titles import Titled
from .validation import Distinct, Ordered
from .workflow import N_

# The roles as the workflow tables name them (config.FAB_ROLE_DEFINITIONS).
IT = frozenset({"ITStaff"})
MGMT = frozenset({"Management"})
DEPT_HEAD = frozenset({"DeptHead"})
AUDITOR = frozenset({"Auditor"})
EXPERT = frozenset({"Expert"})
APPLICANT = frozenset({"Clerk", "DeptHead"})  # a department's own people


def _session():
    """The application's session, when there is an application (refusal checks)."""
    if not has_app_context():
        return None
    from .extensions import db

    return db.session


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_security_stamp():
    return secrets.token_hex(16)


def enum_column(enum_class, **kwargs):
    """Stored by member name; a CHECK constraint keeps the column honest. The API takes
    and gives the member name too (``draft``), not the translated label."""
    return Column(
        Enum(enum_class, name=enum_class.__name__.lower(), native_enum=False, length=32,
             create_constraint=True, validate_strings=True),
        info={"marshmallow_by_value": False},
        **kwargs,
    )


def sort_indexes(table, *columns, scope=()):
    """An index ``(column, id)`` for each column a list of ``table`` sorts by. FAB orders
    by the column and then the key, so a page's keys come from the index alone, in order,
    however deep the page (app/records.py ``ListInterface``); it serves equality filters
    on the column too. ``scope``: the department columns of a table scoped through two
    paths (``__scope__``), carried in the index so that a department's long list is
    paged on it without reading the table."""
    return tuple(Index(f"ix_{table}_{column}_id", column, "id", *scope) for column in columns)


class StampMixin(Titled):
    """Who created and last changed a record, and when (UTC); and what it is called
    (``__title__``, app/titles.py).

    Filled by a session event (app/stamps.py), so CLI and seed code work too:
    there the user is empty and the record shows the system as author.
    """

    # Indexed: lists sort and filter by them (date ranges, the inbox, waiting approvals).
    created_on = Column(DateTime, nullable=False, default=utcnow, index=True)
    changed_on = Column(DateTime, nullable=False, default=utcnow, index=True)

    @declared_attr
    def created_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def changed_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    # Loaded when shown (a record's page), never joined into every list query: a list
    # that joins two users into each row sorts and pages the whole joined table.
    @declared_attr
    def created_by(cls):
        return relationship("AppUser", foreign_keys=[cls.created_by_fk])

    @declared_attr
    def changed_by(cls):
        return relationship("AppUser", foreign_keys=[cls.changed_by_fk])


class WorkflowMixin:
    """An approvable record: a version column for optimistic locking (exactly-once
    transitions) and who submitted it (separation of duties). Its workflow is
    declared as ``__workflow__`` beside the model (app/workflow.py)."""

    version = Column(Integer, nullable=False, default=1, server_default="1")
    # The review round: each submission starts a new one (app/workflow.py fire()).
    round = Column(Integer, nullable=False, default=0, server_default="0")

    @declared_attr
    def submitted_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id", name=f"fk_{cls.__tablename__}_submitter"),
                      nullable=True)

    @declared_attr
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


# ----------------------------------------------------------------- People

class AppUser(FabUser):
    """A person using the back office; belongs to exactly one department (2.x)."""

    __tablename__ = "ab_user"
    department_id = Column(
        Integer, ForeignKey("department.id", name="fk_ab_user_department_id_department",
                            use_alter=True),
        index=True)
    department = relationship("Department", foreign_keys=[department_id])
    # Changes whenever the user's sessions and tokens must end (password change,
    # deactivation, logout); sessions and JWTs carry it (app/sessions.py).
    security_stamp = Column(String(32), nullable=False, default=new_security_stamp)

    def get_full_name(self):
        """Chinese order: family name first, no space."""
        name = f"{self.last_name or ''}{self.first_name or ''}".strip()
        return name or self.username

    def __str__(self):
        return self.get_full_name()

    @classmethod
    def __title_sql__(cls):
        """``get_full_name`` in SQL (app/titles.py)."""
        name = func.trim(func.coalesce(cls.last_name, "").concat(
            func.coalesce(cls.first_name, "")))
        return case((name == "", cls.username), else_=name)


class DirectoryIdentity(StampMixin, Model):
    """Who a user is in the company directory (LDAP / Active Directory, OpenID Connect):
    the person behind the account, the groups and department the directory gave at the
    last sign-in or check, and whether the directory still lists them (6.2.1, 6.3.3).
    Written only by app/directory.py; its changes are in the change history."""

    __tablename__ = "directory_identity"
    __table_args__ = (UniqueConstraint("source", "subject", name="uq_directory_identity"),
                      Index("ix_directory_identity_status", "status", "id"))

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                     unique=True)
    user = relationship("AppUser", foreign_keys=[user_id],
                        backref=backref("directory_identity", uselist=False,
                                        cascade="all, delete-orphan", passive_deletes=True))
    # "ldap" or an OpenID Connect provider's name; the DN, or the provider's ``sub``.
    source = Column(String(32), nullable=False)
    subject = Column(String(512), nullable=False)
    groups = Column(Text, nullable=False, default="")  # one group key a line
    department_value = Column(String(200))  # what the directory said, as it said it
    directory_roles = Column(String(200), nullable=False, default="")  # mapped, comma-separated
    # active | no_department | no_group | removed | disabled (app/directory.py STATUSES)
    status = Column(String(16), nullable=False, default="active")
    # Deactivated because the directory no longer lists the person (not by an
    # administrator): the next sign-in after they are back reactivates the account.
    deactivated_by_directory = Column(Boolean, nullable=False, default=False)
    checked_at = Column(DateTime, nullable=False, default=utcnow)  # last confirmed

    def __str__(self):
        return self.subject or ""


class Delegation(StampMixin, Model):
    """A substitute who may act for a person during a date range (approval delegation), so
    that a duty stays assigned while its holder is away (1.3.2)."""

    __tablename__ = "delegation"
    __personal__ = "principal_id"
    # The substitute reads the delegation naming them too (written by the principal only).
    __personal_readers__ = ("substitute_id",)
    # Whom its reminders are for (app/reminders.py): the delegation given and received.
    __responsible__ = ("principal_id", "substitute_id")
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="ck_delegation_dates"),
        CheckConstraint("principal_id <> substitute_id", name="ck_delegation_people"),
    ) + sort_indexes("delegation", "start_date", "end_date")
    __rules__ = (Ordered("start_date", "end_date", check="ck_delegation_dates"),
                 Distinct("principal_id", "substitute_id", check="ck_delegation_people"))

    id = Column(Integer, primary_key=True)
    principal_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    principal = relationship("AppUser", foreign_keys=[principal_id])
    substitute_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    substitute = relationship("AppUser", foreign_keys=[substitute_id])
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    reason = Column(String(200), index=True)

    def write_refusal(self):
        from sqlalchemy.orm import object_session

        # Oneself as substitute and the order of the dates: ``__rules__``.
        principal = self.principal_id or getattr(self.principal, "id", None)
        substitute = self.substitute_id or getattr(self.substitute, "id", None)
        session = object_session(self) or _session()
        if session is not None and None not in (principal, substitute, self.start_date,
                                                self.end_date):
            with session.no_autoflush:
                circular = session.query(Delegation.id).filter(
                    Delegation.principal_id == substitute,
                    Delegation.substitute_id == principal,
                    Delegation.start_date <= self.end_date,
                    Delegation.end_date >= self.start_date,
                    Delegation.id != (self.id or -1)).first()
            if circular is not None:
                return N_("The substitute has named this person as their own substitute "
                          "for these dates: delegations cannot go in a circle.")
        return None

    # The relationships its name reads: lists of names load them with the page.
    __name_loads__ = ("substitute", "principal")

    __title__ = "{substitute} → {principal}"  # what it is called (app/titles.py)


# Delegations ending soon (1.3.2: the duty goes back to its holder, or needs a new
# substitute): a badge on the end date, a list filter and a reminder.
DELEGATION_ENDING = Deadline(
    "ending", lambda model: "end_date",
    lambda: _l("Ends within %(days)d days", days=reminder_days()), "warning",
    lambda model: model.end_date.between(
        company_today(), company_today() + dt.timedelta(days=reminder_days())),
    lambda record: record.end_date is not None and company_today() <= record.end_date
    <= company_today() + dt.timedelta(days=reminder_days()),
    filter_name=_l("Ending soon"),
    remind=lambda: _l("Delegations ending within %(days)d days", days=reminder_days()))
Delegation.__deadlines__ = (DELEGATION_ENDING,)


# ----------------------------------------------------------------- Attachments

class Attachment(Model):
    """A file kept as evidence (reports, signed contracts), checked by content (1.3.3)."""

    __tablename__ = "attachment"

    id = Column(Integer, primary_key=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False, index=True)
    data = deferred(Column(LargeBinary, nullable=False))
    uploaded_on = Column(DateTime, nullable=False, default=utcnow)
    uploaded_by_fk = Column(Integer, ForeignKey("ab_user.id"))

    def __str__(self):
        return self.filename


# -------------------------------------------------------------------- Evidence

class ChangeEntry(Model):
    """One insert, update or delete of a governed record; append-only, hash-chained
    (5.1.3 traceability, 5.1.4 and 1.3.3 no unauthorised change)."""

    __tablename__ = "change_entry"
    __table_args__ = (
        # A record's entries; the record id first, so the id alone is a range too.
        Index("ix_change_entry_record", "record_id", "record_type", "seq"),
        # The change log's filters and their combinations, each in the order of the log
        # (seq), so a page is the first rows of one range; a date range is a range of seq
        # (history_views.LogQuery). User, type and action combined: the action rides along.
        Index("ix_change_entry_user_seq", "username", "seq"),
        Index("ix_change_entry_occurred_seq", "occurred_at", "seq"),
        Index("ix_change_entry_type_seq", "record_type", "seq"),
        Index("ix_change_entry_action_seq", "action", "seq"),
        Index("ix_change_entry_user_action_seq", "username", "action", "seq"),
        Index("ix_change_entry_type_action_seq", "record_type", "action", "seq"),
        Index("ix_change_entry_user_type_seq", "username", "record_type", "seq", "action"),
    )

    id = Column(Integer, primary_key=True)
    seq = Column(Integer, nullable=False, unique=True)
    occurred_at = Column(DateTime, nullable=False)
    user_id = Column(Integer, index=False)
    username = Column(String(128))
    acting_for_id = Column(Integer)
    acting_for = Column(String(128))
    request_id = Column(String(40), nullable=False, index=True)
    record_type = Column(String(64), nullable=False)
    record_id = Column(String(64), nullable=False)
    action = Column(String(8), nullable=False)
    changes = Column(Text, nullable=False)
    prev_hash = Column(String(64), nullable=False)
    hash = Column(String(64), nullable=False, unique=True)

    def __str__(self):
        return f"#{self.seq} {self.record_type}:{self.record_id} {self.action}"


class Approval(Model):
    """One decision of a workflow: who moved which record from where to where, when, why,
    and the hash of the content decided on. Immutable (3.2, 4.1.3, 5.1.4, 8.1)."""

    __tablename__ = "approval"
    __table_args__ = (Index("ix_approval_record", "record_type", "record_id", "id"),)

    id = Column(Integer, primary_key=True)
    record_type = Column(String(64), nullable=False)
    record_id = Column(Integer, nullable=False)
    transition = Column(String(64), nullable=False)
    label = Column(String(200), nullable=False)
    from_state = Column(String(32), nullable=False)
    to_state = Column(String(32), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"))
    actor = relationship("AppUser", foreign_keys=[actor_id])
    acting_for_id = Column(Integer, ForeignKey("ab_user.id"))
    acting_for = relationship("AppUser", foreign_keys=[acting_for_id])
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    comment = Column(Text)
    content_hash = Column(String(64), nullable=False)
    approves = Column(Boolean, nullable=False, default=False)
    submits = Column(Boolean, nullable=False, default=False)

    def __str__(self):
        return f"{self.record_type}#{self.record_id} {self.transition}"


class NotificationKind(LabelledEnum):
    """Why a notification was sent: a record waits for the recipient, or the recipient's
    own submission was decided."""

    waiting = "Waits for you", "primary"
    approved = "Approved", "success"
    returned = "Returned", "warning"
    rejected = "Rejected", "danger"


class Notification(Model):
    """An in-app notification: a record entered the recipient's inbox, or their submission
    was approved, returned or rejected (the step is ``approval``). Written in the
    transaction of the step (app/notifications.py); only ``read_at`` ever changes."""

    __tablename__ = "notification"
    __table_args__ = (
        # The list, newest first; and the unread ones (the bell's count), newest first.
        Index("ix_notification_user", "user_id", "id"),
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
    )

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    kind = enum_column(NotificationKind, nullable=False)
    # The step, by id but without a foreign key: the approvals are the evidence, guarded
    # by the database and the hash chain; a notification must not stand in the way of
    # checking them (a tampered or deleted approval is found by `flask history verify`,
    # not hidden behind a constraint error).
    approval_id = Column(Integer, nullable=False)
    approval = relationship("Approval", primaryjoin="foreign(Notification.approval_id) "
                            "== Approval.id", viewonly=True)
    record_type = Column(String(64), nullable=False)
    record_id = Column(Integer, nullable=False)
    # What the record was called when the step was taken (the list shows it as it was).
    title = Column(String(300), nullable=False)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    read_at = Column(DateTime)

    def __str__(self):
        return f"{self.kind.name} {self.record_type}#{self.record_id} → {self.user_id}"


class ChainHead(Model):
    """The end of the change-history chain: one row, locked by every writer so
    concurrent transactions extend the chain one after another."""

    __tablename__ = "change_chain_head"

    id = Column(Integer, primary_key=True)
    seq = Column(Integer, nullable=False, default=0)
    hash = Column(String(64), nullable=False)


class ComplianceSnapshot(Model):
    """One system's compliance score on one day: the scorecard's trend (8.2.1). Plain ids,
    not references: a day's scores stay as they were taken."""

    __tablename__ = "compliance_snapshot"
    __table_args__ = (UniqueConstraint("day", "system_id", name="uq_compliance_snapshot"),)

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    system_id = Column(Integer, nullable=False)
    department_id = Column(Integer)
    score = Column(Integer, nullable=False)
    level = Column(String(8), nullable=False)
    failing = Column(String(500))  # the keys of the rules failed, comma-separated


class ReminderDigest(Model):
    """One person's reminder digest mailed on one day (`flask reminders send`): a second
    run that day sends them nothing."""

    __tablename__ = "reminder_digest"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_reminder_digest"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", name="fk_reminder_digest_user",
                                         ondelete="CASCADE"), nullable=False)
    day = Column(Date, nullable=False, index=True)
    sent_at = Column(DateTime, nullable=False, default=utcnow)
    recipient = Column(String(256), nullable=False)
    items = Column(Integer, nullable=False)  # the records the digest counted


# 5.1.4 (app/operations): the approvals that moved a change request to "approved".
Index("ix_approval_type_state", Approval.record_type, Approval.to_state, Approval.record_id)


def department_model():
    """The department (app/organisation): the core knows it only as the table every user
    belongs to (``AppUser.department``)."""
    return sa_inspect(AppUser).relationships["department"].mapper.class_


def index_workflow_states(models):
    """待我处理 finds each workflow's records by state, oldest change first, and pages
    them by (changed_on, id) (app/approvals.py inbox_page): one index per workflow table."""
    for model in models:
        workflow = getattr(model, "__workflow__", None)
        if workflow is not None:
            Index(f"ix_{model.__tablename__}_{workflow.state_field}_changed_on",
                  getattr(model, workflow.state_field), model.changed_on, model.id)


@event.listens_for(Mapper, "before_configured")
def _every_chapter_first():
    """Records of one chapter name those of another by name (an incident's system): before
    the first use of any record, every chapter's records are declared. A chapter's models
    import only the core's declarations, never the screens or the security manager, whose
    import is such a first use (tests/test_layout.py)."""
    from .chapters import load_models

    load_models()
