"""Data management (regulation chapter 7): screens and API resources."""
from flask_babel import lazy_gettext as _l

from app.api import RecordApi
from app.data.models import BackupRecord, DataAsset, DataQualityCheck, DataSharingRequest
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


class DataAssetView(RecordView):
    record_label = _l("Data catalogue entry")
    datamodel = scoped(DataAsset)
    list_columns = ["name", "system", "owner_department", "classification", "personal_data",
                    "retention_months"]
    search_columns = ["name", "system", "owner_department", "classification",
                      "personal_data", "retention_months"]
    show_columns = ["name", "system", "owner_department", "classification", "personal_data",
                    "retention_months", "description"]
    add_columns = ["name", "system", "owner_department", "classification", "personal_data",
                   "retention_months", "description"]
    edit_columns = add_columns
    order_columns = ["name", "classification", "retention_months"]
    base_order = ("name", "asc")


class DataQualityCheckView(RecordView):
    record_label = _l("Data quality check")
    datamodel = scoped(DataQualityCheck)
    list_columns = ["title", "checked_on", "department", "system", "dimension", "score",
                    "rectification_due", "rectified_on"]
    search_columns = ["title", "department", "system", "dimension", "score", "checked_on",
                      "rectification_due", "issues"]
    show_columns = ["title", "department", "system", "checked_on", "dimension", "score",
                    "issues", "rectification_due", "rectified_on"]
    add_columns = show_columns
    edit_columns = add_columns
    order_columns = ["title", "checked_on", "dimension", "score", "rectification_due"]
    base_order = ("checked_on", "desc")


class BackupRecordView(RecordView):
    record_label = _l("Backup record")
    datamodel = scoped(BackupRecord)
    list_columns = ["system", "taken_at", "kind", "medium", "offsite_location", "succeeded",
                    "restore_tested_on", "restore_result"]
    search_columns = ["system", "taken_at", "kind", "medium", "offsite_location",
                      "succeeded", "restore_tested_on", "restore_result"]
    show_columns = ["system", "taken_at", "kind", "medium", "offsite_location", "succeeded",
                    "restore_tested_on", "restore_result", "notes"]
    add_columns = show_columns
    edit_columns = add_columns
    order_columns = ["taken_at", "kind", "restore_tested_on"]
    base_order = ("taken_at", "desc")


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Data", _l("Data management"), "fa-database", [
        (DataAssetView, _l("Data catalogue"), "fa-book"),
        (DataQualityCheckView, _l("Data quality checks"), "fa-check-circle"),
        (BackupRecordView, _l("Backups"), "fa-hdd-o"),
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


class DataAssetApi(RecordApi):
    resource_name = "data_asset"
    datamodel = ScopedInterface(DataAsset)
    list_columns = ["id", "name", "system_id", "owner_department_id", "classification",
                    "personal_data", "retention_months"]
    show_columns = ["name", "system_id", "owner_department_id", "classification",
                    "personal_data", "retention_months", "description"]
    add_columns = ["name", "system", "owner_department", "classification", "personal_data",
                   "retention_months", "description"]
    edit_columns = add_columns
    order_columns = ["name", "classification", "retention_months"]


class DataQualityCheckApi(RecordApi):
    resource_name = "data_quality_check"
    datamodel = ScopedInterface(DataQualityCheck)
    list_columns = ["id", "title", "department_id", "system_id", "checked_on", "dimension",
                    "score", "rectification_due", "rectified_on"]
    show_columns = ["title", "department_id", "system_id", "checked_on", "dimension", "score",
                    "issues", "rectification_due", "rectified_on"]
    add_columns = ["title", "department", "system", "checked_on", "dimension", "score", "issues",
                   "rectification_due", "rectified_on"]
    edit_columns = add_columns
    order_columns = ["checked_on", "dimension", "score", "rectification_due"]


class BackupRecordApi(RecordApi):
    resource_name = "backup_record"
    datamodel = ScopedInterface(BackupRecord)
    list_columns = ["id", "system_id", "taken_at", "kind", "medium", "offsite_location",
                    "succeeded", "restore_tested_on", "restore_result"]
    show_columns = ["system_id", "taken_at", "kind", "medium", "offsite_location",
                    "succeeded", "restore_tested_on", "restore_result", "notes"]
    add_columns = ["system", "taken_at", "kind", "medium", "offsite_location", "succeeded",
                   "restore_tested_on", "restore_result", "notes"]
    edit_columns = add_columns
    order_columns = ["taken_at", "kind", "restore_tested_on"]


APIS = [DataAssetApi, DataQualityCheckApi, BackupRecordApi, DataSharingRequestApi]
