"""Information security (regulation chapter 6): security policies (6.1), vulnerability
scans and their vulnerabilities, risk assessments (6.2), security training, personnel
clearances (6.3), emergency plans, drills and security events (6.4)."""
import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, backref, relationship, validates

from app.base import (
    APPLICANT,
    DEPT_HEAD,
    IT,
    Approval,
    StampMixin,
    WorkflowMixin,
    enum_column,
    sort_indexes,
    utcnow,
)
from app.charts import Chart, Month
from app.compliance import rule, setting, utc_now
from app.deadlines import Deadline, company_today
from app.i18n import LabelledEnum
from app.organisation.models import InformationSystem, Lifecycle
from app.validation import Ordered
from app.workflow import ACTOR, NOW, N_, Edit, Transition, Workflow, filled


# ============================================================================
# 6.1 security policies, 6.2 vulnerability scans, vulnerabilities and risk
# assessments, 6.3.1-6.3.2 security training and attendance
# ============================================================================


# (end of 6.1-6.3.2)


# ============================================================================
# 6.3.3 personnel clearances, 6.4 emergency plans, drills and security events
# ============================================================================


# (end of 6.3.3-6.4)
