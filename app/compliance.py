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

# The clause texts the scorecard shows beside its rules (/work/shared/regulation.md).
CLAUSES = {
    "1.3.2": ("归口管理原则:明确信息系统归口管理部门,负责信息系统的整体规划、建设、运行维护、"
              "安全管理等工作,确保信息系统的各项管理职责落实到位。",
              "Centralized ownership: each system has a clearly designated owning department "
              "responsible for its planning, construction, operation and maintenance, and "
              "security, so that every duty is assigned."),
    "3.2.2": ("立项申请应包括项目名称、项目背景、项目目标、项目内容、项目预算、项目实施计划等内容,"
              "并附详细的需求分析报告。",
              "A request contains project name, background, goals, content, budget and "
              "implementation plan, with a detailed requirements-analysis report attached."),
    "3.2.4": ("论证评审通过的项目,由信息管理部门编制项目可行性研究报告,报公司管理层审批。",
              "For projects that pass review, the IT department writes a feasibility study "
              "report and submits it to management for approval."),
    "4.1.3": ("信息管理部门应与中标供应商签订项目合同,明确双方的权利和义务,包括项目范围、项目进度、"
              "项目质量、项目验收、项目售后服务等内容。",
              "The IT department signs a contract with the winning vendor: scope, schedule, "
              "quality, acceptance, after-sales service."),
    "5.1.2": ("信息系统运行维护人员应按照运行管理制度和流程,定期对信息系统进行巡检、监控,及时发现和"
              "处理系统运行中出现的问题和故障,确保系统稳定运行。",
              "O&M staff inspect and monitor systems regularly, detect and handle problems "
              "and faults promptly."),
    "5.1.4": ("信息系统运行维护人员应严格遵守信息系统操作规范,不得擅自修改系统配置和数据,如需进行系统"
              "维护和升级,应按照相关规定履行审批手续。",
              "O&M staff must not change system configuration or data without authorization; "
              "maintenance and upgrades need approval."),
    "5.2.1": ("信息管理部门应建立信息系统维护管理制度和流程,明确信息系统维护的内容、方式、周期、责任人"
              "等内容。",
              "The IT department sets maintenance rules and procedures: what is maintained, "
              "how, how often and by whom."),
    "6.2.2": ("定期对信息系统进行安全漏洞扫描和风险评估,及时发现和修复安全漏洞,降低信息系统安全风险。",
              "Scan for vulnerabilities and assess risk periodically; find and fix "
              "vulnerabilities promptly."),
    "7.2.2": ("建立数据质量监控机制,定期对数据质量进行评估和分析,及时发现和解决数据质量问题。对数据质量"
              "较差的部门和单位,进行督促整改。",
              "Monitor data quality, assess it regularly; press departments with poor data "
              "quality to rectify."),
    "7.3.3": ("定期对数据进行备份,备份数据应存储在安全可靠的介质上,并异地存放,以防止数据丢失。建立数据"
              "恢复机制,确保在数据发生丢失或损坏时,能够及时恢复数据。",
              "Back up data regularly on reliable media stored off-site; keep a recovery "
              "mechanism so lost or damaged data can be restored in time."),
    "7.4.2": ("在数据共享与交换过程中,应遵循数据安全和保密原则,确保数据的合法使用和安全传输。对共享和"
              "交换的数据进行严格的审核和授权管理,防止数据滥用和泄露。",
              "Shared data is reviewed and authorized strictly; prevent abuse and leakage."),
    "8.1.1": ("信息管理部门应建立信息系统审计制度,定期对信息系统的建设、运行、维护、安全、数据等方面"
              "进行审计。",
              "The IT department sets an IS audit system and periodically audits "
              "construction, operation, maintenance, security and data."),
}


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
        return [(clause, CLAUSES[clause][1 if english else 0]) for clause in self.clauses]


RULES = []  # in the order of the regulation's clauses


def _clause_order(item):
    return tuple(int(part) for part in item.clauses[0].split("."))


def rule(key, clauses, title, evidence):
    """Declares ``failing`` (a function returning the SELECT) as a scorecard rule."""

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
