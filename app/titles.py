"""What a record is called: one declaration, read by Python and by SQL.

A record type declares ``__title__``, a format over its columns and its many-to-one
relations: ``"{number} {name}"``, ``"{plan} · {department}"``. ``str(record)`` formats
it (a missing value reads as nothing); ``title_sql(model)`` is the same text as one SQL
expression (a related record's title as a scalar subquery). So a page that names records
of many types (the change log, a record's History tab) reads all their titles in one
statement (``titles``), not one per type. A type whose title is not such a format (a
person's name, or the login when there is none) keeps its ``__str__`` and writes the
same as SQL beside it (``__title_sql__``); a type with neither is read as objects.
"""
import functools
import string

import sqlalchemy as sa
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection

_FORMAT = string.Formatter()


@functools.lru_cache(maxsize=None)
def _parts(title):
    """[(literal text, field name or None)] of a ``__title__`` format."""
    return tuple((literal, field) for literal, field, _spec, _conversion in _FORMAT.parse(title))


class Titled:
    """A record named by its ``__title__`` (see the module)."""

    __title__ = None

    def __str__(self):
        if self.__title__ is None:
            return super().__str__()
        return "".join(literal + ("" if field is None else _text(getattr(self, field)))
                       for literal, field in _parts(self.__title__))


def _text(value):
    return "" if value is None else str(value)


@functools.lru_cache(maxsize=None)
def title_sql(model):
    """``model``'s title as an SQL expression over its table, or None when its title is
    not a ``__title__`` of columns and titled many-to-one relations."""
    written = getattr(model, "__title_sql__", None)
    if written is not None:
        return written()
    title = getattr(model, "__title__", None)
    if title is None:
        return None
    mapper = sa_inspect(model)
    pieces = []
    for literal, field in _parts(title):
        if literal:
            pieces.append(sa.literal(literal, sa.String))
        if field is None:
            continue
        if field in mapper.columns:
            column = mapper.columns[field]
            value = column if isinstance(column.type, sa.String) else sa.cast(column, sa.String)
        elif field in mapper.relationships and \
                mapper.relationships[field].direction is RelationshipDirection.MANYTOONE:
            relation = mapper.relationships[field]
            inner = title_sql(relation.mapper.class_)
            if inner is None:
                return None
            (local,) = relation.local_columns
            (remote,) = relation.remote_side
            value = sa.select(inner).where(remote == local).correlate(model) \
                .scalar_subquery()
        else:
            return None
        pieces.append(sa.func.coalesce(value, sa.literal("", sa.String)))
    return functools.reduce(lambda left, right: left.concat(right), pieces)


def titles(session, wanted, conditions=None):
    """{(model, id): title} of ``wanted`` ({model: ids}, every model with a ``title_sql``)
    in one statement; ``conditions`` ({model: clause}) narrow a type's rows (its
    department scope), so a row left out is one the reader may not see."""
    selects = []
    for model, ids in wanted.items():
        if not ids:
            continue
        query = sa.select(sa.literal(model.__name__, sa.String).label("type"),
                          model.id.label("id"), title_sql(model).label("title")) \
            .where(model.id.in_(sorted(ids)))
        clause = (conditions or {}).get(model)
        selects.append(query if clause is None else query.where(clause))
    if not selects:
        return {}
    by_name = {model.__name__: model for model in wanted}
    statement = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    return {(by_name[kind], key): title for kind, key, title in session.execute(statement)}
