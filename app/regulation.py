"""The regulation (信息系统归口制度规范): its 64 clauses, the one source inside the product.

Every clause ID a docstring, a scorecard rule, docs/traceability.md or a record page
names resolves here. ``CLAUSES`` maps the clause ID (chapter.section.item) to its Chinese
text, verbatim from the regulation, and a short English working rendering; ``CHAPTERS``
and ``SECTIONS`` give the titles. docs/regulation.md is the same text for readers, and
tests/test_traceability.py checks that both hold the same 64 clauses with the same
Chinese text.
"""
import re
from typing import NamedTuple


class Clause(NamedTuple):
    id: str
    zh: str
    en: str

    @property
    def section(self):
        return self.id.rsplit(".", 1)[0]

    @property
    def chapter(self):
        return self.id.split(".", 1)[0]

    def text(self, english=False):
        return self.en if english else self.zh


# Chapter number -> (Chinese title, English title)
CHAPTERS = {
    '1': ('总则', 'General provisions'),
    '2': ('归口管理部门职责', 'Duties of the managing departments'),
    '3': ('信息系统规划与立项', 'Planning and project initiation'),
    '4': ('信息系统建设与实施', 'Construction and implementation'),
    '5': ('信息系统运行与维护', 'Operation and maintenance'),
    '6': ('信息系统安全管理', 'Security management'),
    '7': ('信息系统数据管理', 'Data management'),
    '8': ('信息系统审计与监督', 'Audit and supervision'),
}

# Section number -> (Chinese title, English title)
SECTIONS = {
    '1.1': ('目的', 'Purpose'),
    '1.2': ('适用范围', 'Scope'),
    '1.3': ('基本原则', 'Basic principles'),
    '2.1': ('信息管理部门', 'The information management (IT) department'),
    '2.2': ('业务部门', 'Business departments'),
    '3.1': ('规划制定', 'Drawing up the plan'),
    '3.2': ('立项申请', 'Project initiation requests'),
    '4.1': ('项目招标与采购', 'Tendering and procurement'),
    '4.2': ('项目实施', 'Implementation'),
    '5.1': ('运行管理', 'Operations'),
    '5.2': ('维护管理', 'Maintenance'),
    '6.1': ('安全策略制定', 'Security policy'),
    '6.2': ('安全技术防范', 'Technical protection'),
    '6.3': ('安全培训与教育', 'Security training and education'),
    '6.4': ('安全应急管理', 'Security emergencies'),
    '7.1': ('数据管理制度', 'Data rules'),
    '7.2': ('数据质量管理', 'Data quality'),
    '7.3': ('数据安全管理', 'Data security'),
    '7.4': ('数据共享与交换', 'Data sharing and exchange'),
    '8.1': ('审计制度', 'Audit'),
    '8.2': ('监督机制', 'Supervision'),
}

