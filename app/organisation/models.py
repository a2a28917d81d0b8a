"""Organisation (regulation chapters 1-2): the departments and the information systems
each owns. Delegations and users are the core's (app/base.py); their screens are here."""
from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    or_,
    select,
)
from sqlalchemy.orm import relationship

from app.base import StampMixin, enum_column, sort_indexes
from app.compliance import rule, scored
from app.i18n import LabelledEnum
from app.workflow import N_


class DepartmentKind(LabelledEnum):
    it = "IT department", "primary"
    business = "Business department", "default"


class Department(StampMixin, Model):
    """A department of the company: the owning (归口) department of its systems (1.3.2); the IT
    department has the duties of section 2.1, the business departments those of 2.2."""

    __tablename__ = "department"
    __table_args__ = sort_indexes("department", "kind")
    __reference__ = True

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), unique=True, nullable=False)
    kind = enum_column(DepartmentKind, nullable=False, default=DepartmentKind.business)
    head_id = Column(Integer, ForeignKey("ab_user.id",
                                         name="fk_department_head_id_ab_user"))
    head = relationship("AppUser", foreign_keys=[head_id])
    description = Column(Text)

    __title__ = "{name}"  # what it is called (app/titles.py)


# --------------------------------------------------------------------- Systems

class SystemCategory(LabelledEnum):
    oa = "Office automation", "info"
    business = "Business management", "primary"
    crm = "Customer relationship", "success"
    finance = "Finance", "warning"
    other = "Other", "default"


class Lifecycle(LabelledEnum):
    planned = "Planned", "default"
    building = "Under construction", "info"
    running = "Running", "success"
    retired = "Retired", "default"


@scored
class InformationSystem(StampMixin, Model):
    """An information system under centralized ownership by one department (1.2.1, 1.3.2)."""

    __tablename__ = "information_system"
    __scope__ = ("owning_department_id",)
    __reference__ = True
    __table_args__ = (
        CheckConstraint("protection_level BETWEEN 1 AND 5", name="ck_system_protection_level"),
    ) + sort_indexes("information_system", "name", "category", "lifecycle", "protection_level")

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), nullable=False)
    category = enum_column(SystemCategory, nullable=False, default=SystemCategory.business)
    owning_department_id = Column(Integer, ForeignKey("department.id"), nullable=False,
                                  index=True)
    owning_department = relationship("Department", foreign_keys=[owning_department_id])
    it_custodian_id = Column(Integer, ForeignKey("ab_user.id"))
    it_custodian = relationship("AppUser", foreign_keys=[it_custodian_id])
    business_owner_id = Column(Integer, ForeignKey("ab_user.id"))
    business_owner = relationship("AppUser", foreign_keys=[business_owner_id])
    lifecycle = enum_column(Lifecycle, nullable=False, default=Lifecycle.planned)
    protection_level = Column(Integer, nullable=False, default=2,
                              info={"min": 1, "max": 5, "check": "ck_system_protection_level"})
    go_live_date = Column(Date, index=True)
    vendor_id = Column(Integer, ForeignKey("vendor.id"), index=True)
    vendor = relationship("Vendor")
    description = Column(Text)

    __title__ = "{name}（{code}）"  # what it is called (app/titles.py)


@rule("owners", ("1.3.2",), N_("Owning department, IT custodian and business owner set"),
      evidence=InformationSystem)
def _owners_missing():
    system = InformationSystem
    return select(system.id.label("system_id"), system.id.label("record_id")).where(or_(
        system.owning_department_id.is_(None), system.it_custodian_id.is_(None),
        system.business_owner_id.is_(None)))
