"""Information security (regulation chapter 6): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.records import RecordView, scoped
from app.security import ScopedInterface


# ============================================================================
# 6.1 security policies, 6.2 vulnerability scans, vulnerabilities and risk
# assessments, 6.3.1-6.3.2 security training and attendance
# ============================================================================

POLICY_SCREENS = [
]

POLICY_APIS = [
]

# (end of 6.1-6.3.2)


# ============================================================================
# 6.3.3 personnel clearances, 6.4 emergency plans, drills and security events
# ============================================================================

CONTINUITY_SCREENS = [
]

CONTINUITY_APIS = [
]

# (end of 6.3.3-6.4)


# ------------------------------------------------------------------ Registration

MENU = [
    ("Security", _l("Information security"), "fa-shield",
     POLICY_SCREENS + CONTINUITY_SCREENS),
] if POLICY_SCREENS or CONTINUITY_SCREENS else []

APIS = POLICY_APIS + CONTINUITY_APIS
