"""Command-line tools: `flask history verify`, `flask backup create|verify|restore`,
`flask db-role ROLE` (the grants of the role the application runs as)."""
import sys

import click
from flask.cli import with_appcontext

from .extensions import db


@click.group("history")
def history_cli():
    """Change history (5.1.3)."""


def _anchor(_ctx, _param, values):
    anchors = {}
    for value in values:
        seq, _, digest = value.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter(f"{value!r} is not SEQ:SHA256")
        anchors[int(seq)] = digest.lower()
    return anchors


@history_cli.command("verify")
@click.option("--anchor", multiple=True, callback=_anchor, metavar="SEQ:HASH",
              help="A chain head noted outside the database (printed by an intact verify, "
                   "kept in every backup manifest); the entry must still have that hash.")
@with_appcontext
def history_verify(anchor):
    """Walk the hash chain and hold every approval against its entry; name what does not match."""
    from .history import CLOCK_SLACK, verify_approvals, verify_chain
    from .base import ChainHead

    early = []
    checked, broken = verify_chain(db.session, anchors=anchor, early=early)
    approvals, problems = verify_approvals(db.session)
    head = db.session.get(ChainHead, 1)
    head = f"{head.seq}:{head.hash}" if head is not None else "-"
    # A read-only walk: end its transaction now, so it holds no lock on the evidence
    # tables (a migration or backup run next in the same process would wait for it).
    db.session.rollback()
    if early:
        # A warning, not a break: the chain holds, but the change log's date filter
        # (entries found by number, CLOCK_SLACK around the bounds) may miss these.
        shown = ", ".join(f"#{seq}" for seq in early[:5])
        click.echo(f"Warning: {len(early)} entries dated more than {CLOCK_SLACK} before the "
                   f"entry they follow ({shown}{' ...' if len(early) > 5 else ''}); a "
                   f"date filter of the change log may miss them.", err=True)
    if broken is None and not problems:
        click.echo(f"{checked} entries checked: the chain is intact. "
                   f"{approvals} approvals match their entries. "
                   f"Head (note it outside the database): {head}")
        return
    if broken is None:
        click.echo(f"{checked} entries checked: the chain is intact.", err=True)
    else:
        seq, reason = broken
        click.echo(f"{checked} entries checked: chain broken at entry #{seq}: {reason}.",
                   err=True)
    for approval_id, seq, reason in problems:
        where = f" (entry #{seq})" if seq is not None else ""
        name = f"approval {approval_id}" if approval_id is not None else "approval"
        click.echo(f"{name}{where}: {reason}.", err=True)
    sys.exit(1)


@history_cli.command("verify-form")
@click.argument("line")
@with_appcontext
def history_verify_form(line):
    """Check the verification line of a printed approval form (审批单): the entry it names
    is in the change history with that hash and about that record, the whole chain up to
    it and after it is intact, and whether the record has changed since."""
    from flask_babel import force_locale

    from .approval_form import check_line, describe_check, parse_line
    from .history import verify_chain

    result = check_line(line)
    broken = None
    if result.ok:
        _name, _id, seq, digest = parse_line(line)
        checked, broken = verify_chain(db.session, anchors={seq: digest})
        db.session.rollback()
    with force_locale("zh"):
        for sentence in describe_check(result):
            click.echo(sentence, err=not result.ok)
    if broken is not None:
        seq, reason = broken
        click.echo(f"{checked} entries checked: chain broken at entry #{seq}: {reason}.",
                   err=True)
    if not result.ok or broken is not None:
        sys.exit(1)
    click.echo(f"{checked} entries checked: the chain is intact.")


@click.group("backup")
def backup_cli():
    """The application's own backup (7.3.3)."""


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_create(path):
    """Write a consistent backup of the whole database to PATH."""
    from .backup import create_backup

    manifest = create_backup(db.engine, path)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backup written to {path}: {len(manifest['tables'])} tables, {rows} rows, "
               f"schema {manifest['schema_revision']}, SHA-256 {manifest['file_sha256']}")


