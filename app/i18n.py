"""Labelled enums: one vocabulary for forms, lists, badges, filters and charts."""
import enum

from flask_babel import gettext
from flask_babel import lazy_gettext as _l  # noqa: F401  (re-exported for models)


class Label(str):
    """An English msgid that renders translated into the current locale."""

    def __str__(self):
        return gettext(str.__str__(self))


class LabelledEnum(enum.Enum):
    """Enum whose members carry a translatable label and a Bootstrap colour.

    The database stores the member name; forms and lists show the label.
    """

    def __new__(cls, label, colour="default"):
        member = object.__new__(cls)
        member._value_ = Label(label)
        member._value_.colour = member.colour = colour
        return member

    def __str__(self):
        return str(self.value)

    @classmethod
    def choices(cls):
        return [(m.name, str(m)) for m in cls]


def duration(value):
    """A timedelta as days, hours and minutes (e.g. the time an incident took to resolve)."""
    if value is None:
        return "—"
    minutes = max(0, int(value.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return gettext("%(days)d d %(hours)d h %(minutes)d min", days=days, hours=hours,
                   minutes=minutes)
