"""The PRODUCT.md §8 volumes, loaded fast, for the benchmarks (`make bench-data`).

    .venv/bin/python bench/scale.py [--url URL] [--scale 1.0] [--reuse] [--verify]
    .venv/bin/python bench/scale.py --url postgresql://postgres@127.0.0.1:5432/bench_scale
    BENCH_DATABASE_URL=postgresql://... .venv/bin/python bench/scale.py --postgres
    .venv/bin/python bench/scale.py --url URL --describe

The default URL is instance/bench_scale.db (SQLite); ``--postgres`` loads the database
beside BENCH_DATABASE_URL, its name with ``_scale`` added (`make bench-data` does both).

What it does, in order:

1. A fresh database (bench/conftest_free.py ``fresh_database``: the SQLite file removed,
   the PostgreSQL database dropped and created), migrated to head (``flask db upgrade``),
   reference data and the demo seed (seeds/: the demo accounts admin, clerk_fin, head_fin,
   it_staff, it_staff2, manager, auditor, expert ... with the demo password), all through
   the application as usual.
2. Then, times ``--scale``: 500 departments, 5,000 users (a DeptHead and Clerks per
   department, ~50 ITStaff in the IT department, Management, Auditors, Experts; roles in
   FAB's ab_user_role), 1,000 vendors, 2,000 systems, 20,000 project requests (expert
   reviews for those in expert review, feasibility and management review), 50,000
   contracts, 5,000 change orders, 20,000 change requests, 200,000 incidents, 5,000
   data-sharing requests, 2,000 audits with 10,000 findings, development plans with
   feedback, delegations (some in force today); and the newer record types, at volumes
   derived from those: 4,000 tenders (of projects in procurement or later) with 3 bids
   each when opened, 3 milestones and 3 progress reports per project under way or done,
   1,200 inspection checklists, the 1,000,000 operation-log entries of §8 (Zipf over the
   systems like the incidents; configuration and data changes name an approved change
   request of their system, or are flagged unauthorised), 3,000 maintenance plans with
   30,000 maintenance records, 60 security policies (newer versions replacing superseded
   ones), 6,000 vulnerability scans (3 per system) with 20,000 vulnerabilities (Zipf: the
   busiest system has about 2,400), 4,000 risk assessments, 300 trainings with 100
   attendees each (FIN's people among every one), 1,000 personnel clearances with their
   systems, 200 emergency plans (mostly the IT department's) with 3 drills per approved
   plan, 5,000 security events (Zipf, through their workflow), 6,000 data assets, 10,000
   data-quality checks, 60,000 backup records and 2,000 supervision checks; the approvals
   of every step each record took to its state, and the change history of all of it:
   about 1.1 million approvals and 3.7 million change entries. Seeded random numbers: the same scale loads the same data on
   the same day (times are relative to today, so delegations are in force and open records
   are recent).
3. ``ANALYZE`` (SQLite) / ``VACUUM ANALYZE`` (PostgreSQL), as a live database would have.

Skew, as a company has it: incidents follow a Zipf law over the systems (the busiest one
has about 24,000, FIN-GL is second), the finance department (FIN, clerk_fin's and
head_fin's) holds about 8% of every department-owned table, records are spread over
three years with the open ones (every non-final state of every workflow) in the last two
months, and the IT staff (it_staff among them) can act on a few thousand records.

How: rows are built in Python with ids assigned by the loader and written with SQLAlchemy
Core executemany in large batches on SQLite (journal_mode=OFF, synchronous=OFF during the
load only) and COPY (psycopg2 ``copy_expert``) on PostgreSQL, with the sequences set past
the loaded ids afterwards.

What it bypasses (the data is what the application would have written, not written by it):

* ORM events: the stamps (created/changed by and on are set by the loader), the
  per-row change capture of app/history.py (entries are synthesised: one insert entry per
  record with its first state, then per workflow step the approval's insert entry and the
  record's update entry (state, version, round, submitter, the step's stamps), in one
  request id, in time order), the re-approval listener;
* the workflow engine's checks: each record's steps are the declared transitions from the
  initial state to its state (app/workflow.py), each taken by a user of a role and
  department the transition allows, with separation of duties kept (the submitter never
  approves, nobody approves two steps of a record, experts never review their own
  department's project), but guards are not evaluated: the documents they ask for are a
  few shared attachment rows, and closed projects have no expert reviews (only projects
  now in expert review, feasibility or management review have them);
* content hashes: each approval stores the content hash (app/workflow.py
  ``content_hash``) of the record as loaded, not as it stood at that step;
* validation rules (app/validation.py) and write rules (app/security.py).

What it keeps: the schema of the migrations, foreign keys, the CHECK and unique
constraints (the database enforces them during the load), the approvals' columns as
app/approvals.py ``_store`` writes them, and the hash chain: every entry is hashed with
app/history.py ``entry_hash`` and the chain head is updated, so ``flask history verify``
passes (chain and approvals). The demo seed's records, approvals and entries come first
(written by the application) and keep their place at the start of the chain; its entries
are moved back to just before the synthesised history (and the chain rehashed from its
first entry), so that the whole history is dated in sequence order.

Every record type of app/chapters.py is loaded (tests/test_scale_loader.py checks it).
"""
import argparse
import datetime as dt
import hashlib
import io
import json
import logging
import os
import random
import sys
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "bench")]

SEED = 20260801
FULL = {  # PRODUCT.md §8 (and proportionate volumes of what §8 does not name)
    "departments": 500, "users": 5000, "it_staff": 50, "managers": 10, "auditors": 10,
    "experts": 50, "vendors": 1000, "systems": 2000, "plans": 30, "projects": 20000,
    "contracts": 50000, "change_orders": 5000, "change_requests": 20000,
    "incidents": 200000, "sharing": 5000, "audits": 2000, "findings_per_audit": 5,
    "delegations": 400, "delegations_today": 50,
    # the newer record types, per system / project / department as a company keeps them
    "tenders": 4000, "bids_per_tender": 3, "milestones_per_project": 3,
    "reports_per_project": 3, "checklists": 1200, "operation_log": 1000000,
    "maintenance_plans": 3000, "maintenance_records": 30000, "policies": 60,
    "scans": 6000, "vulnerabilities": 20000, "risk_assessments": 4000, "trainings": 300,
    "attendance_per_training": 100, "clearances": 1000, "emergency_plans": 200,
    "drills_per_plan": 3, "security_events": 5000, "data_assets": 6000,
    "quality_checks": 10000, "backups": 60000, "supervision_checks": 2000,
}
FIN_SHARE = 0.08  # of every department-owned table
YEARS = 3
RECENT_DAYS = 60  # open (non-final) records were created in the last RECENT_DAYS

# State mix per workflow (weights); the open states are rare on the large tables, as in a
# company that closes its work. Every state of every workflow occurs.
STATE_MIX = {
    "DevelopmentPlan": {"published": 60, "rejected": 10, "returned": 8, "draft": 8,
                        "consultation": 8, "mgmt_review": 6},
    "ProjectRequest": {"closed": 50, "rejected": 37.3, "returned": 1.5, "draft": 2,
                       "dept_review": 1.5, "it_review": 0.5, "expert_review": 2,
                       "feasibility": 0.5, "mgmt_review": 0.7, "approved": 0.3,
                       "procurement": 0.4, "implementation": 0.8, "acceptance": 0.3},
    "Contract": {"closed": 60, "accepted": 0.3, "in_force": 0.5, "signed": 0.3,
                 "mgmt_review": 0.5, "review": 0.7, "draft": 0.4, "returned": 0.3,
                 "rejected": 37},
    "ChangeOrder": {"verified": 84, "implemented": 3, "approved": 1.5, "requested": 3,
                    "returned": 1, "rejected": 7.5},
    "ChangeRequest": {"verified": 85.5, "implemented": 2, "approved": 1, "requested": 3,
                      "returned": 0.5, "rejected": 8},
    "Incident": {"closed": 99.55, "resolved": 0.15, "in_progress": 0.15, "reported": 0.15},
    "DataSharingRequest": {"expired": 60, "revoked": 12, "granted": 8, "rejected": 12,
                           "returned": 1.5, "requested": 2, "provider_review": 3,
                           "it_review": 1.5},
    "AuditFinding": {"closed": 80, "verified": 4, "rectification_submitted": 6, "open": 10},
    "Tender": {"awarded": 76, "cancelled": 5, "rejected": 5, "approved": 4, "review": 3,
               "mgmt_review": 1, "draft": 3, "returned": 3},
    "SecurityPolicy": {"effective": 45, "superseded": 25, "approved": 5, "mgmt_review": 5,
                       "draft": 8, "returned": 5, "rejected": 7},
    "EmergencyPlan": {"in_force": 60, "approved": 10, "submitted": 8, "draft": 10,
                      "returned": 5, "rejected": 7},
    "SecurityEvent": {"closed": 92, "investigating": 4, "reported": 4},
}
# Mean hours between two steps of a record (incidents are fast, paperwork is slow).
STEP_HOURS = {"Incident": 10, "ExpertReview": 2}
DEFAULT_STEP_HOURS = 60

WORDS = ("系统", "数据", "接口", "升级", "改造", "优化", "迁移", "集成", "平台", "报表",
         "权限", "备份", "监控", "安全", "流程", "审批", "结算", "采购", "客户", "合同",
         "库存", "财务", "人事", "营销", "门户", "移动端", "网络", "存储", "数据库", "中间件")
SENTENCES = ("根据业务发展需要，", "为满足监管与合规要求，", "结合年度信息化规划，",
             "针对现有系统存在的问题，", "经部门内部讨论，", "按照制度相关条款，")
TAILS = ("需尽快完成相关工作。", "预计可显著提升工作效率。", "请相关部门予以配合。",
         "风险可控，已制定回退方案。", "影响范围限于本部门。", "已与供应商初步沟通。")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞鹏辉建国志"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def log(message):
    print(message, flush=True)


class Ref:
    """A related row as the workflow's content hash reads it (its id)."""

    __slots__ = ("id",)

    def __init__(self, id_):
        self.id = id_


class FileRef:
    __slots__ = ("id", "sha256")

    def __init__(self, id_, sha256):
        self.id, self.sha256 = id_, sha256


class View:
    """A loaded row seen as a record by app/workflow.py (``content_hash``, ``when``)."""

    def __init__(self, row, relations):
        self.__dict__.update(row)
        self.__dict__.update(relations)


