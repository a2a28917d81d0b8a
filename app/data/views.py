"""Data management (regulation chapter 7): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.data.models import DataSharingRequest
from app.records import RecordView, scoped
from app.security import ScopedInterface


# ---------------------------------------------------------------------- Screens

class DataSharingRequestView(RecordView):
    record_label = _l("Data sharing request")
    datamodel = scoped(DataSharingRequest)
    list_columns = ["title", "requesting_department", "providing_department", "system",
                    "end_date", "status"]
    search_columns = ["title", "status", "requesting_department", "providing_department",
                      "start_date", "end_date", "purpose"]
    show_fieldsets = [
        (_l("Request"), {"fields": ["title", "requesting_department", "providing_department",
                                    "system", "status"]}),
        (_l("Data and use"), {"fields": ["data_scope", "purpose", "start_date",
                                         "end_date"]}),
    ]
    add_columns = ["title", "requesting_department", "providing_department", "system",
                   "data_scope", "purpose", "start_date", "end_date"]
    edit_columns = add_columns
    order_columns = ["title", "start_date", "end_date", "status"]
    base_order = ("end_date", "desc")


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Data", _l("Data management"), "fa-database", [
        (DataSharingRequestView, _l("Data sharing requests"), "fa-share-alt"),
    ]),
]


# --------------------------------------------------------------------- REST API

class DataSharingRequestApi(RecordApi):
    resource_name = "data_sharing_request"
    datamodel = ScopedInterface(DataSharingRequest)
    list_columns = ["id", "title", "requesting_department_id", "providing_department_id",
                    "system_id", "start_date", "end_date", "status"]
    show_columns = ["title", "requesting_department_id", "providing_department_id",
                    "system_id", "data_scope", "purpose", "start_date", "end_date", "status"]
    add_columns = ["title", "requesting_department", "providing_department", "system",
                   "data_scope", "purpose", "start_date", "end_date"]
    edit_columns = add_columns
    order_columns = ["title", "start_date", "end_date"]


APIS = [DataSharingRequestApi]
