"""Configuration: one class reading the environment, failing fast on bad values.

Select a class with APP_CONFIG (``config.Config``, ``config.ProductionConfig``);
tests use ``config.TestConfig``.
"""
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be an integer, got {value!r}") from None


def _env_json(name, default, kind):
    """A JSON value of type ``kind`` from the environment (mappings of the directory)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise RuntimeError(f"{name} must be JSON ({error})") from None
    if not isinstance(parsed, kind):
        raise RuntimeError(f"{name} must be a JSON {kind.__name__}, got {value!r}")
    return parsed


def _env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# How people sign in (AUTH_METHOD): the local database, or the company directory.
AUTH_METHODS = {"db": 1, "ldap": 2, "oidc": 4}  # FAB's AUTH_DB, AUTH_LDAP, AUTH_OAUTH


def _auth_type():
    method = os.environ.get("AUTH_METHOD", "db").strip().lower()
    if method not in AUTH_METHODS:
        raise RuntimeError(f"AUTH_METHOD must be one of {', '.join(AUTH_METHODS)}, "
                           f"got {method!r}")
    return AUTH_METHODS[method]


def _local_secret_key():
    """A random key kept under instance/ so local sessions survive restarts.

    Only for the embedded (non-production) configuration; production must pass
    SECRET_KEY explicitly.
    """
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _sqlite_url(name):
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / name}"


SHARED_STORAGE_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://",
                          "redis+cluster://", "valkey://", "valkeys://")
# Keys from documentation and framework defaults that must never reach production.
KNOWN_SECRET_KEYS = frozenset({
    "changeme", "change-me", "change_me", "secret", "secret-key", "secret_key", "secretkey",
    "dev", "development", "default", "password", "your-secret-key", "your_secret_key",
    "super-secret", "supersecret", "thisismysecretkey", "thisismyscretkey",
})
SECRET_KEY_MIN_LENGTH = 32
# token_hex(16) (32 characters) has fewer than 10 different ones about once in 8000 draws.
SECRET_KEY_MIN_DISTINCT = 10


def secret_key_weakness(key):
    """Why ``key`` is too weak for production, or None when it looks random enough."""
    if key.strip().lower() in KNOWN_SECRET_KEYS:
        return "it is a well-known default"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"it is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    for size in range(1, len(key) // 2 + 1):
        if len(key) % size == 0 and key[:size] * (len(key) // size) == key:
            return "it repeats a short pattern"
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        return f"it uses fewer than {SECRET_KEY_MIN_DISTINCT} different characters"
    return None


OIDC_PROVIDER = "oidc"  # the provider's name in OAUTH_PROVIDERS and in its callback URL


def oidc_settings(environ):
    """Flask-AppBuilder's AUTH_OAUTH with one OpenID Connect provider, from ``environ``.

    Fails fast when the discovery URL, client id or client secret is missing.
    """
    missing = [name for name in ("OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
               if not environ.get(name)]
    if missing:
        raise RuntimeError(f"AUTH_METHOD=oidc needs {', '.join(missing)}.")
    scope = environ.get("OIDC_SCOPE") or "openid profile email groups"
    if "openid" not in scope.split():
        raise RuntimeError(f"OIDC_SCOPE must include openid, got {scope!r}")
    return {
        "AUTH_TYPE": 4,  # AUTH_OAUTH
        # People are created at their first sign-in, their roles from their groups.
        "AUTH_USER_REGISTRATION": True,
        "AUTH_ROLES_SYNC_AT_LOGIN": True,
        "OAUTH_PROVIDERS": [{
            "name": OIDC_PROVIDER,
            "icon": "fa-id-card",
            "remote_app": {
                "client_id": environ["OIDC_CLIENT_ID"],
                "client_secret": environ["OIDC_CLIENT_SECRET"],
                "server_metadata_url": environ["OIDC_DISCOVERY_URL"],
                "client_kwargs": {"scope": scope, "code_challenge_method": "S256",
                                  "timeout": 10},
            },
        }],
        # Claims naming the account and the groups (AUTH_ROLES_MAPPING keys); the
        # department's claim is DIRECTORY_DEPARTMENT_ATTRIBUTE (app/directory.py).
        "OIDC_USERNAME_CLAIM": environ.get("OIDC_USERNAME_CLAIM") or "preferred_username",
        "OIDC_GROUPS_CLAIM": environ.get("OIDC_GROUPS_CLAIM") or "groups",
        # The login button's text (default: 统一身份认证登录).
        "OIDC_BUTTON_LABEL": environ.get("OIDC_BUTTON_LABEL") or "",
    }


# Roles as data. Each entry: [view-name pattern, permission pattern], matched
# with re.match, so every pattern is anchored. Permissions are collapsed to
# can_read / can_write per record type (see app/security.py).
_ALL_RECORDS = (
    "Department|InformationSystem|Vendor|DevelopmentPlan|PlanFeedback|ProjectRequest"
    "|ExpertReview|Tender|Bid|Contract|Milestone|ProgressReport|ChangeOrder|Incident"
    "|ChangeRequest|DataSharingRequest|Audit|AuditFinding|OperationLog|InspectionChecklist|MaintenancePlan|MaintenanceRecord"
    "|DataAsset|DataQualityCheck|BackupRecord|SupervisionCheck"
    "|SecurityPolicy|VulnerabilityScan|Vulnerability|RiskAssessment|Training"
    "|TrainingAttendance"
)
_SELF_SERVICE = [
    ["^UserInfoEditView$", "^can_this_form_(get|post)$"],
    ["^ResetMyPasswordView$", "^can_this_form_(get|post)$"],
    ["^(UserDBModelView|UserLDAPModelView|User)$", "^can_userinfo$"],
    ["^(UserDBModelView|User)$", "^resetmypassword$"],
    ["^(UserDBModelView|UserLDAPModelView|User)$", "^userinfoedit$"],
    ["^Attachment$", "^can_read$"],
    ["^Inbox$", "^(can_read|menu_access)$"],
    # One's own notifications: read them, mark them read.
    ["^Notifications$", "^(can_read|can_write)$"],
    # Verify an approval form: finds only records the reader may see.
    ["^ApprovalForm$", "^can_read$"],
    ["^Delegation$", "^(can_read|can_write|menu_access)$"],
]
_READ_ALL = [
    [f"^({_ALL_RECORDS})$", "^can_read$"],
    # Charts count only what the user may see (their department's, for a Clerk/DeptHead).
    ["^(Charts|Dashboards)$", "^(can_read|menu_access)$"],
    [f"^({_ALL_RECORDS}|Organisation|Systems|Projects|Procurement|Operations|Data|Audits"
     "|InfoSecurity|UnauthorisedChanges)$", "^menu_access$"],
]
_REFERENCE_READ = [
    ["^(Department|InformationSystem|Vendor|DevelopmentPlan)$", "^can_read$"],
    ["^(Department|InformationSystem|Vendor|DevelopmentPlan|Organisation|Systems|Projects"
     "|Procurement)$", "^menu_access$"],
    # The company's security policies bind everyone (6.1).
    ["^SecurityPolicy$", "^can_read$"],
    ["^(SecurityPolicy|InfoSecurity)$", "^menu_access$"],
]
# What a department (Clerk, DeptHead) writes for itself; the workflows decide the rest.
_DEPARTMENT_WRITES = [
    # The import page: what each may import is decided per record type (app/imports.py).
    ["^DataImport$", "^(can_read|menu_access)$"],
    ["^(InformationSystem|ProjectRequest|Incident|PlanFeedback|ChangeRequest"
     "|DataSharingRequest|AuditFinding|DataAsset)$", "^can_write$"],
]

FAB_ROLE_DEFINITIONS = {
    "Admin": [[".*", ".*"]],
    "Clerk": _SELF_SERVICE + _READ_ALL + _DEPARTMENT_WRITES,
    "DeptHead": _SELF_SERVICE + _READ_ALL + _DEPARTMENT_WRITES,
    "ITStaff": _SELF_SERVICE + _READ_ALL + [
        ["^(Department|InformationSystem|Vendor|DevelopmentPlan|PlanFeedback|ProjectRequest"
         "|ExpertReview|Tender|Bid|Contract|Milestone|ProgressReport|ChangeOrder|Incident"
         "|ChangeRequest|DataSharingRequest|OperationLog|InspectionChecklist|MaintenancePlan|MaintenanceRecord"
         "|DataAsset|DataQualityCheck|BackupRecord)$",
         "^can_write$"],
        # Chapter 6: policies, scans and vulnerabilities, risk assessments, training.
        ["^(SecurityPolicy|VulnerabilityScan|Vulnerability|RiskAssessment|Training"
         "|TrainingAttendance)$", "^can_write$"],
        ["^Compliance$", "^(can_read|menu_access)$"],
        ["^DataImport$", "^(can_read|menu_access)$"],
    ],
    "Expert": _SELF_SERVICE + _REFERENCE_READ + [
        ["^(ProjectRequest|ExpertReview)$", "^can_read$"],
        ["^ExpertReview$", "^can_write$"],
        ["^(ProjectRequest|ExpertReview|Projects)$", "^menu_access$"],
    ],
    "Management": _SELF_SERVICE + _READ_ALL + [
        ["^(SoDReport|Dashboard|Compliance)$", "^(can_read|menu_access)$"],
    ],
    "Auditor": _SELF_SERVICE + _READ_ALL + [
        ["^(Audit|AuditFinding|SupervisionCheck)$", "^can_write$"],
        ["^(ChangeLog|SoDReport|Dashboard|Compliance)$", "^(can_read|menu_access)$"],
    ],
    # A person signed in from the company directory whose department the directory does
    # not say (app/directory.py): reads the shared reference data, writes nothing, not even
    # a delegation, until the directory (or its mapping in config) names the department.
    "Unassigned": [rule for rule in _SELF_SERVICE if rule[0] != "^Delegation$"]
    + [["^Delegation$", "^(can_read|menu_access)$"]] + _REFERENCE_READ,
}

# Chapter 6.3.3-6.4: personnel clearances, emergency plans, drills, security events. IT
# staff keep them; every department reads the plans and drills and the security events of
# its systems, and reports those; only the department head reads the clearances of the
# department's people.
_CONTINUITY = "PersonnelClearance|EmergencyPlan|Drill|SecurityEvent"
for _role, _rules in {
    "Clerk": [["^(EmergencyPlan|Drill|SecurityEvent)$", "^can_read$"],
              ["^SecurityEvent$", "^can_write$"],
              ["^(EmergencyPlan|Drill|SecurityEvent|InfoSecurity)$", "^menu_access$"]],
    "DeptHead": [[f"^({_CONTINUITY})$", "^can_read$"], ["^SecurityEvent$", "^can_write$"],
                 [f"^({_CONTINUITY}|InfoSecurity)$", "^menu_access$"]],
    "ITStaff": [[f"^({_CONTINUITY})$", "^(can_read|can_write)$"],
                [f"^({_CONTINUITY}|InfoSecurity)$", "^menu_access$"]],
    "Management": [[f"^({_CONTINUITY})$", "^can_read$"],
                   [f"^({_CONTINUITY}|InfoSecurity)$", "^menu_access$"]],
    "Auditor": [[f"^({_CONTINUITY})$", "^can_read$"],
                [f"^({_CONTINUITY}|InfoSecurity)$", "^menu_access$"]],
}.items():
    FAB_ROLE_DEFINITIONS[_role] = FAB_ROLE_DEFINITIONS[_role] + _rules


class Config:
    """Embedded default: SQLite under instance/, served by gunicorn on loopback."""

    TESTING = False
    PRODUCTION = False

    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _sqlite_url("app.db")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # PostgreSQL only (create_app adds them to every connection): the app's statements
    # are OLTP pages that return a page of rows; JIT compilation, which PostgreSQL
    # switches on by cost estimate, added 90-870 ms to statements that run in a few ms
    # (docs/performance.md, "Lists at §8 scale").
    POSTGRESQL_SESSION_OPTIONS = "-c jit=off"
    # What create_app built (FAB's views, the mappers, the translations: some 220,000
    # objects) is kept out of the garbage collector's full passes, which otherwise cost
    # 100-160 ms in whichever request triggers one (docs/performance.md, "Charts ...").
    FREEZE_STARTUP_OBJECTS = True
    # ... and what a worker's first requests add (compiled templates and statements),
    # frozen after the responses of these requests are sent (app/memory.py).
    GC_FREEZE_AFTER_REQUESTS = (50, 500, 5000)
    # Full collections run after a response is sent, never inside a request.
    GC_FULL_BETWEEN_REQUESTS = True

    # Flask-AppBuilder
    APP_NAME = "信息系统归口管理平台"
    APP_THEME = ""
    FAB_API_SWAGGER_UI = True
    FAB_ADD_SECURITY_API = False
    FAB_CREATE_DB = False  # migrations own every table
    FAB_UPDATE_PERMS = False  # roles are builtin (config) roles: no permission rows needed
    FAB_ROLES = FAB_ROLE_DEFINITIONS
    # Sign-in (README "Signing in with the company directory"): AUTH_METHOD=db (the local
    # database, the default), ldap (LDAP / Active Directory through FAB's AUTH_LDAP) or
    # oidc (an OpenID Connect provider through FAB's AUTH_OAUTH: oidc_settings).
    AUTH_TYPE = _auth_type()
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    # Nobody registers themselves. (A directory sign-in creates the account at a person's
    # first sign-in whatever this says: app/directory.py.)
    AUTH_USER_REGISTRATION = False
    # A person in none of the mapped groups: refused, unless this role is named.
    AUTH_USER_REGISTRATION_ROLE = os.environ.get("AUTH_USER_REGISTRATION_ROLE") or None
    # Directory group (an LDAP group DN, an OIDC group name) -> roles, e.g.
    # {"cn=it,ou=groups,dc=example,dc=com": ["ITStaff"]}; applied at every sign-in.
    AUTH_ROLES_MAPPING = _env_json("AUTH_ROLES_MAPPING", {}, dict)
    AUTH_ROLES_SYNC_AT_LOGIN = _env_bool("AUTH_ROLES_SYNC_AT_LOGIN", True)
    # LDAP / Active Directory (FAB's AUTH_LDAP_* settings, read by its security manager).
    AUTH_LDAP_SERVER = os.environ.get("LDAP_SERVER", "")  # ldap://host:389, ldaps://host:636
    AUTH_LDAP_USE_TLS = _env_bool("LDAP_USE_TLS", False)  # StartTLS on ldap://
    AUTH_LDAP_BIND_USER = os.environ.get("LDAP_BIND_USER", "")
    AUTH_LDAP_BIND_PASSWORD = os.environ.get("LDAP_BIND_PASSWORD", "")
    AUTH_LDAP_SEARCH = os.environ.get("LDAP_SEARCH", "")
    # Who may sign in at all, e.g. Active Directory's enabled people:
    # (&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))
    AUTH_LDAP_SEARCH_FILTER = os.environ.get("LDAP_SEARCH_FILTER", "")
    AUTH_LDAP_UID_FIELD = os.environ.get("LDAP_UID_FIELD", "uid")  # AD: sAMAccountName
    AUTH_LDAP_GROUP_FIELD = os.environ.get("LDAP_GROUP_FIELD", "memberOf")
    AUTH_LDAP_FIRSTNAME_FIELD = os.environ.get("LDAP_FIRSTNAME_FIELD", "givenName")
    AUTH_LDAP_LASTNAME_FIELD = os.environ.get("LDAP_LASTNAME_FIELD", "sn")
    AUTH_LDAP_EMAIL_FIELD = os.environ.get("LDAP_EMAIL_FIELD", "mail")
    # The directory's certificate is always checked (ldaps://, StartTLS), against this CA
    # file or the system's; LDAP_ALLOW_SELF_SIGNED=1 accepts any (never in production).
    AUTH_LDAP_TLS_CACERTFILE = os.environ.get("LDAP_TLS_CACERTFILE", "")
    AUTH_LDAP_TLS_DEMAND = True
    AUTH_LDAP_ALLOW_SELF_SIGNED = _env_bool("LDAP_ALLOW_SELF_SIGNED", False)
    # Seconds to wait for the directory before telling the user it cannot be reached.
    LDAP_TIMEOUT = _env_int("LDAP_TIMEOUT", 5)
    # The department (app/directory.py): an attribute of the person whose value is a
    # department code or name (departmentNumber, ou, department), translated first by
    # DIRECTORY_DEPARTMENT_VALUES ({"Finance": "FIN"}); or else a group -> department code
    # map ({"cn=finance,ou=groups,dc=example,dc=com": "FIN"}).
    DIRECTORY_DEPARTMENT_ATTRIBUTE = os.environ.get("DIRECTORY_DEPARTMENT_ATTRIBUTE", "")
    DIRECTORY_DEPARTMENT_VALUES = _env_json("DIRECTORY_DEPARTMENT_VALUES", {}, dict)
    DIRECTORY_DEPARTMENT_GROUPS = _env_json("DIRECTORY_DEPARTMENT_GROUPS", {}, dict)
    # A signed-in person is looked up in the directory again at most this often (minutes;
    # 0: at every request): a leaver's sessions and API tokens end at that check.
    DIRECTORY_RECHECK_MINUTES = _env_int("DIRECTORY_RECHECK_MINUTES", 5)
    # Local accounts that sign in with their own password while the directory is in
    # charge (break-glass: they work when the directory is down; every use is recorded).
    DIRECTORY_LOCAL_ACCOUNTS = _env_list("DIRECTORY_LOCAL_ACCOUNTS", ["admin"])
    # FAB's own throttle counts every login POST per address (successes too) and would
    # lock out an office behind one address: off. Failed logins are counted instead
    # (app/login_guard.py).
    AUTH_RATE_LIMITED = False
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_SAFE_REDIRECT_HOSTS = ["127.0.0.1", "localhost"]
    FAB_API_MAX_PAGE_SIZE = 100
    PAGE_SIZE_MAX = 100  # list pages: psize_* is capped to this
    # Exports (app/export.py): rows per statement, and the most an Excel export holds
    # (Excel's sheet limit; a longer list is refused with a pointer to CSV, which has none).
    EXPORT_BATCH = 1000
    EXPORT_XLSX_MAX_ROWS = 1_048_575

    # Failed logins (web and API share the counters), in shared storage: Redis in
    # production (e.g. redis://127.0.0.1:6379/0); memory:// only for one local process.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_GUARD_STORAGE_URI = RATELIMIT_STORAGE_URI
    # After this many failures one account waits out the window (other accounts, even
    # from the same address, are unaffected) ...
    LOGIN_ACCOUNT_FAILURES = os.environ.get("LOGIN_ACCOUNT_FAILURES", "5 per 15 minutes")
    # ... and one address trying many accounts stops here.
    LOGIN_ADDRESS_FAILURES = os.environ.get("LOGIN_ADDRESS_FAILURES", "100 per 15 minutes")
    # Trusted reverse proxies in front of the app: the client address is then taken
    # from X-Forwarded-For (ProxyFix). 0: the connecting address is the client.
    PROXY_COUNT = _env_int("PROXY_COUNT", 0)

    # CSRF
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    # Session cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_env_int("SESSION_MINUTES", 120))

    # JWT for the REST API
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_env_int("JWT_MINUTES", 60))

    # Uploads: attachments are stored in the database, never under static/.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    # Text typed into a form (not files): Werkzeug's default of 500 kB answered a long
    # text with a 413 about uploads. Each Text field has its own limit (app/validation.py).
    MAX_FORM_MEMORY_SIZE = _env_int("MAX_FORM_MEMORY_SIZE", 2 * 1024 * 1024)
    ATTACHMENT_MAX_BYTES = _env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    # Spreadsheet imports (app/imports.py): data rows per file, the file's size, what an
    # .xlsx may unpack to (and how far one part may inflate: a "zip bomb" is refused
    # before it is parsed), and where an upload waits between preview and commit (one
    # directory shared by every app server) and for how long.
    IMPORT_MAX_ROWS = _env_int("IMPORT_MAX_ROWS", 5000)
    IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    IMPORT_MAX_UNCOMPRESSED = _env_int("IMPORT_MAX_UNCOMPRESSED", 50 * 1024 * 1024)
    IMPORT_MAX_RATIO = _env_int("IMPORT_MAX_RATIO", 200)
    IMPORT_STORE = os.environ.get("IMPORT_STORE") or str(INSTANCE_DIR / "imports")
    IMPORT_TOKEN_MINUTES = _env_int("IMPORT_TOKEN_MINUTES", 30)

    # Language: Chinese first, English one click away.
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo-Pass-2026")

    # Contracts at or over this amount (CNY) also need management approval (4.1.3).
    CONTRACT_APPROVAL_THRESHOLD = _env_int("CONTRACT_APPROVAL_THRESHOLD", 500000)

    # Lists mark contracts ending within this many days, and records waiting in a review
    # state (unchanged) for longer than this many days.
    CONTRACT_DUE_DAYS = _env_int("CONTRACT_DUE_DAYS", 30)
    APPROVAL_WAIT_DAYS = _env_int("APPROVAL_WAIT_DAYS", 7)

    # Compliance scorecard (合规评分): a system's score is the share of rules it passes;
    # green from COMPLIANCE_GREEN_AT, amber from COMPLIANCE_AMBER_AT, red below.
    COMPLIANCE_GREEN_AT = _env_int("COMPLIANCE_GREEN_AT", 100)
    COMPLIANCE_AMBER_AT = _env_int("COMPLIANCE_AMBER_AT", 80)
    # 8.1.1: each owning department audited within this many days.
    COMPLIANCE_AUDIT_DAYS = _env_int("COMPLIANCE_AUDIT_DAYS", 365)
    # 5.1.2, 5.1.3: each running system inspected (operation log) within this many days.
    COMPLIANCE_INSPECTION_DAYS = _env_int("COMPLIANCE_INSPECTION_DAYS", 30)
    # 5.2.1: a maintenance plan fails once its next due date is this many days past.
    COMPLIANCE_MAINTENANCE_GRACE_DAYS = _env_int("COMPLIANCE_MAINTENANCE_GRACE_DAYS", 0)
    # 5.1.2: P1/P2 incidents closed (root cause recorded) within this many hours, counted
    # for the incidents of the last COMPLIANCE_WINDOW_DAYS days.
    COMPLIANCE_INCIDENT_HOURS = _env_int("COMPLIANCE_INCIDENT_HOURS", 72)
    COMPLIANCE_WINDOW_DAYS = _env_int("COMPLIANCE_WINDOW_DAYS", 365)
    # 7.3.3: each running system with a successful off-site backup within this many days
    # and a successful restore test within COMPLIANCE_RESTORE_DAYS days.
    COMPLIANCE_BACKUP_DAYS = _env_int("COMPLIANCE_BACKUP_DAYS", 7)
    COMPLIANCE_RESTORE_DAYS = _env_int("COMPLIANCE_RESTORE_DAYS", 365)
    # 6.2.2: each running system scanned for vulnerabilities within this many days; a
    # vulnerability is due to be fixed this many days after it was found, by severity.
    COMPLIANCE_SCAN_DAYS = _env_int("COMPLIANCE_SCAN_DAYS", 90)
    VULNERABILITY_FIX_DAYS = {
        "critical": _env_int("VULNERABILITY_FIX_DAYS_CRITICAL", 7),
        "high": _env_int("VULNERABILITY_FIX_DAYS_HIGH", 30),
        "medium": _env_int("VULNERABILITY_FIX_DAYS_MEDIUM", 90),
        "low": _env_int("VULNERABILITY_FIX_DAYS_LOW", 180),
    }
    # 6.4.2: each running system's approved emergency plan drilled within this many days.
    COMPLIANCE_DRILL_DAYS = _env_int("COMPLIANCE_DRILL_DAYS", 365)
    # 6.3.3: a confidentiality agreement is marked as expiring this many days ahead.
    CLEARANCE_WARNING_DAYS = _env_int("CLEARANCE_WARNING_DAYS", 30)
    # 待我处理: records per page; seconds a user's count (the menu badge) is reused, unless
    # someone takes a workflow step meanwhile.
    INBOX_PAGE_SIZE = _env_int("INBOX_PAGE_SIZE", 50)
    INBOX_COUNT_SECONDS = _env_int("INBOX_COUNT_SECONDS", 30)
    NOTIFICATION_PAGE_SIZE = _env_int("NOTIFICATION_PAGE_SIZE", 20)

    @classmethod
    def init(cls):
        """Resolve values that need the filesystem or the sign-in method; called by
        create_app."""
        if not cls.SECRET_KEY:
            cls.SECRET_KEY = _local_secret_key()
        cls.init_auth()

    @classmethod
    def init_auth(cls):
        """OpenID Connect's settings, read (and refused when incomplete) at start-up."""
        if cls.AUTH_TYPE == AUTH_METHODS["oidc"]:
            for name, value in oidc_settings(os.environ).items():
                setattr(cls, name, value)


