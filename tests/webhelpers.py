"""Small helpers shared by the scoping, security, list and attachment tests.

They read the rendered HTML of FAB's list pages and the database state
directly, so tests can assert what a user sees and what is stored, not only
status codes.
"""
import re

from conftest import CSRF_RE

COUNT_RE = re.compile(r"<strong>[^<]*</strong>\s*(\d+)\s*</div>")


def form_token(client):
    """A CSRF token of the client's session (from a form every signed-in user may open)."""
    html = client.get("/resetmypassword/form").get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the reset-password form"
    return match.group(1)


def list_page(client, view, query=""):
    """(record count shown, ids linked on the page) of ``/<view>/list/``."""
    path = f"/{view.lower()}/list/" + (f"?{query}" if query else "")
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    html = response.get_data(as_text=True)
    match = COUNT_RE.search(html)
    assert match, f"no record count on {path}"
    ids = {int(pk) for pk in re.findall(rf'href="/{view.lower()}/show/(\d+)"', html)}
    return int(match.group(1)), ids


def row(app, model, pk):
    """The stored column values of one record (a fresh session), or None when gone."""
    from app.extensions import db

    with app.app_context():
        item = db.session.get(model, pk)
        if item is None:
            return None
        return {column.key: getattr(item, column.key)
                for column in model.__table__.columns if column.key != "data"}


def count(app, model, *criteria, **filter_by):
    from app.extensions import db

    with app.app_context():
        return db.session.query(model).filter(*criteria).filter_by(**filter_by).count()


def flashes(html):
    """Texts of the flashed messages and of the form field errors on a page."""
    alerts = re.findall(r'(?s)<div class="alert[^"]*"[^>]*>(.*?)</div>', html)
    clean = [re.sub(r"<[^>]+>|&times;", " ", text) for text in alerts]
    return [" ".join(text.split()) for text in clean if text.strip()]


def remove_users(app, names):
    """Delete accounts a test made (other tests read the user list as the demo made it)."""
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        for user in db.session.query(AppUser).filter(AppUser.username.in_(names)):
            db.session.delete(user)
        db.session.commit()
