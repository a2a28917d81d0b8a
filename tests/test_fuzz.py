"""Junk in every field of every form and API resource, and in every list filter and sort
key (record lists, the change log, the REST lists): never a 5xx, never SQL or a
traceback in the answer.

Everything is derived from what is registered (views, their forms and search filters,
APIs and their columns), so a new record type is fuzzed without new test code. A normal
run samples the junk deterministically (seeded per view and field); ``FUZZ_FULL=1``
(``make fuzz``) sends all of it. Runs against its own seeded database, so the demo
records it edits are nobody else's.
"""
import itertools
import os
import random
import re
import tempfile
from html.parser import HTMLParser
from urllib.parse import urlencode

import prison
import pytest
from flask_appbuilder import ModelView
from sqlalchemy import inspect as sa_inspect

from app.chapters import apis as chapter_apis
from app.chapters import record_views as chapter_views
from conftest import CSRF_RE, PASSWORD, dispose, login, scratch_database_url, seeded_app

FULL = os.environ.get("FUZZ_FULL") == "1"

FORM_JUNK = [
    "", " ", "\x00", "a\x00b", "%", "_", "\\", "abc\\", "%_\\", "x" * 200_000, "中" * 60_000,
    "' OR 1=1 --", "<script>alert(1)</script>", "-1", "0", "-0.005", "1.239",
    "99999999999999999999999", "-99999999999999999999999", "1e999999", "NaN", "Infinity",
    "2026-13-45", "0001-01-01", "9999-12-31 23:59:59", "2026-02-30", "😀", "１２３",
    "no_such_choice", "999999999999", "-2147483649",
]
JSON_JUNK = FORM_JUNK + [
    "\ud800", "a\udfffb", -1, 0, 2**31, 2**63, 10**30, -10**30, 1.5e308, 0.001, True, None,
    [], {}, [1, 2], [2**63], {"id": 1}, "2026-01-01T25:61:00",
]
FILTER_JUNK = [
    "\x00", "a\x00", "%", "_", "\\", "a\\", "%_\\", "'", "99999999999999999999999", "-1",
    "1e999999", "NaN", "x" * 5000, "2026-99-99", "0000-00-00", "😀", "' OR '1'='1", "",
]
SORT_JUNK = ["__class__", "password", "created_by.password", "changes", "x" * 500,
             "id desc; drop table department", "\x00", "%", "status.__doc__"]
PATH_JUNK = ["abc", "0", "-1", "99999999999999999999999", "1.5", "%00", "%25", "%5C"]

LEAKS = re.compile(
    r"Traceback \(most recent|sqlite3\.|psycopg|IntegrityError|DataError|OperationalError"
    r"|ProgrammingError|StatementError|\[SQL:|\bINSERT INTO\b|\bUPDATE \w+ SET\b"
    r"|\bDELETE FROM\b|\bSELECT\b[^<]{0,200}\bFROM\b|Fatal error")


def sample(values, *key, size=3):
    """All values in a full run, else ``size`` of them, the same ones every run."""
    values = list(values)
    if FULL or len(values) <= size:
        return values
    return random.Random("|".join(map(str, key))).sample(values, size)


def assert_clean(response, what):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (what, response.status_code, body[:500])
    leak = LEAKS.search(body)
    assert leak is None, (what, leak.group(0), body[max(0, leak.start() - 200):leak.end() + 200])


# ---------------------------------------------------------------- the app

@pytest.fixture(scope="module")
def fuzz_app():
    application = seeded_app(scratch_database_url(tempfile.mkdtemp(prefix="isgov-fuzz-"),
                                                  "fuzz"))
    yield application
    dispose(application)


@pytest.fixture(scope="module")
def web(fuzz_app):
    client = fuzz_app.test_client()
    assert login(client, "admin").status_code == 302
    html = client.get("/resetmypassword/form").get_data(as_text=True)
    client.token = CSRF_RE.search(html).group(1)
    return client


@pytest.fixture(scope="module")
def api(fuzz_app):
    client = fuzz_app.test_client()
    response = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db"})
    client.headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    return client


def record_views(app):
    from app.records import RecordView

    return [v for v in app.appbuilder.baseviews if isinstance(v, RecordView)]


