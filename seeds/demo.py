"""Chinese demo data: departments, accounts for every role, systems, plans, projects,
contracts, changes, incidents, data sharing and audits.

Every record is created by the demo account whose job it is and reaches its state through
the workflow engine, step by step, as the accounts whose steps they are (separation of
duties, guards, comments and expert panels included), so each record's approvals and
change history tell how it got there: what the demo shows is what the product does.
Records stand in every state of their workflow so that each demo account finds work in
its inbox (admin through a delegation from the IT head).

Idempotent: a record found by its natural key is left as it is, walk and all.
"""
import datetime as dt
import hashlib
from contextlib import contextmanager
from decimal import Decimal

from flask import current_app, g
from sqlalchemy import func, select

from app.approvals import perform
from app.audit.models import (
    Audit,
    AuditFinding,
    AuditKind,
    FindingSeverity,
    FindingStatus,
    SupervisionCheck,
    SupervisionResult,
)
from app.base import AppUser, Approval, Attachment, Delegation, utcnow
from app.data.models import (
    BackupKind,
    BackupRecord,
    Classification,
    DataAsset,
    DataQualityCheck,
    DataSharingRequest,
    QualityDimension,
    RestoreResult,
    SharingStatus,
)
from app.extensions import db
from app.infosec.models import (
    PolicyCategory,
    PolicyStatus,
    ResidualRisk,
    RiskAssessment,
    RiskLevel,
    SecurityPolicy,
    Training,
    TrainingAttendance,
    Vulnerability,
    VulnerabilityScan,
    VulnerabilitySeverity,
    VulnerabilityStatus,
)
from app.deadlines import company_today
from app.operations.models import (
    APPROVED_CHANGES,
    ChangeKind,
    ChangeRequest,
    Incident,
    IncidentStatus,
    InspectionChecklist,
    MaintenanceCategory,
    MaintenanceKind,
    MaintenancePlan,
    MaintenanceRecord,
    OperationKind,
    OperationLog,
    OperationResult,
    Severity,
)
from app.organisation.models import (
    Department,
    DepartmentKind,
    InformationSystem,
    Lifecycle,
    SystemCategory,
)
from app.planning.models import (
    DevelopmentPlan,
    PlanFeedback,
    PlanStatus,
    ProjectRequest,
    ProjectStatus,
    plan_new_version,
)
from app.planning.panels import assign_experts
from app.procurement.models import (
    Bid,
    ChangeOrder,
    ChangeStatus,
    Contract,
    ContractStatus,
    Milestone,
    MilestoneKind,
    ProgressReport,
    Tender,
    TenderMethod,
    TenderStatus,
    Vendor,
    VendorRating,
)
from app.security import check_write
from app.validation import check_record

from . import demo_continuity, get_or_create

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
# Who writes and submits a department's records in the demo.
SUBMITTERS = {"FIN": "clerk_fin", "MKT": "clerk_mkt", "IT": "it_head"}

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

_P = ProjectStatus
# name, department, budget, state, systems, how it leaves the main path (None, or the
# state where it happens, the step, who takes it, and the reason given).
PROJECTS = [
    ("财务共享中心建设项目", "FIN", "1800000", _P.draft, ["FIN-GL", "FIN-EXP"], None),
    ("电子发票全面接入", "FIN", "350000", _P.dept_review, ["FIN-TAX"], None),
    ("费用报销移动端", "FIN", "220000", _P.expert_review, ["FIN-EXP"], None),
    ("差旅管理系统对接", "FIN", "180000", _P.returned, ["FIN-EXP"],
     (_P.it_review, "return", "it_staff",
      "需求分析报告未说明与现有费用报销系统的接口方案，请补充后重新提交。")),
    ("客户画像与精准营销平台", "MKT", "960000", _P.it_review, ["CRM", "MKT-BI"], None),
    ("官网改版与多语言支持", "MKT", "280000", _P.implementation, ["MKT-CMS"], None),
    ("营销活动管理平台", "MKT", "450000", _P.approved, ["MKT-BI"], None),
    ("财务核算系统升级", "FIN", "600000", _P.closed, ["FIN-GL"], None),
    ("营销短信群发平台", "MKT", "150000", _P.rejected, ["CRM"],
     (_P.dept_review, "reject", "head_mkt",
      "与CRM现有短信功能重复，且不符合客户信息保护要求，不予立项。")),
]

# expert, no conflict of interest, score, opinion (each expert's review of a project)
EXPERT_OPINIONS = [
    ("expert", 85, "需求明确，技术方案可行，建议分阶段实施并控制预算。"),
    ("expert2", 80, "方案总体可行，需补充数据安全与等级保护相关措施。"),
]
CONSOLIDATED_OPINION = "专家组一致认为项目必要、方案可行，同意进入可行性研究。"

