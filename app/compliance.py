"""The compliance scorecard (合规评分, PRODUCT.md §5): each checkable clause of the
regulation as a rule, computed set-based in SQL for every system at once.

A rule is data (``Rule``), declared in its chapter's models beside the records it reads: its
clause ID, a Chinese and English title, and ``failing()``, one SELECT of
``(system_id, record_id)`` pairs — the records that make a system fail, which are the
evidence its page links to. Thresholds come from the configuration. A system's score is
the share of the rules it passes; green at or above COMPLIANCE_GREEN_AT, amber at or above
COMPLIANCE_AMBER_AT, red below; a department's is the mean of its systems'.
``flask compliance snapshot`` stores today's scores (once per day) for the trend line.
"""
import datetime as dt
from dataclasses import dataclass
from typing import Callable

import click
from flask import abort, current_app, url_for
from flask.cli import with_appcontext
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .chapters import load_models, view_for_model
from .extensions import db
from .labels import RECORD_LABELS
from .regulation import CLAUSES


@dataclass(frozen=True)
class Rule:
    """One checkable clause: ``failing()`` returns a SELECT of (system_id, record_id) for
    every record that makes a system fail; ``evidence`` is that record's type."""

    key: str
    clauses: tuple
    title: object
    failing: Callable
    evidence: type

    def clause_texts(self):
        english = str(get_locale() or "zh").startswith("en")
        return [(clause, CLAUSES[clause].text(english)) for clause in self.clauses]


RULES = []  # in the order of the regulation's clauses


def _clause_order(item):
    return tuple(int(part) for part in item.clauses[0].split("."))


def rule(key, clauses, title, evidence):
    """Declares ``failing`` (a function returning the SELECT) as a scorecard rule."""

    unknown = [clause for clause in clauses if clause not in CLAUSES]
    if unknown:  # every rule's clause is one of the regulation's (app/regulation.py)
        raise ValueError(f"rule {key}: no clause {', '.join(unknown)} in the regulation")

    def declare(failing):
        RULES.append(Rule(key, tuple(clauses), title, failing, evidence))
        RULES.sort(key=_clause_order)  # whichever chapter was declared first
        return failing

    return declare


# The record type the scorecard scores, one row each (the information system, 1.3.2),
# declared by its chapter: ``id``, ``code``, ``name``, ``owning_department_id``. Every
# rule's SELECT names its id ``system_id``.
_SCORED = []


def scored(model):
    """Class decorator: the scorecard scores this record type."""
    _SCORED[:] = [model]
    return model


def scored_model():
    load_models()
    return _SCORED[0]


def failing_deadline(name, failing, column, label, remind):
    """A deadline (app/deadlines.py) on the scored records that a scorecard rule's
    ``failing`` SELECT names: a system due for a scan, a drill or a backup, as a list
    filter on ``column`` and a reminder. No badge in lists: the rule is read once per
    query, not once per row."""
    from .deadlines import Deadline

    def clause(model):
        found = failing().subquery()
        return model.id.in_(select(found.c.system_id))

    def applies(record):
        found = failing().subquery()
        return db.session.execute(select(found.c.system_id).where(
            found.c.system_id == record.id).limit(1)).first() is not None

    return Deadline(name, lambda model: column, label, "warning", clause, applies,
                    filter_name=label(), remind=remind, listed=False)


def setting(name):
    return current_app.config[name]


def utc_now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# ------------------------------------------------------------------ computing

GREEN, AMBER, RED = "green", "amber", "red"
SYSTEMS_PER_PAGE = 200  # the scorecard's table, lowest scores first
DASHBOARD_DEPARTMENTS = 10  # the dashboard lists the lowest; the scorecard lists all
COLOURS = {GREEN: "success", AMBER: "warning", RED: "danger"}
LEVEL_LABELS = {GREEN: _l("Compliant"), AMBER: _l("Partly compliant"),
                RED: _l("Not compliant")}


def level(score, green=None, amber=None):
    green = setting("COMPLIANCE_GREEN_AT") if green is None else green
    amber = setting("COMPLIANCE_AMBER_AT") if amber is None else amber
    if score >= green:
        return GREEN
    if score >= amber:
        return AMBER
    return RED


def failures():
    """{rule key: {system_id: failing records}}: one GROUP BY per rule, all systems."""
    found = {}
    for item in RULES:
        # Materialized first, then counted per system: left to itself the planner walks
        # the system_id index to group and reads the table in that order (10x slower).
        failing = item.failing().cte(f"failing_{item.key}").prefix_with("MATERIALIZED")
        rows = db.session.execute(select(failing.c.system_id, func.count())
                                  .group_by(failing.c.system_id)).all()
        found[item.key] = {system_id: n for system_id, n in rows if system_id is not None}
    return found


