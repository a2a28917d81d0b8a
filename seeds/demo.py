"""Chinese demo data: departments, accounts for every role, systems, plans, projects,
contracts, changes, incidents, data sharing and audits. Idempotent: rows are matched on
their natural keys.

Records are seeded in every workflow state so that each demo account (but admin, who has
no workflow role) finds work in its inbox. States are loaded as data here; records past
submission name their submitter, so separation of duties holds on the demo data too.
"""
import datetime as dt
import hashlib
from decimal import Decimal

from flask import current_app

from app.extensions import db
from app.models import (
    AppUser,
    Delegation,
    Attachment,
    Audit,
    AuditFinding,
    AuditKind,
    ChangeKind,
    ChangeOrder,
    ChangeRequest,
    ChangeStatus,
    Contract,
    ContractStatus,
    DataSharingRequest,
    Department,
    DepartmentKind,
    DevelopmentPlan,
    ExpertReview,
    FindingSeverity,
    FindingStatus,
    Incident,
    IncidentStatus,
    InformationSystem,
    Lifecycle,
    PlanFeedback,
    PlanStatus,
    ProjectRequest,
    ProjectStatus,
    Severity,
    SharingStatus,
    SystemCategory,
    Vendor,
    VendorRating,
)

from . import get_or_create

DEPARTMENTS = [
    ("IT", "信息管理部", DepartmentKind.it),
    ("FIN", "财务部", DepartmentKind.business),
    ("MKT", "市场部", DepartmentKind.business),
    ("HR", "人力资源部", DepartmentKind.business),
    ("OPS", "运营部", DepartmentKind.business),
]

# username, role, department code, Chinese name (surname + given name)
DEMO_ACCOUNTS = [
    ("admin", "Admin", "IT", "系统管理员"),
    ("clerk_fin", "Clerk", "FIN", "王芳"),
    ("head_fin", "DeptHead", "FIN", "李强"),
    ("clerk_mkt", "Clerk", "MKT", "赵敏"),
    ("head_mkt", "DeptHead", "MKT", "孙伟"),
    ("it_staff", "ITStaff", "IT", "周杰"),
    # A second IT officer: nobody passes two review steps of the same project (初审 and
    # 论证评审), so the demo needs two.
    ("it_staff2", "ITStaff", "IT", "马丽"),
    ("it_head", "DeptHead", "IT", "吴刚"),
    ("expert", "Expert", "OPS", "郑涛"),
    ("expert2", "Expert", "HR", "何静"),
    ("manager", "Management", "IT", "陈总"),
    ("auditor", "Auditor", "HR", "刘审"),
]

HEADS = {"FIN": "head_fin", "MKT": "head_mkt", "IT": "it_head"}
# Who submits a department's records in the demo (departments without a clerk: none).
SUBMITTERS = {"FIN": "clerk_fin", "MKT": "clerk_mkt"}

VENDORS = [
    ("北京华信软件技术有限公司", "91110108MA01ABCD1X", VendorRating.a, "张经理", "010-62345678"),
    ("上海云启信息科技有限公司", "91310115MA1K4EFG2Y", VendorRating.b, "钱工", "021-58765432"),
    ("深圳安网络安全有限公司", "91440300MA5DHIJK3Z", VendorRating.a, "冯经理", "0755-86543210"),
    ("杭州数智财务软件有限公司", "91330106MA2CLMNO4W", VendorRating.c, "何经理", "0571-87654321"),
]

