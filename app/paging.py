"""Junk paging input never reaches FAB (which answers 500 to it).

``page_<view>`` and ``psize_<view>`` must be integers; page is between 0 and
PAGE_MAX and page size between 1 and PAGE_SIZE_MAX. Anything else is corrected
by a redirect to the same list with sane values. A sort key ``_oc_<view>`` that
is not one of that view's ``order_columns`` is dropped the same way (FAB sorts by
any attribute named, ``__class__`` or a related user's password hash included).
A filter value ``_flt_*`` loses NUL bytes and lone surrogates (U+FFFD instead) and
is cut to FILTER_TEXT_MAX characters, for every list, FAB's own included.
"""
from urllib.parse import urlencode

from flask import current_app, redirect, request

from .filters import FILTER_TEXT_MAX, INT64
from .validation import BAD_CHARACTERS

# Far beyond any list, and its offset fits every database's integers.
PAGE_MAX = 10**6


def _clean(key, value, max_size):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if key.startswith("psize_"):
        return str(min(max(number, 1), max_size))
    return str(min(max(number, 0), PAGE_MAX))


def _sortable(view_name, column):
    for view in current_app.appbuilder.baseviews:
        if type(view).__name__ == view_name:
            return column in (getattr(view, "order_columns", None) or ())
    return True  # no such view: FAB ignores the argument


def _filterable(key, value):
    """A filter on a related record names it by integer id (FAB looks any other value up
    in the database, and flashes the database's error text)."""
    _index, _sep, column = key[len("_flt_"):].partition("_")
    view_name = (request.endpoint or "").partition(".")[0]
    for view in current_app.appbuilder.baseviews:
        if type(view).__name__ == view_name and getattr(view, "datamodel", None) is not None:
            datamodel = view.datamodel
            if column in datamodel.list_properties and datamodel.is_relation(column):
                try:
                    return int(value) in INT64
                except ValueError:
                    return False
    return True


def clean_paging_args():
    if request.method != "GET" or not request.args:
        return None
    max_size = current_app.config["PAGE_SIZE_MAX"]
    items, changed = [], False
    for key, value in request.args.items(multi=True):
        if key.startswith(("page_", "psize_")):
            fixed = _clean(key, value, max_size)
            if fixed != value:
                changed = True
                if fixed is None:
                    continue
                value = fixed
        elif key.startswith("_od_") and value not in ("asc", "desc"):
            changed = True
            continue
        elif key.startswith("_oc_") and not _sortable(key[len("_oc_"):], value):
            changed = True
            continue
        elif key.startswith("_flt_"):
            if not _filterable(key, value):
                changed = True
                continue
            clean = BAD_CHARACTERS.sub("\ufffd", value[:FILTER_TEXT_MAX])
            changed = changed or clean != value
            value = clean
        items.append((key, value))
    if changed:
        return redirect(f"{request.path}?{urlencode(items)}", code=302)
    return None
