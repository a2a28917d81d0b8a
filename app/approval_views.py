"""Screens of the approvals: 待我处理 (the inbox) and the separation-of-duties report."""
from flask import current_app, jsonify, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from .chapters import record_views
from .labels import RECORD_LABELS
from .paging import PAGE_MAX
from .records import local_time
from .extensions import db
from .security import current_actor


class InboxView(BaseView):
    """待我处理: the records the current user can act on now, oldest first, a page at a
    time (the database finds and counts them, the engine confirms the page shown)."""

    route_base = "/inbox"
    default_view = "index"
    class_permission_name = "Inbox"
    method_permission_name = {"index": "read", "count": "read"}

    @expose("/")
    @has_access
    def index(self):
        from .approvals import inbox_page
        from .deadlines import WAITING

        # ?page=last: the newest records (the inbox lists the oldest first).
        last = request.args.get("page") == "last"
        page = PAGE_MAX if last else request.args.get("page", default=1, type=int)
        size = current_app.config["INBOX_PAGE_SIZE"]
        # ?waiting=1: only what waits longer than APPROVAL_WAIT_DAYS (到期提醒's link).
        waiting = request.args.get("waiting") == "1"
        found = inbox_page(current_actor(), page if page and page <= PAGE_MAX else 1, size,
                           waiting=waiting)
        rows = []
        views = {view.datamodel.obj: view for view in record_views()}
        for record, moves in found.items:
            view = views.get(type(record))
            state = getattr(record, type(record).__workflow__.state_field)
            rows.append({
                "type": RECORD_LABELS.get(type(record).__name__, type(record).__name__),
                "record": record, "state": state, "moves": moves,
                "since": local_time(record.changed_on),
                "badge": WAITING.badge() if WAITING.applies(record) else "",
                "url": url_for(f"{view.__name__}.show", pk=record.id) if view else None,
            })
        return self.render_template("inbox.html", rows=rows, found=found,
                                    title=_l("My inbox"), waiting=waiting,
                                    waiting_days=current_app.config["APPROVAL_WAIT_DAYS"],
                                    also="&waiting=1" if waiting else "")

    @expose("/count")
    @has_access
    def count(self):
        from .approvals import inbox_count

        return jsonify(count=inbox_count(current_actor()))


SOD_KINDS = {
    "submit-approve": _l("Submitted and approved"),
    "substitute-approve": _l("A substitute of the submitter approved"),
    "editor-approve": _l("Changed the content, then approved it"),
    "two-steps": _l("Approved two different review steps"),
}


class SeparationOfDutiesView(BaseView):
    """The separation-of-duties report: any record where one person held two roles the
    rules keep apart (submitter and approver; expert of the project's own department)."""

    route_base = "/sod"
    default_view = "index"
    class_permission_name = "SoDReport"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self):
        from .approvals import separation_of_duties_violations, sod_checks

        rows = separation_of_duties_violations()
        kinds = {**SOD_KINDS, **{kind: label for kind, (label, _check) in sod_checks().items()}}
        return self.render_template("sod.html", rows=rows, title=_l("Separation of duties"),
                                    labels=RECORD_LABELS, kinds=kinds)


class ApprovalFormCheckView(BaseView):
    """Verify an approval form (审批单): paste the verification line printed on it and see
    whether it matches the hash-chained change history and the record's current state
    (app/approval_form.py). Only records the reader may see are found (5.1.3, 8.1.1)."""

    route_base = "/approval-form"
    default_view = "verify"
    class_permission_name = "ApprovalForm"
    method_permission_name = {"verify": "read"}

    @expose("/verify")
    @has_access
    def verify(self):
        from .approval_form import check_line, describe_check
        from .chapters import view_for_model
        from .security import ScopedInterface

        sm = self.appbuilder.sm

        def visible(model, record_id):
            if not sm.has_access("can_read", model.__name__):
                return False
            return ScopedInterface(model, db.session).get(record_id) is not None

        line = (request.args.get("line") or "")[:1000]
        result = record_url = None
        if line.strip():
            result = check_line(line, visible)
            if result.record is not None:
                view = view_for_model(type(result.record))
                if view is not None:
                    record_url = url_for(f"{view.__name__}.show", pk=result.record.id)
        return self.render_template(
            "approval_form_verify.html", title=_l("Verify an approval form"), line=line,
            result=result, sentences=describe_check(result) if result else [],
            record_url=record_url)