# code, name, category, owning department, lifecycle, level, go-live, vendor index
SYSTEMS = [
    ("OA", "协同办公系统", SystemCategory.oa, "IT", Lifecycle.running, 2,
     dt.date(2019, 3, 1), 0),
    ("ERP", "企业资源计划系统", SystemCategory.business, "OPS", Lifecycle.running, 3,
     dt.date(2018, 7, 1), 0),
    ("CRM", "客户关系管理系统", SystemCategory.crm, "MKT", Lifecycle.running, 2,
     dt.date(2020, 5, 18), 1),
    ("FIN-GL", "财务核算系统", SystemCategory.finance, "FIN", Lifecycle.running, 3,
     dt.date(2017, 1, 1), 3),
    ("FIN-EXP", "费用报销系统", SystemCategory.finance, "FIN", Lifecycle.running, 2,
     dt.date(2021, 9, 1), 3),
    ("FIN-TAX", "税务管理系统", SystemCategory.finance, "FIN", Lifecycle.building, 3,
     None, 3),
    ("HR-EHR", "人力资源管理系统", SystemCategory.business, "HR", Lifecycle.running, 2,
     dt.date(2019, 11, 11), 1),
    ("MKT-CMS", "官网内容管理系统", SystemCategory.other, "MKT", Lifecycle.running, 2,
     dt.date(2016, 4, 1), 1),
    ("MKT-BI", "营销数据分析平台", SystemCategory.business, "MKT", Lifecycle.planned, 2,
     None, None),
    ("OPS-WMS", "仓储管理系统", SystemCategory.business, "OPS", Lifecycle.running, 2,
     dt.date(2022, 2, 14), 0),
    ("IT-MON", "统一运维监控平台", SystemCategory.other, "IT", Lifecycle.running, 3,
     dt.date(2021, 6, 30), 2),
    ("IT-AD", "统一身份认证系统", SystemCategory.other, "IT", Lifecycle.running, 3,
     dt.date(2020, 1, 6), 2),
    ("OA-OLD", "旧版办公系统", SystemCategory.oa, "IT", Lifecycle.retired, 1,
     dt.date(2012, 5, 1), None),
]

# name, department, budget, status, systems
PROJECTS = [
    ("财务共享中心建设项目", "FIN", "1800000", ProjectStatus.draft, ["FIN-GL", "FIN-EXP"]),
    ("电子发票全面接入", "FIN", "350000", ProjectStatus.dept_review, ["FIN-TAX"]),
    ("费用报销移动端", "FIN", "220000", ProjectStatus.expert_review, ["FIN-EXP"]),
    ("客户画像与精准营销平台", "MKT", "960000", ProjectStatus.it_review, ["CRM", "MKT-BI"]),
    ("官网改版与多语言支持", "MKT", "280000", ProjectStatus.implementation, ["MKT-CMS"]),
    ("仓储条码化改造", "OPS", "450000", ProjectStatus.approved, ["OPS-WMS"]),
    ("统一身份认证升级", "IT", "600000", ProjectStatus.closed, ["IT-AD"]),
    ("人事电子合同", "HR", "150000", ProjectStatus.rejected, ["HR-EHR"]),
]

# period, version, title, status, previous version
PLANS = [
    ("2026—2028", 1, "信息系统发展规划（2026—2028年）", PlanStatus.published, None),
    ("2026—2028", 2, "信息系统发展规划（2026—2028年）", PlanStatus.consultation, 1),
]
PLAN_TEXT = {
    "goals": "建成统一的信息系统管理体系；核心业务系统上云；数据共享覆盖主要业务部门。",
    "tasks": "财务共享中心建设；营销数据分析平台建设；统一身份认证与运维监控完善。",
    "priorities": "一、财务合规与内控；二、客户数据治理；三、信息安全等级保护。",
    "schedule": "2026年完成财务共享中心；2027年完成营销数据平台；2028年完成整体评估。",
}

# plan version, department, feedback, IT's response (None: not answered yet)
PLAN_FEEDBACK = [
    (2, "FIN", "建议将电子发票接入提前至2026年第一季度，以满足税务新规要求。",
     "同意，已调整至2026年第一季度实施。"),
    (2, "MKT", "希望营销数据分析平台增加客户画像功能，并与CRM打通。", None),
]

