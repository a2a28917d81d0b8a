"""The record page names the regulation's clauses its record type serves (1.3.2 ... 8.2.2):
one mechanism for every record screen, no per-view code. The clauses are those the
model's docstring names, read from the registry (app/regulation.py); each clause's text
on hover (title) and in the expandable list, in Chinese or English by locale.

A matrix over every record screen of the menu, on a demo record of each.
"""
import html

import pytest

from app.chapters import record_views
from app.regulation import CLAUSES, model_clauses


def menu_views(app):
    from flask import url_for

    with app.test_request_context():
        return [(view.__name__, url_for(f"{view.__name__}.list").rsplit("/list/", 1)[0],
                 view.datamodel.obj) for view in record_views()]


@pytest.fixture(scope="module")
def admin(app):
    from conftest import login

    client = app.test_client()
    assert login(client, "admin").status_code == 302
    return client


def a_record(app, model):
    from app.extensions import db

    with app.app_context():
        return db.session.query(model.id).order_by(model.id).limit(1).scalar()


def clause_block(page):
    start = page.index('<details class="record-clauses">')
    return page[start:page.index("</details>", start)]


def test_every_record_screen_of_the_menu_is_covered(app):
    names = [name for name, _route, _model in menu_views(app)]
    assert len(names) >= 20 and "OperationLogView" in names and "DelegationView" in names


VIEWS = record_views()


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_the_record_page_shows_its_models_clauses_in_chinese(app, admin, view):
    name, route, model = next(item for item in menu_views(app) if item[0] == view.__name__)
    pk = a_record(app, model)
    assert pk is not None, f"{model.__name__}: no demo record"
    response = admin.get(f"{route}/show/{pk}")
    assert response.status_code == 200, name
    page = response.get_data(as_text=True)
    clauses = model_clauses(model)
    assert clauses, f"{model.__name__} names no clause"
    block = clause_block(page)
    assert "依据制度条款 " + "、".join(
        f'<span class="record-clause" data-clause="{cid}" title="{html.escape(CLAUSES[cid].zh)}">'
        f"{cid}</span>" for cid in clauses) in block
    for cid in clauses:
        assert f"<dt>{cid}</dt><dd class=\"clause-text\">{html.escape(CLAUSES[cid].zh)}</dd>" in block
    # only its own clauses
    assert block.count('class="record-clause"') == len(clauses)


def test_the_record_page_shows_the_clauses_in_english_by_locale(app):
    from conftest import login

    from app.operations.models import OperationLog

    client = app.test_client()
    assert login(client, "admin").status_code == 302
    assert client.get("/lang/en").status_code == 302
    route = dict((name, route) for name, route, _model in menu_views(app))["OperationLogView"]
    pk = a_record(app, OperationLog)
    block = clause_block(client.get(f"{route}/show/{pk}").get_data(as_text=True))
    assert "Regulation clauses" in block and "依据制度条款" not in block
    assert "Regulation clauses " + ", ".join(
        f'<span class="record-clause" data-clause="{cid}" title="{html.escape(CLAUSES[cid].en)}">'
        f"{cid}</span>" for cid in model_clauses(OperationLog)) in block
    for cid in model_clauses(OperationLog):
        assert html.escape(CLAUSES[cid].en) in block
        assert CLAUSES[cid].zh not in block
    client.get("/lang/zh")


def test_the_clauses_come_from_the_docstring_not_from_the_view(app):
    """A record type's clauses are what its docstring names, in the regulation's order,
    unknown numbers left out."""

    class Sample:
        """Serves 5.1.4 and 1.3.2, see also version 9.9.9 and 2.1."""

    assert model_clauses(Sample) == ["1.3.2", "5.1.4"]
