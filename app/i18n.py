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
