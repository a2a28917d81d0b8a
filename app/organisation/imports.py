"""What chapters 1-2 import from spreadsheets (app/imports.py): departments and users
(Admin only), information systems (whoever may write them, within their department).

Users are matched by login and never get a password from a file: a new user's password is
unusable until an Admin sets one (用户 → 重置密码) and hands it over.
"""
import re
import secrets

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from app.base import AppUser, new_security_stamp
from app.imports import AmbiguousCell, CellError, Field, Importer, is_admin, may_write
from app.labels import LABELS
from app.organisation.models import (
    Department,
    DepartmentKind,
    InformationSystem,
    Lifecycle,
    SystemCategory,
)
from app.procurement.models import Vendor
from app.titles import title_sql

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ------------------------------------------------------------------ related records

def department(session, text, cache):
    """A department by code or by name."""
    key = ("department", text)
    if key not in cache:
        cache[key] = (session.query(Department).filter(Department.code == text).first()
                      or session.query(Department).filter(Department.name == text).first())
    if cache[key] is None:
        raise CellError(gettext("No department with code or name “%(value)s”.",
                                value=text[:60]))
    return cache[key]


def user(session, text, cache):
    """A user by login, or by full name when only one user has it."""
    key = ("user", text)
    if key not in cache:
        found = session.query(AppUser).filter(AppUser.username == text).first()
        if found is None:
            named = session.query(AppUser).filter(title_sql(AppUser) == text).all()
            found = named[0] if len(named) == 1 else (named or None)
        cache[key] = found
    if isinstance(cache[key], list):
        raise AmbiguousCell(gettext("Several users are called “%(value)s”: write the login "
                                    "instead.", value=text[:60]), cache[key])
    if cache[key] is None:
        raise CellError(gettext("No user with login or name “%(value)s”.", value=text[:60]))
    return cache[key]


def vendor(session, text, cache):
    """A vendor by name or by unified social credit code."""
    key = ("vendor", text)
    if key not in cache:
        cache[key] = (session.query(Vendor).filter(Vendor.name == text).first()
                      or session.query(Vendor).filter(Vendor.credit_code == text).first())
    if cache[key] is None:
        raise CellError(gettext("No vendor with name or credit code “%(value)s”.",
                                value=text[:60]))
    return cache[key]


def role_names(session, cache):
    """{name or label, folded: role} for every role."""
    if "roles" not in cache:
        model = current_app.appbuilder.sm.role_model
        names = {}
        for role in session.query(model):
            names[role.name.casefold()] = role
            for locale in ("zh", "en"):
                with force_locale(locale):
                    names[gettext(role.name).casefold()] = role
        cache["roles"] = names
    return cache["roles"]


def roles(session, text, cache):
    """Roles by name (Admin) or label (系统管理员), separated by 、 , ; or spaces."""
    names = role_names(session, cache)
    found, unknown = set(), []
    for part in re.split(r"[、,，;；/\s]+", text):
        if part:
            role = names.get(part.casefold())
            (found.add(role) if role is not None else unknown.append(part))
    if unknown:
        raise CellError(gettext("Unknown role “%(value)s”; roles: %(roles)s.",
                                value="、".join(unknown)[:60],
                                roles="、".join(sorted({gettext(r.name)
                                                        for r in names.values()}))))
    return frozenset(found)


# ------------------------------------------------------------------ samples

def own_department(session, actor):
    """The sample's department: the user's own (one they may write systems for)."""
    found = actor.department if actor is not None else None
    if found is not None:
        return found.code
    return session.query(Department.code).order_by(Department.code).limit(1).scalar() or ""


# ------------------------------------------------------------------ checks

def _active(person):
    return person is not None and person.active


def department_check(session, record, values, changed, is_new):
    errors = {}
    head = values.get("head")
    if "head" in changed and head is not None:
        if not _active(head):
            errors["head"] = gettext("%(user)s is not an active user.", user=str(head))
        elif not is_new and head.department_id != record.id:
            errors["head"] = gettext("%(user)s does not belong to this department.",
                                     user=str(head))
    return errors


def user_check(session, record, values, changed, is_new):
    errors = {}
    email = values.get("email")
    if email is not None and "email" in changed and not EMAIL_RE.match(email):
        errors["email"] = gettext("“%(value)s” is not an e-mail address.", value=email[:60])
    if ("roles" in changed or is_new) and not values.get("roles"):
        errors["roles"] = gettext("Must not be empty.")
    return errors