class Loader:
    def __init__(self, app, scale, seed=SEED):
        from app.extensions import db

        self.app, self.scale = app, scale
        self.rng = random.Random(seed)
        self.db = db
        self.engine = db.engine
        self.pg = self.engine.dialect.name == "postgresql"
        today = dt.date.today()
        self.today = today
        self.now = dt.datetime.combine(today, dt.time(8, 0))
        self.start = self.now - dt.timedelta(days=365 * YEARS)
        self.events = []  # (time, counter, kind, data)
        self.counter = 0
        self.counts = {}
        self.timings = []

    # ------------------------------------------------------------------ helpers
    def n(self, key, minimum=1):
        return max(minimum, round(FULL[key] * self.scale))

    def text(self, parts=3):
        rng = self.rng
        return (rng.choice(SENTENCES) + "".join(rng.choice(WORDS) for _ in range(parts))
                + rng.choice(("相关工作", "建设内容", "实施方案", "运行维护")) + "，"
                + rng.choice(TAILS))

    def title(self, suffix):
        rng = self.rng
        return rng.choice(WORDS) + rng.choice(WORDS) + rng.choice(WORDS) + suffix

    def request_id(self):
        return f"{self.rng.getrandbits(128):032x}"

    def next_ids(self, table):
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return (conn.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0) + 1

    def write(self, table, rows):
        """Bulk insert ``rows`` (dicts with every column of the table's ``columns``)."""
        if not rows:
            return
        from app.base import Model

        t = Model.metadata.tables[table]
        start = time.perf_counter()
        if self.pg:
            self._copy(t, rows)
        elif table in ("change_entry", "approval"):
            self._sqlite_raw(t, rows)
        else:
            cols = [c.name for c in t.columns]
            with self.engine.begin() as conn:
                for i in range(0, len(rows), 20000):
                    conn.execute(t.insert(), [{c: r.get(c) for c in cols}
                                              for r in rows[i:i + 20000]])
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        self.timings.append((table, len(rows), time.perf_counter() - start))

    def _sqlite_raw(self, table, rows):
        """The two big tables straight through the driver, values stored as SQLAlchemy
        stores them on SQLite (date-times as 'YYYY-MM-DD HH:MM:SS.ffffff', booleans 0/1)."""
        cols = [c.name for c in table.columns]

        def value(v):
            if isinstance(v, dt.datetime):
                return v.strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(v, bool):
                return int(v)
            return v

        sql = (f'INSERT INTO {table.name} ({", ".join(cols)}) '
               f'VALUES ({", ".join("?" for _ in cols)})')
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql, [tuple(value(r.get(c)) for c in cols) for r in rows])

    @staticmethod
    def _pg_value(value):
        if value is None:
            return "\\N"
        if value is True:
            return "t"
        if value is False:
            return "f"
        if isinstance(value, str):
            return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                    .replace("\r", "\\r"))
        if isinstance(value, bytes):
            return "\\\\x" + value.hex()
        return str(value)

    def _copy(self, table, rows):
        cols = [c.name for c in table.columns]
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for i in range(0, len(rows), 100000):
                buf = io.StringIO()
                for r in rows[i:i + 100000]:
                    buf.write("\t".join(self._pg_value(r.get(c)) for c in cols))
                    buf.write("\n")
                buf.seek(0)
                cursor.copy_expert(f'COPY {table.name} ({", ".join(cols)}) FROM STDIN', buf)
            raw.commit()
        finally:
            raw.close()

    def event(self, when, kind, data):
        self.counter += 1
        self.events.append((when, self.counter, kind, data))

    def times(self, created, steps, kind):
        """Times of ``steps`` steps after ``created``, all before now."""
        mean = STEP_HOURS.get(kind, DEFAULT_STEP_HOURS)
        gaps = [self.rng.expovariate(1 / mean) + 0.05 for _ in range(steps)]
        room = (self.now - created).total_seconds() / 3600 - 0.1
        if sum(gaps) > room:
            factor = room / sum(gaps)
            gaps = [g * factor for g in gaps]
        result, t = [], created
        for g in gaps:
            t = t + dt.timedelta(seconds=max(1, int(g * 3600)))
            result.append(t)
        return result

    def created_times(self, count, open_flags):
        """Creation times: open records in the last RECENT_DAYS, the others over YEARS;
        returned sorted with their flags (ids follow time)."""
        span = (self.now - self.start).total_seconds() - RECENT_DAYS * 86400 / 4
        recent = RECENT_DAYS * 86400
        out = []
        for is_open in open_flags:
            if is_open:
                back = self.rng.uniform(3600, recent)
            else:
                back = self.rng.uniform(RECENT_DAYS * 86400 / 4, span + 1)
            out.append((self.now - dt.timedelta(seconds=int(back)), is_open))
        out.sort(key=lambda x: x[0])
        return out

    # ------------------------------------------------------------- history entries
    def insert_entry(self, when, user_id, record_type, record_id, values, extra=None):
        from app.history import EXCLUDED_FIELDS, canonical, to_json_value

        changes = {k: [None, to_json_value(v)] for k, v in values.items()
                   if v is not None and k not in EXCLUDED_FIELDS}
        if extra:
            changes.update(extra)
        self.event(when, "entry", (user_id, self.request_id(), record_type, str(record_id),
                                   "insert", canonical(changes)))

    # ------------------------------------------------------------- organisation
    def organisation(self):
        from sqlalchemy import text

        from app.base import AppUser
        from app.organisation.models import Department

        db, rng = self.db, self.rng
        roles = {n: i for n, i in db.session.execute(text("SELECT name, id FROM ab_role"))}
        self.role_ids = roles
        existing = db.session.query(Department).order_by(Department.id).all()
        self.dept_code = {d.id: d.code for d in existing}
        self.it_dept = next(d.id for d in existing if d.code == "IT")
        self.fin_dept = next(d.id for d in existing if d.code == "FIN")
        users = db.session.query(AppUser).order_by(AppUser.id).all()
        self.username = {u.id: u.username for u in users}
        self.demo = {u.username: u for u in users}
        self.clerks, self.heads = {}, {}
        self.it_staff, self.managers, self.auditors, self.experts = [], [], [], []
        self.it_heads = []
        self.user_dept = {}
        for u in users:
            names = {r.name for r in u.roles}
            self.user_dept[u.id] = u.department_id
            if "Clerk" in names:
                self.clerks.setdefault(u.department_id, []).append(u.id)
            if "DeptHead" in names:
                self.heads[u.department_id] = u.id
                if u.department_id == self.it_dept:
                    self.it_heads.append(u.id)
            if "ITStaff" in names:
                self.it_staff.append(u.id)
            if "Management" in names:
                self.managers.append(u.id)
            if "Auditor" in names:
                self.auditors.append(u.id)
            if "Expert" in names:
                self.experts.append(u.id)
        # departments
        n_new = max(0, self.n("departments") - len(existing))
        dept_id = self.next_ids("department")
        rows = []
        for i in range(n_new):
            created = self.start + dt.timedelta(days=rng.uniform(0, 30))
            row = {"id": dept_id + i, "code": f"D{dept_id + i:04d}",
                   "name": f"{rng.choice(WORDS)}{rng.choice(WORDS)}事业部{dept_id + i:04d}",
                   "kind": "business", "head_id": None, "description": self.text(2),
                   "created_on": created, "changed_on": created}
            rows.append(row)
            self.dept_code[row["id"]] = row["code"]
        self.departments = sorted(self.dept_code)
        self.write("department", rows)
        # users
        from werkzeug.security import generate_password_hash

        password = generate_password_hash(
            self.app.config["DEMO_PASSWORD"],
            method=self.app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"))
        uid = self.next_ids("ab_user")
        urow, rolerows = [], []
        role_row_id = self.next_ids("ab_user_role")
        total = max(0, self.n("users") - len(users))
        plan = ([("ITStaff", self.it_dept)] * max(2, self.n("it_staff") - len(self.it_staff))
                + [("Management", self.it_dept)] * self.n("managers")
                + [("Auditor", None)] * self.n("auditors")
                + [("Expert", None)] * max(2, self.n("experts")))
        plan += [("DeptHead", d) for d in self.departments if d not in self.heads]
        plan += [("Clerk", d) for d in self.departments if not self.clerks.get(d)]
        new_depts = list(self.departments)
        while len(plan) < total:
            plan.append(("Clerk", new_depts[len(plan) % len(new_depts)]))
        pools = {"ITStaff": self.it_staff, "Management": self.managers,
                 "Auditor": self.auditors, "Expert": self.experts}
        for k, (role, dept) in enumerate(plan):
            if dept is None:
                dept = rng.choice(self.departments)
            user_id = uid + k
            created = self.start + dt.timedelta(days=rng.uniform(30, 60))
            surname, given = rng.choice(SURNAMES), rng.choice(GIVEN) + rng.choice(GIVEN)
            username = f"u{user_id:05d}"
            row = {"id": user_id, "first_name": given, "last_name": surname,
                   "username": username, "password": password, "active": True,
                   "email": f"{username}@example.com", "login_count": 0,
                   "fail_login_count": 0, "created_on": created, "changed_on": created,
                   "department_id": dept, "security_stamp": f"{rng.getrandbits(128):032x}"}
            urow.append(row)
            rolerows.append({"id": role_row_id + k, "user_id": user_id,
                             "role_id": roles[role]})
            self.username[user_id] = username
            self.user_dept[user_id] = dept
            if role == "Clerk":
                self.clerks.setdefault(dept, []).append(user_id)
            elif role == "DeptHead":
                self.heads[dept] = user_id
            else:
                pools[role].append(user_id)
            self.insert_entry(created, None, "AppUser", user_id, row,
                              {"roles": [[], [roles[role]]]})
        for row in rows:  # departments created before their people
            self.insert_entry(row["created_on"], None, "Department", row["id"], row)
        self.write("ab_user", urow)
        self.write("ab_user_role", rolerows)
        # heads of the new departments
        from sqlalchemy import bindparam, update

        table = Department.__table__
        headless = {d.id for d in existing if d.head_id is None} | {r["id"] for r in rows}
        heads = [{"d": d, "h": self.heads[d]} for d in sorted(headless) if d in self.heads]
        if heads:
            with self.engine.begin() as conn:
                conn.execute(update(table).where(table.c.id == bindparam("d"))
                             .values(head_id=bindparam("h")), heads)
        for d in self.departments:
            self.clerks.setdefault(d, [])
        self.clerk_fin = self.demo["clerk_fin"].id
        db.session.rollback()  # read only: end the transaction (no session idles in one)

    def pick_dept(self):
        if self.rng.random() < FIN_SHARE:
            return self.fin_dept
        return self.rng.choice(self.departments)

    def clerk_of(self, dept):
        clerks = self.clerks.get(dept) or []
        if dept == self.fin_dept and self.rng.random() < 0.3:
            return self.clerk_fin
        if clerks:
            return self.rng.choice(clerks)
        return self.heads.get(dept) or self.rng.choice(self.it_staff)

    # ---------------------------------------------------------------- reference
    def attachments(self):
        aid = self.next_ids("attachment")
        rows, self.files = [], {}
        for k, name in enumerate(("requirements", "feasibility", "acceptance", "signed",
                                  "rectification")):
            data = PDF + name.encode()
            rows.append({"id": aid + k, "filename": f"{name}.pdf",
                         "content_type": "application/pdf", "size": len(data),
                         "sha256": hashlib.sha256(data).hexdigest(), "data": data,
                         "uploaded_on": self.start, "uploaded_by_fk": None})
            self.files[name] = FileRef(aid + k, rows[-1]["sha256"])
        self.write("attachment", rows)

    def vendors(self):
        rng = self.rng
        vid = self.next_ids("vendor")
        rows = []
        for k in range(self.n("vendors")):
            created = self.start + dt.timedelta(days=rng.uniform(0, 200))
            row = {"id": vid + k, "name": f"{rng.choice(WORDS)}{rng.choice(WORDS)}科技有限公司{vid + k:05d}",
                   "credit_code": f"91{vid + k:016d}", "qualification": self.text(1),
                   "rating": rng.choice("abcd"), "contact_person": rng.choice(SURNAMES) + "经理",
                   "contact_phone": f"010-{rng.randrange(10**7, 10**8)}",
                   "contact_email": f"sales{vid + k}@vendor.example.com",
                   "created_on": created, "changed_on": created,
                   "created_by_fk": rng.choice(self.it_staff)}
            row["changed_by_fk"] = row["created_by_fk"]
            rows.append(row)
            self.insert_entry(created, row["created_by_fk"], "Vendor", row["id"], row)
        self.write("vendor", rows)
        self.vendor_ids = [r["id"] for r in rows]

    def systems(self):
        from sqlalchemy import text

        rng = self.rng
        sid = self.next_ids("information_system")
        rows = []
        for k in range(max(0, self.n("systems") - (sid - 1))):
            created = self.start + dt.timedelta(days=rng.uniform(0, 300))
            dept = self.fin_dept if rng.random() < 0.02 else rng.choice(self.departments)
            row = {"id": sid + k, "code": f"SYS-{sid + k:05d}",
                   "name": self.title("系统"), "category": rng.choice(
                       ("oa", "business", "crm", "finance", "other")),
                   "owning_department_id": dept, "it_custodian_id": rng.choice(self.it_staff),
                   "business_owner_id": self.clerk_of(dept),
                   "lifecycle": rng.choices(("planned", "building", "running", "retired"),
                                            (5, 10, 75, 10))[0],
                   "protection_level": rng.randint(1, 4), "go_live_date": None,
                   "vendor_id": rng.choice(self.vendor_ids), "description": self.text(2),
                   "created_on": created, "changed_on": created,
                   "created_by_fk": rng.choice(self.it_staff)}
            if row["lifecycle"] in ("running", "retired"):
                row["go_live_date"] = (created + dt.timedelta(days=rng.uniform(10, 200))).date()
            row["changed_by_fk"] = row["created_by_fk"]
            rows.append(row)
            self.insert_entry(created, row["created_by_fk"], "InformationSystem", row["id"], row)
        self.write("information_system", rows)
        with self.engine.connect() as conn:
            found = conn.execute(text(
                "SELECT id, owning_department_id, code FROM information_system ORDER BY id")).all()
        self.system_dept = {i: d for i, d, _c in found}
        ids = [i for i, _d, _c in found]
        rng.shuffle(ids)
        fin_gl = next((i for i, _d, c in found if c == "FIN-GL"), None)
        if fin_gl is not None:  # the finance ledger is the second busiest system
            ids.remove(fin_gl)
            ids.insert(1, fin_gl)
        self.system_rank = ids
        weights = [1 / (r + 1) for r in range(len(ids))]
        acc, total = [], 0.0
        for w in weights:
            total += w
            acc.append(total)
        self.system_cum = acc
        self.system_ids = sorted(self.system_dept)

    # ----------------------------------------------------------------- workflows
    def paths(self, model):
        """For each state: the transitions from the initial state to it (forward steps,
        then at most one return/reject/revoke), as lists of alternatives per step."""
        workflow = model.__workflow__
        states = list(workflow.states)
        initial = states[0]

        def aside(t):
            return t.needs_comment or t.style in ("danger", "warning")

        def forward(record):
            prev = {initial: None}
            queue = [initial]
            while queue:
                s = queue.pop(0)
                for t in workflow.transitions:
                    if s in t.source and not aside(t) and t.target not in prev \
                            and (t.when is None or t.when(record)):
                        prev[t.target] = (s, t)
                        queue.append(t.target)
            return prev

        def route(prev, target):
            steps = []
            while prev.get(target):
                s, t = prev[target]
                steps.append(t)
                target = s
            return steps[::-1]

        def make(record):
            prev = forward(record)
            result = {}
            for state in states:
                if state in prev:
                    result[state.name] = [route(prev, state)]
                else:
                    options = []
                    for t in workflow.transitions:
                        if t.target is state and aside(t):
                            for s in t.source:
                                if s in prev:
                                    options.append(route(prev, s) + [t])
                    result[state.name] = options
            return result

        return make

    def walk(self, model, row, relations, target, created, submitter, kind=None):
        """Take the record through its steps to ``target``: approvals and entries."""
        from app.workflow import ACTOR, NOW, content_hash

        rng = self.rng
        workflow = model.__workflow__
        name = model.__name__
        record = View(row, relations)
        key = (name, target, tuple(bool(t.when(record)) for t in workflow.transitions
                                   if t.when is not None))
        options = self.path_cache.get(key)
        if options is None:
            options = []
            for steps in self.path_maker[name](record)[target]:
                # the alternatives of each step (the same move by other people), ``when`` kept
                options.append([[x for x in workflow.transitions
                                 if x.name == t.name and x.target is t.target
                                 and x.source == t.source
                                 and (x.when is None or x.when(record))] or [t]
                                for t in steps])
            if not options:
                raise ValueError(f"{name}: no way to {target} for {key}")
            self.path_cache[key] = options
        chosen = [rng.choice(alternatives) for alternatives in rng.choice(options)]
        times = self.times(created, len(chosen), kind or name)
        version, round_ = 1, 0
        submitted = None
        approved_by = {}  # person -> step
        digest = content_hash(workflow, record)
        state = list(workflow.states)[0].name
        last_actor, last_time = submitter, created
        for t, when in zip(chosen, times):
            actor = self.actor(t, row, submitter if submitted is None else submitted,
                               approved_by, state)
            if t.approves:
                approved_by[actor] = state
            changes = {"status": [state, t.target.name], "version": [version, version + 1]}
            version += 1
            if t.submits:
                changes["round"] = [round_, round_ + 1]
                round_ += 1
                if submitted != actor:
                    changes["submitted_by_fk"] = [submitted, actor]
                submitted = actor
            for attribute, value in t.sets:
                value = actor if value is ACTOR else when if value is NOW else value
                row[attribute] = value
                changes[attribute] = [None, value.isoformat() if isinstance(
                    value, dt.datetime) else value]
            comment = rng.choice(("请补充相关材料后重新提交。", "方案依据不足，不予通过。",
                                  "需进一步论证风险与回退方案。")) if t.needs_comment else None
            request = self.request_id()
            self.event(when, "approval", (
                name, row["id"], t.name, t.label, state, t.target.name, actor, None, when,
                comment, digest, t.approves, t.submits, request))
            self.event(when, "entry", (actor, request, name, str(row["id"]), "update",
                                       json.dumps(changes, sort_keys=True, ensure_ascii=False,
                                                  separators=(",", ":"))))
            state = t.target.name
            last_actor, last_time = actor, when
        row.update(status=state, version=version, round=round_, submitted_by_fk=submitted,
                   changed_on=last_time, changed_by_fk=last_actor)
        return times

    def actor(self, t, row, submitter, approved_by, state):
        rng = self.rng
        roles = t.roles
        for _ in range(30):
            if t.reviewer:
                person = row["expert_id"]
            elif t.department_kind == "it":
                person = rng.choice(self.it_heads)
            elif t.department:
                dept = row[t.department]
                if roles & {"Clerk"}:
                    person = self.clerk_of(dept)
                elif "DeptHead" in roles:
                    person = self.heads[dept]
                else:
                    person = rng.choice(self.it_staff)
            elif "ITStaff" in roles:
                person = rng.choice(self.it_staff)
            elif "Management" in roles:
                person = rng.choice(self.managers)
            elif "Auditor" in roles:
                person = rng.choice(self.auditors)
            elif roles & {"Clerk", "DeptHead"}:
                person = self.clerk_of(row.get("department_id") or self.pick_dept())
            else:
                person = rng.choice(self.it_staff)
            if not t.approves:
                return person
            if person == submitter or approved_by.get(person, state) != state:
                continue
            return person
        return person

    def records(self, model, count, build, kind=None):
        """``count`` records of ``model``: states from STATE_MIX, creation times by state,
        ``build(row, created, target)`` fills the columns and returns (relations, submitter,
        extra insert changes)."""
        from app.base import Model

        name = model.__name__
        mix = STATE_MIX[name]
        states = self.rng.choices(list(mix), list(mix.values()), k=count)
        final = {s.name for s in model.__workflow__.final_states()} | {
            "published", "granted", "closed", "verified", "expired", "effective",
            "in_force"}
        stamped = self.created_times(count, [s not in final for s in states])
        # keep each state with its own time class
        opens = [s for s in states if s not in final]
        closed = [s for s in states if s in final]
        first = self.next_ids(model.__tablename__)
        columns = [c.name for c in Model.metadata.tables[model.__tablename__].columns]
        rows = []
        initial = list(model.__workflow__.states)[0].name
        for k, (created, is_open) in enumerate(stamped):
            target = opens.pop() if is_open else closed.pop()
            row = dict.fromkeys(columns)
            row.update(id=first + k, created_on=created, version=1, round=0,
                       status=initial)
            relations, submitter, extra = build(row, created, target)
            row["created_by_fk"] = submitter
            insert_values = dict(row)
            self.insert_entry(created, submitter, name, row["id"], insert_values, extra)
            self.walk(model, row, relations, target, created, submitter, kind)
            if row["changed_on"] is None:
                row["changed_on"], row["changed_by_fk"] = created, submitter
            rows.append(row)
        return rows

    # --------------------------------------------------------------- the records
    def plans(self):
        from app.planning.models import DevelopmentPlan

        rng = self.rng
        feedback = []

        def build(row, created, target):
            year = created.year
            row.update(title=f"信息系统发展规划（{year}—{year + 2}年）第{row['id']}号",
                       period=f"{year}—{year + 2}#{row['id']}", plan_version=1,
                       goals=self.text(4), tasks=self.text(4), priorities=self.text(2),
                       schedule=self.text(2))
            if target != "draft":
                for d in rng.sample(self.departments, min(3, len(self.departments))):
                    feedback.append((row["id"], d, created))
            return {}, rng.choice(self.it_staff), None

        rows = self.records(DevelopmentPlan, self.n("plans", 3), build)
        self.write("development_plan", rows)
        fid = self.next_ids("plan_feedback")
        frows = []
        for k, (plan, dept, created) in enumerate(feedback):
            when = created + dt.timedelta(hours=rng.uniform(2, 20))
            row = {"id": fid + k, "plan_id": plan, "department_id": dept,
                   "opinion": self.text(2), "it_response": self.text(1),
                   "created_on": when, "changed_on": when,
                   "created_by_fk": self.clerk_of(dept)}
            row["changed_by_fk"] = row["created_by_fk"]
            frows.append(row)
            self.insert_entry(when, row["created_by_fk"], "PlanFeedback", row["id"], row)
        self.write("plan_feedback", frows)

    def projects(self):
        from app.planning.models import ProjectRequest

        rng, files = self.rng, self.files
        links = []
        late = {"mgmt_review", "approved", "procurement", "implementation", "acceptance",
                "closed"}
        self.reviewed = []

        def build(row, created, target):
            dept = self.pick_dept()
            systems = sorted({self.rng.choice(self.system_ids)
                              for _ in range(rng.randint(1, 2))})
            row.update(name=self.title("项目"), applicant_department_id=dept,
                       background=self.text(3), goals=self.text(2), content=self.text(4),
                       budget=Decimal(rng.randrange(50, 5000) * 1000).quantize(Decimal("0.01")),
                       implementation_plan=self.text(3),
                       requirements_report_id=files["requirements"].id)
            if target in late:
                row["feasibility_report_id"] = files["feasibility"].id
            if target in ("feasibility", "mgmt_review") or target in late:
                row["expert_opinion"] = "专家组认为项目必要、方案可行。"
            if target == "closed":
                row["acceptance_report_id"] = files["acceptance"].id
            for s in systems:
                links.append({"project_request_id": row["id"], "system_id": s})
            relations = {"applicant_department": Ref(dept),
                         "systems": [Ref(s) for s in systems],
                         "requirements_report": files["requirements"],
                         "feasibility_report": files["feasibility"]
                         if row["feasibility_report_id"] else None,
                         "acceptance_report": None}
            if target in ("expert_review", "feasibility", "mgmt_review"):
                self.reviewed.append((row, target))
            return (relations, self.clerk_of(dept),
                    {"systems": [[], systems]})

        rows = self.records(ProjectRequest, self.n("projects"), build)
        self.write("project_request", rows)
        self.write("project_request_system", links)
        self.project_rows = rows
        self.expert_reviews()

    def expert_reviews(self):
        from app.planning.models import ExpertReview, ProjectStatus

        rng = self.rng
        first = self.next_ids("expert_review")
        out, k = [], 0
        for project, target in self.reviewed:
            times = self.project_times[project["id"]]
            entered = times[2]  # draft, department, IT review: then expert review
            left = times[3] if len(times) > 3 else self.now
            experts = [e for e in self.experts if self.user_dept[e] != project[
                "applicant_department_id"]]
            for expert in rng.sample(experts, min(len(experts), rng.randint(2, 3))):
                created = entered + (left - entered) * 0.1
                row = {"id": first + k, "project_id": project["id"],
                       "department_id": project["applicant_department_id"],
                       "expert_id": expert, "no_conflict": False, "score": None,
                       "opinion": None, "status": "assigned", "project_round": project["round"],
                       "created_on": created, "changed_on": created, "version": 1, "round": 0,
                       "created_by_fk": rng.choice(self.it_staff), "submitted_by_fk": None}
                k += 1
                done = target != "expert_review" or rng.random() < 0.5
                self.insert_entry(created, row["created_by_fk"], "ExpertReview", row["id"],
                                  row)
                if done:
                    row.update(no_conflict=True, score=rng.randint(60, 95),
                               opinion=self.text(2))
                    # the expert writes the review, then submits it
                    when = created + (left - created) * 0.5
                    self.event(when, "entry", (expert, self.request_id(), "ExpertReview",
                                               str(row["id"]), "update", json.dumps(
                        {"no_conflict": [False, True], "opinion": [None, row["opinion"]],
                         "score": [None, row["score"]]}, sort_keys=True,
                        ensure_ascii=False, separators=(",", ":"))))
                    # the project as the hand-back condition reads it (``when``)
                    relations = {"project": View(
                        {"status": ProjectStatus[project["status"]],
                         "round": project["round"]}, {})}
                    self.walk(ExpertReview, row, relations, "submitted",
                              when, row["created_by_fk"])
                out.append(row)
        self.write("expert_review", out)

    def contracts(self):
        from app.procurement.models import Contract, contract_approval_threshold

        rng, files = self.rng, self.files
        projects = [p for p in self.project_rows
                    if p["status"] in ("procurement", "implementation", "acceptance", "closed")]

        def build(row, created, target):
            project = rng.choice(projects) if projects and rng.random() < 0.3 else None
            dept = project["applicant_department_id"] if project else self.pick_dept()
            system = rng.choice(self.system_ids)
            amount = Decimal(int(10 ** rng.uniform(4, 6.7))).quantize(Decimal("0.01"))
            if target == "mgmt_review":  # only amounts at or over the threshold go there
                amount = max(amount, contract_approval_threshold())
            start = (created + dt.timedelta(days=rng.uniform(5, 40))).date()
            row.update(number=f"HT-{created.year}-{row['id']:06d}", name=self.title("合同"),
                       department_id=dept, project_id=project["id"] if project else None,
                       vendor_id=rng.choice(self.vendor_ids), system_id=system,
                       amount=amount, start_date=start,
                       end_date=start + dt.timedelta(days=rng.choice((180, 365, 730))),
                       scope=self.text(3), schedule=self.text(1), quality_terms=self.text(1),
                       acceptance_terms=self.text(1), after_sales_terms=self.text(1))
            if target in ("signed", "in_force", "accepted", "closed"):
                row["sign_date"] = start
            if target in ("in_force", "accepted", "closed"):
                row["signed_file_id"] = files["signed"].id
            relations = {"department": Ref(dept), "project": Ref(row["project_id"])
                         if project else None, "vendor": Ref(row["vendor_id"]),
                         "system": Ref(system), "signed_file": files["signed"]
                         if row["signed_file_id"] else None}
            return relations, rng.choice(self.it_staff), None

        rows = self.records(Contract, self.n("contracts"), build)
        self.write("contract", rows)
        self.contract_rows = [r for r in rows if r["status"] in
                              ("signed", "in_force", "accepted", "closed")]

    def change_orders(self):
        from app.procurement.models import ChangeOrder

        rng = self.rng

        def build(row, created, target):
            contract = rng.choice(self.contract_rows)
            row.update(change_number=f"BG-{created.year}-{row['id']:06d}",
                       title=self.title("变更"), contract_id=contract["id"],
                       department_id=contract["department_id"], reason=self.text(2),
                       change_content=self.text(3),
                       cost_impact=Decimal(rng.randrange(-50, 200) * 1000).quantize(
                           Decimal("0.01")), schedule_impact="工期延长%d天" % rng.randint(0, 30))
            relations = {"contract": Ref(contract["id"]), "project": None}
            return relations, rng.choice(self.it_staff), None

        self.write("change_order", self.records(ChangeOrder, self.n("change_orders"), build))

    def change_requests(self):
        from app.operations.models import ChangeRequest

        rng = self.rng

        def build(row, created, target):
            system = rng.choice(self.system_ids)
            dept = self.system_dept[system]
            start = created + dt.timedelta(days=rng.uniform(1, 10))
            row.update(change_number=f"CR-{created.year}-{row['id']:06d}",
                       title=self.title("变更申请"), system_id=system, department_id=dept,
                       kind=rng.choice(("configuration", "data", "upgrade", "maintenance")),
                       change_plan=self.text(3), rollback_plan=self.text(2), risk=self.text(1),
                       window_start=start.replace(microsecond=0),
                       window_end=(start + dt.timedelta(hours=rng.randint(1, 6))).replace(
                           microsecond=0))
            submitter = rng.choice(self.it_staff) if rng.random() < 0.5 else self.clerk_of(dept)
            return {"system": Ref(system)}, submitter, None

        self.change_request_rows = self.records(ChangeRequest, self.n("change_requests"),
                                                build)
        self.write("change_request", self.change_request_rows)

    def incidents(self):
        from app.operations.models import Incident

        rng = self.rng
        count = self.n("incidents")
        systems = rng.choices(self.system_rank, cum_weights=self.system_cum, k=count)

        def build(row, created, target):
            system = systems.pop()
            dept = self.system_dept[system] if rng.random() < 0.6 else self.pick_dept()
            reporter = self.clerk_of(dept)
            row.update(title=self.title("故障"), system_id=system,
                       severity=rng.choices(("p1", "p2", "p3", "p4"), (2, 10, 50, 38))[0],
                       description=self.text(3), reporting_department_id=dept,
                       reporter_id=reporter,
                       occurred_at=created - dt.timedelta(minutes=rng.randint(1, 600)))
            if target in ("resolved", "closed"):
                row.update(root_cause=self.text(1), resolution=self.text(2))
            return {}, reporter, None

        self.write("incident", self.records(Incident, count, build))

    def sharing(self):
        from app.data.models import DataSharingRequest

        rng = self.rng

        def build(row, created, target):
            requesting = self.pick_dept()
            system = rng.choice(self.system_ids)
            while self.system_dept[system] == requesting:
                system = rng.choice(self.system_ids)
            start = (created + dt.timedelta(days=rng.uniform(3, 20))).date()
            end = start + dt.timedelta(days=rng.choice((90, 180, 365)))
            if target == "expired":
                end = min(end, self.today - dt.timedelta(days=1))
                start = min(start, end)
            if target == "granted":
                end = max(end, self.today + dt.timedelta(days=30))
            row.update(title=self.title("数据共享"), requesting_department_id=requesting,
                       providing_department_id=self.system_dept[system], system_id=system,
                       data_scope=self.text(2), purpose=self.text(2), start_date=start,
                       end_date=end)
            relations = {"requesting_department": Ref(requesting),
                         "providing_department": Ref(self.system_dept[system]),
                         "system": Ref(system)}
            return relations, self.clerk_of(requesting), None

        self.write("data_sharing_request",
                   self.records(DataSharingRequest, self.n("sharing"), build))

    def audits(self):
        from app.audit.models import AuditFinding

        rng = self.rng
        aid = self.next_ids("audit")
        audits = []
        for k in range(self.n("audits")):
            created = self.start + dt.timedelta(seconds=rng.uniform(
                0, (self.now - self.start).total_seconds() - 86400 * RECENT_DAYS))
            dept = self.pick_dept()
            row = {"id": aid + k, "title": f"{created.year}年度{self.title('审计')}",
                   "kind": rng.choice(("compliance", "effectiveness", "normative", "accuracy")),
                   "department_id": dept, "scope": self.text(2),
                   "period_start": (created - dt.timedelta(days=180)).date(),
                   "period_end": created.date(), "auditor_id": rng.choice(self.auditors),
                   "conclusion": self.text(2), "created_on": created, "changed_on": created}
            row["created_by_fk"] = row["changed_by_fk"] = row["auditor_id"]
            audits.append(row)
            self.insert_entry(created, row["auditor_id"], "Audit", row["id"], row)
        audits.sort(key=lambda r: r["created_on"])
        self.write("audit", audits)
        files = self.files

        def build(row, created, target):
            audit = rng.choice(audits)
            dept = audit["department_id"] if rng.random() < 0.8 else self.pick_dept()
            row.update(audit_id=audit["id"], title=self.title("问题"), description=self.text(2),
                       severity=rng.choice(("high", "medium", "low")),
                       responsible_department_id=dept,
                       system_id=rng.choice(self.system_ids) if rng.random() < 0.7 else None,
                       due_date=(created + dt.timedelta(days=rng.randint(30, 120))).date())
            if target != "open":
                row.update(rectification=self.text(2),
                           rectification_evidence_id=files["rectification"].id)
            relations = {"responsible_department": Ref(dept),
                         "rectification_evidence": files["rectification"]
                         if row["rectification_evidence_id"] else None}
            return relations, audit["auditor_id"], None

        self.write("audit_finding", self.records(
            AuditFinding, self.n("audits") * FULL["findings_per_audit"], build))

    def delegations(self):
        rng = self.rng
        did = self.next_ids("delegation")
        rows = []
        today_count = self.n("delegations_today")
        heads = [(d, h) for d, h in self.heads.items()
                 if d not in (self.fin_dept, self.it_dept) and self.clerks.get(d)]
        if not heads:
            return
        for k in range(self.n("delegations")):
            dept, head = rng.choice(heads)
            if k < today_count:
                start = self.today - dt.timedelta(days=rng.randint(0, 5))
            else:
                start = self.start.date() + dt.timedelta(days=rng.randint(0, 365 * YEARS - 60))
            end = start + dt.timedelta(days=rng.randint(1, 14))
            created = dt.datetime.combine(start, dt.time(9)) - dt.timedelta(days=1)
            row = {"id": did + k, "principal_id": head,
                   "substitute_id": rng.choice(self.clerks[dept]), "start_date": start,
                   "end_date": end, "reason": "出差", "created_on": created,
                   "changed_on": created, "created_by_fk": head, "changed_by_fk": head}
            rows.append(row)
            self.insert_entry(min(created, self.now), head, "Delegation", row["id"], row)
        self.write("delegation", rows)

    # ---------------------------------------------------- the newer record types
    def spread(self, count, oldest=None):
        """``count`` creation times between ``oldest`` (default: the start) and now, sorted
        (ids follow time)."""
        oldest = oldest or self.start + dt.timedelta(days=30)
        span = (self.now - oldest).total_seconds() - 3600
        return sorted(oldest + dt.timedelta(seconds=int(self.rng.uniform(0, span)))
                      for _ in range(count))

    def plain(self, model, times, make):
        """Records of a type without a workflow, one per time of ``times`` (sorted):
        ``make(row, created)`` fills the columns and returns (creator, extra insert
        changes); the stamps and the insert entry follow. Returns the rows (not written)."""
        from app.base import Model

        table = model.__tablename__
        columns = [c.name for c in Model.metadata.tables[table].columns]
        first = self.next_ids(table)
        rows = []
        for k, created in enumerate(times):
            row = dict.fromkeys(columns)
            row["id"] = first + k
            creator, extra = make(row, created)
            row.update(created_on=created, changed_on=created, created_by_fk=creator,
                       changed_by_fk=creator)
            self.insert_entry(created, creator, model.__name__, row["id"], row, extra)
            rows.append(row)
        return rows

    def zipf_systems(self, count):
        return self.rng.choices(self.system_rank, cum_weights=self.system_cum, k=count)

    def later(self, created, low_days, high_days):
        """A time ``low_days``..``high_days`` after ``created``, before now."""
        when = created + dt.timedelta(days=self.rng.uniform(low_days, high_days))
        return min(when, self.now - dt.timedelta(minutes=self.rng.randint(5, 600)))

    def tenders(self):
        from sqlalchemy import bindparam, update

        from app.procurement.models import Bid, Tender, TenderMethod

        rng = self.rng
        eligible = [p for p in self.project_rows if p["status"] in (
            "procurement", "implementation", "acceptance", "closed")]
        projects = rng.sample(eligible, min(len(eligible), self.n("tenders")))
        bid_first = self.next_ids("bid")
        bids, winners = [], {}

        def build(row, created, target):
            project = projects.pop()
            dept = project["applicant_department_id"]
            method = rng.choices(("public", "invited", "negotiation", "inquiry",
                                  "single_source"), (50, 20, 10, 15, 5))[0]
            if target == "mgmt_review":
                method = "single_source"
            elif target == "review":
                method = rng.choice(("public", "invited"))
            announced = (created + dt.timedelta(days=rng.uniform(1, 10))).date()
            row.update(tender_number=f"ZB-{created.year}-{row['id']:06d}",
                       title=self.title("招标"), project_id=project["id"], department_id=dept,
                       method=method, announcement_date=announced,
                       opening_date=announced + dt.timedelta(days=rng.randint(20, 30)),
                       justification=self.text(1) if method == "single_source" else None)
            if target in ("approved", "awarded", "cancelled"):
                vendors = rng.sample(self.vendor_ids, 1 if method == "single_source"
                                     else min(len(self.vendor_ids), FULL["bids_per_tender"]))
                ids = []
                for vendor in vendors:
                    technical, commercial = rng.randint(55, 98), rng.randint(55, 98)
                    bids.append({"id": bid_first + len(bids), "tender_id": row["id"],
                                 "department_id": dept, "vendor_id": vendor,
                                 "amount": Decimal(rng.randrange(50, 3000) * 1000).quantize(
                                     Decimal("0.01")), "technical_score": technical,
                                 "commercial_score": commercial,
                                 "total_score": (Decimal(technical) + Decimal(commercial)) / 2,
                                 "remarks": None, "opened": row["opening_date"]})
                    ids.append(bids[-1]["id"])
                if target == "awarded":
                    best = max((b for b in bids if b["tender_id"] == row["id"]),
                               key=lambda b: b["total_score"])
                    row["winning_bid_id"] = best["id"]
            relations = {"project": Ref(project["id"]), "method": TenderMethod[method],
                         "winning_bid": Ref(row["winning_bid_id"])
                         if row["winning_bid_id"] else None}
            return relations, rng.choice(self.it_staff), None

        rows = self.records(Tender, len(projects), build)
        for row in rows:
            if row["winning_bid_id"]:
                winners[row["id"]] = row.pop("winning_bid_id")
                row["winning_bid_id"] = None
        self.write("tender", rows)  # the winners once the bids are in (each refers to the other)
        created_of = {r["id"]: r["created_on"] for r in rows}
        out = []
        for bid in bids:
            opened = dt.datetime.combine(bid.pop("opened"), dt.time(10)) + dt.timedelta(
                minutes=rng.randint(0, 120))
            created = min(max(opened, created_of[bid["tender_id"]]), self.now)
            creator = rng.choice(self.it_staff)
            bid.update(created_on=created, changed_on=created, created_by_fk=creator,
                       changed_by_fk=creator)
            self.insert_entry(created, creator, Bid.__name__, bid["id"], bid)
            out.append(bid)
        self.write("bid", out)
        table = Tender.__table__
        if winners:
            with self.engine.begin() as conn:
                conn.execute(update(table).where(table.c.id == bindparam("t"))
                             .values(winning_bid_id=bindparam("w")),
                             [{"t": t, "w": w} for t, w in winners.items()])

    def project_records(self):
        """Milestones and progress reports of the projects under way or done."""
        from app.procurement.models import Milestone, ProgressReport

        rng, files = self.rng, self.files
        running = [p for p in self.project_rows
                   if p["status"] in ("implementation", "acceptance", "closed")]
        plan = []
        for p in running:
            for _ in range(FULL["milestones_per_project"]):
                plan.append((self.later(p["created_on"], 20, 200), p))
        plan.sort(key=lambda x: x[0])
        items = iter(plan)

        def milestone(row, created):
            project = next(items)[1]
            dept = project["applicant_department_id"]
            due = (created + dt.timedelta(days=rng.randint(15, 90))).date()
            done = project["status"] == "closed" or (due < self.today and rng.random() < 0.7)
            row.update(project_id=project["id"], department_id=dept, name=self.title("里程碑"),
                       kind=rng.choice(("development", "testing", "deployment", "training",
                                        "other")), due_on=due,
                       responsible_id=self.clerk_of(dept), description=self.text(1))
            if done:
                row.update(done_on=min(due, self.today), evidence_id=files["acceptance"].id)
            return rng.choice(self.it_staff), None

        self.write("milestone", self.plain(Milestone, [t for t, _p in plan], milestone))
        plan = []
        for p in running:
            for k in range(FULL["reports_per_project"]):
                plan.append((self.later(p["created_on"], 30 + 40 * k, 60 + 40 * k), p, k))
        plan.sort(key=lambda x: x[0])
        items = iter(plan)

        def report(row, created):
            _t, project, k = next(items)
            dept = project["applicant_department_id"]
            reporter = self.clerk_of(dept)
            row.update(project_id=project["id"], department_id=dept,
                       report_date=created.date(), report_period=f"{created:%Y年%m月}",
                       summary=self.text(2), percent_complete=min(100, 30 * (k + 1)),
                       issues=self.text(1) if rng.random() < 0.3 else None,
                       next_steps=self.text(1), reporter_id=reporter)
            return reporter, None

        self.write("progress_report", self.plain(ProgressReport, [t for t, *_r in plan],
                                                 report))

    def operations_records(self):
        """Inspection checklists, the operation log (§8: 1,000,000 entries, Zipf over the
        systems like the incidents), maintenance plans and their records."""
        from app.operations.models import (InspectionChecklist, MaintenancePlan,
                                           MaintenanceRecord, OperationLog)

        from sqlalchemy import text

        rng = self.rng
        with self.engine.connect() as conn:  # one checklist a system: the demo's kept
            taken = set(conn.execute(text("SELECT system_id FROM inspection_checklist"))
                        .scalars())
        free = [s for s in self.system_ids if s not in taken]
        systems = rng.sample(free, min(len(free), self.n("checklists")))

        def checklist(row, created):
            system = systems.pop()
            row.update(system_id=system, department_id=self.system_dept[system],
                       items="\n".join(rng.sample(("CPU 与内存使用率", "磁盘空间", "备份完成情况",
                                                   "应用日志错误", "证书有效期", "数据库连接数",
                                                   "接口响应时间"), 4)))
            return rng.choice(self.it_staff), None

        checklists = self.plain(InspectionChecklist, self.spread(len(systems)), checklist)
        self.write("inspection_checklist", checklists)
        authorised = {}
        for cr in self.change_request_rows:
            if cr["status"] in ("approved", "implemented", "verified"):
                authorised.setdefault(cr["system_id"], []).append(cr["id"])
        count = self.n("operation_log")
        targets = self.zipf_systems(count)
        kinds = rng.choices(("inspection", "monitoring", "operation", "fault",
                             "configuration", "data"), (30, 30, 20, 8, 8, 4), k=count)

        def entry(row, created):
            system, kind = targets.pop(), kinds.pop()
            abnormal = rng.random() < 0.05
            row.update(system_id=system, department_id=self.system_dept[system], kind=kind,
                       performed_at=created - dt.timedelta(minutes=rng.randint(1, 120)),
                       operator_id=rng.choice(self.it_staff), content=self.text(1),
                       result="abnormal" if abnormal else "normal", unauthorised=False,
                       abnormal_items="磁盘空间" if abnormal and kind == "inspection" else None)
            if kind in ("configuration", "data"):
                if authorised.get(system) and rng.random() < 0.95:
                    row["change_request_id"] = rng.choice(authorised[system])
                else:
                    row["unauthorised"] = True
            return row["operator_id"], None

        self.write("operation_log", self.plain(OperationLog, self.spread(count), entry))
        plans_at = self.spread(self.n("maintenance_plans"))
        plan_systems = [self.system_ids[k % len(self.system_ids)]
                        for k in range(len(plans_at))]
        rng.shuffle(plan_systems)

        def plan(row, created):
            system = plan_systems.pop()
            kind = rng.choices(("daily", "periodic", "emergency"), (30, 60, 10))[0]
            cycle = {"daily": 1, "periodic": rng.choice((7, 30, 90)), "emergency": 365}[kind]
            row.update(title=self.title("维护计划"), system_id=system,
                       department_id=self.system_dept[system], kind=kind,
                       content=self.text(2), cycle_days=cycle,
                       responsible_id=rng.choice(self.it_staff), start_date=created.date(),
                       next_due=created.date() + dt.timedelta(days=cycle))
            return rng.choice(self.it_staff), None

        plans = self.plain(MaintenancePlan, plans_at, plan)
        done = sorted(((self.later(p["created_on"], 1, 3 * 365), p)
                       for p in rng.choices(plans, k=self.n("maintenance_records"))),
                      key=lambda x: x[0])
        items = iter(done)
        categories = ("inspection", "backup", "optimisation", "upgrade", "vulnerability_fix",
                      "data_cleanup", "emergency_repair")

        def record(row, created):
            p = next(items)[1]
            row.update(maintenance_plan_id=p["id"], department_id=p["department_id"],
                       category=rng.choices(categories, (40, 20, 10, 10, 10, 5, 5))[0],
                       performed_at=created, performed_by_id=p["responsible_id"],
                       result=self.text(1))
            due = created.date() + dt.timedelta(days=p["cycle_days"])
            p["next_due"] = max(p["next_due"], due)  # the last maintenance plus the cycle
            return p["responsible_id"], None

        records = self.plain(MaintenanceRecord, [t for t, _p in done], record)
        self.write("maintenance_plan", plans)
        self.write("maintenance_record", records)

    def policies(self):
        from app.infosec.models import SecurityPolicy

        rng, files = self.rng, self.files
        waiting = []  # superseded versions waiting for the version that replaces them

        def build(row, created, target):
            category = rng.choice(("network", "data", "application", "personnel"))
            title, version, previous = f"{self.title('安全管理办法')}{row['id']:03d}", 1, None
            if target == "effective" and waiting:
                old = waiting.pop(0)
                title, version, previous = old["title"], old["policy_version"] + 1, old["id"]
                category = old["category"]
            row.update(title=title, category=category, policy_version=version,
                       previous_version_id=previous, basis="《网络安全法》《数据安全法》",
                       objectives=self.text(1), principles=self.text(1),
                       measures=self.text(3), document_id=files["requirements"].id)
            if target in ("approved", "effective", "superseded"):
                row["effective_date"] = (created + dt.timedelta(days=20)).date()
            if target == "superseded":
                waiting.append(row)
            relations = {"previous_version": Ref(previous) if previous else None,
                         "document": files["requirements"]}
            return relations, rng.choice(self.it_staff), None

        self.write("security_policy", self.records(SecurityPolicy, self.n("policies", 7),
                                                   build))

    def security_records(self):
        """Vulnerability scans (every system), vulnerabilities (Zipf over the systems: the
        busy ones have thousands), risk assessments, trainings and attendance, personnel
        clearances."""
        from app.infosec.models import (PersonnelClearance, RiskAssessment, Training,
                                        TrainingAttendance, Vulnerability, VulnerabilityScan)

        rng = self.rng
        fix_days = self.app.config["VULNERABILITY_FIX_DAYS"]
        scan_systems = [self.system_ids[k % len(self.system_ids)]
                        for k in range(self.n("scans"))]
        rng.shuffle(scan_systems)

        def scan(row, created):
            system = scan_systems.pop()
            performer = rng.choice(self.it_staff)
            row.update(system_id=system, department_id=self.system_dept[system],
                       scanned_on=created.date(), tool=rng.choice(("Nessus", "OpenVAS",
                                                                  "AppScan", "绿盟RSAS")),
                       scan_scope=self.text(1), performer_id=performer, summary=self.text(1))
            return performer, None

        scans = self.plain(VulnerabilityScan, self.spread(len(scan_systems)), scan)
        self.write("vulnerability_scan", scans)
        by_system = {}
        for s in scans:
            by_system.setdefault(s["system_id"], []).append(s)
        picked = [rng.choice(by_system[system])
                  for system in self.zipf_systems(self.n("vulnerabilities"))]
        found = sorted(((s["created_on"] + dt.timedelta(minutes=rng.randint(5, 300)), s)
                        for s in picked), key=lambda x: x[0])
        items = iter(found)

        def vulnerability(row, created):
            s = next(items)[1]
            severity = rng.choices(("critical", "high", "medium", "low"), (5, 20, 45, 30))[0]
            found_on = s["scanned_on"]
            due = found_on + dt.timedelta(days=fix_days[severity])
            status = rng.choices(("fixed", "accepted", "fixing", "open"), (75, 5, 8, 12))[0]
            if found_on < self.today - dt.timedelta(days=365) and status in ("open", "fixing"):
                status = "fixed"  # old findings are done, a few overdue ones stay
            row.update(scan_id=s["id"], system_id=s["system_id"],
                       department_id=s["department_id"], title=self.title("漏洞"),
                       identifier=f"CVE-{found_on.year}-{rng.randint(1000, 49999)}",
                       severity=severity, status=status, found_on=found_on, due_date=due,
                       remediation=self.text(1) if status in ("fixed", "fixing") else None)
            if status == "fixed":
                row["fixed_on"] = min(self.today, found_on + dt.timedelta(
                    days=rng.randint(0, fix_days[severity])))
            return s["performer_id"], None

        self.write("vulnerability", self.plain(
            Vulnerability, [t for t, _s in found], vulnerability))
        assess_systems = [self.system_ids[k % len(self.system_ids)]
                          for k in range(self.n("risk_assessments"))]
        rng.shuffle(assess_systems)

        def assessment(row, created):
            system = assess_systems.pop()
            assessor = rng.choice(self.it_staff)
            level = rng.choice(("high", "medium", "low"))
            row.update(system_id=system, department_id=self.system_dept[system],
                       assessed_on=created.date(), assessor_id=assessor,
                       assessment_scope=self.text(1), method="GB/T 20984 风险评估方法",
                       risks=self.text(2), risk_level=level, treatment_plan=self.text(1),
                       residual_risk="low" if level != "high" else "medium",
                       next_assessment_on=created.date() + dt.timedelta(days=365))
            return assessor, None

        self.write("risk_assessment", self.plain(
            RiskAssessment, self.spread(len(assess_systems)), assessment))

        def training(row, created):
            row.update(title=self.title("安全培训"), held_on=created.date(),
                       trainer=rng.choice(SURNAMES) + "老师", topic_law=rng.random() < 0.5,
                       topic_policy=rng.random() < 0.6, topic_skills=rng.random() < 0.7,
                       audience="全体员工", description=self.text(1))
            return rng.choice(self.it_staff), None

        trainings = self.plain(Training, self.spread(self.n("trainings")), training)
        self.write("training", trainings)
        fin_people = [u for u, d in self.user_dept.items() if d == self.fin_dept]
        people = [u for u in self.user_dept if u not in set(fin_people)]
        per = min(len(people), FULL["attendance_per_training"])
        plan = []
        for t in trainings:
            chosen = set(rng.sample(fin_people, min(len(fin_people), max(1, per // 12))))
            chosen |= set(rng.sample(people, per - len(chosen)))
            when = t["created_on"] + dt.timedelta(hours=rng.uniform(2, 48))
            plan += [(min(when, self.now), t["id"], person) for person in sorted(chosen)]
        plan.sort()
        items = iter(plan)

        def attendance(row, created):
            _w, training_id, person = next(items)
            attended = rng.random() < 0.92
            row.update(training_id=training_id, person_id=person,
                       department_id=self.user_dept[person], attended=attended,
                       score=rng.randint(60, 100) if attended else None)
            return rng.choice(self.it_staff), None

        self.write("training_attendance", self.plain(
            TrainingAttendance, [t for t, *_r in plan], attendance))
        holders = [rng.choice(self.it_staff) if rng.random() < 0.5
                   else self.clerk_of(self.pick_dept()) for _ in range(self.n("clearances"))]
        links = []

        def clearance(row, created):
            person = holders.pop()
            systems = sorted(set(rng.sample(self.system_ids, min(len(self.system_ids),
                                                                   rng.randint(1, 4)))))
            signed = created.date()
            row.update(person_id=person, post=rng.choice(("系统管理员", "数据库管理员",
                                                          "安全管理员", "审计管理员")),
                       department_id=self.user_dept[person],
                       background_checked_on=signed - dt.timedelta(days=10),
                       background_result=rng.choices(("passed", "pending", "failed"),
                                                     (94, 4, 2))[0],
                       agreement_signed_on=signed,
                       agreement_expires_on=signed + dt.timedelta(days=3 * 365),
                       agreement_file_id=self.files["signed"].id)
            links.extend({"clearance_id": row["id"], "system_id": s} for s in systems)
            return rng.choice(self.it_staff), {"systems": [[], systems]}

        self.write("personnel_clearance", self.plain(
            PersonnelClearance, self.spread(len(holders)), clearance))
        self.write("personnel_clearance_system", links)

    def emergency(self):
        """Emergency plans (mostly the IT department's) with their systems and drills,
        security events (Zipf over the systems)."""
        from app.infosec.models import Drill, EmergencyPlan, SecurityEvent

        rng, files = self.rng, self.files
        links = []

        def plan(row, created, target):
            dept = self.it_dept if rng.random() < 0.7 else self.pick_dept()
            systems = sorted(set(rng.sample(self.system_ids, min(len(self.system_ids),
                                                                   rng.randint(1, 5)))))
            row.update(title=self.title("应急预案"), edition="1.0", department_id=dept,
                       scenario=self.text(2), procedure=self.text(3),
                       responsibilities=self.text(1), resources=self.text(1),
                       document_id=files["requirements"].id)
            links.extend({"emergency_plan_id": row["id"], "system_id": s} for s in systems)
            relations = {"department": Ref(dept), "systems": [Ref(s) for s in systems],
                         "document": files["requirements"]}
            return relations, rng.choice(self.it_staff), {"systems": [[], systems]}

        plans = self.records(EmergencyPlan, self.n("emergency_plans", 6), plan)
        self.write("emergency_plan", plans)
        self.write("emergency_plan_system", links)
        approved = [p for p in plans if p["status"] in ("approved", "in_force")]
        held = sorted(((self.later(p["changed_on"], 10, 700), p)
                       for p in approved for _ in range(FULL["drills_per_plan"])),
                      key=lambda x: x[0])
        items = iter(held)

        def drill(row, created):
            p = next(items)[1]
            result = rng.choices(("passed", "partly", "failed"), (75, 20, 5))[0]
            row.update(emergency_plan_id=p["id"], department_id=p["department_id"],
                       held_on=created.date(), scenario=self.text(1),
                       participants="信息技术部、业务部门相关人员", result=result,
                       issues=self.text(1) if result != "passed" else None,
                       follow_up=self.text(1) if result != "passed" else None,
                       report_id=files["acceptance"].id)
            return rng.choice(self.it_staff), None

        self.write("drill", self.plain(Drill, [t for t, _p in held], drill))
        count = self.n("security_events")
        systems = self.zipf_systems(count)

        def event(row, created, target):
            system = systems.pop()
            dept = self.system_dept[system]
            reporter = self.clerk_of(dept) if rng.random() < 0.4 else rng.choice(self.it_staff)
            row.update(title=self.title("安全事件"), system_id=system, department_id=dept,
                       occurred_at=created - dt.timedelta(minutes=rng.randint(30, 600)),
                       detected_at=created - dt.timedelta(minutes=rng.randint(1, 29)),
                       category=rng.choice(("malware", "intrusion", "data_leak",
                                            "denial_of_service", "unauthorised_access",
                                            "physical", "other")),
                       severity=rng.choices(("p1", "p2", "p3", "p4"), (3, 12, 50, 35))[0],
                       description=self.text(2), reporter_id=reporter)
            if target == "closed":
                row.update(investigation=self.text(2), lessons=self.text(1),
                           measures=self.text(1))
            return {}, reporter, None

        self.write("security_event", self.records(SecurityEvent, count, event, "Incident"))

    def data_records(self):
        """Data assets (a few per system), quality checks, backups (every system)."""
        from app.data.models import BackupRecord, DataAsset, DataQualityCheck

        rng = self.rng
        asset_systems = [self.system_ids[k % len(self.system_ids)]
                         for k in range(self.n("data_assets"))]
        rng.shuffle(asset_systems)

        def asset(row, created):
            system = asset_systems.pop()
            dept = self.system_dept[system] if rng.random() < 0.8 else self.pick_dept()
            row.update(name=self.title("数据"), system_id=system, owner_department_id=dept,
                       classification=rng.choices(("public", "internal", "confidential",
                                                   "secret"), (10, 50, 35, 5))[0],
                       personal_data=rng.random() < 0.3,
                       retention_months=rng.choice((12, 36, 60, 120)),
                       description=self.text(1))
            return self.clerk_of(dept), None

        self.write("data_asset", self.plain(DataAsset, self.spread(len(asset_systems)), asset))

        def check(row, created):
            dept = self.pick_dept()
            score = rng.randint(55, 100)
            row.update(title=self.title("数据质量检查"), department_id=dept,
                       system_id=rng.choice(self.system_ids) if rng.random() < 0.9 else None,
                       checked_on=created.date(), dimension=rng.choice((
                           "accuracy", "completeness", "consistency", "timeliness")),
                       score=score)
            if score < 80:
                row.update(issues=self.text(1),
                           rectification_due=created.date() + dt.timedelta(days=30))
                if created < self.now - dt.timedelta(days=60):
                    row["rectified_on"] = created.date() + dt.timedelta(days=rng.randint(
                        1, 30))
            return self.clerk_of(dept), None

        self.write("data_quality_check", self.plain(
            DataQualityCheck, self.spread(self.n("quality_checks")), check))
        backup_systems = [self.system_ids[k % len(self.system_ids)]
                          for k in range(self.n("backups"))]
        rng.shuffle(backup_systems)

        def backup(row, created):
            system = backup_systems.pop()
            tested = rng.random() < 0.1
            row.update(system_id=system, department_id=self.system_dept[system],
                       taken_at=created, kind=rng.choices(("full", "incremental"), (30, 70))[0],
                       medium=rng.choice(("磁带库", "NAS", "对象存储")),
                       offsite_location="同城灾备中心" if rng.random() < 0.5 else None,
                       succeeded=rng.random() < 0.98,
                       restore_tested_on=created.date() + dt.timedelta(days=1)
                       if tested and created < self.now - dt.timedelta(days=2) else None,
                       restore_result="not_tested")
            if row["restore_tested_on"]:
                row["restore_result"] = "passed" if rng.random() < 0.95 else "failed"
            return rng.choice(self.it_staff), None

        self.write("backup_record", self.plain(
            BackupRecord, self.spread(len(backup_systems)), backup))

    def supervision(self):
        from app.audit.models import SupervisionCheck

        rng = self.rng
        depts = [self.departments[k % len(self.departments)]
                 for k in range(self.n("supervision_checks"))]
        rng.shuffle(depts)

        def check(row, created):
            inspector = rng.choice(self.auditors)
            result = rng.choices(("satisfactory", "improvement", "unsatisfactory"),
                                 (70, 25, 5))[0]
            row.update(title=f"{created.year}年{self.title('监督检查')}",
                       department_id=depts.pop(), checked_on=created.date(),
                       inspector_id=inspector, checked_duties=True,
                       checked_rules=rng.random() < 0.8, checked_operations=rng.random() < 0.8,
                       checked_data=rng.random() < 0.6, result=result,
                       issues=self.text(1) if result != "satisfactory" else None,
                       follow_up=self.text(1) if result != "satisfactory" else None)
            return inspector, None

        self.write("supervision_check", self.plain(
            SupervisionCheck, self.spread(len(depts)), check))

    # ------------------------------------------------------------ the history chain
    def chain(self):
        """Sort every synthesised event by time, give approvals their ids in that order,
        hash every entry after the demo's chain head, write approvals and entries."""
        from sqlalchemy import text

        from app.history import approval_values, canonical, entry_content, entry_hash

        start = time.perf_counter()
        self.events.sort(key=lambda e: (e[0], e[1]))
        if self.events:
            self.date_demo_before(self.events[0][0] - dt.timedelta(minutes=1))
        with self.engine.connect() as conn:
            seq, prev = conn.execute(text(
                "SELECT seq, hash FROM change_chain_head WHERE id = 1")).one()
        entry_id = self.next_ids("change_entry")
        approval_id = self.next_ids("approval")
        entries, approvals = [], []
        names = self.username

        def flush():
            self.write("approval", approvals)
            self.write("change_entry", entries)
            approvals.clear()
            entries.clear()

        for when, _n, kind, data in self.events:
            if kind == "approval":
                (rtype, rid, tname, label, src, dst, actor, acting_for, at, comment, digest,
                 approves, submits, request) = data
                row = {"id": approval_id, "record_type": rtype, "record_id": rid,
                       "transition": tname, "label": label, "from_state": src,
                       "to_state": dst, "actor_id": actor, "acting_for_id": acting_for,
                       "at": at, "comment": comment, "content_hash": digest,
                       "approves": approves, "submits": submits}
                approvals.append(row)
                changes = canonical({k: [None, v] for k, v in approval_values(row).items()})
                user, rtype, rid, action = actor, "Approval", str(approval_id), "insert"
                approval_id += 1
            else:
                user, request, rtype, rid, action, changes = data
            seq += 1
            entry = {"id": entry_id, "seq": seq, "occurred_at": when, "user_id": user,
                     "username": names.get(user) if user else None, "acting_for_id": None,
                     "acting_for": None, "request_id": request, "record_type": rtype,
                     "record_id": rid, "action": action, "changes": changes,
                     "prev_hash": prev}
            entry["hash"] = prev = entry_hash(prev, entry_content(entry))
            entries.append(entry)
            entry_id += 1
            if len(entries) >= 200000:
                flush()
        flush()
        self.events = []
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE change_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                         {"s": seq, "h": prev})
        self.timings.append(("(history chain, total)", seq, time.perf_counter() - start))

    def date_demo_before(self, last):
        """Move the demo seed's entries (written today, first in the chain) back in time so
        that the last is dated ``last``, their spacing kept, and rehash the chain from its
        first entry: the history is then dated in sequence order, as the application
        writes it (app/history.py) and the change log reads it (a date range as a range of
        entry numbers). On PostgreSQL the append-only and forward-only triggers are
        disabled for this one transaction (DDL is transactional there: nobody else ever
        sees them off)."""
        from sqlalchemy import bindparam, select, text, update

        from app.base import ChainHead, ChangeEntry
        from app.history import GENESIS, entry_content, entry_hash

        entries, head = ChangeEntry.__table__, ChainHead.__table__
        triggers = (("change_entry", "change_entry_append_only"),
                    ("change_chain_head", "change_chain_head_forward_only"))
        with self.engine.begin() as conn:
            rows = [dict(r) for r in conn.execute(
                select(entries).order_by(entries.c.seq)).mappings()]
            if not rows or rows[-1]["occurred_at"] <= last:
                return
            shift = rows[-1]["occurred_at"] - last
            prev = GENESIS
            for row in rows:
                row["occurred_at"] -= shift
                row["prev_hash"] = prev
                row["hash"] = prev = entry_hash(prev, entry_content(row))
            if self.pg:
                for table, trigger in triggers:
                    conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
            conn.execute(update(entries).where(entries.c.seq == bindparam("s"))
                         .values(occurred_at=bindparam("t"), prev_hash=bindparam("p"),
                                 hash=bindparam("h")),
                         [{"s": r["seq"], "t": r["occurred_at"], "p": r["prev_hash"],
                           "h": r["hash"]} for r in rows])
            conn.execute(update(head).where(head.c.id == 1).values(hash=prev))
            if self.pg:
                for table, trigger in triggers:
                    conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))

    # ------------------------------------------------------------------- running
    def run(self):
        from app.planning.models import ProjectRequest

        steps = [("organisation", self.organisation), ("attachments", self.attachments),
                 ("vendors", self.vendors), ("systems", self.systems),
                 ("plans", self.plans), ("projects", self.projects),
                 ("contracts", self.contracts), ("change orders", self.change_orders),
                 ("change requests", self.change_requests), ("incidents", self.incidents),
                 ("data sharing", self.sharing), ("audits", self.audits),
                 ("tenders", self.tenders), ("project records", self.project_records),
                 ("operation log", self.operations_records), ("policies", self.policies),
                 ("security", self.security_records), ("emergency", self.emergency),
                 ("data records", self.data_records), ("supervision", self.supervision),
                 ("delegations", self.delegations), ("history chain", self.chain)]
        from app.approvals import workflow_models

        self.path_maker = {m.__name__: self.paths(m) for m in workflow_models()}
        self.path_cache = {}
        # the times of each project's steps (its expert reviews fall in between)
        self.project_times = {}
        walk = self.walk

        def walk_recording(model, row, relations, target, created, submitter, kind=None):
            times = walk(model, row, relations, target, created, submitter, kind)
            if model is ProjectRequest:
                self.project_times[row["id"]] = times
            return times

        self.walk = walk_recording
        for label, fn in steps:
            start = time.perf_counter()
            fn()
            log(f"  {label:<16} {time.perf_counter() - start:7.1f} s")
        self.finish()

    def finish(self):
        from sqlalchemy import text

        start = time.perf_counter()
        if self.pg:
            with self.engine.begin() as conn:
                tables = conn.execute(text(
                    "SELECT table_name FROM information_schema.columns WHERE column_name = 'id'"
                    " AND table_schema = 'public' AND column_default LIKE 'nextval%'")).scalars()
                for table in list(tables):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"GREATEST((SELECT max(id) FROM {table}), 1))"))
            with self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with self.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        log(f"  {'analyze':<16} {time.perf_counter() - start:7.1f} s")


