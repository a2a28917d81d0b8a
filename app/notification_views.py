"""Screens and API of the in-app notifications (app/notifications.py): the list, mark one
or all read. Everyone sees only their own notifications: another user's answers 404 and
nothing changes. Marking read is a POST (with the CSRF token on the screens)."""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .extensions import db
from .filters import INT64
from .labels import RECORD_LABELS
from .notifications import (
    mark_all_read,
    mark_read,
    newest_id,
    notifications_page,
    own,
    unread_count,
)
from .paging import PAGE_MAX
from .records import local_time
from .security import current_actor

SHOW = ("all", "unread")


def record_url(notification):
    """The record's page, or None when its record type has no screen."""
    from .chapters import record_views

    for view in record_views():
        if view.datamodel.obj.__name__ == notification.record_type:
            return url_for(f"{view.__name__}.show", pk=notification.record_id)
    return None


def describe(notification):
    """One notification as the list and the API show it."""
    step = notification.approval
    return {
        "id": notification.id,
        "kind": notification.kind.name,
        "kind_label": str(notification.kind),
        "kind_colour": notification.kind.colour,
        "record_type": notification.record_type,
        "record_type_label": str(RECORD_LABELS.get(notification.record_type,
                                                   notification.record_type)),
        "record_id": notification.record_id,
        "title": notification.title,
        "url": record_url(notification),
        # The step (None only if its approval row is gone: `flask history verify` names it).
        "step": gettext(step.label) if step is not None else None,
        "state": step.to_state if step is not None else None,
        "by": str(step.actor) if step is not None and step.actor is not None else None,
        "on_behalf_of": str(step.acting_for)
        if step is not None and step.acting_for is not None else None,
        "comment": step.comment if step is not None else None,  # a return's reason ...
        "created_on": local_time(notification.created_on),
        "read": notification.read_at is not None,
        "read_at": local_time(notification.read_at) or None,
    }


def _whole_number(value, default, low, high):
    """``value`` as an integer within [low, high]; None when it is not a number."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return min(max(number, low), high)


class NotificationView(BaseView):
    """通知: the user's notifications, newest first, unread or all, a page at a time."""

    route_base = "/notifications"
    default_view = "index"
    class_permission_name = "Notifications"
    method_permission_name = {"index": "read", "open": "write", "read": "write",
                              "read_all": "write"}

    @expose("/")
    @has_access
    def index(self):
        show = request.args.get("show", "all")
        if show not in SHOW:
            show = "all"
        size = current_app.config["NOTIFICATION_PAGE_SIZE"]
        page = _whole_number(request.args.get("page"), 1, 1, PAGE_MAX) or 1
        user = current_actor()
        rows, total = notifications_page(db.session, user.id, show == "unread", page, size)
        pages = max(1, -(-total // size))
        if page > pages:
            page = pages
            rows, total = notifications_page(db.session, user.id, show == "unread", page,
                                             size)
        items = [describe(n) for n in rows]
        return self.render_template(
            "notifications.html", title=_l("Notifications"), items=items, show=show,
            page=page, pages=pages, total=total, unread=unread_count(db.session, user.id),
            up_to=newest_id(db.session, user.id))

    def _back(self):
        show = request.form.get("show")
        page = _whole_number(request.form.get("page"), 1, 1, PAGE_MAX) or 1
        args = {"show": show} if show in SHOW else {}
        if page > 1:
            args["page"] = page
        return redirect(url_for("NotificationView.index", **args))

    def _own_or_404(self, pk):
        if pk not in INT64:
            abort(404)
        found = mark_read(db.session, current_actor().id, pk)
        if found is None:
            abort(404)
        return found

    @expose("/open/<int:pk>", methods=["POST"])
    @has_access
    def open(self, pk):
        """Mark read and go to the record."""
        found = self._own_or_404(pk)
        url = record_url(found)
        return redirect(url) if url else self._back()

    @expose("/read/<int:pk>", methods=["POST"])
    @has_access
    def read(self, pk):
        self._own_or_404(pk)
        return self._back()

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        up_to = request.form.get("up_to")
        number = _whole_number(up_to, None, 0, INT64[-1])
        if up_to not in (None, "") and number is None:
            flash(gettext("Not a valid notification number: nothing was marked read."),
                  "danger")
            return self._back()
        marked = mark_all_read(db.session, current_actor().id, number)
        flash(gettext("%(count)d notifications marked read.", count=marked), "success")
        return self._back()


class NotificationApi(BaseApi):
    """/api/v1/notification/: the caller's own notifications; mark one or all read."""

    resource_name = "notification"
    class_permission_name = "Notifications"
    method_permission_name = {"get_list": "read", "get": "read", "read": "write",
                              "read_all": "write"}
    allow_browser_login = False
    openapi_spec_tag = "Notifications"
    max_per_page = 100

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The caller's notifications, newest first.
        ---
        get:
          parameters:
          - {in: query, name: unread, schema: {type: boolean}, description: only unread}
          - {in: query, name: page, schema: {type: integer}, description: from 0}
          - {in: query, name: per_page, schema: {type: integer}, description: 1 to 100}
          responses:
            200: {description: "count, unread and result (the page)"}
            400: {description: a parameter is not valid}
        """
        unread = request.args.get("unread", "false").lower()
        if unread not in ("true", "false", "1", "0"):
            return self.response_400(message=gettext("unread must be true or false."))
        page = _whole_number(request.args.get("page"), 0, 0, PAGE_MAX)
        size = _whole_number(request.args.get("per_page"), 20, 1, self.max_per_page)
        if page is None or size is None:
            return self.response_400(message=gettext("page and per_page must be whole "
                                                     "numbers."))
        user = current_actor()
        rows, total = notifications_page(db.session, user.id, unread in ("true", "1"),
                                         page + 1, size)
        return self.response(200, count=total, unread=unread_count(db.session, user.id),
                             page=page, per_page=size,
                             result=[describe(n) for n in rows])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        """One of the caller's notifications (404 for anyone else's).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the notification}
            404: {description: no such notification of the caller}
        """
        found = own(db.session, current_actor().id, pk) if pk in INT64 else None
        if found is None:
            return self.response_404()
        return self.response(200, result=describe(found))

    @expose("/<int:pk>/read", methods=["POST"])
    @protect()
    @safe
    def read(self, pk):
        """Mark one of the caller's notifications read (404 for anyone else's).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the notification, read}
            404: {description: no such notification of the caller}
        """
        found = mark_read(db.session, current_actor().id, pk) if pk in INT64 else None
        if found is None:
            return self.response_404()
        return self.response(200, result=describe(found))

    @expose("/read", methods=["POST"])
    @protect()
    @safe
    def read_all(self):
        """Mark the caller's unread notifications read; body {"up_to": id} (optional):
        only those up to that id.
        ---
        post:
          responses:
            200: {description: "marked: how many"}
            400: {description: the body is not valid}
        """
        payload = request.get_json(silent=True)
        if payload is None and not request.get_data():
            payload = {}
        up_to = payload.get("up_to") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or set(payload) - {"up_to"} or not (
                up_to is None or (isinstance(up_to, int) and not isinstance(up_to, bool)
                                  and up_to in INT64)):
            return self.response_400(message=gettext(
                "Body must be {} or {\"up_to\": <notification id>}."))
        marked = mark_all_read(db.session, current_actor().id, up_to)
        return self.response(200, marked=marked)
