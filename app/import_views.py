"""The 数据导入 page: templates, upload and dry-run preview, commit (app/imports.py).

``GET /import/`` lists the kinds the user may import, with their templates
(``GET /import/<kind>/template.<csv|xlsx>``) and an upload form; ``POST
/import/<kind>/preview`` reads the file and shows every row as new, changed or unchanged,
with its errors, writing nothing; ``POST /import/<kind>/commit`` (offered only when no row
has an error) runs the waiting upload again and writes it all in one transaction. Both
POSTs carry the CSRF token; a GET never changes anything (app/methods.py).
"""
import secrets

from flask import abort, flash, redirect, request, session
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .extensions import db
from .imports import (
    ImportRefused,
    column_notes,
    discard_upload,
    importers,
    load_upload,
    read_table,
    run,
    store_upload,
    template_csv,
    template_xlsx,
)
from .security import current_actor

NONCE = "import_nonce"
TEMPLATE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _nonce():
    """This session's own mark: a waiting upload is committed only from its session."""
    if NONCE not in session:
        session[NONCE] = secrets.token_hex(16)
    return session[NONCE]


class ImportView(BaseView):
    route_base = "/import"
    default_view = "index"
    class_permission_name = "DataImport"
    method_permission_name = {"index": "read", "template": "read", "preview": "read",
                              "commit": "read"}

    def _importer(self, kind):
        """The kind's importer, when it exists (else 404) and the user may import it
        (else 403)."""
        found = importers().get(kind)
        if found is None:
            abort(404)
        if not found.may_import(current_actor()):
            abort(403)
        return found

    def _index(self, error=None, status=200):
        actor = current_actor()
        kinds = [(imp, column_notes(imp)) for imp in importers().values()
                 if imp.may_import(actor)]
        return self.render_template("import_index.html", kinds=kinds, error=error,
                                    title=_l("Data import")), status

    @expose("/")
    @has_access
    def index(self):
        return self._index()

    @expose("/<kind>/template.<fmt>")
    @has_access
    def template(self, kind, fmt):
        importer = self._importer(kind)
        if fmt not in TEMPLATE_TYPES:
            abort(404)
        build = template_csv if fmt == "csv" else template_xlsx
        body = build(importer, db.session, current_actor())
        filename = f"import-{importer.slug}.{fmt}"
        response = self.appbuilder.app.response_class(body, mimetype=TEMPLATE_TYPES[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<kind>/preview", methods=["POST"])
    @has_access
    def preview(self, kind):
        importer = self._importer(kind)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self._index(gettext("Choose an .xlsx or .csv file to upload."), 400)
        data = upload.stream.read(self.appbuilder.app.config["IMPORT_MAX_BYTES"] + 1)
        filename = upload.filename
        actor = current_actor()
        try:
            outcome = run(importer, read_table(filename, data), actor, db.session)
        except ImportRefused as refused:
            return self._index(refused.message, 400)
        token = None
        if outcome.ok and outcome.writes:
            token = store_upload(data, filename, importer.slug, actor.id, _nonce())
        return self._preview(importer, outcome, filename, token)

    def _preview(self, importer, outcome, filename, token, status=200):
        limit = 1000  # rows shown; errors and changes first
        rows = sorted(outcome.rows, key=lambda r: (not r.errors, r.status == "unchanged",
                                                   r.number))
        return self.render_template(
            "import_preview.html", importer=importer, outcome=outcome, rows=rows[:limit],
            hidden=max(0, len(rows) - limit), filename=filename, token=token,
            title=_l("Import preview")), status

    @expose("/<kind>/commit", methods=["POST"])
    @has_access
    def commit(self, kind):
        importer = self._importer(kind)
        token = request.form.get("token", "")
        actor = current_actor()
        try:
            data, filename = load_upload(token, importer.slug, actor.id, _nonce())
        except ImportRefused as refused:
            return self._index(refused.message, 409)
        discard_upload(token)  # used once, whatever comes of it
        try:
            outcome = run(importer, read_table(filename, data), actor, db.session,
                          commit=True)
        except ImportRefused as refused:
            return self._index(refused.message, 409)
        if not outcome.ok:  # the records changed since the preview
            flash(gettext("Nothing was imported: the records changed since the preview. "
                          "Check the errors and upload the file again."), "danger")
            return self._preview(importer, outcome, filename, None, 409)
        if outcome.writes:
            flash(gettext("Imported %(kind)s: %(new)d new, %(changed)d changed, "
                          "%(unchanged)d unchanged.", kind=str(importer.label),
                          new=outcome.count("new"), changed=outcome.count("changed"),
                          unchanged=outcome.count("unchanged")), "success")
        else:
            flash(gettext("Nothing to import: every row matches its record already."),
                  "info")
        return redirect(importer.list_url)