def table_counts(engine):
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in sorted(inspect(engine).get_table_names())}


def loaded(engine, scale):
    """Whether the database holds the volumes of ``scale`` already (for --reuse)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import OperationalError

    try:
        if not {"incident", "operation_log"} <= set(inspect(engine).get_table_names()):
            return False
        with engine.connect() as conn:
            incidents = conn.execute(text("SELECT count(*) FROM incident")).scalar()
            entries = conn.execute(text("SELECT count(*) FROM change_entry")).scalar()
            log_entries = conn.execute(text("SELECT count(*) FROM operation_log")).scalar()
    except OperationalError:  # no such database yet
        return False
    return (incidents >= FULL["incidents"] * scale and log_entries >= FULL["operation_log"]
            * scale and entries >= 5 * FULL["incidents"] * scale)


def _relaxed_sqlite(app):
    """journal_mode=OFF and synchronous=OFF on every connection, during the load only."""
    from sqlalchemy import event

    engine = app.extensions["sqlalchemy"].engine

    def relax(dbapi, _record):
        cursor = dbapi.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    engine.dispose()
    event.listen(engine, "connect", relax)
    return lambda: (event.remove(engine, "connect", relax), engine.dispose())


def build(url, scale=1.0, reuse=False, seed=SEED):
    """Load the §8 volumes times ``scale`` into the database at ``url``; return the app."""
    from sqlalchemy import create_engine

    from conftest_free import fresh_database, make_app

    logging.disable(logging.INFO)
    if reuse:
        engine = create_engine(url)
        try:
            if loaded(engine, scale):
                log(f"{url}: the volumes are loaded already (--reuse)")
                return None
        finally:
            engine.dispose()
    total = time.perf_counter()
    start = time.perf_counter()
    fresh_database(url)
    app = make_app(url)
    log(f"fresh database, migrations, reference data and demo seed: "
        f"{time.perf_counter() - start:.1f} s")
    with app.app_context():
        restore = None
        if app.extensions["sqlalchemy"].engine.dialect.name == "sqlite":
            restore = _relaxed_sqlite(app)
        loader = Loader(app, scale, seed)
        loader.run()
        app.extensions["scale_loaded_rows"] = dict(loader.counts)  # table -> rows written
        if restore:
            restore()
        log(f"loaded {url} at scale {scale} in {time.perf_counter() - total:.1f} s")
        for table, rows, seconds in loader.timings:
            if rows:
                log(f"    wrote {table:<28} {rows:>9} rows {seconds:7.1f} s")
        counts = table_counts(loader.engine)
        for table, rows in counts.items():
            log(f"  {table:<28} {rows:>9}")
    return app


def open_app(url):
    """The application on an existing database (nothing written)."""
    import config
    from app import create_app

    return create_app(type("ScaleConfig", (config.TestConfig,),
                           {"SQLALCHEMY_DATABASE_URI": url}))


def verify(url):
    """Run `flask history verify` on the database; return (passed, output, seconds)."""
    app = open_app(url)
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["history", "verify"])
    seconds = time.perf_counter() - start
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
    return result.exit_code == 0, result.output.strip(), seconds


DEMO_USERS = ("admin", "clerk_fin", "head_fin", "it_staff", "it_staff2", "manager",
              "auditor", "expert")


def describe(url):
    """What the loaded database holds, as the benchmarks need to know it: the migration
    head, row counts, and what each demo account sees (incidents visible, inbox size as
    app.approvals.inbox computes it: the page's 200 per type, and all)."""
    from sqlalchemy import func, text

    app = open_app(url)
    lines = []
    with app.app_context(), app.test_request_context("/"):
        from app.approvals import inbox
        from app.base import AppUser
        from app.extensions import db
        from app.operations.models import Incident
        from app.organisation.models import InformationSystem
        from app.security import read_clause, scope_for

        head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        lines.append(f"migration head: {head}")
        counts = table_counts(db.engine)
        lines.append("rows: " + ", ".join(f"{t} {n}" for t, n in counts.items() if n))
        top = (db.session.query(Incident.system_id, func.count())
               .group_by(Incident.system_id).order_by(func.count().desc()).limit(3).all())
        for system_id, n in top:
            system = db.session.get(InformationSystem, system_id)
            lines.append(f"system id {system_id} ({system.code}, department "
                         f"{system.owning_department.code}): {n} incidents")
        for username in DEMO_USERS:
            user = db.session.query(AppUser).filter_by(username=username).one()
            query = db.session.query(func.count(Incident.id))
            clause = read_clause(Incident, scope_for(user))
            if clause is not None:
                query = query.filter(clause)
            start = time.perf_counter()
            everything = inbox(user, limit_per_type=10**9)
            seconds = time.perf_counter() - start
            by_type = {}
            for record, _moves in everything:
                by_type[type(record).__name__] = by_type.get(type(record).__name__, 0) + 1
            page = len(inbox(user))
            roles = ",".join(r.name for r in user.roles)
            lines.append(
                f"{username} (id {user.id}, {roles}, department {user.department.code}): "
                f"sees {query.scalar()} incidents; inbox {page} with 200 per type, "
                f"{len(everything)} in all ({seconds:.1f} s) "
                + " ".join(f"{k}={v}" for k, v in sorted(by_type.items())))
            db.session.expunge_all()
        db.session.remove()
        db.engine.dispose()
    return lines


def postgres_url(bench_url):
    """Where `make bench-data` loads PostgreSQL: beside BENCH_DATABASE_URL, with ``_scale``
    added to the database name (the other bench scripts rebuild BENCH_DATABASE_URL itself)."""
    from sqlalchemy.engine import make_url

    url = make_url(bench_url)
    return url.set(database=f"{url.database}_scale").render_as_string(hide_password=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="sqlite:///" + os.path.join(
        ROOT, "instance", "bench_scale.db"))
    parser.add_argument("--postgres", action="store_true",
                        help="load the database beside BENCH_DATABASE_URL (its name + _scale)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--reuse", action="store_true",
                        help="skip loading when the database holds the volumes already")
    parser.add_argument("--verify", action="store_true",
                        help="then run `flask history verify` on the result (fails if broken)")
    parser.add_argument("--describe", action="store_true",
                        help="only print what the database holds and what the demo accounts see")
    parser.add_argument("--print-postgres-url", action="store_true",
                        help="only print where --postgres loads (for the Makefile)")
    args = parser.parse_args(argv)
    if args.print_postgres_url:
        print(postgres_url(os.environ["BENCH_DATABASE_URL"]))
        return
    if args.postgres:
        if not os.environ.get("BENCH_DATABASE_URL"):
            parser.error("--postgres needs BENCH_DATABASE_URL")
        args.url = postgres_url(os.environ["BENCH_DATABASE_URL"])
    if args.describe:
        for line in describe(args.url):
            log(line)
        return
    build(args.url, args.scale, args.reuse, args.seed)
    if args.verify:
        passed, output, seconds = verify(args.url)
        log(f"flask history verify: {seconds:.1f} s: {output}")
        if not passed:
            sys.exit(1)


if __name__ == "__main__":
    main()