def new_user(record):
    # No password is imported: this one matches nothing (werkzeug's check answers False
    # for a hash without a method), so the account cannot log in until an Admin sets one.
    record.password = "!" + secrets.token_hex(16)
    record.security_stamp = new_security_stamp()
    record.active = True


def system_check(session, record, values, changed, is_new):
    """The system form's dropdowns: the IT custodian holds ITStaff, the business owner
    belongs to the owning department (both active)."""
    errors = {}
    custodian = values.get("it_custodian")
    if custodian is not None and "it_custodian" in changed and not (
            _active(custodian) and "ITStaff" in {r.name for r in custodian.roles}):
        errors["it_custodian"] = gettext("%(user)s is not active IT staff.",
                                         user=str(custodian))
    owner = values.get("business_owner")
    if owner is not None and ({"business_owner", "owning_department"} & changed) and not (
            _active(owner) and owner.department_id == record.owning_department_id):
        errors["business_owner"] = gettext(
            "%(user)s is not an active user of the owning department.", user=str(owner))
    return errors


# ------------------------------------------------------------------ declarations

DEPARTMENT_FIELDS = [
    Field("code", LABELS["code"], required=True, sample="D-NEW"),
    Field("name", LABELS["name"], required=True, sample="示例部门"),
    Field("kind", LABELS["kind"], kind="enum", enum=DepartmentKind,
          sample=lambda s, u: str(DepartmentKind.business)),
    Field("head", LABELS["head"], kind="ref", resolve=user, sample="",
          hint=_l("login or full name of a user of the department")),
    Field("description", LABELS["description"], sample="导入示例：请改写或删除本行"),
]

USER_FIELDS = [
    Field("username", _l("User Name"), required=True, sample="zhang.san",
          aliases=("login", "登录名", "账号")),
    Field("last_name", _l("Last Name"), required=True, sample="张"),
    Field("first_name", _l("First Name"), required=True, sample="三"),
    Field("email", _l("Email"), required=True, sample="zhang.san@example.com"),
    Field("department", LABELS["department"], kind="ref", resolve=department, required=True,
          sample=own_department, hint=_l("department code or name")),
    Field("roles", _l("Role"), kind="roles", resolve=roles, required=True,
          sample=lambda s, u: gettext("Clerk"), aliases=("roles", "角色"),
          hint=_l("role names or labels, separated by 、")),
    Field("active", _l("Is Active?"), kind="bool", sample=lambda s, u: gettext("Yes"),
          aliases=("active", "启用")),
]

SYSTEM_FIELDS = [
    Field("code", LABELS["code"], required=True, sample="SYS-NEW"),
    Field("name", LABELS["name"], required=True, sample="示例系统"),
    Field("category", LABELS["category"], kind="enum", enum=SystemCategory,
          sample=lambda s, u: str(SystemCategory.business)),
    Field("owning_department", LABELS["owning_department"], kind="ref", resolve=department,
          required=True, sample=own_department, hint=_l("department code or name")),
    Field("it_custodian", LABELS["it_custodian"], kind="ref", resolve=user,
          hint=_l("login or full name; IT staff")),
    Field("business_owner", LABELS["business_owner"], kind="ref", resolve=user,
          hint=_l("login or full name; a user of the owning department")),
    Field("lifecycle", LABELS["lifecycle"], kind="enum", enum=Lifecycle,
          sample=lambda s, u: str(Lifecycle.planned)),
    Field("protection_level", LABELS["protection_level"], kind="int", sample=2,
          hint=_l("1 to 5")),
    Field("go_live_date", LABELS["go_live_date"], kind="date", sample="2026-12-31"),
    Field("vendor", LABELS["vendor"], kind="ref", resolve=vendor,
          hint=_l("vendor name or credit code")),
    Field("description", LABELS["description"], sample="导入示例：请改写或删除本行"),
]

IMPORTS = [
    Importer("department", Department, "code", DEPARTMENT_FIELDS, _l("Departments"),
             "/departmentview/list/", is_admin, check=department_check),
    Importer("user", AppUser, "username", USER_FIELDS, _l("Users"), "/users/list/",
             is_admin, check=user_check, before_new=new_user, scoped=False),
    Importer("system", InformationSystem, "code", SYSTEM_FIELDS, _l("Information systems"),
             "/informationsystemview/list/", may_write("InformationSystem"),
             check=system_check),
]
