"""What chapter 4 imports from spreadsheets (app/imports.py): vendors, matched by their
unified social credit code (2.1.7, 4.1.2), by whoever may write vendors."""
from flask_babel import lazy_gettext as _l

from app.imports import Field, Importer, may_write
from app.labels import LABELS
from app.procurement.models import Vendor, VendorRating

VENDOR_FIELDS = [
    Field("credit_code", LABELS["credit_code"], required=True, sample="91110000MA00000000",
          hint=_l("18 characters")),
    Field("name", LABELS["name"], required=True, sample="示例供应商有限公司"),
    Field("qualification", LABELS["qualification"], sample="导入示例：请改写或删除本行"),
    Field("rating", LABELS["rating"], kind="enum", enum=VendorRating,
          sample=lambda s, u: str(VendorRating.b)),
    Field("contact_person", LABELS["contact_person"], sample="李四"),
    Field("contact_phone", LABELS["contact_phone"], sample="010-12345678"),
    Field("contact_email", LABELS["contact_email"], sample="contact@example.com"),
]

IMPORTS = [
    Importer("vendor", Vendor, "credit_code", VENDOR_FIELDS, _l("Vendors"),
             "/vendorview/list/", may_write("Vendor")),
]