@backup_cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_verify(path):
    """Check PATH against its checksum and manifest."""
    from .backup import BackupError, verify_backup

    try:
        manifest = verify_backup(path)
    except BackupError as exc:
        click.echo(f"backup refused: {exc}", err=True)
        sys.exit(1)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backup {path} is intact: {rows} rows, taken {manifest['created_at']}, "
               f"schema {manifest['schema_revision']}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Drop everything in a non-empty database before restoring.")
@with_appcontext
def backup_restore(path, replace):
    """Restore PATH into an empty database (or, with --replace, over a used one)."""
    from flask_migrate import upgrade

    from .backup import BackupError, restore_backup

    try:
        manifest = restore_backup(db.engine, path, lambda rev: upgrade(revision=rev),
                                  replace=replace)
    except BackupError as exc:
        click.echo(f"restore refused: {exc}", err=True)
        sys.exit(1)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"restored {rows} rows from {path} (schema {manifest['schema_revision']})")


def app_role_grants(role, owner=None, schema="public"):
    """The SQL that lets ``role`` run the application and nothing more (PostgreSQL).

    Read and write rows and use sequences; no TRUNCATE, no DDL, no trigger rights,
    no ownership. The evidence tables get no UPDATE or DELETE at all (the chain head
    is moved forward by every writer). Run it as the owner that runs the migrations.
    """
    quoted = '"' + role.replace('"', '""') + '"'
    lines = [
        f"GRANT USAGE ON SCHEMA {schema} TO {quoted};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted};",
        f"REVOKE UPDATE, DELETE ON change_entry, approval FROM {quoted};",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted};",
        f"REVOKE DELETE ON change_chain_head FROM {quoted};",
    ]
    if owner:
        owner_quoted = '"' + owner.replace('"', '""') + '"'
        lines += [
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_quoted} IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted};",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_quoted} IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {quoted};",
        ]
    return lines


@click.command("db-role")
@click.argument("role")
@click.option("--apply", "apply_", is_flag=True,
              help="Execute the statements on DATABASE_URL (connected as the owner).")
@with_appcontext
def db_role(role, apply_):
    """Print (or apply) the grants for ROLE, the database role the application runs as."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        click.echo("Database roles apply to PostgreSQL only.", err=True)
        sys.exit(1)
    with db.engine.connect() as conn:
        owner = conn.execute(text("SELECT tableowner FROM pg_tables "
                                  "WHERE tablename = 'change_entry'")).scalar()
    statements = app_role_grants(role, owner=owner)
    if not apply_:
        click.echo("\n".join(statements))
        return
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    click.echo(f"granted {role} what the application needs, and no more.")


@click.group("users")
def users_cli():
    """Accounts from the company directory (6.3.3)."""


@users_cli.command("sync")
@with_appcontext
def users_sync():
    """Look every directory account up again: deactivate those gone from (or disabled in)
    the directory, bring roles and departments up to date, and print what changed.
    Idempotent; exit 1, changing nothing, when the directory cannot be reached."""
    from sqlalchemy import func

    from .base import DirectoryIdentity
    from .directory import DirectoryUnavailable, checker_for, sync_all

    try:
        report = sync_all()
    except DirectoryUnavailable as error:
        db.session.rollback()
        click.echo(f"The directory cannot be reached: {error}. Nothing was changed.", err=True)
        sys.exit(1)
    for username, changes in report:
        click.echo(f"{username}: {'; '.join(changes)}")
    by_source = dict(db.session.query(DirectoryIdentity.source, func.count())
                     .group_by(DirectoryIdentity.source).all())
    for source, count in sorted(by_source.items()):
        if checker_for(source) is None:
            # An OpenID Connect provider lists no one: its people are re-checked per
            # session instead (app/oidc.py).
            click.echo(f"{count} accounts of {source} not checked: the provider offers no "
                       "list of its people; each session asks it again every "
                       "DIRECTORY_RECHECK_MINUTES.")
    checked = sum(n for source, n in by_source.items() if checker_for(source) is not None)
    click.echo(f"{checked} directory accounts checked, {len(report)} changed.")
