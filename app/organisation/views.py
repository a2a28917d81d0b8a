"""Organisation (regulation chapters 1-2): departments, delegations, information systems."""
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.base import Delegation
from app.forms import FilterDepartmentUsers, FilterHasRole
from app.infosec.models import Vulnerability
from app.operations.models import ChangeRequest, Incident
from app.organisation.models import Department, InformationSystem
from app.procurement.models import Contract
from app.records import RecordView, scoped
from app.security import ScopedInterface, current_actor, scope_for


# ---------------------------------------------------------------------- Screens

class DepartmentView(RecordView):
    record_label = _l("Department")
    datamodel = scoped(Department)
    list_columns = ["code", "name", "kind", "head", "changed_on"]
    search_columns = ["code", "name", "kind"]
    show_columns = ["code", "name", "kind", "head", "description"]
    add_columns = ["code", "name", "kind", "head", "description"]
    edit_columns = add_columns
    order_columns = ["code", "name", "kind", "changed_on"]
    base_order = ("code", "asc")
    add_form_query_rel_fields = {"head": [["username", FilterDepartmentUsers, "id"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields


class FilterMe(BaseFilter):
    """Dropdown filter: only the current user (Admin: everyone)."""

    name = _l("Me")
    arg_name = "me"

    def apply(self, query, value):
        actor = current_actor()
        if scope_for(actor).everything:
            return query
        return query.filter(self.model.id == (actor.id if actor else -1))


class DelegationView(RecordView):
    record_label = _l("Delegation")
    datamodel = scoped(Delegation)
    list_columns = ["principal", "substitute", "start_date", "end_date", "reason"]
    search_columns = ["start_date", "end_date", "reason"]
    show_columns = ["principal", "substitute", "start_date", "end_date", "reason"]
    add_columns = ["principal", "substitute", "start_date", "end_date", "reason"]
    edit_columns = add_columns
    order_columns = ["start_date", "end_date"]
    base_order = ("start_date", "desc")
    add_form_query_rel_fields = {"principal": [["id", FilterMe, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields


class InformationSystemView(RecordView):
    record_label = _l("Information system")
    datamodel = scoped(InformationSystem)
    list_columns = ["code", "name", "category", "owning_department", "it_custodian",
                    "lifecycle", "protection_level"]
    search_columns = ["code", "name", "category", "lifecycle", "protection_level",
                      "owning_department", "go_live_date"]
    show_fieldsets = [
        (_l("System"), {"fields": ["code", "name", "category", "lifecycle",
                                   "protection_level", "go_live_date", "vendor",
                                   "description"]}),
        (_l("Ownership"), {"fields": ["owning_department", "it_custodian",
                                      "business_owner"]}),
    ]
    add_columns = ["code", "name", "category", "owning_department", "it_custodian",
                   "business_owner", "lifecycle", "protection_level", "go_live_date",
                   "vendor", "description"]
    edit_columns = add_columns
    order_columns = ["code", "name", "category", "lifecycle", "protection_level"]
    add_form_query_rel_fields = {
        "it_custodian": [["username", FilterHasRole, "ITStaff"]],
        "business_owner": [["username", FilterDepartmentUsers, "owning_department_id"]],
    }
    edit_form_query_rel_fields = add_form_query_rel_fields
    base_order = ("code", "asc")
    related_records = (Incident, Contract, ChangeRequest, Vulnerability)


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Organisation", _l("Organisation"), "fa-sitemap", [
        (DepartmentView, _l("Departments"), "fa-building"),
        (DelegationView, _l("Delegations"), "fa-exchange"),
    ]),
    ("Systems", _l("Information systems"), "fa-server", [
        (InformationSystemView, _l("Systems"), "fa-server"),
    ]),
]


# --------------------------------------------------------------------- REST API

class DepartmentApi(RecordApi):
    resource_name = "department"
    datamodel = ScopedInterface(Department)
    list_columns = ["id", "code", "name", "kind", "head_id"]
    show_columns = ["code", "name", "kind", "head_id", "description"]
    add_columns = ["code", "name", "kind", "head", "description"]
    edit_columns = add_columns
    order_columns = ["code", "name"]


class InformationSystemApi(RecordApi):
    resource_name = "information_system"
    datamodel = ScopedInterface(InformationSystem)
    list_columns = ["id", "code", "name", "category", "owning_department_id",
                    "owning_department.name", "lifecycle", "protection_level"]
    show_columns = ["code", "name", "category", "owning_department_id", "it_custodian_id",
                    "business_owner_id", "lifecycle", "protection_level", "go_live_date",
                    "vendor_id", "description"]
    add_columns = ["code", "name", "category", "owning_department", "it_custodian",
                   "business_owner", "lifecycle", "protection_level", "go_live_date",
                   "vendor", "description"]
    edit_columns = add_columns
    order_columns = ["code", "name", "protection_level"]


class DelegationApi(RecordApi):
    resource_name = "delegation"
    datamodel = ScopedInterface(Delegation)
    list_columns = ["id", "principal_id", "substitute_id", "start_date", "end_date"]
    show_columns = ["principal_id", "substitute_id", "start_date", "end_date", "reason"]
    add_columns = ["principal", "substitute", "start_date", "end_date", "reason"]
    edit_columns = add_columns
    order_columns = ["start_date"]


APIS = [DepartmentApi, InformationSystemApi, DelegationApi]
