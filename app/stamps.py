"""Created/changed stamps for every record, from one session event.

Works for web, API, CLI and seed code alike: outside a request the author is
empty, which screens show as the system.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

from .base import StampMixin, utcnow
from .security import current_actor


@event.listens_for(Session, "before_flush")
def stamp_records(session, flush_context, instances):
    actor = current_actor()
    actor_id = actor.id if actor is not None else None
    now = utcnow()
    for obj in session.new:
        if isinstance(obj, StampMixin):
            obj.created_on = obj.changed_on = now
            obj.created_by_fk = obj.changed_by_fk = actor_id
    for obj in session.dirty:
        if isinstance(obj, StampMixin) and session.is_modified(obj):
            obj.changed_on = now
            obj.changed_by_fk = actor_id
