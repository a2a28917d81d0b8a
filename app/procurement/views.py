"""Construction and implementation (regulation chapter 4): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.procurement.models import ChangeOrder, Contract, Vendor
from app.records import RecordView, scoped
from app.security import ScopedInterface


# ---------------------------------------------------------------------- Screens

class VendorView(RecordView):
    record_label = _l("Vendor")
    datamodel = scoped(Vendor)
    list_columns = ["name", "credit_code", "rating", "contact_person", "contact_phone"]
    search_columns = ["name", "credit_code", "rating", "contact_person"]
    show_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                    "contact_phone", "contact_email"]
    add_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                   "contact_phone", "contact_email"]
    edit_columns = add_columns
    order_columns = ["name", "rating"]
    base_order = ("name", "asc")
    related_records = (Contract,)


class ContractView(RecordView):
    record_label = _l("Contract")
    datamodel = scoped(Contract)
    list_columns = ["number", "name", "vendor", "department", "amount", "status", "end_date"]
    search_columns = ["number", "name", "amount", "status", "department", "sign_date",
                      "start_date", "end_date"]
    show_fieldsets = [
        (_l("Contract"), {"fields": ["number", "name", "status", "department", "project",
                                     "vendor", "system", "amount", "signed_file"]}),
        (_l("Dates"), {"fields": ["sign_date", "start_date", "end_date"]}),
        (_l("Terms"), {"fields": ["scope", "schedule", "quality_terms", "acceptance_terms",
                                  "after_sales_terms"]}),
    ]
    add_columns = ["number", "name", "department", "project", "vendor", "system", "amount",
                   "sign_date", "start_date", "end_date", "scope", "schedule",
                   "quality_terms", "acceptance_terms", "after_sales_terms"]
    edit_columns = add_columns
    order_columns = ["number", "name", "amount", "status", "end_date"]
    base_order = ("number", "desc")
    related_records = (ChangeOrder,)


class ChangeOrderView(RecordView):
    record_label = _l("Change order")
    datamodel = scoped(ChangeOrder)
    list_columns = ["change_number", "title", "contract", "project", "department",
                    "cost_impact", "status"]
    search_columns = ["change_number", "title", "status", "department", "cost_impact",
                      "created_on", "reason"]
    show_fieldsets = [
        (_l("Change order"), {"fields": ["change_number", "title", "status", "contract",
                                         "project", "department"]}),
        (_l("Change"), {"fields": ["reason", "change_content", "cost_impact",
                                   "schedule_impact"]}),
    ]
    add_columns = ["change_number", "title", "contract", "project", "reason",
                   "change_content", "cost_impact", "schedule_impact"]
    edit_columns = add_columns
    order_columns = ["change_number", "title", "cost_impact", "status"]
    base_order = ("change_number", "desc")


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Procurement", _l("Procurement and contracts"), "fa-handshake-o", [
        (VendorView, _l("Vendors"), "fa-truck"),
        (ContractView, _l("Contracts"), "fa-file-o"),
        (ChangeOrderView, _l("Change orders"), "fa-random"),
    ]),
]


# --------------------------------------------------------------------- REST API

class VendorApi(RecordApi):
    resource_name = "vendor"
    datamodel = ScopedInterface(Vendor)
    list_columns = ["id", "name", "credit_code", "rating"]
    show_columns = ["name", "credit_code", "qualification", "rating", "contact_person",
                    "contact_phone", "contact_email"]
    add_columns = show_columns
    edit_columns = show_columns
    order_columns = ["name"]


class ContractApi(RecordApi):
    resource_name = "contract"
    datamodel = ScopedInterface(Contract)
    list_columns = ["id", "number", "name", "department_id", "vendor_id", "amount", "status"]
    show_columns = ["number", "name", "department_id", "project_id", "vendor_id", "system_id",
                    "amount", "sign_date", "start_date", "end_date", "scope", "schedule",
                    "quality_terms", "acceptance_terms", "after_sales_terms", "status",
                    "signed_file.filename", "signed_file.sha256"]
    add_columns = ["number", "name", "department", "project", "vendor", "system", "amount",
                   "sign_date", "start_date", "end_date", "scope", "schedule",
                   "quality_terms", "acceptance_terms", "after_sales_terms"]
    edit_columns = add_columns
    order_columns = ["number", "amount", "end_date"]


class ChangeOrderApi(RecordApi):
    resource_name = "change_order"
    datamodel = ScopedInterface(ChangeOrder)
    list_columns = ["id", "change_number", "title", "contract_id", "project_id",
                    "department_id", "cost_impact", "status"]
    show_columns = ["change_number", "title", "contract_id", "project_id", "department_id",
                    "reason", "change_content", "cost_impact", "schedule_impact", "status"]
    add_columns = ["change_number", "title", "contract", "project", "reason",
                   "change_content", "cost_impact", "schedule_impact"]
    edit_columns = add_columns
    order_columns = ["change_number", "cost_impact"]


APIS = [VendorApi, ContractApi, ChangeOrderApi]
