"""Counts that cost at most a fixed amount of work, shown honestly ("10,000+").

A list over millions of rows (the change log) or a record page's tab over tens of
thousands of related rows needs to know whether there are more pages, not the exact
number. ``bounded_count`` counts at most ``cap + 1`` matching rows on the same index
the page uses; when there are more it answers ``AtLeast(cap)``, an integer FAB's pager
computes its pages from, which reads "10,000+" on the screen. ``capped(n)`` sets the
cap for what a block of code lists (a record page's related tabs), and pages beyond
the cap are empty instead of an OFFSET that walks every row.
"""
import contextlib

from flask import g, has_app_context
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import func, literal_column, select


class AtLeast(int):
    """A count of which only a lower bound is known: "10,000+"."""

    def __str__(self):
        return gettext("%(count)s+", count=f"{int(self):,}")

    def __html__(self):
        return str(Markup.escape(str(self)))


def bounded_count(session, statement, cap):
    """The number of rows ``statement`` (a SELECT) returns, counting at most ``cap`` + 1
    of them; AtLeast(cap) when there are more."""
    if hasattr(statement, "statement"):  # an ORM Query
        statement = statement.statement
    inner = statement.with_only_columns(literal_column("1"), maintain_column_froms=True) \
        .order_by(None).limit(cap + 1)
    counted = session.execute(select(func.count()).select_from(inner.subquery())).scalar()
    return AtLeast(cap) if counted > cap else counted


def pages_of(count, page_size):
    """How many pages ``count`` rows fill ("50+" when only a lower bound is known)."""
    pages = -(-int(count) // page_size)
    return AtLeast(pages) if isinstance(count, AtLeast) else pages


@contextlib.contextmanager
def capped(cap):
    """Counts and pages of the lists built inside the block are bounded by ``cap``."""
    previous = g.get("count_cap") if has_app_context() else None
    g.count_cap = cap
    try:
        yield
    finally:
        g.count_cap = previous


def current_cap():
    return g.get("count_cap") if has_app_context() else None


class CappedCountMixin:
    """For an SQLAInterface: inside ``capped(n)`` (a record page's tabs), the count is
    bounded, pages past ``n`` rows are empty (the pager offers no link to them), and the
    page is chosen first, on the index alone, by id; then its rows are read with what
    they show (a join of the whole range before paging lets a planner walk another
    index: 386 ms for a Clerk's tab page 50 on PostgreSQL)."""

    def page_options(self):
        """Loader options for the rows of a page (what they show, in a statement per
        relation: never one per row)."""
        return []

    def query_count(self, query, filters=None, select_columns=None):
        cap = current_cap()
        if cap is None:
            return super().query_count(query, filters, select_columns)
        inner = self._apply_inner_all(query, filters, select_columns=select_columns,
                                      aliases_mapping={})
        return bounded_count(self.session, inner, cap)

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False):
        cap = current_cap()
        if cap is None:
            return super().query(filters, order_column, order_direction, page, page_size,
                                 select_columns, outer_default_load)
        count = self.query_count(self.session.query(self.obj), filters, select_columns)
        if page and page_size and page * page_size >= cap:
            return count, []
        key = self.obj.id
        chosen = [row[0] for row in self._apply_inner_all(
            self.session.query(key), filters, order_column, order_direction, page,
            page_size, aliases_mapping={})]
        if not chosen:
            return count, []
        rows = self.apply_all(self.session.query(self.obj).filter(key.in_(chosen))) \
            .options(*self.page_options()).all()
        place = {pk: index for index, pk in enumerate(chosen)}
        return count, sorted(rows, key=lambda row: place[row.id])
