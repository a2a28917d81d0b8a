"""Demo data of chapter 6.3.3-6.4: personnel clearances, emergency plans with their drills,
security events. Created by the accounts whose job it is and moved through the workflow
engine by the accounts whose steps they are (seeds/demo.py: create, edit, step, walk)."""
import datetime as dt

from app.infosec.models import (
    BackgroundResult,
    Drill,
    DrillResult,
    EmergencyPlan,
    EventCategory,
    EventStatus,
    PersonnelClearance,
    PlanState,
    SecurityEvent,
)
from app.operations.models import Incident, Severity

# person, post, privileged systems, background result, checked (days ago), agreement
# signed (days ago), agreement runs (days from today; negative: expired)
CLEARANCES = [
    ("it_staff", "系统管理员", ("OA", "ERP", "FIN-GL", "HR-EHR", "OPS-WMS"),
     BackgroundResult.passed, 400, 390, 700),
    # The agreement runs out within the warning period: marked 即将到期.
    ("it_staff2", "数据库管理员", ("IT-AD",), BackgroundResult.passed, 700, 700, 20),
    # Run out: 统一运维监控平台 fails 6.3.3 until it is renewed.
    ("it_head", "信息安全负责人", ("IT-MON",), BackgroundResult.passed, 1200, 1100, -10),
    # The background check is still pending: 费用报销系统 fails 6.3.3.
    ("clerk_fin", "财务系统关键用户（管理员权限）", ("FIN-EXP",), BackgroundResult.pending,
     None, 30, 1065),
]

_S = PlanState
# title, systems, state it is walked to
PLANS = [
    ("信息系统网络安全事件应急预案",
     ("OA", "ERP", "CRM", "FIN-GL", "FIN-EXP", "HR-EHR", "OPS-WMS", "IT-MON", "IT-AD"),
     _S.in_force),
    # Waiting for management: in manager's 待我处理. Until approved, 官网内容管理系统 has
    # no approved plan (6.4.1).
    ("客户数据泄露应急预案", ("CRM", "MKT-CMS"), _S.submitted),
]

# plan, days ago, scenario, participants, result, issues, follow-up
DRILLS = [
    ("信息系统网络安全事件应急预案", 430, "勒索病毒感染办公终端，协同办公系统服务中断",
     "信息管理部全体、财务部、市场部联络人", DrillResult.partly,
     "备份恢复耗时超过预案要求的4小时", "增加异地备份恢复演练，优化恢复脚本"),
    ("信息系统网络安全事件应急预案", 120, "统一身份认证系统遭暴力破解攻击",
     "信息管理部、各部门信息联络员", DrillResult.passed, "通知各部门的时间偏长",
     "建立应急短信通知群组"),
]

_E = EventStatus
# title, system, category, severity, reporter, days ago, linked incident, state
EVENTS = [
    ("钓鱼邮件导致OA账号被盗用", "OA", EventCategory.unauthorised_access, Severity.p2,
     "it_staff", 60, None, _E.closed),
    ("费用报销系统异常登录告警", "FIN-EXP", EventCategory.unauthorised_access, Severity.p3,
     "clerk_fin", 5, "报销单附件无法上传", _E.reported),
    ("CRM 客户数据批量导出异常", "CRM", EventCategory.data_leak, Severity.p2, "clerk_mkt", 6,
     "CRM 客户导出超时", _E.investigating),
]


def _at(days_ago, hour=9):
    today = dt.date.today() - dt.timedelta(days=days_ago)
    return dt.datetime(today.year, today.month, today.day, hour, 0)


def load(demo, create, edit, step, walk, pdf):
    """Adds what is missing; a record found by its natural key is left as it is."""
    today = dt.date.today()
    for username, post, systems, result, checked, signed, runs in CLEARANCES:
        person = demo.users[username]
        if demo.find(PersonnelClearance, person_id=person.id, post=post) is not None:
            continue
        create(demo.it_staff, PersonnelClearance(
            person=person, post=post,
            privileged_systems=[demo.systems[code] for code in systems],
            background_result=result,
            background_checked_on=today - dt.timedelta(days=checked) if checked else None,
            agreement_signed_on=today - dt.timedelta(days=signed),
            agreement_expires_on=today + dt.timedelta(days=runs),
            agreement_file=pdf(post, "保密协议", demo.it_staff)))

    plans = {}
    for title, systems, target in PLANS:
        plan = demo.find(EmergencyPlan, title=title)
        if plan is None:
            plan = create(demo.it_staff, EmergencyPlan(
                title=title, edition="2026版", department=demo.departments["IT"],
                systems=[demo.systems[code] for code in systems],
                scenario=f"{title}适用于所列系统发生的网络攻击、病毒感染、数据泄露等安全事件。",
                procedure="发现报告 → 先期处置（隔离、止损）→ 研判定级 → 应急响应 → 恢复 → "
                          "调查总结",
                responsibilities="信息管理部牵头处置；系统归口部门配合业务恢复与对外沟通；"
                                 "公司管理层决策重大事项。",
                resources="备用服务器两台、异地备份、安全厂商7×24小时支持、应急联络表。",
                document=pdf(title, "预案文本", demo.it_staff)))
            walk(plan, target, {
                _S.draft: lambda plan=plan: step(demo.it_staff, plan, "submit"),
                _S.submitted: lambda plan=plan: step(demo.manager, plan, "approve"),
                _S.approved: lambda plan=plan: step(demo.it_staff, plan, "enforce"),
            })
        plans[title] = plan

    for title, ago, scenario, participants, result, issues, follow_up in DRILLS:
        plan = plans[title]
        held = today - dt.timedelta(days=ago)
        if demo.find(Drill, emergency_plan_id=plan.id, held_on=held) is not None:
            continue
        create(demo.it_staff, Drill(
            emergency_plan=plan, held_on=held, scenario=scenario, participants=participants,
            result=result, issues=issues, follow_up=follow_up,
            report=pdf(f"{title}{held.isoformat()}", "演练报告", demo.it_staff)))

    for title, system, category, severity, reporter, ago, incident, target in EVENTS:
        if demo.find(SecurityEvent, title=title) is not None:
            continue
        who = demo.users[reporter]
        linked = (demo.find_existing(Incident, title=incident) if incident else None)
        event = create(who, SecurityEvent(
            title=title, system=demo.systems[system], category=category, severity=severity,
            occurred_at=_at(ago, 8), detected_at=_at(ago, 10),
            description=f"{title}，已报信息管理部。", incident=linked, reporter=who))

        def close(event=event):
            edit(demo.it_staff, event,
                 investigation="经日志分析，攻击者通过仿冒邮件获取口令后登录；未发现数据外泄。",
                 lessons="员工对钓鱼邮件辨识不足；单因素口令存在风险。",
                 measures="启用双因素认证；开展钓鱼邮件专项培训；邮件网关增加仿冒域名拦截。")
            step(demo.it_staff, event, "close")

        walk(event, target, {
            _E.reported: lambda event=event: step(demo.it_staff, event, "start"),
            _E.investigating: close,
        })