# period, version, title, state (version 2 starts from the published version 1)
PLANS = [
    ("2026—2028", 1, "信息系统发展规划（2026—2028年）", PlanStatus.published),
    ("2026—2028", 2, "信息系统发展规划（2026—2028年）", PlanStatus.consultation),
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

_K = ContractStatus
# number, name, department, project, vendor, system, amount, state, start, end
# (from 500,000 management approves too: app/procurement/models.py CONTRACT_APPROVAL_THRESHOLD)
CONTRACTS = [
    ("HT-2025-001", "财务核算系统升级实施合同", "FIN", "财务核算系统升级", 3, "FIN-GL", "580000",
     _K.closed, dt.date(2025, 3, 1), dt.date(2025, 12, 31)),
    ("HT-2026-003", "官网改版开发合同", "MKT", "官网改版与多语言支持", 1, "MKT-CMS", "265000",
     _K.in_force, dt.date(2026, 4, 1), dt.date(2026, 12, 31)),
    ("HT-2026-007", "财务核算系统年度运维合同", "FIN", None, 3, "FIN-GL", "120000",
     _K.in_force, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ("HT-2026-009", "仓储条码设备采购合同", "OPS", None, 0, "OPS-WMS", "310000",
     _K.review, None, None),
    ("HT-2026-012", "安全服务与渗透测试合同", "IT", None, 2, "IT-MON", "98000",
     _K.signed, dt.date(2026, 10, 1), dt.date(2027, 9, 30)),
    ("HT-2026-014", "数据中心服务器扩容采购合同", "IT", None, 0, "IT-MON", "720000",
     _K.mgmt_review, None, None),
]

# number, title, contract, reason, content, cost impact, schedule impact, state
CHANGE_ORDERS = [
    ("BG-2026-001", "官网改版增加英文版页面", "HT-2026-003",
     "集团海外业务拓展，需要英文版官网。", "在原合同范围外增加英文版页面及多语言切换功能。",
     "38000", "工期延长20天", ChangeStatus.requested),
    ("BG-2026-002", "财务核算系统运维增加月末保障", "HT-2026-007",
     "月末结账期间系统压力大，需驻场保障。", "每月最后三个工作日安排工程师驻场值守。",
     "12000", "无影响", ChangeStatus.implemented),
]

# number, title, system, kind, state, submitter, window start (local time), hours
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

# system, checklist items (5.1.2)
CHECKLISTS = [
    ("OA", "1. 应用服务进程与端口\n2. CPU、内存、磁盘使用率\n3. 系统日志错误\n4. 备份作业结果"),
    ("ERP", "1. 数据库连接与会话\n2. 批处理作业\n3. 磁盘使用率\n4. 接口队列积压"),
    ("CRM", "1. 应用服务可用性\n2. 磁盘使用率\n3. 同步任务\n4. 安全日志"),
    ("FIN-GL", "1. 应用服务可用性\n2. 数据库备份结果\n3. 月结批处理\n4. 权限变更日志"),
]

# system, kind, days ago, content, result, abnormal items, change request (5.1.1-5.1.4).
# The CRM configuration change follows a change request not yet approved: unauthorised.
OPERATION_LOG = [
    ("FIN-GL", OperationKind.inspection, 2, "财务核算系统日常巡检，按检查表逐项检查。",
     OperationResult.normal, None, None),
    ("CRM", OperationKind.inspection, 5, "客户关系管理系统日常巡检，按检查表逐项检查。",
     OperationResult.abnormal, "2. 磁盘使用率超过 85%", None),
    ("OA", OperationKind.inspection, 3, "协同办公系统日常巡检，按检查表逐项检查。",
     OperationResult.normal, None, None),
    ("OA", OperationKind.monitoring, 1, "监控告警：协同办公系统响应时间升高，已持续观察。",
     OperationResult.normal, None, None),
    ("ERP", OperationKind.fault, 4, "ERP 批处理作业失败，重启调度服务后恢复。",
     OperationResult.abnormal, None, None),
    ("FIN-GL", OperationKind.data, 1, "按变更申请 CR-2026-027 修正历史凭证数据，核对无误。",
     OperationResult.normal, None, "CR-2026-027"),
    ("CRM", OperationKind.configuration, 6, "调整 CRM 客户字段配置（变更申请尚未批准）。",
     OperationResult.normal, None, "CR-2026-031"),
]

# title, system, kind, content, cycle days, start (days ago), maintenance done
# (category, days ago, result) (5.2). The CRM plan is overdue.
MAINTENANCE = [
    ("财务核算系统月度备份检查", "FIN-GL", MaintenanceKind.periodic,
     "检查数据库全量与增量备份，抽样恢复验证。", 30, 60,
     [(MaintenanceCategory.backup, 40, "备份完整，抽样恢复成功。"),
      (MaintenanceCategory.backup, 10, "备份完整，抽样恢复成功。")]),
    ("CRM 季度性能优化", "CRM", MaintenanceKind.periodic,
     "清理过期数据，重建索引，优化慢查询。", 90, 200,
     [(MaintenanceCategory.optimisation, 120, "已重建索引，慢查询减少 60%。")]),
    ("协同办公系统日常维护", "OA", MaintenanceKind.daily,
     "检查服务状态与日志，清理临时文件。", 7, 20,
     [(MaintenanceCategory.data_cleanup, 2, "已清理临时文件 12 GB。")]),
    ("ERP 应急修复", "ERP", MaintenanceKind.emergency,
     "故障发生时的应急修复与恢复验证。", 180, 30,
     [(MaintenanceCategory.emergency_repair, 4, "已修复批处理调度故障，业务恢复。")]),
]

# title, requesting, providing, system, data scope, purpose, start, end, state
DATA_SHARING = [
    ("市场部获取客户回款数据", "MKT", "FIN", "FIN-GL", "客户名称、回款金额、回款日期（按月汇总）",
     "分析客户价值与回款周期，支持精准营销。", dt.date(2027, 1, 1), dt.date(2027, 12, 31),
     SharingStatus.provider_review),
    ("财务部获取客户合同信息", "FIN", "MKT", "CRM", "客户名称、合同编号、合同金额",
     "核对应收账款与合同台账。", dt.date(2027, 1, 1), dt.date(2027, 6, 30),
     SharingStatus.provider_review),
    ("财务部获取营销活动费用数据", "FIN", "MKT", "CRM", "营销活动名称、费用金额、发生日期",
     "营销费用核算与预算执行分析。", dt.date(2026, 12, 1), dt.date(2027, 11, 30),
     SharingStatus.it_review),
    ("市场部获取官网访问统计", "MKT", "IT", "IT-MON", "官网访问量、来源渠道（不含个人信息）",
     "评估营销活动效果。", dt.date(2026, 7, 1), dt.date(2026, 12, 31),
     SharingStatus.granted),
    ("财务部获取员工报销画像", "FIN", "HR", "HR-EHR", "员工部门、职级（脱敏）",
     "费用预算分析。", dt.date(2027, 1, 1), None, SharingStatus.requested),
]

# title, system, severity, reporting department, state, occurred (UTC), hours to resolve
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

# name, system, owner department, classification, personal data, retention (months)
DATA_ASSETS = [
    ("总账凭证与科目余额", "FIN-GL", "FIN", Classification.confidential, False, 360),
    ("员工报销单据", "FIN-EXP", "FIN", Classification.internal, True, 120),
    ("客户档案与联系人", "CRM", "MKT", Classification.confidential, True, 60),
    ("员工人事档案", "HR-EHR", "HR", Classification.secret, True, None),
    ("库存与出入库流水", "OPS-WMS", "OPS", Classification.internal, False, 60),
    ("官网公开内容", "MKT-CMS", "MKT", Classification.public, False, 24),
]

# title, department, system, days ago, dimension, score, issues, due in days, rectified
QUALITY_CHECKS = [
    ("客户主数据完整性检查", "MKT", "CRM", 40, QualityDimension.completeness, 72,
     "约 8% 客户缺少统一社会信用代码与联系人电话。", -10, False),
    ("总账科目余额一致性检查", "FIN", "FIN-GL", 20, QualityDimension.consistency, 96,
     "两个辅助核算科目与明细账存在尾差，已查明原因。", 30, True),
    ("库存数据及时性检查", "OPS", "OPS-WMS", 15, QualityDimension.timeliness, 81,
     "部分出库单据次日才录入系统。", 45, False),
    ("人事档案准确性检查", "HR", None, 60, QualityDimension.accuracy, 93, None, None, False),
]

# system, kind, days ago, medium, off-site location, succeeded, restore test days ago
# (None: not tested), restore passed. MKT-CMS fails 7.3.3: its last off-site copy is old
# and it has never had a restore test.
BACKUPS = [
    ("FIN-GL", BackupKind.full, 1, "磁带库 LTO-8", "同城灾备中心", True, 90, True),
    ("FIN-EXP", BackupKind.full, 2, "备份一体机", "同城灾备中心", True, 120, True),
    ("ERP", BackupKind.full, 1, "磁带库 LTO-8", "同城灾备中心", True, 60, True),
    ("ERP", BackupKind.incremental, 0, "备份一体机", None, True, None, False),
    ("CRM", BackupKind.full, 3, "对象存储", "异地云备份", True, 200, True),
    ("HR-EHR", BackupKind.full, 2, "备份一体机", "同城灾备中心", True, 150, True),
    ("OPS-WMS", BackupKind.full, 1, "备份一体机", "同城灾备中心", True, 30, True),
    ("OPS-WMS", BackupKind.incremental, 0, "备份一体机", "同城灾备中心", False, None, False),
    ("OA", BackupKind.full, 4, "对象存储", "异地云备份", True, 100, True),
    ("IT-MON", BackupKind.full, 2, "对象存储", "异地云备份", True, 180, True),
    ("IT-AD", BackupKind.full, 1, "磁带库 LTO-8", "同城灾备中心", True, 45, True),
    ("MKT-CMS", BackupKind.full, 45, "移动硬盘", "市场部档案柜", True, None, False),
    ("MKT-CMS", BackupKind.incremental, 1, "本机磁盘", None, True, None, False),
]

# title, department, date, items checked (duties, rules, operations, data), result,
# issues, follow-up
SUPERVISION_CHECKS = [
    ("2026年信息管理部归口管理职责履行检查", "IT", dt.date(2026, 5, 20),
     (True, True, True, False), SupervisionResult.satisfactory,
     "归口管理职责清晰，年度规划按期发布。", None),
    ("2026年市场部信息系统管理监督检查", "MKT", dt.date(2026, 8, 12),
     (False, True, True, True), SupervisionResult.improvement,
     "官网内容管理系统备份未异地存放，未开展恢复测试。", "市场部于三个月内落实异地备份与恢复测试。"),
]

# audit, title, severity, responsible department, system, due, state
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


# supervision check, title, severity, responsible department, system, due, state
SUPERVISION_FINDINGS = [
    ("2026年市场部信息系统管理监督检查", "官网内容管理系统备份未异地存放", FindingSeverity.high,
     "MKT", "MKT-CMS", dt.date(2026, 11, 30), FindingStatus.open),
]

_T = TenderStatus
# number, title, project, method, justification, announced, bids opened, state, bids
# (vendor index, amount, technical score, commercial score), the winner's vendor index
TENDERS = [
    ("ZB-2025-001", "财务核算系统升级项目邀请招标", "财务核算系统升级", TenderMethod.invited,
     None, dt.date(2025, 1, 6), dt.date(2025, 2, 10), _T.awarded,
     [(3, "580000", 88, 86), (0, "640000", 90, 70), (1, "615000", 80, 76)], 3),
    ("ZB-2026-002", "官网改版与多语言支持公开招标", "官网改版与多语言支持", TenderMethod.public,
     None, dt.date(2026, 2, 2), dt.date(2026, 3, 3), _T.awarded,
     [(1, "265000", 86, 90), (0, "298000", 88, 75), (2, "312000", 74, 70)], 1),
    ("ZB-2026-005", "营销活动管理平台公开招标", "营销活动管理平台", TenderMethod.public,
     None, dt.date(2026, 11, 16), dt.date(2026, 12, 21), _T.approved,
     [(0, "432000", 85, 80), (1, "418000", 82, 86)], None),
    ("ZB-2026-006", "营销短信通道单一来源采购", "营销活动管理平台", TenderMethod.single_source,
     "短信通道须与现有CRM短信网关兼容，接口授权仅原厂可提供，无其他供应商可满足。",
     dt.date(2026, 11, 20), None, _T.mgmt_review, [], None),
    ("ZB-2026-007", "营销数据看板询价采购", "营销活动管理平台", TenderMethod.inquiry,
     None, None, None, _T.draft, [], None),
]
# The contract signed with a tender's winner.
CONTRACT_TENDERS = {"HT-2025-001": "ZB-2025-001", "HT-2026-003": "ZB-2026-002"}

_MS = MilestoneKind
# project: (name, kind, responsible, due (days from today, or a date), done (days from
# today, or a date, or None)); milestones are planned when implementation starts (4.2.1).
MILESTONES = {
    "财务核算系统升级": [
        ("需求确认与方案设计", _MS.development, "it_staff", dt.date(2025, 4, 15),
         dt.date(2025, 4, 10)),
        ("系统升级与数据迁移测试", _MS.testing, "it_staff2", dt.date(2025, 8, 31),
         dt.date(2025, 8, 28)),
        ("生产环境切换上线", _MS.deployment, "it_staff", dt.date(2025, 10, 15),
         dt.date(2025, 10, 12)),
        ("财务人员操作培训", _MS.training, "it_staff2", dt.date(2025, 11, 15),
         dt.date(2025, 11, 14)),
    ],
    "官网改版与多语言支持": [
        ("需求调研与设计评审", _MS.development, "it_staff", -180, -183),
        ("多语言版本开发完成", _MS.development, "it_staff", -60, -55),
        ("系统测试与安全测评", _MS.testing, "it_staff2", -15, None),
        ("生产部署上线", _MS.deployment, "it_staff", 20, None),
        ("内容编辑人员培训", _MS.training, "it_staff2", 40, None),
    ],
}
# project: (days ago or date, period, percent, summary, issues, next steps)
PROGRESS_REPORTS = {
    "财务核算系统升级": [
        (dt.date(2025, 11, 20), "2025年11月", 100, "系统升级全部完成，已上线运行，培训完成。",
         None, "组织项目验收。"),
    ],
    "官网改版与多语言支持": [
        (-62, "第三季度", 55, "多语言框架开发完成，中英文页面模板完成。",
         "日文翻译供应商延期交付。", "完成日文内容导入，启动系统测试。"),
        (-5, "本月", 75, "多语言版本开发完成，系统测试进行中。",
         "安全测评发现2个中危漏洞，整改中，测试里程碑已逾期。",
         "完成漏洞整改与复测，准备生产部署。"),
    ],
}


def _day(value):
    """A date from a date or a number of days from today."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.today() + dt.timedelta(days=value)
# Chapter 6 part 1. Security policies: title, category, version, state, how it leaves
# the main path (None, or the state, step, who takes it and the reason). The network
# policy's first version is superseded by the second.
_SP = PolicyStatus
POLICIES = [
    ("人员安全策略", PolicyCategory.personnel, 1, _SP.returned,
     (_SP.mgmt_review, "return", "manager", "请补充离职人员账号回收与保密协议续签的要求。")),
    ("应用安全策略", PolicyCategory.application, 1, _SP.mgmt_review, None),
    ("网络安全策略", PolicyCategory.network, 1, _SP.superseded, None),
    ("网络安全策略", PolicyCategory.network, 2, _SP.effective, None),
    ("数据安全策略", PolicyCategory.data, 1, _SP.effective, None),
]
POLICY_TEXT = {
    PolicyCategory.network: ("边界防火墙默认拒绝；入侵检测全天候监控；远程访问须经 VPN 与双因素认证。",
                             "最小权限、分区分域、纵深防御。",
                             "核心网络与办公网络逻辑隔离，访问控制策略每季度复核一次。"),
    PolicyCategory.data: ("敏感数据分级保护，防止泄露、丢失与篡改。",
                          "谁拥有谁负责、分级分类、全程留痕。",
                          "机密及以上数据加密存储与传输；数据导出须经归口部门审批。"),
    PolicyCategory.application: ("业务系统上线前完成安全测试，运行中及时修复漏洞。",
                                 "安全与开发同步、默认安全配置。",
                                 "上线前漏洞扫描；高危漏洞 30 天内修复；统一身份认证接入。"),
    PolicyCategory.personnel: ("涉及信息系统的人员可信、可控、可追溯。",
                               "背景审查、权限最小化、离岗即回收。",
                               "入职背景审查，签订保密协议，每年至少参加一次安全培训。"),
}

# Vulnerability scans: system, days ago, tool, scope, summary, and the vulnerabilities
# found (title, CVE/ID, severity, state, days after the scan it was fixed). OPS-WMS's last
# scan is too old and MKT-CMS has none (6.2.2); CRM has a high vulnerability past due.
_VS, _VL = VulnerabilitySeverity, VulnerabilityStatus
SCANS = [
    ("FIN-GL", 20, "绿盟远程安全评估系统 RSAS", "应用服务器、数据库服务器及 Web 端口",
     "发现高危 1 个、中危 1 个，高危已修复。", [
         ("Apache Tomcat 部分 PUT 远程代码执行漏洞", "CVE-2025-24813", _VS.high, _VL.fixed, 8),
         ("TLS 1.0/1.1 协议未禁用", "SCAN-TLS-001", _VS.medium, _VL.open, None)]),
    ("CRM", 50, "绿盟远程安全评估系统 RSAS", "CRM Web 应用及中间件",
     "发现严重 1 个、高危 1 个；高危漏洞修复逾期。", [
         ("管理后台存在弱口令账户", "SCAN-PWD-003", _VS.critical, _VL.fixed, 2),
         ("Spring Framework 路径遍历漏洞", "CVE-2024-38816", _VS.high, _VL.fixing, None)]),
    ("OA", 10, "Nessus Professional", "OA 服务器与对外发布端口",
     "发现中危、低危各 1 个。", [
         ("jQuery 跨站脚本漏洞", "CVE-2020-11023", _VS.medium, _VL.fixing, None),
         ("HTTP 响应缺少安全头", "SCAN-HDR-007", _VS.low, _VL.accepted, None)]),
    ("ERP", 30, "Nessus Professional", "ERP 应用与数据库主机",
     "发现严重漏洞 1 个，已于 3 日内修复。", [
         ("OpenSSH 信号处理竞争条件漏洞", "CVE-2024-6387", _VS.critical, _VL.fixed, 3)]),
    ("FIN-EXP", 40, "绿盟远程安全评估系统 RSAS", "报销系统 Web 应用", "未发现中危及以上漏洞。", []),
    ("HR-EHR", 60, "Nessus Professional", "人事系统应用与数据库主机", "未发现中危及以上漏洞。", []),
    ("IT-MON", 15, "Nessus Professional", "监控平台主机", "未发现中危及以上漏洞。", []),
    ("IT-AD", 15, "Nessus Professional", "认证服务器", "未发现中危及以上漏洞。", []),
    ("OPS-WMS", 120, "Nessus Professional", "仓储系统主机", "未发现中危及以上漏洞。", []),
]

# Risk assessments: system, days ago, scope, method, risks, level, treatment, residual
# level, next assessment in days
RISK_ASSESSMENTS = [
    ("FIN-GL", 45, "财务核算系统应用、数据库与运维访问", "GB/T 20984 资产-威胁-脆弱性分析",
     "数据库运维账号共用；备份介质未加密。", RiskLevel.high,
     "运维账号实名化并接入堡垒机；备份介质启用加密。", ResidualRisk.low, 320),
    ("CRM", 70, "CRM 应用与客户数据导出", "问卷调查与技术检测相结合",
     "客户数据批量导出缺少审批；部分账号长期未使用。", RiskLevel.medium,
     "导出功能接入审批流程；清理长期未使用账号。", ResidualRisk.low, 295),
    ("HR-EHR", 120, "人事档案数据访问", "GB/T 20984 资产-威胁-脆弱性分析",
     "人事档案访问日志保存期限不足。", RiskLevel.medium,
     "日志保存期限延长至 180 天以上。", ResidualRisk.low, 245),
]

# Training: title, days ago, trainer, topics (laws, policies, skills), audience, and the
# attendance (person, attended, score, remarks)
TRAININGS = [
    ("2026年度信息安全法律法规与制度培训", 60, "外聘律师 王律师", (True, True, False),
     "全体员工", [("clerk_fin", True, 92, None), ("head_fin", True, 88, None),
                  ("clerk_mkt", True, 75, None), ("head_mkt", False, None, "出差请假，安排补学"),
                  ("it_staff2", True, 95, None)]),
    ("钓鱼邮件识别与安全操作技能培训", 20, "信息管理部 马丽", (False, False, True),
     "各部门业务录入员", [("clerk_fin", True, 85, None), ("clerk_mkt", True, 58, "考核未通过，需补考"),
                       ("it_head", True, 90, None)]),
]


def _demo_pdf(title, kind, user):
    """A minimal, valid one-page PDF: demo reports are real files."""
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%" + f"{title} {kind}".encode("utf-8") + b"\n%%EOF\n")
    return Attachment(filename=f"{title}-{kind}.pdf", content_type="application/pdf",
                      size=len(body), sha256=hashlib.sha256(body).hexdigest(), data=body,
                      uploaded_by_fk=user.id)


# ------------------------------------------------------------ acting as a demo account

@contextmanager
def acting_as(user):
    """Everything written inside is written by ``user``: the record's stamps, its change
    history (app/history.py) and its approvals name them, as if they had used the screens.
    Needs a request context (load_demo pushes one)."""
    saved = g.get("user")
    g.user = user
    for key in ("acting_for", "request_id"):  # one step, one request
        g.pop(key, None)
    try:
        yield user
    finally:
        for key in ("acting_for", "request_id"):
            g.pop(key, None)
        g.user = saved


def create(user, record):
    """``user`` creates ``record``; refused as the screens would refuse it. Written at once
    (flushed: its change history entry names ``user``); committed with the next step."""
    with acting_as(user):
        check_write(record, user)
        db.session.add(record)
        db.session.flush()
    return record


def edit(user, record, **values):
    """``user`` writes ``values`` into ``record``; refused as the screens would refuse it."""
    with acting_as(user):
        for name, value in values.items():
            setattr(record, name, value)
        check_write(record, user)
        db.session.flush()
    return record


def step(user, record, name, comment=""):
    """``user`` takes the workflow step ``name`` on ``record`` through the engine."""
    with acting_as(user):
        perform(record, name, user, comment)
    return record


def walk(record, target, path, exit=None):
    """Take the steps of ``path`` (state -> what is done there) until ``record`` stands in
    ``target``; ``exit``: (state, step, user, reason) leaves the path there (return, reject)."""
    seen = set()
    while record.status is not target:
        state = record.status
        if state in seen:
            raise RuntimeError(f"{record} does not move on from {state.name}")
        seen.add(state)
        if exit is not None and state is exit[0]:
            step(exit[2], record, exit[1], exit[3])
            continue
        path[state]()
    return record


# ------------------------------------------------------------------------- loading

def _accounts(departments):
    sm = current_app.appbuilder.sm
    password = current_app.config["DEMO_PASSWORD"]
    users, created = {}, 0
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
    db.session.commit()
    return users, created


class Demo:
    """The demo's records, each created by the account whose job it is and moved to its
    state through the workflow engine (app/approvals.py perform) by the accounts whose
    steps they are. A record found by its natural key is left as it is."""

    def __init__(self):
        self.created = 0
        self.departments = {}
        self.users = {}
        self.vendors = []
        self.systems = {}
        self.projects = {}
        self.contracts = {}
        self.plans = {}
        self.audits = {}
        self.checks = {}

    def __getattr__(self, username):  # self.it_staff, self.manager, ...
        users = self.__dict__.get("users", {})
        if username in users:
            return users[username]
        raise AttributeError(username)

    def find_existing(self, model, **keys):
        return db.session.query(model).filter_by(**keys).one_or_none()

    def find(self, model, **keys):
        """The row with these natural keys, or None: the caller then creates it (counted
        here as created) and walks it to its state."""
        row = db.session.query(model).filter_by(**keys).one_or_none()
        if row is None:
            self.created += 1
        return row

    # -- organisation ------------------------------------------------------------
    def organisation(self):
        for code, name, kind in DEPARTMENTS:
            self.departments[code], new = get_or_create(
                Department, defaults={"name": name, "kind": kind}, code=code)
            self.created += new
        db.session.commit()
        self.users, new = _accounts(self.departments)
        self.created += new
        for dept, username in HEADS.items():
            if self.departments[dept].head_id is None:
                edit(self.admin, self.departments[dept], head_id=self.users[username].id)

        for name, credit, rating, person, phone in VENDORS:
            vendor = self.find(Vendor, name=name) or create(self.it_staff, Vendor(
                name=name, credit_code=credit, rating=rating, contact_person=person,
                contact_phone=phone, qualification="ISO 9001；ISO 27001；CMMI 3 级"))
            self.vendors.append(vendor)

        for code, name, category, dept, lifecycle, level, go_live, vendor in SYSTEMS:
            self.systems[code] = self.find(InformationSystem, code=code) or create(
                self.it_staff, InformationSystem(
                    code=code, name=name, category=category,
                    owning_department_id=self.departments[dept].id, lifecycle=lifecycle,
                    protection_level=level, go_live_date=go_live,
                    vendor_id=self.vendors[vendor].id if vendor is not None else None,
                    it_custodian_id=self.it_staff.id,
                    # The department head owns the business side where the demo has one
                    # (OPS and HR have none: their systems show as incomplete, 1.3.2).
                    business_owner_id=(self.users[HEADS[dept]].id if dept in HEADS
                                       else None),
                    description=f"{name}，归口部门：{self.departments[dept].name}。"))

        # The IT department head is away this year; the administrator stands in for the
        # IT head's review steps (so the admin account, which holds no workflow role, has
        # work too).
        today = dt.date.today()
        if self.find(Delegation, principal_id=self.it_head.id,
                    substitute_id=self.admin.id) is None:
            create(self.it_head, Delegation(
                principal_id=self.it_head.id, substitute_id=self.admin.id,
                start_date=today - dt.timedelta(days=7),
                end_date=today + dt.timedelta(days=365),
                reason="外出培训期间由系统管理员代为审核"))

    # -- planning (3.1) --------------------------------------------------------------
    def plan(self, period, version, title, target):
        plan = self.find(DevelopmentPlan, period=period, plan_version=version)
        if plan is not None:
            self.plans[version] = plan
            return
        if version == 1:
            plan = create(self.it_staff, DevelopmentPlan(title=title, period=period, **PLAN_TEXT))
        else:
            plan = create(self.it_staff, plan_new_version(self.plans[version - 1]))
        self.plans[version] = plan
        walk(plan, target, {
            PlanStatus.draft: lambda: self.consult(plan),
            PlanStatus.consultation: lambda: step(self.it_staff, plan, "submit"),
            PlanStatus.mgmt_review: lambda: step(self.manager, plan, "approve"),
        })

    def consult(self, plan):
        """IT opens the plan for consultation; departments comment on it; IT answers."""
        step(self.it_staff, plan, "consult")
        for version, dept, opinion, response in PLAN_FEEDBACK:
            if version != plan.plan_version:
                continue
            feedback = create(self.users[HEADS[dept]], PlanFeedback(
                plan=plan, department=self.departments[dept], opinion=opinion))
            if response:
                edit(self.it_staff, feedback, it_response=response)

    # -- projects (3.2) --------------------------------------------------------------
    def project(self, name, dept, budget, target, system_codes, exit):
        project = self.find(ProjectRequest, name=name)
        if project is not None:
            self.projects[name] = project
            return
        clerk = self.users[SUBMITTERS[dept]]
        project = create(clerk, ProjectRequest(
            name=name, applicant_department=self.departments[dept],
            background=f"{self.departments[dept].name}现有系统难以满足业务发展需要。",
            goals="提升业务效率，满足内控与合规要求。",
            content="需求调研、系统设计、开发测试、部署上线与培训。",
            budget=Decimal(budget),
            implementation_plan="第一季度完成需求与设计，第二季度开发测试，第三季度上线。",
            systems=[self.systems[c] for c in system_codes],
            # A draft still lacks its report: submitting it asks for one.
            requirements_report=(_demo_pdf(name, "需求分析报告", clerk)
                                 if target is not _P.draft else None)))
        self.projects[name] = project
        walk(project, target, {
            _P.draft: lambda: step(clerk, project, "submit"),
            _P.dept_review: lambda: step(self.users[HEADS[dept]], project, "approve"),
            _P.it_review: lambda: self.preliminary_review(project),
            _P.expert_review: lambda: self.expert_review(project),
            _P.feasibility: lambda: self.feasibility(project),
            _P.mgmt_review: lambda: step(self.manager, project, "approve"),
            _P.approved: lambda: step(self.it_staff, project, "start_procurement"),
            _P.procurement: lambda: (self.procure(project), self.implement(project)),
            _P.implementation: lambda: step(self.it_staff, project, "start_acceptance"),
            _P.acceptance: lambda: self.accept(project),
        }, exit and (exit[0], exit[1], self.users[exit[2]], exit[3]))

    def preliminary_review(self, project):
        """it_staff passes 初审 and assigns the panel: experts of other departments."""
        step(self.it_staff, project, "approve")
        experts = [self.users[username] for username, _score, _opinion in EXPERT_OPINIONS]
        with acting_as(self.it_staff):
            reviews = assign_experts(project, [e.id for e in experts
                                               if e.department_id
                                               != project.applicant_department_id])
        self.created += len(reviews)

    def expert_review(self, project):
        """Each expert declares no conflict, scores and gives an opinion, and submits it;
        it_staff2 (not the officer of 初审) records the panel's opinion and passes 论证评审."""
        opinions = {username: (score, text) for username, score, text in EXPERT_OPINIONS}
        for review in project.expert_reviews:
            score, text = opinions[review.expert.username]
            edit(review.expert, review, no_conflict=True, score=score, opinion=text)
            step(review.expert, review, "submit")
        edit(self.it_staff2, project, expert_opinion=CONSOLIDATED_OPINION)
        step(self.it_staff2, project, "approve")

    def feasibility(self, project):
        edit(self.it_staff2, project,
             feasibility_report=_demo_pdf(project.name, "可行性研究报告", self.it_staff2))
        step(self.it_staff2, project, "submit_feasibility")

    def procure(self, project):
        """The project's tender is awarded and its contract signed before implementation
        starts."""
        for row in TENDERS:
            if row[2] == project.name:
                self.tender(*row)
        for row in CONTRACTS:
            if row[3] == project.name:
                self.contract(*row)
        step(self.it_staff, project, "start_implementation")

    def implement(self, project):
        """IT plans the milestones (4.2.1), marks the ones done with their evidence and
        reports progress (4.2.2, 4.2.3)."""
        for name, kind, username, due, done in MILESTONES.get(project.name, ()):
            if self.find(Milestone, project_id=project.id, name=name) is not None:
                continue
            milestone = create(self.it_staff, Milestone(
                project=project, name=name, kind=kind, due_on=_day(due),
                responsible=self.users[username]))
            if done is not None:
                edit(self.it_staff, milestone, done_on=_day(done),
                     evidence=_demo_pdf(name, "完成证明", self.it_staff))
                check_record(milestone, db.session)
        for day, period, percent, summary, issues, next_steps in \
                PROGRESS_REPORTS.get(project.name, ()):
            if self.find(ProgressReport, project_id=project.id,
                         report_date=_day(day)) is not None:
                continue
            report = create(self.it_staff, ProgressReport(
                project=project, report_date=_day(day), report_period=period,
                percent_complete=percent, summary=summary, issues=issues,
                next_steps=next_steps, reporter=self.it_staff))
            check_record(report, db.session)

    def accept(self, project):
        edit(self.it_staff, project,
             acceptance_report=_demo_pdf(project.name, "验收报告", self.it_staff))
        step(self.it_staff, project, "close")

    # -- procurement (4.1, 4.2) --------------------------------------------------------
    def contract(self, number, name, dept, project, vendor, system, amount, target, start,
                 end):
        contract = self.find(Contract, number=number)
        if contract is not None:
            self.contracts[number] = contract
            return
        tender = CONTRACT_TENDERS.get(number)
        contract = create(self.it_staff, Contract(
            number=number, name=name, department=self.departments[dept],
            project=self.projects[project] if project else None,
            tender=self.find_existing(Tender, tender_number=tender) if tender else None,
            vendor=self.vendors[vendor], system=self.systems[system],
            amount=Decimal(amount), start_date=start, end_date=end, sign_date=start,
            scope="按招标文件及技术规范书执行。", schedule="按合同附件进度计划执行。",
            quality_terms="符合国家及行业相关标准。",
            acceptance_terms="初验合格后试运行三个月，终验合格。",
            after_sales_terms="免费维保一年，7×24 小时响应。"))
        check_record(contract, db.session)
        self.contracts[number] = contract
        walk(contract, target, {
            _K.draft: lambda: step(self.it_staff, contract, "submit"),
            _K.review: lambda: step(self.it_head, contract, "approve"),
            _K.mgmt_review: lambda: step(self.manager, contract, "approve"),
            _K.signed: lambda: (
                edit(self.it_staff, contract,
                     signed_file=_demo_pdf(number, "合同签署版", self.it_staff)),
                step(self.it_staff, contract, "put_in_force")),
            _K.in_force: lambda: step(self.it_staff, contract, "accept"),
            _K.accepted: lambda: step(self.it_staff, contract, "close"),
        })

    def tender(self, number, title, project, method, justification, announced, opening,
               target, bids, winner):
        """it_staff organises the tender; the IT head approves it (management, when single
        source); the bids are recorded once it is open, and the winner awarded (4.1)."""
        if self.find(Tender, tender_number=number) is not None:
            return
        tender = create(self.it_staff, Tender(
            tender_number=number, title=title, project=self.projects[project],
            method=method, justification=justification, announcement_date=announced,
            opening_date=opening))
        check_record(tender, db.session)

        def receive_bids():
            for vendor, amount, technical, commercial in bids:
                bid = create(self.it_staff, Bid(
                    tender=tender, vendor=self.vendors[vendor], amount=Decimal(amount),
                    technical_score=technical, commercial_score=commercial))
                check_record(bid, db.session)

        def award():
            chosen = next(b for b in tender.bids if b.vendor_id == self.vendors[winner].id)
            edit(self.it_staff, tender, winning_bid=chosen)
            check_record(tender, db.session)
            step(self.it_staff, tender, "award")

        walk(tender, target, {
            _T.draft: lambda: step(self.it_staff, tender, "submit"),
            _T.review: lambda: step(self.it_head, tender, "approve"),
            _T.mgmt_review: lambda: step(self.manager, tender, "approve"),
            _T.approved: lambda: (receive_bids(), award()),
        })
        if target is _T.approved:
            receive_bids()

    def change_order(self, number, title, contract_number, reason, content, cost, schedule,
                     target):
        if self.find(ChangeOrder, change_number=number) is not None:
            return
        contract = self.contracts[contract_number]
        order = create(self.it_staff, ChangeOrder(
            change_number=number, title=title, contract=contract, reason=reason,
            change_content=content, cost_impact=Decimal(cost), schedule_impact=schedule))
        walk(order, target, {
            ChangeStatus.requested: lambda: step(self.manager, order, "approve"),
            ChangeStatus.approved: lambda: step(self.it_staff, order, "implement"),
            ChangeStatus.implemented: lambda: step(
                self.users[HEADS[contract.department.code]], order, "verify"),
        })

    # -- operations (5.1) --------------------------------------------------------------
    def change_request(self, number, title, system, kind, target, submitter, start, hours):
        if self.find(ChangeRequest, change_number=number) is not None:
            return
        system = self.systems[system]
        change = create(self.users[submitter], ChangeRequest(
            change_number=number, title=title, system=system, kind=kind,
            change_plan=f"{title}：按变更方案在维护窗口内实施，实施后验证业务功能。",
            rollback_plan="实施前完整备份；验证失败时恢复备份并回退至原版本。",
            risk="变更期间系统短暂不可用，已安排在业务低峰期。",
            window_start=start, window_end=start + dt.timedelta(hours=hours)))
        head = self.users[HEADS[system.owning_department.code]]
        walk(change, target, {
            ChangeStatus.requested: lambda: step(head, change, "approve"),
            ChangeStatus.approved: lambda: step(self.it_staff, change, "implement"),
            ChangeStatus.implemented: lambda: step(head, change, "verify"),
        })

    def incident(self, title, system, severity, dept, target, occurred, hours):
        if self.find(Incident, title=title) is not None:
            return
        # Departments without a demo clerk call the IT service desk, which records it.
        reporter = self.users[SUBMITTERS[dept]] if dept in ("FIN", "MKT") else self.it_staff
        incident = create(reporter, Incident(
            title=title, system=self.systems[system], severity=severity,
            description=f"{title}，影响部分用户正常使用。",
            reporting_department=self.departments[dept], reporter=reporter,
            occurred_at=occurred))

        def handle():
            edit(self.it_staff, incident, assignee=self.it_staff)
            step(self.it_staff, incident, "start")

        def resolve():
            edit(self.it_staff, incident, root_cause="配置不当",
                 resolution="已调整配置并验证",
                 resolved_at=occurred + dt.timedelta(hours=hours or 1))
            step(self.it_staff, incident, "resolve")

        walk(incident, target, {
            IncidentStatus.reported: handle,
            IncidentStatus.in_progress: resolve,
            IncidentStatus.resolved: lambda: step(reporter, incident, "close"),
        })

    def checklist(self, system, items):
        system = self.systems[system]
        if self.find(InspectionChecklist, system_id=system.id) is None:
            create(self.it_staff, InspectionChecklist(system=system, items=items))

    def operation_log(self, system, kind, days_ago, content, result, abnormal, change):
        if self.find(OperationLog, content=content) is not None:
            return
        when = dt.datetime.combine(company_today() - dt.timedelta(days=days_ago),
                                   dt.time(2, 30))
        change = self.find_existing(ChangeRequest, change_number=change) if change else None
        if change is not None and change.status in APPROVED_CHANGES:
            # Performed after its change request was approved (5.1.4), which the demo
            # approves as it loads.
            approved_at = db.session.scalar(
                select(func.max(Approval.at)).where(
                    Approval.record_type == "ChangeRequest", Approval.record_id == change.id,
                    Approval.to_state == ChangeStatus.approved.name))
            if approved_at is not None:
                when = max(when, approved_at + dt.timedelta(minutes=1))
        create(self.it_staff, OperationLog(
            system=self.systems[system], kind=kind, performed_at=when,
            operator=self.it_staff, content=content, result=result,
            abnormal_items=abnormal, change_request=change))

    # -- maintenance (5.2) -----------------------------------------------------------------
    def maintenance(self, title, system, kind, content, cycle, start, done):
        if self.find(MaintenancePlan, title=title) is not None:
            return
        today = company_today()
        plan = create(self.it_staff, MaintenancePlan(
            title=title, system=self.systems[system], kind=kind, content=content,
            cycle_days=cycle, responsible=self.it_staff,
            start_date=today - dt.timedelta(days=start)))
        for category, days_ago, result in done:
            create(self.it_staff, MaintenanceRecord(
                maintenance_plan=plan, category=category, result=result, performed_by=self.it_staff,
                performed_at=dt.datetime.combine(today - dt.timedelta(days=days_ago),
                                                 dt.time(3, 0))))
            self.created += 1

    # -- data (7.4) ----------------------------------------------------------------------
    def data_sharing(self, title, requesting, providing, system, scope, purpose, start, end,
                     target):
        if self.find(DataSharingRequest, title=title) is not None:
            return
        clerk = self.users[SUBMITTERS[requesting]]
        sharing = create(clerk, DataSharingRequest(
            title=title, requesting_department=self.departments[requesting],
            providing_department=self.departments[providing], system=self.systems[system],
            data_scope=scope, purpose=purpose, start_date=start, end_date=end))
        walk(sharing, target, {
            SharingStatus.requested: lambda: step(clerk, sharing, "submit"),
            SharingStatus.provider_review: lambda: step(
                self.users[HEADS[providing]], sharing, "approve"),
            SharingStatus.it_review: lambda: step(self.it_staff, sharing, "approve"),
        })

    def data_asset(self, name, system, dept, classification, personal, retention):
        if self.find(DataAsset, name=name) is not None:
            return
        # A department with a demo clerk catalogues its own data; IT the others'.
        author = self.users[SUBMITTERS[dept]] if dept in SUBMITTERS else self.it_staff
        create(author, DataAsset(
            name=name, system=self.systems[system], owner_department=self.departments[dept],
            classification=classification, personal_data=personal,
            retention_months=retention, description=f"{name}，存储于{self.systems[system].name}。"))

    def quality_check(self, title, dept, system, ago, dimension, score, issues, due,
                      rectified):
        if self.find(DataQualityCheck, title=title) is not None:
            return
        today = dt.date.today()
        check = create(self.it_staff, DataQualityCheck(
            title=title, department=self.departments[dept],
            system=self.systems[system] if system else None,
            checked_on=today - dt.timedelta(days=ago), dimension=dimension, score=score,
            issues=issues,
            rectification_due=today + dt.timedelta(days=due) if due is not None else None))
        if rectified:
            edit(self.it_staff, check, rectified_on=today)

    def backup(self, system, kind, ago, medium, offsite, succeeded, tested_ago, passed):
        system = self.systems[system]
        if self.find(BackupRecord, system_id=system.id, kind=kind, medium=medium) is not None:
            return
        record = create(self.it_staff, BackupRecord(
            system=system, kind=kind, medium=medium, offsite_location=offsite,
            succeeded=succeeded,
            taken_at=utcnow().replace(microsecond=0) - dt.timedelta(days=ago)))
        if tested_ago is not None:  # the restore test, recorded when done
            edit(self.it_staff, record,
                 restore_tested_on=dt.date.today() - dt.timedelta(days=tested_ago),
                 restore_result=RestoreResult.passed if passed else RestoreResult.failed)

    # -- audit (8) -----------------------------------------------------------------------
    def supervision(self, title, dept, date, items, result, issues, follow_up):
        duties, rules, operations, data = items
        self.checks[title] = self.find(SupervisionCheck, title=title) or create(
            self.auditor, SupervisionCheck(
                title=title, department=self.departments[dept], checked_on=date,
                inspector=self.auditor, checked_duties=duties, checked_rules=rules,
                checked_operations=operations, checked_data=data, result=result,
                issues=issues, follow_up=follow_up))

    def audit(self, title, kind, dept, scope, start, end):
        self.audits[title] = self.find(Audit, title=title) or create(
            self.auditor, Audit(title=title, kind=kind, department=self.departments[dept],
                                scope=scope, period_start=start, period_end=end,
                                auditor=self.auditor))

    def finding(self, audit, title, severity, dept, system, due, target, check=None):
        if self.find(AuditFinding, title=title) is not None:
            return
        finding = create(self.auditor, AuditFinding(
            audit=self.audits[audit] if audit else None,
            supervision_check=self.checks[check] if check else None,
            title=title, severity=severity,
            description=f"{title}，需责任部门限期整改。",
            responsible_department=self.departments[dept], system=self.systems[system],
            due_date=due))
        owner = self.users[SUBMITTERS[dept]]

        def rectify():
            edit(owner, finding, rectification="已制定整改措施并落实，相关记录已补充归档。")
            step(owner, finding, "submit")

        walk(finding, target, {
            FindingStatus.open: rectify,
            FindingStatus.rectification_submitted: lambda: step(self.auditor, finding,
                                                                "verify"),
            FindingStatus.verified: lambda: step(self.auditor, finding, "close"),
        })

    # -- information security (6.1, 6.2.2, 6.3.1-6.3.2) ------------------------------
    def policy(self, title, category, version, target, exit):
        policy = self.find(SecurityPolicy, title=title, policy_version=version)
        if policy is not None:
            return
        objectives, principles, measures = POLICY_TEXT[category]
        previous = self.find_existing(SecurityPolicy, title=title,
                                      policy_version=version - 1) if version > 1 else None
        policy = create(self.it_staff, SecurityPolicy(
            title=title, category=category, policy_version=version, previous_version=previous,
            basis="《中华人民共和国网络安全法》《数据安全法》《个人信息保护法》、"
                  "GB/T 22239-2019 网络安全等级保护基本要求",
            objectives=objectives, principles=principles, measures=measures,
            document=_demo_pdf(f"{title}V{version}", "策略文件", self.it_staff)))
        exit = (exit[0], exit[1], self.users[exit[2]], exit[3]) if exit else None

        def publish():
            edit(self.it_staff, policy, effective_date=company_today() - dt.timedelta(
                days=200 if version == 1 else 30))
            step(self.it_staff, policy, "publish")

        # A superseded version was in effect until its successor was: supersede_old_policies.
        walk(policy, PolicyStatus.effective if target is PolicyStatus.superseded else target, {
            PolicyStatus.draft: lambda: step(self.it_staff, policy, "submit"),
            PolicyStatus.mgmt_review: lambda: step(self.manager, policy, "approve"),
            PolicyStatus.approved: publish,
        }, exit)

    def supersede_old_policies(self):
        """Versions whose successor is now in effect are marked superseded by IT."""
        for policy in db.session.query(SecurityPolicy).filter_by(
                status=PolicyStatus.effective).all():
            if any(newer.status is PolicyStatus.effective for newer in policy.next_versions):
                step(self.it_staff, policy, "supersede")

    def scan(self, system, ago, tool, scope, summary, found):
        system = self.systems[system]
        day = company_today() - dt.timedelta(days=ago)
        if self.find(VulnerabilityScan, system_id=system.id, scanned_on=day,
                     tool=tool) is not None:
            return
        scan = create(self.it_staff, VulnerabilityScan(
            system=system, scanned_on=day, tool=tool, scan_scope=scope,
            performer=self.it_staff, summary=summary,
            report=_demo_pdf(f"{system.code}-{day}", "漏洞扫描报告", self.it_staff)))
        for title, identifier, severity, state, fixed_after in found:
            vulnerability = create(self.it_staff, Vulnerability(
                scan=scan, title=title, identifier=identifier, severity=severity,
                found_on=day))
            self.created += 1
            if state is VulnerabilityStatus.fixed:
                edit(self.it_staff, vulnerability, status=state,
                     fixed_on=day + dt.timedelta(days=fixed_after),
                     remediation="已升级至官方修复版本并复测通过。")
            elif state is not VulnerabilityStatus.open:
                edit(self.it_staff, vulnerability, status=state,
                     remediation="风险较低，经评估暂不修复，已采取补偿措施。"
                     if state is VulnerabilityStatus.accepted else "修复补丁测试中。")

    def risk_assessment(self, system, ago, scope, method, risks, level, treatment, residual,
                        next_in):
        system = self.systems[system]
        day = company_today() - dt.timedelta(days=ago)
        if self.find(RiskAssessment, system_id=system.id, assessed_on=day) is not None:
            return
        create(self.it_staff, RiskAssessment(
            system=system, assessed_on=day, assessor=self.it_staff, assessment_scope=scope,
            method=method, risks=risks, risk_level=level, treatment_plan=treatment,
            residual_risk=residual, next_assessment_on=day + dt.timedelta(days=ago + next_in),
            report=_demo_pdf(f"{system.code}-{day}", "风险评估报告", self.it_staff)))

    def training(self, title, ago, trainer, topics, audience, attendance):
        if self.find(Training, title=title) is not None:
            return
        law, policy, skills = topics
        training = create(self.it_staff, Training(
            title=title, held_on=company_today() - dt.timedelta(days=ago), trainer=trainer,
            topic_law=law, topic_policy=policy, topic_skills=skills, audience=audience,
            description=f"{title}，由信息管理部组织。",
            materials=_demo_pdf(title, "培训课件", self.it_staff)))
        for username, attended, score, remarks in attendance:
            create(self.it_staff, TrainingAttendance(
                training=training, person=self.users[username], attended=attended,
                score=score, remarks=remarks))
            self.created += 1

    def load(self):
        self.organisation()
        for row in PLANS:
            self.plan(*row)
        for row in PROJECTS:
            self.project(*row)
        for row in TENDERS:
            self.tender(*row)
        for row in CONTRACTS:
            self.contract(*row)
        for row in CHANGE_ORDERS:
            self.change_order(*row)
        for row in CHANGE_REQUESTS:
            self.change_request(*row)
        for row in INCIDENTS:
            self.incident(*row)
        for row in CHECKLISTS:
            self.checklist(*row)
        for row in OPERATION_LOG:
            self.operation_log(*row)
        for row in MAINTENANCE:
            self.maintenance(*row)
        for row in DATA_SHARING:
            self.data_sharing(*row)
        for row in AUDITS:
            self.audit(*row)
        for row in FINDINGS:
            self.finding(*row)
        for row in DATA_ASSETS:
            self.data_asset(*row)
        for row in QUALITY_CHECKS:
            self.quality_check(*row)
        for row in BACKUPS:
            self.backup(*row)
        for row in SUPERVISION_CHECKS:
            self.supervision(*row)
        for check, *row in SUPERVISION_FINDINGS:
            self.finding(None, *row, check=check)
        for row in POLICIES:
            self.policy(*row)
        self.supersede_old_policies()
        for row in SCANS:
            self.scan(*row)
        for row in RISK_ASSESSMENTS:
            self.risk_assessment(*row)
        for row in TRAININGS:
            self.training(*row)
        demo_continuity.load(self, create, edit, step, walk, _demo_pdf)
        db.session.commit()
        return self.created


def load_demo():
    """Load the demo data; return the number of records created."""
    with current_app.test_request_context("/"):
        return Demo().load()