_TEXTS = (
    ('1.1.1',
     '为加强公司信息系统的统一管理,规范信息系统的归口管理流程,确保信息系统的安全、稳定、高效运行,满足公司业务发展的需求,特制定本制度规范。',
     "To strengthen unified management of the company's information systems, standardize their centralized-ownership (归口) management process, ensure they run securely, stably and efficiently, and meet business needs."),
    ('1.2.1',
     '本制度适用于公司内所有信息系统的归口管理,包括但不限于办公自动化系统、业务管理系统、客户关系管理系统、财务管理系统等。',
     'Applies to the centralized management of every information system in the company, including but not limited to office automation (OA), business management, customer relationship management (CRM) and financial management systems.'),
    ('1.3.1',
     '统一规划原则:信息系统的建设和管理应遵循公司整体战略规划,进行统一规划和布局,避免重复建设和资源浪费。',
     "Unified planning: building and managing systems follows the company's overall strategy; plan and lay out centrally; avoid duplicate construction and waste."),
    ('1.3.2',
     '归口管理原则:明确信息系统归口管理部门,负责信息系统的整体规划、建设、运行维护、安全管理等工作,确保信息系统的各项管理职责落实到位。',
     'Centralized ownership: each system has a clearly designated owning (归口) department responsible for its planning, construction, operation and maintenance, and security, so that every duty is assigned.'),
    ('1.3.3',
     '安全可靠原则:高度重视信息系统的安全管理,采取有效的安全防护措施,保障信息系统的安全可靠运行,防止信息泄露、丢失和被篡改。',
     'Security and reliability: protect systems effectively; prevent information leakage, loss and tampering.'),
    ('1.3.4',
     '高效实用原则:信息系统应具备高效的运行效率和实用的功能,能够满足公司业务发展的实际需求,为公司的管理决策提供有力支持。',
     'Efficiency and practicality: systems must run efficiently, meet real business needs, and support management decisions.'),
    ('2.1.1',
     '负责制定公司信息系统发展战略和规划,明确信息系统建设的目标、任务和重点。',
     "Sets the company's IS strategy and plan: goals, tasks and priorities."),
    ('2.1.2',
     '组织开展信息系统的需求调研、分析和设计工作,确保信息系统能够满足公司业务需求。',
     'Organizes requirements research, analysis and design.'),
    ('2.1.3',
     '负责信息系统项目的立项、招标、采购、实施等全过程管理,协调相关部门和单位,确保项目顺利推进。',
     'Manages projects end to end: initiation, tendering, procurement, implementation; coordinates departments.'),
    ('2.1.4',
     '负责信息系统的运行维护管理,建立健全信息系统运行维护管理制度和流程,及时处理系统故障和问题,保障系统稳定运行。',
     'Manages operation and maintenance: O&M rules and processes, timely fault handling, stable operation.'),
    ('2.1.5',
     '负责信息系统的安全管理,制定信息系统安全策略和管理制度,开展安全培训和教育,加强安全技术防范措施,确保信息系统安全。',
     'Manages security: security strategy and rules, training, technical protection.'),
    ('2.1.6',
     '负责信息系统的数据管理,建立健全数据管理制度和流程,确保数据的准确性、完整性和保密性。',
     'Manages data: data rules and processes; accuracy, completeness and confidentiality of data.'),
    ('2.1.7',
     '负责与外部信息系统供应商的沟通协调,及时掌握信息系统技术发展动态,为公司信息系统建设和管理提供技术支持。',
     'Coordinates with external IS vendors; tracks technology trends; provides technical support.'),
    ('2.2.1',
     '负责提出本部门信息系统的业务需求,配合信息管理部门开展信息系统的需求调研、分析和设计工作。',
     'Raise their own business requirements; cooperate in requirements research, analysis and design.'),
    ('2.2.2',
     '参与信息系统项目的立项、招标、采购、实施等工作,提供业务指导和支持。',
     'Take part in initiation, tendering, procurement and implementation; give business guidance.'),
    ('2.2.3',
     '负责本部门信息系统的日常使用和管理,及时反馈系统运行中存在的问题和改进建议。',
     'Use and manage their systems day to day; report problems and improvement suggestions promptly.'),
    ('2.2.4',
     '配合信息管理部门开展信息系统的安全管理和数据管理工作,确保本部门信息系统的安全和数据的合规使用。',
     'Cooperate with the IT department on security and data management; ensure compliant use of data.'),
    ('3.1.1',
     '信息管理部门应根据公司战略规划和业务发展需求,定期制定信息系统发展规划,明确信息系统建设的目标、任务、重点和实施计划。',
     'The IT department periodically drafts an IS development plan from company strategy and business needs: goals, tasks, priorities and an implementation schedule.'),
    ('3.1.2',
     '信息系统发展规划应广泛征求公司各部门和单位的意见和建议,确保规划的科学性、合理性和可操作性。',
     'The plan is circulated for opinions and suggestions from all departments and units.'),
    ('3.1.3',
     '信息系统发展规划经公司管理层审批后发布实施,并作为公司信息系统建设和管理的指导性文件。',
     'The plan is published after management approval and becomes the guiding document for IS construction and management.'),
    ('3.2.1',
     '各部门根据信息系统发展规划和本部门业务需求,向信息管理部门提出信息系统立项申请。',
     'Departments submit IS project initiation requests to the IT department, based on the plan and their needs.'),
    ('3.2.2',
     '立项申请应包括项目名称、项目背景、项目目标、项目内容、项目预算、项目实施计划等内容,并附详细的需求分析报告。',
     'A request contains project name, background, goals, content, budget and implementation plan, with a detailed requirements-analysis report attached.'),
    ('3.2.3',
     '信息管理部门对立项申请进行初审,对符合立项条件的项目,组织相关部门和专家进行论证评审。',
     'The IT department does a preliminary review; for requests that qualify it organizes an expert/department review (论证评审).'),
    ('3.2.4',
     '论证评审通过的项目,由信息管理部门编制项目可行性研究报告,报公司管理层审批。',
     'For projects that pass review, the IT department writes a feasibility study report and submits it to management for approval.'),
    ('3.2.5',
     '经公司管理层审批同意立项的项目,纳入公司信息系统建设计划,由信息管理部门组织实施。',
     "Projects approved by management enter the company's IS construction plan and are implemented under the IT department."),
    ('4.1.1',
     '信息管理部门根据项目立项批复,按照公司相关采购管理制度,组织开展信息系统项目的招标与采购工作。',
     "Following the approval, the IT department runs tendering and procurement under the company's procurement rules."),
    ('4.1.2',
     '招标与采购应遵循公开、公平、公正的原则,选择具有良好信誉和技术实力的供应商,确保项目质量和进度。',
     'Tendering is open, fair and impartial; choose vendors with good reputation and technical strength.'),
    ('4.1.3',
     '信息管理部门应与中标供应商签订项目合同,明确双方的权利和义务,包括项目范围、项目进度、项目质量、项目验收、项目售后服务等内容。',
     'The IT department signs a contract with the winning vendor: scope, schedule, quality, acceptance, after-sales service.'),
    ('4.2.1',
     '信息管理部门负责组织项目实施团队,制定项目实施计划,明确项目实施的步骤、方法、时间节点和责任人。',
     'The IT department forms the implementation team and plan: steps, methods, milestones (time nodes) and responsible persons.'),
    ('4.2.2',
     '项目实施团队应按照项目实施计划,严格按照项目合同要求,组织开展信息系统的开发、测试、部署、培训等工作,确保项目按时、按质、按量完成。',
     'The team develops, tests, deploys and trains per plan and contract, on time, quality and quantity.'),
    ('4.2.3',
     '在项目实施过程中,信息管理部门应加强对项目的监督和管理,及时协调解决项目实施过程中出现的问题,确保项目顺利推进。',
     'The IT department supervises the project and resolves problems promptly.'),
    ('4.2.4',
     '项目实施过程中,如因特殊原因需要变更项目合同内容或项目实施计划的,应按照公司相关合同变更和项目变更管理制度,履行相应的审批手续。',
     "Changes to the contract or the implementation plan go through the company's change-approval procedure."),
    ('5.1.1',
     '信息管理部门应建立健全信息系统运行管理制度和流程,明确信息系统运行维护的职责分工、工作流程、操作规范等内容。',
     'The IT department sets O&M rules and processes: division of duties, workflow, operating procedures.'),
    ('5.1.2',
     '信息系统运行维护人员应按照运行管理制度和流程,定期对信息系统进行巡检、监控,及时发现和处理系统运行中出现的问题和故障,确保系统稳定运行。',
     'O&M staff inspect (巡检) and monitor systems regularly, detect and handle problems and faults promptly.'),
    ('5.1.3',
     '信息管理部门应建立信息系统运行日志,详细记录系统运行情况、操作记录、故障处理情况等信息,以便进行系统分析和问题追溯。',
     'The IT department keeps an operation log per system: running status, operations performed, fault handling, for analysis and traceability.'),
    ('5.1.4',
     '信息系统运行维护人员应严格遵守信息系统操作规范,不得擅自修改系统配置和数据,如需进行系统维护和升级,应按照相关规定履行审批手续。',
     'O&M staff must not change system configuration or data without authorization; maintenance and upgrades need approval.'),
    ('5.2.1',
     '信息管理部门应建立信息系统维护管理制度和流程,明确信息系统维护的内容、方式、周期、责任人等内容。',
     'The IT department sets maintenance rules: content, method, cycle, responsible person.'),
    ('5.2.2',
     '信息系统维护分为日常维护、定期维护和应急维护。日常维护主要包括系统巡检、数据备份、系统优化等工作;定期维护主要包括系统升级、安全漏洞修复、数据清理等工作;应急维护主要针对系统突发故障和紧急事件,及时进行故障排除和应急处理。',
     'Maintenance is daily (inspection, data backup, optimization), periodic (upgrades, security-vulnerability fixes, data cleanup) or emergency (sudden faults and urgent events).'),
    ('5.2.3',
     '信息管理部门应定期对信息系统进行评估和分析,根据系统运行情况和业务发展需求,制定信息系统维护计划,确保信息系统的性能和功能满足公司业务发展的要求。',
     'The IT department periodically assesses systems and draws up maintenance plans.'),
    ('5.2.4',
     '信息系统维护人员应具备扎实的专业知识和技能,熟悉信息系统的技术架构和运行原理,能够及时处理系统维护过程中出现的问题和故障。',
     "Maintenance staff must be qualified and know the system's architecture."),
    ('6.1.1',
     '信息管理部门应根据国家相关法律法规和行业标准,结合公司实际情况,制定信息系统安全策略,明确信息系统安全管理的目标、原则、措施和要求。',
     'The IT department sets an IS security policy per national laws and industry standards: goals, principles, measures, requirements.'),
    ('6.1.2',
     '信息系统安全策略应包括网络安全策略、数据安全策略、应用安全策略、人员安全策略等内容,确保信息系统的各个层面都得到有效的安全防护。',
     'The policy covers network, data, application and personnel security.'),
    ('6.2.1',
     '信息管理部门应采用先进的安全技术手段,对信息系统进行安全防护,包括防火墙、入侵检测系统、加密技术、身份认证技术等。',
     'Use firewalls, intrusion detection, encryption and authentication.'),
    ('6.2.2',
     '定期对信息系统进行安全漏洞扫描和风险评估,及时发现和修复安全漏洞,降低信息系统安全风险。',
     'Scan for vulnerabilities and assess risk periodically; find and fix vulnerabilities promptly.'),
    ('6.2.3',
     '加强对信息系统网络的安全管理,设置合理的网络访问权限,限制非法访问,防止网络攻击和数据泄露。',
     'Manage network access rights; restrict illegal access; prevent attacks and data leaks.'),
    ('6.3.1',
     '信息管理部门应定期组织开展信息系统安全培训和教育活动,提高公司员工的安全意识和安全技能。',
     'The IT department runs security training regularly.'),
    ('6.3.2',
     '安全培训和教育内容应包括信息系统安全法律法规知识、安全策略和管理制度、安全技术操作技能等,确保员工了解信息系统安全的重要性,掌握基本的安全防范措施。',
     'Training covers security law, policies and rules, and practical skills.'),
    ('6.3.3',
     '对涉及信息系统管理和操作的人员,应进行严格的背景审查和权限管理,签订信息系统安全保密协议,明确其安全责任和义务。',
     'Staff who manage or operate systems get strict background checks and permission management, and sign a security confidentiality agreement.'),
    ('6.4.1',
     '在信息系统安全管理中,应制定完善的安全应急预案,明确应急处置流程、责任分工、应急资源保障等内容。',
     'Keep emergency response plans: procedure, division of duties, resources.'),
    ('6.4.2',
     '定期组织开展安全应急演练,检验和提高安全应急处置能力,确保在信息系统发生安全事件时,能够迅速、有效地进行应急处理,降低安全事件对公司造成的损失。',
     'Hold emergency drills regularly.'),
    ('6.4.3',
     '安全事件发生后,应及时进行调查和分析,总结经验教训,采取有效的改进措施,防止类似安全事件再次发生。',
     'After a security event, investigate and analyse, draw lessons, take improvement measures.'),
    ('7.1.1',
     '信息管理部门应建立健全信息系统数据管理制度,明确数据管理的职责分工、数据采集、录入、存储、使用、共享、备份、恢复等流程和规范。',
     'The IT department sets data-management rules: duties, collection, entry, storage, use, sharing, backup, recovery.'),
    ('7.1.2',
     '数据管理应遵循准确性、完整性、保密性、可用性的原则,确保数据的质量和安全。',
     'Data management follows accuracy, completeness, confidentiality and availability.'),
    ('7.2.1',
     '加强对数据采集和录入环节的管理,确保数据的准确性和完整性。对采集到的数据进行严格的审核和校验,发现问题及时进行纠正。',
     'Control collection and entry; review and validate collected data; correct problems promptly.'),
    ('7.2.2',
     '建立数据质量监控机制,定期对数据质量进行评估和分析,及时发现和解决数据质量问题。对数据质量较差的部门和单位,进行督促整改。',
     'Monitor data quality, assess it regularly; press departments with poor data quality to rectify.'),
    ('7.3.1',
     '采取有效的数据安全防护措施,对数据进行加密存储和传输,防止数据泄露和被篡改。',
     'Encrypt data at rest and in transit; prevent leakage and tampering.'),
    ('7.3.2',
     '加强对数据访问的权限管理,根据用户的角色和职责,设置合理的数据访问权限,确保数据的保密性。',
     'Grant data access by role and duty.'),
    ('7.3.3',
     '定期对数据进行备份,备份数据应存储在安全可靠的介质上,并异地存放,以防止数据丢失。建立数据恢复机制,确保在数据发生丢失或损坏时,能够及时恢复数据。',
     'Back up data regularly on reliable media stored off-site; keep a recovery mechanism so lost or damaged data can be restored in time.'),
    ('7.4.1',
     '按照公司业务发展需求,建立数据共享与交换机制,促进公司内部各部门之间的数据共享和业务协同。',
     'Set up data sharing and exchange between departments.'),
    ('7.4.2',
     '在数据共享与交换过程中,应遵循数据安全和保密原则,确保数据的合法使用和安全传输。对共享和交换的数据进行严格的审核和授权管理,防止数据滥用和泄露。',
     'Shared data is reviewed and authorized strictly; prevent abuse and leakage.'),
    ('8.1.1',
     '信息管理部门应建立信息系统审计制度,定期对信息系统的建设、运行、维护、安全、数据等方面进行审计。',
     'The IT department sets an IS audit system and periodically audits construction, operation, maintenance, security and data.'),
    ('8.1.2',
     '审计内容包括信息系统项目的合规性审计、信息系统运行维护的有效性审计、信息系统安全管理的规范性审计、信息系统数据管理的准确性审计等。',
     'Audits include compliance audits of projects, effectiveness audits of O&M, normative audits of security management and accuracy audits of data management.'),
    ('8.2.1',
     '公司应建立信息系统监督机制,加强对信息系统归口管理部门和业务部门的监督检查,确保信息系统归口管理制度的有效执行。',
     'The company supervises and inspects the owning departments and business departments so the regulation is actually enforced.'),
    ('8.2.2',
     '监督检查内容包括信息系统归口管理部门的职责履行情况、信息系统建设和管理的各项制度执行情况、信息系统运行维护和安全管理情况、信息系统数据管理情况等',
     'Inspections cover duty fulfilment, execution of rules, O&M and security, and data management.'),
)