def list_views(app):
    return [v for v in app.appbuilder.baseviews
            if isinstance(v, ModelView) and v.datamodel is not None
            and getattr(v, "search_columns", None) and v.class_permission_name != "User"]


def record_apis(app):
    from app.api import RecordApi

    return [v for v in app.appbuilder.baseviews if isinstance(v, RecordApi)]


def first_id(app, model):
    from app.extensions import db

    with app.app_context():
        return db.session.query(sa_inspect(model).primary_key[0]).order_by(
            sa_inspect(model).primary_key[0]).limit(1).scalar()


def unique_fields(model):
    from app.validation import _unique_sets, field_name

    return {field_name(model, c.key) for columns in _unique_sets(model) for c in columns}


# ------------------------------------------------------------- web forms

class FormValues(HTMLParser):
    """The values a browser would send for the form fields of a page."""

    def __init__(self):
        super().__init__()
        self.values, self._textarea, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file", "button"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values.append((self._select, attrs.get("value") or ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.values.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_values(client, path):
    response = client.get(path)
    assert_clean(response, path)
    parser = FormValues()
    parser.feed(response.get_data(as_text=True))
    return [(k, v) for k, v in parser.values if k != "csrf_token"]


_serial = itertools.count(1)


def post_form(client, path, values, field, junk):
    data = [(k, v) for k, v in values if k != field] + [(field, junk), ("csrf_token",
                                                                         client.token)]
    from werkzeug.datastructures import MultiDict

    response = client.post(path, data=MultiDict(data), follow_redirects=False)
    assert_clean(response, (path, field, junk[:40]))


def _form_cases(app):
    cases = []
    for view in record_views(app):
        for mode in ("add", "edit"):
            if getattr(view, f"{mode}_columns", None):
                cases.append((type(view).__name__, mode))
    return cases


# Every add and edit form of every record screen of the chapters (app/chapters.py).
FORM_CASES = [(view.__name__, mode) for view in chapter_views() for mode in ("add", "edit")
              if getattr(view, f"{mode}_columns", None)]


@pytest.mark.parametrize("view_name,mode", FORM_CASES)
def test_junk_in_any_form_field_is_answered_without_error_or_sql(fuzz_app, web, view_name,
                                                                  mode):
    view = next(v for v in record_views(fuzz_app) if type(v).__name__ == view_name)
    model = view.datamodel.obj
    pk = first_id(fuzz_app, model)
    assert pk is not None, f"the demo data has no {model.__name__}"
    base = f"/{view.route_base.strip('/')}"
    values = form_values(web, f"{base}/edit/{pk}")
    path = f"{base}/edit/{pk}" if mode == "edit" else f"{base}/add"
    if mode == "add":  # unique fields get fresh values, so junk is what is refused
        uniques = unique_fields(model)
        values = [(k, f"{v}-{next(_serial)}" if k in uniques else v) for k, v in values]
    fields = [f for f in getattr(view, f"{mode}_columns") if not f.endswith("_upload")]
    for field in fields:
        for junk in sample(FORM_JUNK, view_name, mode, field):
            post_form(web, path, values, field, junk)


def test_every_record_form_is_fuzzed(fuzz_app):
    """The chapters' forms are every add and edit form the application serves."""
    listed = test_junk_in_any_form_field_is_answered_without_error_or_sql.pytestmark[0].args[1]
    assert set(_form_cases(fuzz_app)) == set(listed)


# -------------------------------------------------------------------- API

def api_baseline(api, resource, add_columns):
    listing = api.get(f"/api/v1/{resource}/?q=(page_size:1)", headers=api.headers)
    pk = listing.get_json()["ids"][0]
    shown = api.get(f"/api/v1/{resource}/{pk}", headers=api.headers).get_json()["result"]
    payload = {}
    for column in add_columns:
        if column in shown and shown[column] is not None:
            payload[column] = shown[column]
        elif shown.get(f"{column}_id") is not None:
            payload[column] = shown[f"{column}_id"]
    return pk, payload