class ProductionConfig(Config):
    """PostgreSQL, gunicorn, Redis. Refuses to start without real secrets."""

    PRODUCTION = True
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    FAB_API_SWAGGER_UI = _env_bool("SWAGGER_UI", True)

    @classmethod
    def init(cls):
        key = os.environ.get("SECRET_KEY", "")
        weakness = secret_key_weakness(key)
        if weakness:
            raise RuntimeError(
                f"SECRET_KEY is not acceptable in production: {weakness}. Generate one with "
                "python -c 'import secrets; print(secrets.token_hex(32))'."
            )
        cls.SECRET_KEY = key
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production.")
        storage = os.environ.get("RATELIMIT_STORAGE_URI", "")
        if not storage.startswith(SHARED_STORAGE_SCHEMES):
            raise RuntimeError(
                "RATELIMIT_STORAGE_URI must point to shared storage (Redis, e.g. "
                "redis://127.0.0.1:6379/0) in production: every worker must see the same "
                "failed-login counters."
            )
        cls.RATELIMIT_STORAGE_URI = cls.LOGIN_GUARD_STORAGE_URI = storage
        cls.init_auth()


class TestConfig(Config):
    """Tests: a throwaway database (TEST_DATABASE_URL or a temp SQLite file)."""

    TESTING = True
    SECRET_KEY = "test-only-" + secrets.token_hex(16)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    RATELIMIT_STORAGE_URI = LOGIN_GUARD_STORAGE_URI = "memory://"
    # The suite logs in thousands of times (successes never count) with the production
    # account policy; many tests try wrong logins from the one loopback address, so the
    # per-address ceiling is higher. Tests of the policy build apps with their own limits.
    LOGIN_ACCOUNT_FAILURES = "5 per 15 minutes"
    LOGIN_ADDRESS_FAILURES = "1000 per 15 minutes"
    PROXY_COUNT = 0
    # The suite builds many apps; frozen, none of them would ever be freed.
    FREEZE_STARTUP_OBJECTS = False
    GC_FREEZE_AFTER_REQUESTS = ()
    GC_FULL_BETWEEN_REQUESTS = False
    # Test accounts only: a cheap hash keeps hundreds of logins fast. Production keeps
    # FAB's default (scrypt).
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    DEMO_PASSWORD = "Demo-Pass-2026"

    @classmethod
    def init(cls):
        pass
