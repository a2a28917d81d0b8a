"""Attachments: evidence files kept in the database (1.3.3, 3.2.2, 4.1.3).

A file is accepted only when its content (magic bytes) is on the allow-list
and agrees with its extension, and when it fits the size limit. It is stored
with name, type, size and SHA-256, downloaded only by users who may see the
record that owns it, and always served as a download.

A name keeps only its last path part, loses control and format characters
(line breaks, NUL, bidirectional overrides) and, when too long, is shortened in
its stem so the extension survives. A replaced file is kept: the record's
history names it (with its id), and whoever may see the record can still
download that earlier version from the History tab.
"""
import hashlib
import os
import unicodedata

import filetype
from flask import abort, current_app, send_file
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from io import BytesIO
from markupsafe import Markup
from wtforms.validators import ValidationError

from .base import Attachment, Model
from .extensions import db
from .security import current_actor

# Detected extension -> extensions a file of that content may carry.
ALLOWED_TYPES = {
    "pdf": {"pdf"},
    "docx": {"docx"},
    "xlsx": {"xlsx"},
    "pptx": {"pptx"},
    "doc": {"doc"},
    "xls": {"xls"},
    "ppt": {"ppt"},
    "odt": {"odt"},
    "ods": {"ods"},
    "png": {"png"},
    "jpg": {"jpg", "jpeg"},
    "zip": {"zip"},
}
ALLOWED_LABEL = "PDF, Word, Excel, PowerPoint, OpenDocument, PNG, JPEG, ZIP"


NAME_MAX = 255  # Attachment.filename
# Control, format (bidi overrides, zero-width), line and paragraph separators.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


class AttachmentRejected(ValueError):
    pass


def clean_filename(filename, limit=NAME_MAX):
    """The stored name of an upload: last path part, no invisible characters, at most
    ``limit`` characters with the extension kept whole."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE).strip()
    stem, ext = os.path.splitext(name)
    if len(ext) > 16:  # not an extension, just a dot in a long name
        stem, ext = name, ""
    stem = stem.strip() or "attachment"
    return stem[:max(1, limit - len(ext))] + ext


def inspect_upload(filename, data, max_bytes):
    """Return the MIME type of an acceptable upload, or raise AttachmentRejected."""
    if not data:
        raise AttachmentRejected(str(_l("The file is empty.")))
    if len(data) > max_bytes:
        raise AttachmentRejected(
            str(_l("The file is larger than the limit of %(mb).1f MB.", mb=max_bytes / 2**20)))
    kind = filetype.guess(data)
    ext = os.path.splitext(filename or "")[1].lower().lstrip(".")
    if kind is None or kind.extension not in ALLOWED_TYPES:
        raise AttachmentRejected(
            str(_l("This file type is not allowed. Allowed: %(types)s.", types=ALLOWED_LABEL)))
    if ext not in ALLOWED_TYPES[kind.extension]:
        raise AttachmentRejected(
            str(_l("The file's extension does not match its content (%(kind)s).",
                   kind=kind.extension.upper())))
    return kind.mime


def make_attachment(storage):
    """Build an Attachment from an uploaded werkzeug FileStorage."""
    data = storage.read()
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    name = clean_filename(storage.filename)
    mime = inspect_upload(name, data, max_bytes)
    actor = current_actor()
    return Attachment(
        filename=name, content_type=mime, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), data=data,
        uploaded_by_fk=actor.id if actor else None,
    )


class UploadCheck:
    """WTForms validator: the same content check, so the form shows the reason."""

    def __call__(self, form, field):
        storage = field.data
        if not storage or not getattr(storage, "filename", ""):
            return
        data = storage.read()
        storage.seek(0)
        try:
            inspect_upload(clean_filename(storage.filename), data,
                           current_app.config["ATTACHMENT_MAX_BYTES"])
        except AttachmentRejected as exc:
            raise ValidationError(str(exc)) from None


def attachment_link(attachment):
    """List/show formatter: the file name as a download link, with size and hash."""
    if attachment is None:
        return "—"
    from flask import url_for

    url = url_for("AttachmentView.download", attachment_id=attachment.id)
    return Markup('<a href="{}"><i class="fa fa-download"></i> {}</a> '
                  '<small class="text-muted">{} KB · SHA-256 {}…</small>').format(
        url, attachment.filename, max(1, attachment.size // 1024), attachment.sha256[:12])


def attachment_owners():
    """(model, relationship name) for every attachment a model declares."""
    for mapper in Model.registry.mappers:
        for name in getattr(mapper.class_, "__attachments__", ()):
            yield mapper.class_, name


class AttachmentView(BaseView):
    """Download of an attachment, allowed when the user may see a record owning it."""

    route_base = "/attachment"
    default_view = "download"
    class_permission_name = "Attachment"
    method_permission_name = {"download": "read"}

    @expose("/<int:attachment_id>")
    @has_access
    def download(self, attachment_id):
        if not any(self._visible_owners(attachment_id, current)
                   for current in (True, False)):
            abort(404)
        attachment = db.session.get(Attachment, attachment_id)
        if attachment is None:
            abort(404)
        response = send_file(
            BytesIO(attachment.data), mimetype="application/octet-stream",
            as_attachment=True, download_name=attachment.filename,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["X-Attachment-SHA256"] = attachment.sha256
        return response

    def _visible_owners(self, attachment_id, current):
        """Is there a record the user may see that holds this file now (``current``),
        or held it before it was replaced (named by id in the record's history)?"""
        from .base import ChangeEntry
        from .security import ScopedInterface

        sm = self.appbuilder.sm
        for model, rel in attachment_owners():
            if not sm.has_access("can_read", model.__name__):
                continue
            query = db.session.query(model.id)
            if current:
                column = next(iter(getattr(model, rel).property.local_columns))
                query = query.filter(column == attachment_id)
            else:
                mentioned = (db.session.query(ChangeEntry.record_id)
                             .filter(ChangeEntry.record_type == model.__name__,
                                     ChangeEntry.changes.contains(
                                         f'{{"id":{int(attachment_id)},"name":'))
                             .limit(1000))
                ids = [int(pk) for (pk,) in mentioned]
                if not ids:
                    continue
                query = query.filter(model.id.in_(ids))
            query = ScopedInterface(model, db.session).apply_filters(query, None)
            if query.first() is not None:
                return True
        return False


def attachment_version_link(value):
    """A file named in the change history (``{"id", "name", "sha256"}``), as a link."""
    from flask import url_for

    label = "{} (SHA-256 {}…)".format(value["name"], value["sha256"][:12])
    if "id" not in value:  # recorded before files were named by id
        return label
    return Markup('<a href="{}"><i class="fa fa-download"></i> {}</a>').format(
        url_for("AttachmentView.download", attachment_id=value["id"]), label)
