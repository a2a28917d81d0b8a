"""A record reads the same by name everywhere: its own page (``str``) and a page naming
records of many types, whose titles come from SQL in one statement (app/titles.py)."""
import pytest
from sqlalchemy import event

from app.base import Model
from app.chapters import load_models
from app.extensions import db
from app.titles import title_sql, titles

load_models()  # every chapter's records
TITLED = sorted((mapper.class_ for mapper in Model.registry.mappers
                 if title_sql(mapper.class_) is not None), key=lambda cls: cls.__name__)


def test_every_record_type_of_the_menu_has_a_title_sql_can_read():
    from app.chapters import record_views

    shown = {view.datamodel.obj for view in record_views()}
    assert shown <= set(TITLED), shown - set(TITLED)


@pytest.mark.parametrize("model", TITLED, ids=lambda cls: cls.__name__)
def test_a_title_read_by_sql_is_the_title_python_shows(app, model):
    with app.app_context():
        rows = db.session.query(model).order_by(model.id).limit(50).all()
        assert rows, f"no demo {model.__name__} to compare"
        read = titles(db.session, {model: [row.id for row in rows]})
        assert read == {(model, row.id): str(row) for row in rows}


def test_titles_of_many_types_are_one_statement_and_a_scope_leaves_rows_out(app):
    with app.app_context():
        wanted = {model: [row_id for (row_id,) in db.session.query(model.id).limit(5)]
                  for model in TITLED}
        sent = []
        listener = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            read = titles(db.session, wanted)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(sent) == 1
        assert {key for key in read} == {(model, key) for model, keys in wanted.items()
                                         for key in keys}
        first = TITLED[0]
        kept = titles(db.session, wanted, {first: first.id == wanted[first][0]})
        assert {key for (model, key) in kept if model is first} == {wanted[first][0]}


def test_a_change_log_page_naming_many_record_types_costs_what_one_type_does(app, login_as):
    """The page's record links and names: one statement for every type it shows."""
    import re

    auditor = login_as("auditor")
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    costs = {}
    for page in range(4):  # the demo's log: about 320 entries
        path = f"/changelog/list/?page_ChangeLogView={page}&psize_ChangeLogView=100"
        auditor.get(path)  # the session's own lookups once
        seen.clear()
        event.listen(engine, "before_cursor_execute", note)
        try:
            html = auditor.get(path).get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        types = set(re.findall(r'href="/(\w+)view/show/\d+"', html))
        costs[page] = (len(types), len(seen))
    assert max(types for types, _cost in costs.values()) >= 5, costs
    # the reader, the chain head, the page, people, every record's title and link
    assert max(cost for _types, cost in costs.values()) <= 6, costs