# number, name, department, project, vendor, system, amount, status, start, end
CONTRACTS = [
    ("HT-2025-001", "统一身份认证升级实施合同", "IT", "统一身份认证升级", 2, "IT-AD", "580000",
     ContractStatus.closed, dt.date(2025, 3, 1), dt.date(2025, 12, 31)),
    ("HT-2026-003", "官网改版开发合同", "MKT", "官网改版与多语言支持", 1, "MKT-CMS", "265000",
     ContractStatus.in_force, dt.date(2026, 4, 1), dt.date(2026, 12, 31)),
    ("HT-2026-007", "财务核算系统年度运维合同", "FIN", None, 3, "FIN-GL", "120000",
     ContractStatus.in_force, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ("HT-2026-009", "仓储条码设备采购合同", "OPS", "仓储条码化改造", 0, "OPS-WMS", "310000",
     ContractStatus.review, None, None),
    ("HT-2026-012", "安全服务与渗透测试合同", "IT", None, 2, "IT-MON", "98000",
     ContractStatus.signed, dt.date(2026, 10, 1), dt.date(2027, 9, 30)),
    ("HT-2026-014", "数据中心服务器扩容采购合同", "IT", None, 0, "IT-MON", "720000",
     ContractStatus.mgmt_review, None, None),
]

# number, title, contract, project, reason, content, cost impact, schedule impact, status
CHANGE_ORDERS = [
    ("BG-2026-001", "官网改版增加英文版页面", "HT-2026-003", None,
     "集团海外业务拓展，需要英文版官网。", "在原合同范围外增加英文版页面及多语言切换功能。",
     "38000", "工期延长20天", ChangeStatus.requested),
    ("BG-2026-002", "财务核算系统运维增加月末保障", "HT-2026-007", None,
     "月末结账期间系统压力大，需驻场保障。", "每月最后三个工作日安排工程师驻场值守。",
     "12000", "无影响", ChangeStatus.implemented),
]

# number, title, system, kind, status, submitter, window start (local time), hours
CHANGE_REQUESTS = [
    ("CR-2026-031", "CRM 客户字段扩展配置", "CRM", ChangeKind.configuration,
     ChangeStatus.requested, "clerk_mkt", dt.datetime(2026, 12, 5, 22, 0), 2),
    ("CR-2026-032", "统一身份认证系统版本升级", "IT-AD", ChangeKind.upgrade,
     ChangeStatus.requested, "it_staff", dt.datetime(2026, 12, 12, 23, 0), 4),
    ("CR-2026-027", "财务核算系统历史凭证数据修正", "FIN-GL", ChangeKind.data,
     ChangeStatus.approved, "clerk_fin", dt.datetime(2026, 12, 1, 21, 0), 3),
    ("CR-2026-024", "费用报销系统附件存储扩容", "FIN-EXP", ChangeKind.maintenance,
     ChangeStatus.implemented, "it_staff", dt.datetime(2026, 11, 22, 22, 0), 2),
]

# title, requesting, providing, system, data scope, purpose, start, end, status
DATA_SHARING = [
    ("市场部获取客户回款数据", "MKT", "FIN", "FIN-GL", "客户名称、回款金额、回款日期（按月汇总）",
     "分析客户价值与回款周期，支持精准营销。", dt.date(2027, 1, 1), dt.date(2027, 12, 31),
     SharingStatus.provider_review),
    ("财务部获取客户合同信息", "FIN", "MKT", "CRM", "客户名称、合同编号、合同金额",
     "核对应收账款与合同台账。", dt.date(2027, 1, 1), dt.date(2027, 6, 30),
     SharingStatus.provider_review),
    ("财务部获取仓储出入库数据", "FIN", "OPS", "OPS-WMS", "出入库单号、数量、金额",
     "存货成本核算。", dt.date(2026, 12, 1), dt.date(2027, 11, 30),
     SharingStatus.it_review),
    ("市场部获取官网访问统计", "MKT", "IT", "IT-MON", "官网访问量、来源渠道（不含个人信息）",
     "评估营销活动效果。", dt.date(2026, 7, 1), dt.date(2026, 12, 31),
     SharingStatus.granted),
    ("财务部获取员工报销画像", "FIN", "HR", "HR-EHR", "员工部门、职级（脱敏）",
     "费用预算分析。", dt.date(2027, 1, 1), None, SharingStatus.requested),
]

# title, system, severity, reporting department, status, occurred, hours to resolve
INCIDENTS = [
    ("月末结账时财务核算系统响应缓慢", "FIN-GL", Severity.p2, "FIN", IncidentStatus.resolved,
     dt.datetime(2026, 10, 31, 1, 20), 6),
    ("报销单附件无法上传", "FIN-EXP", Severity.p3, "FIN", IncidentStatus.in_progress,
     dt.datetime(2026, 11, 20, 2, 5), None),
    ("CRM 客户导出超时", "CRM", Severity.p3, "MKT", IncidentStatus.reported,
     dt.datetime(2026, 11, 25, 7, 40), None),
    ("官网首页无法访问", "MKT-CMS", Severity.p1, "MKT", IncidentStatus.closed,
     dt.datetime(2026, 9, 3, 12, 0), 2),
    ("OA 流程待办不刷新", "OA", Severity.p4, "HR", IncidentStatus.closed,
     dt.datetime(2026, 8, 14, 3, 30), 20),
    ("仓储系统数据库连接池耗尽", "OPS-WMS", Severity.p2, "OPS", IncidentStatus.resolved,
     dt.datetime(2026, 11, 2, 9, 15), 3),
    ("统一认证证书即将过期告警", "IT-AD", Severity.p3, "IT", IncidentStatus.resolved,
     dt.datetime(2026, 10, 10, 0, 0), 30),
]

# title, kind, department, scope, start, end
AUDITS = [
    ("2026年度财务系统合规性审计", AuditKind.compliance, "FIN",
     "财务核算系统、费用报销系统的立项、采购与变更合规性", dt.date(2026, 1, 1),
     dt.date(2026, 6, 30)),
    ("2026年上半年运维有效性审计", AuditKind.effectiveness, "IT",
     "巡检、监控、运行日志与故障处理的有效性", dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
    ("市场部数据管理准确性审计", AuditKind.accuracy, "MKT",
     "CRM 客户数据的准确性、完整性与共享授权", dt.date(2026, 4, 1), dt.date(2026, 9, 30)),
]

# audit, title, severity, responsible department, system, due, status
FINDINGS = [
    ("2026年度财务系统合规性审计", "费用报销系统上线变更缺少审批记录", FindingSeverity.high,
     "FIN", "FIN-EXP", dt.date(2026, 10, 31), FindingStatus.open),
    ("2026年度财务系统合规性审计", "财务核算系统运维合同未约定售后响应时限", FindingSeverity.medium,
     "FIN", "FIN-GL", dt.date(2026, 12, 31), FindingStatus.rectification_submitted),
    ("2026年上半年运维有效性审计", "部分系统巡检记录不连续", FindingSeverity.medium,
     "IT", "IT-MON", dt.date(2026, 9, 30), FindingStatus.closed),
    ("市场部数据管理准确性审计", "CRM 存在重复客户记录", FindingSeverity.low,
     "MKT", "CRM", dt.date(2026, 12, 15), FindingStatus.open),
]

# A minimal, valid one-page PDF: demo requirements reports are real files.
def _demo_pdf(title):
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%" + title.encode("utf-8") + b"\n%%EOF\n")
    return Attachment(filename=f"{title}-需求分析报告.pdf", content_type="application/pdf",
                      size=len(body), sha256=hashlib.sha256(body).hexdigest(), data=body)


def _submitter(users, dept, status):
    """The department's clerk for a project past its draft (None for drafts)."""
    if status is ProjectStatus.draft or dept not in SUBMITTERS:
        return None
    return users[SUBMITTERS[dept]].id


def load_demo():
    """Load the demo data; return the number of rows created."""
    created = 0
    sm = current_app.appbuilder.sm
    password = current_app.config["DEMO_PASSWORD"]

    departments = {}
    for code, name, kind in DEPARTMENTS:
        departments[code], new = get_or_create(Department, defaults={"name": name, "kind": kind},
                                               code=code)
        created += new

    users = {}
    for username, role, dept, full_name in DEMO_ACCOUNTS:
        user = sm.find_user(username=username)
        if user is None:
            surname = 2 if len(full_name) >= 4 else 1  # 系统|管理员, 王|芳
            user = sm.add_user(
                username=username, first_name=full_name[surname:],
                last_name=full_name[:surname], email=f"{username}@example.com",
                role=sm.find_role(role), password=password,
            )
            created += 1
        user = db.session.get(AppUser, user.id)
        if user.department_id is None:
            user.department_id = departments[dept].id
        users[username] = user
    for dept, username in HEADS.items():
        if departments[dept].head_id is None:
            departments[dept].head_id = users[username].id
    db.session.flush()

    vendors = []
    for name, credit, rating, person, phone in VENDORS:
        vendor, new = get_or_create(Vendor, defaults={
            "credit_code": credit, "rating": rating, "contact_person": person,
            "contact_phone": phone, "qualification": "ISO 9001；ISO 27001；CMMI 3 级",
        }, name=name)
        vendors.append(vendor)
        created += new

    systems = {}
    for code, name, category, dept, lifecycle, level, go_live, vendor in SYSTEMS:
        systems[code], new = get_or_create(InformationSystem, defaults={
            "name": name, "category": category, "owning_department_id": departments[dept].id,
            "lifecycle": lifecycle, "protection_level": level, "go_live_date": go_live,
            "vendor_id": vendors[vendor].id if vendor is not None else None,
            "it_custodian_id": users["it_staff"].id,
            "description": f"{name}，归口部门：{departments[dept].name}。",
        }, code=code)
        created += new

    projects = {}
    for name, dept, budget, status, system_codes in PROJECTS:
        project, new = get_or_create(ProjectRequest, defaults={
            "applicant_department_id": departments[dept].id,
            "background": f"{departments[dept].name}现有系统难以满足业务发展需要。",
            "goals": "提升业务效率，满足内控与合规要求。",
            "content": "需求调研、系统设计、开发测试、部署上线与培训。",
            "budget": Decimal(budget),
            "implementation_plan": "第一季度完成需求与设计，第二季度开发测试，第三季度上线。",
            "status": status, "submitted_by_fk": _submitter(users, dept, status),
            # Set on creation: a later change of these would send the request back
            # for re-approval (app/approvals.py).
            "systems": [systems[c] for c in system_codes],
            "requirements_report": (_demo_pdf(name) if status is not ProjectStatus.draft
                                    else None),
        }, name=name)
        projects[name] = project
        created += new

    contracts = {}
    for (number, name, dept, project, vendor, system, amount, status, start,
         end) in CONTRACTS:
        contracts[number], new = get_or_create(Contract, defaults={
            "name": name, "department_id": departments[dept].id,
            "project_id": projects[project].id if project else None,
            "vendor_id": vendors[vendor].id, "system_id": systems[system].id,
            "amount": Decimal(amount), "status": status, "start_date": start, "end_date": end,
            "sign_date": start, "scope": "按招标文件及技术规范书执行。",
            "schedule": "按合同附件进度计划执行。", "quality_terms": "符合国家及行业相关标准。",
            "acceptance_terms": "初验合格后试运行三个月，终验合格。",
            "after_sales_terms": "免费维保一年，7×24 小时响应。",
            "submitted_by_fk": (users["it_staff"].id
                                if status is not ContractStatus.draft else None),
        }, number=number)
        created += new

    for (number, title, contract, project, reason, content, cost, schedule,
         status) in CHANGE_ORDERS:
        _, new = get_or_create(ChangeOrder, defaults={
            "title": title, "contract": contracts[contract] if contract else None,
            "project": projects[project] if project else None, "reason": reason,
            "change_content": content, "cost_impact": Decimal(cost),
            "schedule_impact": schedule,
            "status": status, "submitted_by_fk": users["it_staff"].id,
        }, change_number=number)
        created += new

    for (number, title, system, kind, status, submitter, start,
         hours) in CHANGE_REQUESTS:
        _, new = get_or_create(ChangeRequest, defaults={
            "title": title, "system": systems[system], "kind": kind,
            "change_plan": f"{title}：按变更方案在维护窗口内实施，实施后验证业务功能。",
            "rollback_plan": "实施前完整备份；验证失败时恢复备份并回退至原版本。",
            "risk": "变更期间系统短暂不可用，已安排在业务低峰期。",
            "window_start": start, "window_end": start + dt.timedelta(hours=hours),
            "status": status, "submitted_by_fk": users[submitter].id,
        }, change_number=number)
        created += new

    for title, system, severity, dept, status, occurred, hours in INCIDENTS:
        _, new = get_or_create(Incident, defaults={
            "system_id": systems[system].id, "severity": severity,
            "description": f"{title}，影响部分用户正常使用。",
            "reporting_department_id": departments[dept].id,
            "reporter_id": users["clerk_fin" if dept == "FIN" else "clerk_mkt"].id
            if dept in ("FIN", "MKT") else users["it_staff"].id,
            "assignee_id": users["it_staff"].id, "status": status, "occurred_at": occurred,
            "resolved_at": occurred + dt.timedelta(hours=hours) if hours else None,
            "root_cause": "配置不当" if hours else None,
            "resolution": "已调整配置并验证" if hours else None,
        }, title=title)
        created += new

    audits = {}
    for title, kind, dept, scope, start, end in AUDITS:
        audits[title], new = get_or_create(Audit, defaults={
            "kind": kind, "department_id": departments[dept].id, "scope": scope,
            "period_start": start, "period_end": end, "auditor_id": users["auditor"].id,
        }, title=title)
        created += new

    for audit, title, severity, dept, system, due, status in FINDINGS:
        rectified = status is not FindingStatus.open
        _, new = get_or_create(AuditFinding, defaults={
            "audit_id": audits[audit].id, "severity": severity,
            "description": f"{title}，需责任部门限期整改。",
            "responsible_department_id": departments[dept].id,
            "system_id": systems[system].id, "due_date": due, "status": status,
            "rectification": "已制定整改措施并落实，相关记录已补充归档。" if rectified else None,
            "submitted_by_fk": (users[SUBMITTERS.get(dept, HEADS.get(dept))].id
                                if rectified else None),
        }, title=title)
        created += new

    plans = {}
    for period, version, title, status, previous in PLANS:
        plans[version], new = get_or_create(DevelopmentPlan, defaults={
            "title": title, "status": status, **PLAN_TEXT,
            "previous_version": plans[previous] if previous else None,
            "submitted_by_fk": (users["it_staff"].id
                                if status is PlanStatus.published else None),
        }, period=period, plan_version=version)
        created += new

    for version, dept, content, response in PLAN_FEEDBACK:
        _, new = get_or_create(PlanFeedback, defaults={"it_response": response},
                               plan_id=plans[version].id,
                               department_id=departments[dept].id, opinion=content)
        created += new

    for (title, requesting, providing, system, scope, purpose, start, end,
         status) in DATA_SHARING:
        _, new = get_or_create(DataSharingRequest, defaults={
            "requesting_department_id": departments[requesting].id,
            "providing_department_id": departments[providing].id,
            "system_id": systems[system].id, "data_scope": scope, "purpose": purpose,
            "start_date": start, "end_date": end, "status": status,
            "submitted_by_fk": (users[SUBMITTERS[requesting]].id
                                if status is not SharingStatus.requested else None),
        }, title=title)
        created += new

    # Experts from outside the applicant department review the request in expert review.
    for expert in (users["expert"], users["expert2"]):
        for project in projects.values():
            if project.status is ProjectStatus.expert_review and (
                    project.applicant_department_id != expert.department_id):
                _, new = get_or_create(ExpertReview, defaults={"project": project},
                                       project_id=project.id, expert_id=expert.id)
                created += new

    # The IT department head is away this year; the administrator stands in for the
    # IT review steps (so the admin account, which holds no workflow role, has work too).
    today = dt.date.today()
    _, new = get_or_create(Delegation, defaults={
        "start_date": today - dt.timedelta(days=7), "end_date": today + dt.timedelta(days=365),
        "reason": "外出培训期间由系统管理员代为审核",
    }, principal_id=users["it_head"].id, substitute_id=users["admin"].id)
    created += new

    db.session.commit()
    return created
