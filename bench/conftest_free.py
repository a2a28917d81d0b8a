"""Build a migrated, demo-seeded app for benchmarks (no pytest involved)."""
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import config


def fresh_database(url):
    """An empty database at ``url``: the SQLite file removed, or the PostgreSQL database
    dropped and created again."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        if url.database and os.path.exists(url.database):
            os.remove(url.database)
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def make_app(url):
    from app import create_app

    cfg = type("BenchConfig", (config.TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(cfg)
    with app.app_context():
        from flask_migrate import upgrade

        from seeds import load_reference
        from seeds.demo import load_demo

        upgrade()
        load_reference()
        load_demo()
    return app


def analyze(app, table=""):
    """What autovacuum would do to freshly loaded tables: statistics and, on PostgreSQL,
    the visibility map (index-only scans for counts). ``table``: one table, or all."""
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"VACUUM ANALYZE {table}"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text(f"ANALYZE {table}"))


def login(client, username, password="Demo-Pass-2026"):
    """Signs ``client`` in through the login form (CSRF token included)."""
    import re

    html = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/login/", data={"username": username, "password": password,
                                            "csrf_token": token})
    assert response.status_code == 302, f"login of {username} failed"
    return client


def signed_in(app, username):
    """A client whose session carries the account (login itself is not measured)."""
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        user_id, stamp = (db.session.query(AppUser.id, AppUser.security_stamp)
                          .filter_by(username=username).one())
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["_stamp"] = stamp
    return client, user_id