@pytest.mark.parametrize("resource", [api.resource_name for api in chapter_apis()])
def test_junk_in_any_api_field_is_answered_without_error_or_sql(fuzz_app, api, resource):
    resource_api = next(a for a in record_apis(fuzz_app) if a.resource_name == resource)
    pk, payload = api_baseline(api, resource, resource_api.add_columns)
    uniques = unique_fields(resource_api.datamodel.obj)
    for field in resource_api.add_columns:
        for junk in sample(JSON_JUNK, resource, field, size=4):
            body = {k: (f"{v}-{next(_serial)}" if k in uniques and isinstance(v, str) else v)
                    for k, v in payload.items()}
            body[field] = junk
            response = api.post(f"/api/v1/{resource}/", json=body, headers=api.headers)
            assert_clean(response, ("POST", resource, field, repr(junk)[:40]))
            assert response.status_code in (201, 400, 403, 409, 422), response.status_code
        for junk in sample(JSON_JUNK, resource, field, "put", size=4):
            response = api.put(f"/api/v1/{resource}/{pk}", json={field: junk},
                               headers=api.headers)
            assert_clean(response, ("PUT", resource, field, repr(junk)[:40]))
            assert response.status_code in (200, 400, 403, 409, 422), response.status_code
    for junk in PATH_JUNK:
        for method in ("get", "put", "delete"):
            response = getattr(api, method)(f"/api/v1/{resource}/{junk}", json={},
                                            headers=api.headers)
            assert_clean(response, (method, resource, junk))


def test_every_api_resource_is_fuzzed(fuzz_app):
    fuzzed = set(test_junk_in_any_api_field_is_answered_without_error_or_sql
                 .pytestmark[0].args[1])
    assert {a.resource_name for a in record_apis(fuzz_app)} == fuzzed


# ---------------------------------------------------------- lists and sorts

def test_junk_in_every_list_filter_and_sort_key_is_answered_without_error(fuzz_app, web):
    views = list_views(fuzz_app)
    assert any(type(v).__name__ == "ChangeLogView" for v in views)
    for view in views:
        name = type(view).__name__
        base = f"/{view.route_base.strip('/')}/list/"
        for column, filters in view._filters.get_search_filters().items():
            cases = list(itertools.product(range(len(filters)), FILTER_JUNK))
            for index, junk in sample(cases, name, column, size=6):
                query = urlencode({f"_flt_{index}_{column}": junk})
                assert_clean(web.get(f"{base}?{query}"), (name, column, index, junk[:40]))
        for junk in sample(SORT_JUNK, name, size=4):
            for direction in ("asc", "desc", "sideways"):
                query = urlencode({f"_oc_{name}": junk, f"_od_{name}": direction})
                assert_clean(web.get(f"{base}?{query}"), (name, junk[:40], direction))
        for junk in PATH_JUNK:
            for action in ("show", "edit"):
                assert_clean(web.get(f"/{view.route_base.strip('/')}/{action}/{junk}"),
                             (name, action, junk))


def test_junk_in_every_api_filter_and_order_is_answered_without_error(fuzz_app, api):
    for resource_api in record_apis(fuzz_app):
        resource = resource_api.resource_name
        for column, filters in resource_api._filters.get_search_filters().items():
            cases = list(itertools.product([f.arg_name for f in filters], FILTER_JUNK))
            for opr, junk in sample(cases, resource, column, size=4):
                q = prison.dumps({"filters": [{"col": column, "opr": opr, "value": junk}]})
                response = api.get(f"/api/v1/{resource}/?{urlencode({'q': q})}",
                                   headers=api.headers)
                assert_clean(response, (resource, column, opr, junk[:40]))
        for junk in sample(SORT_JUNK, resource, size=3):
            q = prison.dumps({"order_column": junk, "order_direction": "asc"})
            response = api.get(f"/api/v1/{resource}/?{urlencode({'q': q})}",
                               headers=api.headers)
            assert_clean(response, (resource, "order", junk[:40]))
        for q in ("(columns:!(password))", "(page:-1,page_size:99999999999999999999)",
                  "(filters:!((col:id,opr:eq,value:99999999999999999999999)))",
                  "(order_direction:sideways)", "(filters:!((col:x)))"):
            response = api.get(f"/api/v1/{resource}/?{urlencode({'q': q})}",
                               headers=api.headers)
            assert_clean(response, (resource, q))
