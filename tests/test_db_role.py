"""The database itself guards the evidence (PostgreSQL): the triggers refuse UPDATE,
DELETE and TRUNCATE on every protected table, and the application runs as a role
without DDL, TRUNCATE or trigger rights (`flask db-role`)."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import PASSWORD, build_app, dispose, login


@pytest.fixture
def postgres(app, make, api_as):
    """The session database's engine, with at least one approval stored."""
    from app.base import Approval
    from app.extensions import db
    from app.operations.models import IncidentStatus

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the triggers and roles are PostgreSQL's")
        if not db.session.query(Approval.id).first():
            incident = make("incident", dept="IT", status=IncidentStatus.reported)
            client, headers = api_as("it_staff")
            assert client.post(f"/api/v1/incident/{incident}/transition/start", json={},
                               headers=headers).status_code == 200
        db.session.rollback()  # hold no lock: TRUNCATE waits for locks before it checks rights
        yield db.engine


# (table, statement) for each protected table and each way to change it behind the app.
PROTECTED = {
    "change_entry": {
        "UPDATE": "UPDATE change_entry SET action = 'forged' WHERE seq = 1",
        "DELETE": "DELETE FROM change_entry WHERE seq = 1",
        "TRUNCATE": "TRUNCATE change_entry",
    },
    "approval": {
        "UPDATE": "UPDATE approval SET comment = 'forged'",
        "DELETE": "DELETE FROM approval",
        "TRUNCATE": "TRUNCATE approval",
    },
    "change_chain_head": {
        "UPDATE": "UPDATE change_chain_head SET hash = repeat('f', 64)",
        "DELETE": "DELETE FROM change_chain_head",
        "TRUNCATE": "TRUNCATE change_chain_head",
    },
}


@pytest.mark.parametrize("table,operation", [
    (t, op) for t, ops in PROTECTED.items() for op in ops])
def test_protected_table_refuses_raw_change_even_from_the_owner(postgres, table, operation):
    before = _rows(postgres, table)
    with pytest.raises(Exception, match="append-only|immutable|only moves forward"):
        with postgres.begin() as conn:
            conn.execute(text(PROTECTED[table][operation]))
    assert _rows(postgres, table) == before


def test_chain_head_cannot_be_moved_back_to_an_earlier_entry(postgres):
    with postgres.connect() as conn:
        seq = conn.execute(text("SELECT seq FROM change_chain_head")).scalar()
    with pytest.raises(Exception, match="only moves forward"):
        with postgres.begin() as conn:
            conn.execute(text("UPDATE change_chain_head SET seq = e.seq, hash = e.hash "
                              "FROM change_entry e WHERE e.seq = :s"), {"s": seq - 1})


def _rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) "
                                 f"FROM {table} t")).one()


def test_db_role_prints_grants_without_truncate_ddl_or_ownership(app, postgres):
    result = app.test_cli_runner().invoke(args=["db-role", "isgov_app"])
    assert result.exit_code == 0, result.output
    sql = result.output
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "isgov_app"' \
        in sql
    assert 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "isgov_app"' in sql
    for forbidden in ("TRUNCATE", "TRIGGER", "OWNER", "CREATE", "ALL PRIVILEGES"):
        assert forbidden not in sql


@pytest.fixture
def app_role(app, postgres):
    """A login role with only `flask db-role`'s grants, on the migrated test database."""
    url = make_url(str(postgres.url.render_as_string(hide_password=False)))
    role = f"{url.database}_app"[:63]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
    result = app.test_cli_runner().invoke(args=["db-role", role, "--apply"])
    assert result.exit_code == 0, result.output
    role_app = build_app(url.set(username=role, password=None).render_as_string(
        hide_password=False))
    yield role_app
    dispose(role_app)
    drop()
    admin.dispose()


def test_the_application_works_as_a_role_that_cannot_truncate_alter_or_drop_triggers(
        app_role, ids):
    from app.extensions import db

    with app_role.app_context():
        assert db.session.execute(text("SELECT current_user")).scalar().endswith("_app")
    # a user signs in on the web and sees a list
    web = app_role.test_client()
    assert login(web, "it_staff").status_code == 302
    assert web.get("/incidentview/list/").status_code == 200
    # a record is created and a workflow step fired (history, approval, chain head)
    client = app_role.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": "it_staff", "password": PASSWORD, "provider": "db"}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    created = client.post("/api/v1/incident/", headers=headers, json={
        "title": "以应用角色登记的故障", "system": ids.system("OA"), "description": "d",
        "reporting_department": ids.dept("IT"), "severity": "p3"})
    assert created.status_code == 201, created.get_json()
    pk = created.get_json()["id"]
    fired = client.post(f"/api/v1/incident/{pk}/transition/start", json={}, headers=headers)
    assert fired.status_code == 200, fired.get_json()
    verified = app_role.test_cli_runner().invoke(args=["history", "verify"])
    assert verified.exit_code == 0, verified.output
    # ... and the role cannot remove, rewrite or unguard the evidence
    refused = [
        "TRUNCATE change_entry", "TRUNCATE approval", "TRUNCATE change_chain_head",
        "UPDATE change_entry SET action = 'x' WHERE seq = 1", "DELETE FROM approval",
        "ALTER TABLE change_entry ADD COLUMN forged integer",
        "ALTER TABLE change_entry DISABLE TRIGGER USER",
        "ALTER TABLE approval DISABLE TRIGGER approval_immutable",
        "DROP TRIGGER change_entry_append_only ON change_entry",
        "DROP TABLE approval",
        "CREATE TABLE forged (id integer)",
    ]
    with app_role.app_context():
        for statement in refused:
            with pytest.raises(Exception, match="permission denied|must be owner"):
                with db.engine.begin() as conn:
                    conn.execute(text(statement))