def scorecard(department_id=None):
    """Every system's score and level, the rules it fails, and each department's mean."""
    from .base import department_model

    Department, InformationSystem = department_model(), scored_model()
    failed = failures()
    query = select(InformationSystem.id, InformationSystem.code, InformationSystem.name,
                   InformationSystem.owning_department_id).order_by(InformationSystem.code)
    if department_id:
        query = query.where(InformationSystem.owning_department_id == department_id)
    systems = []
    total = len(RULES)
    green, amber = setting("COMPLIANCE_GREEN_AT"), setting("COMPLIANCE_AMBER_AT")
    for system_id, code, name, owner in db.session.execute(query):
        failing = {key: by_system[system_id] for key, by_system in failed.items()
                   if system_id in by_system}
        score = round(100 * (total - len(failing)) / total) if total else 100
        systems.append({"id": system_id, "code": code, "name": name, "department_id": owner,
                        "score": score, "level": level(score, green, amber),
                        "failing": failing})
    systems.sort(key=lambda s: (s["score"], s["code"]))
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    departments = {}
    for system in systems:
        entry = departments.setdefault(system["department_id"], {
            "id": system["department_id"], "name": names.get(system["department_id"], "—"),
            "systems": 0, "total": 0, GREEN: 0, AMBER: 0, RED: 0})
        entry["systems"] += 1
        entry["total"] += system["score"]
        entry[system["level"]] += 1
    for entry in departments.values():
        entry["score"] = round(entry["total"] / entry["systems"]) if entry["systems"] else 100
        entry["level"] = level(entry["score"])
    per_rule = {item.key: len(failed[item.key]) for item in RULES}
    return {"systems": systems, "rules": RULES, "per_rule": per_rule,
            "departments": sorted(departments.values(), key=lambda d: (d["score"], d["name"]))}


def dashboard_compliance():
    """Compliance by department and the trend of the daily snapshots (the dashboard):
    from today's snapshot when `flask compliance snapshot` has run today (one GROUP BY),
    else computed now."""
    departments = _snapshot_departments(dt.date.today())
    if departments is None:
        card = scorecard()
        departments, systems = card["departments"], card["systems"]
        levels = {lvl: sum(1 for s in systems if s["level"] == lvl) for lvl in (GREEN, AMBER, RED)}
        day = None
    else:
        levels = {lvl: sum(d[lvl] for d in departments) for lvl in (GREEN, AMBER, RED)}
        day = dt.date.today()
    return {"departments": departments, "trend": trend(), "snapshot_day": day,
            "systems": sum(d["systems"] for d in departments), "levels": levels,
            "lowest": departments[:DASHBOARD_DEPARTMENTS]}


def _snapshot_departments(day):
    """Compliance by department as stored on ``day``, or None without a snapshot."""
    from .base import ComplianceSnapshot, department_model

    Department = department_model()
    snap = ComplianceSnapshot
    count_level = {lvl: func.sum(func.cast(snap.level == lvl, db.Integer)) for lvl in
                   (GREEN, AMBER, RED)}
    rows = db.session.execute(
        select(snap.department_id, Department.name, func.count(), func.avg(snap.score),
               *count_level.values())
        .outerjoin(Department, Department.id == snap.department_id)
        .where(snap.day == day).group_by(snap.department_id, Department.name)).all()
    if not rows:
        return None
    departments = []
    for department_id, name, systems, score, *levels in rows:
        score = round(float(score))
        departments.append({"id": department_id, "name": name or "—", "systems": systems,
                            "score": score, "level": level(score),
                            **{lvl: int(n or 0) for lvl, n in zip(count_level, levels)}})
    return sorted(departments, key=lambda d: (d["score"], d["name"]))


# ------------------------------------------------------------------ snapshots

def take_snapshot(day=None):
    """Stores ``day``'s (today's) score of every system; a second run the same day
    replaces that day's rows, so the command is idempotent per day."""
    from .base import ComplianceSnapshot

    day = day or dt.date.today()
    card = scorecard()
    db.session.query(ComplianceSnapshot).filter(ComplianceSnapshot.day == day).delete()
    db.session.add_all([ComplianceSnapshot(
        day=day, system_id=s["id"], department_id=s["department_id"], score=s["score"],
        level=s["level"], failing=",".join(sorted(s["failing"])) or None)
        for s in card["systems"]])
    db.session.commit()
    return len(card["systems"])


