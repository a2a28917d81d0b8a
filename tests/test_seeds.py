"""`flask seed` and `flask seed --demo` are idempotent and reproduce the roles exactly."""
from flask_appbuilder import Model
from sqlalchemy import func, select

from conftest import build_app, scratch_database_url

ROLES = {"Admin", "Clerk", "DeptHead", "ITStaff", "Expert", "Management", "Auditor",
         "Unassigned", "Public"}


def _row_counts(db):
    return {name: db.session.execute(select(func.count()).select_from(table)).scalar()
            for name, table in Model.metadata.tables.items()}


def test_seeding_twice_changes_nothing(tmp_path):
    url = scratch_database_url(str(tmp_path), "seeds")
    app = build_app(url)
    runner = app.test_cli_runner()
    with app.app_context():
        from flask_migrate import upgrade

        from app.base import AppUser
        from app.extensions import db
        from app.organisation.models import Department

        upgrade()
        first = runner.invoke(args=["seed", "--demo"])
        assert first.exit_code == 0, first.output
        counts = _row_counts(db)
        # The first run walked the workflows: steps taken, each in the change history.
        assert counts["approval"] > 50 and counts["change_entry"] > counts["approval"]
        second = runner.invoke(args=["seed", "--demo"])
        assert second.exit_code == 0, second.output
        assert "demo data: 0 rows created" in second.output
        after = _row_counts(db)
        # No step taken again, no change recorded again, nothing else either.
        assert (after["approval"], after["change_entry"]) == (counts["approval"],
                                                             counts["change_entry"])
        assert after == counts
        verify = runner.invoke(args=["history", "verify"])
        assert verify.exit_code == 0, verify.output
        from app.approvals import separation_of_duties_violations

        assert separation_of_duties_violations() == []

        roles = {role.name for role in app.appbuilder.sm.get_all_roles()}
        assert roles == ROLES
        departments = {d.name for d in db.session.query(Department)}
        assert {"信息管理部", "财务部", "市场部", "人力资源部", "运营部"} <= departments
        assert counts["information_system"] >= 10
        # every user belongs to a department
        assert db.session.query(AppUser).filter(AppUser.department_id.is_(None)).count() == 0
        db.session.remove()
        db.engine.dispose()
    for username in ("admin", "clerk_fin", "head_fin", "clerk_mkt", "head_mkt", "it_staff",
                     "it_staff2", "it_head", "expert", "expert2", "manager", "auditor"):
        assert username in first.output


def test_reference_seed_alone_creates_roles_and_it_department(tmp_path):
    url = scratch_database_url(str(tmp_path), "reference")
    app = build_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db
        from app.organisation.models import Department, DepartmentKind

        upgrade()
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        assert {r.name for r in app.appbuilder.sm.get_all_roles()} == ROLES
        it = db.session.query(Department).filter_by(code="IT").one()
        assert it.kind is DepartmentKind.it and it.name == "信息管理部"
        assert db.session.query(Department).count() == 1
        db.session.remove()
        db.engine.dispose()