# Clause ID -> Clause, in the regulation's order
CLAUSES = {cid: Clause(cid, zh, en) for cid, zh, en in _TEXTS}


def clause(cid):
    """The clause of an ID (KeyError for an ID the regulation does not have)."""
    return CLAUSES[cid]


def clause_key(cid):
    """Sort key in the regulation's order."""
    return tuple(int(part) for part in cid.split("."))


def expand(first, last=None, registry=None):
    """The clause IDs from ``first`` to ``last`` inclusive, in the regulation's order.
    Each end is a clause ID ("4.2.1") or a section ID ("6.1", meaning its first or last
    clause); an ID the registry (``CLAUSES`` unless given) does not know raises KeyError."""
    last = last or first
    registry = CLAUSES if registry is None else registry
    ids = list(registry)

    def position(cid, end):
        if cid in registry:
            return ids.index(cid)
        inside = [i for i, key in enumerate(ids) if key.startswith(cid + ".")]
        if not inside:
            raise KeyError(cid)
        return inside[-1] if end else inside[0]

    start, stop = position(first, False), position(last, True)
    if stop < start:
        raise KeyError(f"{first}–{last}")
    return ids[start:stop + 1]


def clauses_in(text):
    """The clause IDs a text (a docstring) names, in order of first mention, known or not:
    every chapter.section.item number of the regulation's shape."""
    found = []
    for match in re.finditer(r"(?<![\d.])(\d+\.\d+\.\d+)(?![.]?\d)", text or ""):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


def model_clauses(model):
    """The clauses a record type's docstring names that the regulation has, in the
    regulation's order."""
    return sorted((cid for cid in clauses_in(model.__doc__) if cid in CLAUSES), key=clause_key)
