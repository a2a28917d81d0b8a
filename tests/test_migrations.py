"""Migrations own every table: an empty database upgraded to head matches the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from conftest import build_app, scratch_database_url


def test_upgrading_an_empty_database_leaves_nothing_for_autogenerate(tmp_path):
    url = scratch_database_url(str(tmp_path), "migrations")
    app = build_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db

        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Model.metadata)
            tables = set(db.inspect(conn).get_table_names())
        db.session.remove()
        db.engine.dispose()
    assert differences == []
    # FAB's own tables are created by the migration too, not by FAB at start-up.
    assert {"ab_user", "ab_role", "ab_user_role", "ab_group", "ab_api_key",
            "department", "information_system", "project_request", "attachment"} <= tables


def test_app_start_creates_no_tables(tmp_path):
    url = scratch_database_url(str(tmp_path), "nocreate")
    app = build_app(url)
    with app.app_context():
        from app.extensions import db

        with db.engine.connect() as conn:
            tables = db.inspect(conn).get_table_names()
        db.engine.dispose()
    assert tables == []