def trend(days=180):
    """Per snapshot day: the mean score and the share of green systems (last ``days``)."""
    from .base import ComplianceSnapshot

    since = dt.date.today() - dt.timedelta(days=days)
    green = func.sum(func.cast(ComplianceSnapshot.level == GREEN, db.Integer))
    rows = db.session.execute(
        select(ComplianceSnapshot.day, func.avg(ComplianceSnapshot.score), func.count(), green)
        .where(ComplianceSnapshot.day >= since).group_by(ComplianceSnapshot.day)
        .order_by(ComplianceSnapshot.day)).all()
    return [{"day": day.isoformat(), "score": round(float(avg), 1),
             "green": round(100.0 * (g or 0) / n, 1)} for day, avg, n, g in rows]


def trend_chart(points):
    """The trend as chart data for app/static/charts.js (no drill-down: the days' lists
    are the scorecard of that day, not kept records)."""
    return {"name": "compliance_trend", "title": gettext("Compliance trend (daily snapshots)"),
            "kind": "line", "filters": {},
            "categories": [{"key": p["day"], "label": p["day"]} for p in points],
            "series": [
                {"name": gettext("Mean score"), "unit": "count", "stack": None, "key": "score",
                 "data": [{"value": p["score"], "n": 0, "url": None} for p in points]},
                {"name": gettext("Green systems (%)"), "unit": "count", "stack": None,
                 "key": "green",
                 "data": [{"value": p["green"], "n": 0, "url": None} for p in points]}]}


@click.group("compliance")
def compliance_cli():
    """The compliance scorecard (合规评分)."""


@compliance_cli.command("snapshot")
@with_appcontext
def snapshot_command():
    """Store today's score of every system (run daily, e.g. from cron; idempotent)."""
    count = take_snapshot()
    click.echo(f"{dt.date.today().isoformat()}: {count} systems scored.")


# ---------------------------------------------------------------------- screens

class ComplianceView(BaseView):
    """合规评分: every system against every rule, by department, with the evidence."""

    route_base = "/compliance"
    default_view = "index"
    class_permission_name = "Compliance"
    method_permission_name = {"index": "read", "evidence": "read"}

    @expose("/")
    @has_access
    def index(self):
        from flask import request

        from .dashboards import requested_filters

        filters, error = requested_filters()
        if error:
            return self.render_template("error.html", code=400, message=error,
                                        base_template=self.appbuilder.base_template), 400
        department_id = filters.department_id
        try:
            page = max(1, min(int(request.args.get("page", "1")), 10**6))
        except ValueError:
            return self.render_template(
                "error.html", code=400, message=gettext("Not a page number."),
                base_template=self.appbuilder.base_template), 400
        card = scorecard(department_id)
        pages = max(1, -(-len(card["systems"]) // SYSTEMS_PER_PAGE))
        page = min(page, pages)
        shown = card["systems"][(page - 1) * SYSTEMS_PER_PAGE:page * SYSTEMS_PER_PAGE]
        # Links of 2,000 rows by prefix: url_for once per kind, not once per cell.
        system_url = url_for(f"{view_for_model(scored_model()).__name__}.show", pk=0)[:-1]
        evidence_urls = {item.key: url_for("ComplianceView.evidence", key=item.key,
                                           system_id=0)[:-1] for item in RULES}
        return self.render_template(
            "compliance.html", title=_l("Compliance scorecard"), card=card,
            colours=COLOURS, level_labels=LEVEL_LABELS, department_id=department_id,
            system_url=system_url, evidence_urls=evidence_urls, shown=shown, page=page,
            pages=pages)

    @expose("/evidence/<key>/<int:system_id>")
    @has_access
    def evidence(self, key, system_id):
        """The records that make one system fail one rule, each a link to its page."""
        item = next((r for r in RULES if r.key == key), None)
        system = db.session.get(scored_model(), system_id) if system_id < 2**31 else None
        if item is None or system is None:
            abort(404)
        failing = item.failing().subquery()
        ids = [row[0] for row in db.session.execute(
            select(failing.c.record_id).where(failing.c.system_id == system_id)
            .order_by(failing.c.record_id).limit(500))]
        records = db.session.query(item.evidence).filter(item.evidence.id.in_(ids)).all() \
            if ids else []
        view = view_for_model(item.evidence)
        rows = [{"record": r, "url": url_for(f"{view.__name__}.show", pk=r.id)
                 if view else None} for r in records]
        return self.render_template(
            "compliance_evidence.html", title=_l("Failing evidence"), rule=item,
            system=system, rows=rows, kind=RECORD_LABELS.get(item.evidence.__name__))


def register_compliance(appbuilder):
    appbuilder.add_view(ComplianceView, "Compliance", label=_l("Compliance scorecard"),
                        icon="fa-check-circle", category="Dashboards",
                        category_label=_l("Charts and compliance"))
