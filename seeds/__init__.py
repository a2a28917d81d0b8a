"""`flask seed`: idempotent loaders for reference data and, with --demo, demo data.

Every row is looked up by its natural key (code, name, username, number)
before it is created, so seeding twice changes nothing.
"""
import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.organisation.models import Department, DepartmentKind

IT_DEPARTMENT = {"code": "IT", "name": "信息管理部", "kind": DepartmentKind.it,
                 "description": "信息系统归口管理部门（制度第2.1条）"}


def get_or_create(model, defaults=None, **keys):
    """Return (row, created). Rows are matched on ``keys`` only."""
    row = db.session.query(model).filter_by(**keys).one_or_none()
    if row is not None:
        return row, False
    row = model(**keys, **(defaults or {}))
    db.session.add(row)
    db.session.flush()
    return row, True


def load_reference():
    """Roles declared in config (FAB_ROLES), the Public role, and the IT department."""
    sm = current_app.appbuilder.sm
    created = 0
    for name in list(current_app.config["FAB_ROLES"]) + [sm.auth_role_public]:
        if sm.find_role(name) is None:
            sm.add_role(name)
            created += 1
    _, new = get_or_create(Department, defaults={k: v for k, v in IT_DEPARTMENT.items()
                                                 if k != "code"}, code=IT_DEPARTMENT["code"])
    created += new
    db.session.commit()
    return created


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also load the Chinese demo data and accounts.")
@with_appcontext
def seed_command(demo):
    """Load reference data (roles, IT department); --demo adds demo data."""
    created = load_reference()
    click.echo(f"reference data: {created} rows created")
    if demo:
        from .demo import DEMO_ACCOUNTS, load_demo

        created = load_demo()
        click.echo(f"demo data: {created} rows created")
        password = current_app.config["DEMO_PASSWORD"]
        click.echo(f"demo accounts (password: {password}):")
        for username, role, department, _name in DEMO_ACCOUNTS:
            click.echo(f"  {username:<10} {role:<11} {department}")
