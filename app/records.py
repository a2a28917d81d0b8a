"""What every record screen is made of: ``RecordView`` and its data layer ``ListInterface``.

A chapter's screens (app/<chapter>/views.py) subclass ``RecordView`` with a model and its
columns, as configuration; permissions, scoping, forms, workflow steps, attachments,
deadlines, charts' drill-down and the record page follow from the model's declarations.
"""
import datetime as dt
import enum
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.widgets import ListWidget
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import Date, DateTime, LargeBinary, Numeric, Text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, defer, selectinload
from wtforms import FileField
from wtforms.fields.core import UnboundField

from .attachments import UploadCheck, attachment_link, make_attachment
from .charts import add_chart_filters
from .counting import CappedCountMixin, capped, current_cap, pages_of
from .export import GENERIC_FORMATTERS, ExportMixin
from .i18n import duration  # noqa: F401  (the chapters' views format with it)
from .extensions import db
from .forms import FilterInScope, native_date_inputs, prepare_form
from .labels import LABELS, RECORD_LABELS
from .regulation import CLAUSES, model_clauses
from .security import (
    PERMISSIONS,
    SORT_INDEX_WALK,
    FabRouteGuard,
    ScopedInterface,
    ScopeError,
    _derived,
    check_write,
    current_actor,
    owner_relationship,
    scope_for,
    stored_state,
    writable_fields,
)
from .validation import ValidatedSaveMixin, check_delete, check_record, delete_refusal


def enum_badge(value):
    """A coloured label; lists pass the member's value (a Label), show pages the member."""
    if value is None:
        return ""
    return Markup('<span class="label label-{}">{}</span>').format(value.colour, str(value))


def money(value):
    return "—" if value is None else f"¥{value:,.2f}"


def local_time(value):
    """Stored UTC; shown in the company's time zone."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_time_or_dash(value):
    return "—" if value is None else local_time(value)


def plain(value):
    """Empty values read as a dash, lists as a comma-separated line (never "None")."""
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or "—"
    return value


def _shown_columns(cls):
    columns = list(cls.__dict__.get("list_columns", []))
    columns += cls.__dict__.get("show_columns", [])
    for _title, fieldset in cls.__dict__.get("show_fieldsets", []):
        columns += fieldset["fields"]
    return columns


def author(user):
    return str(user) if user is not None else str(_l("System"))


# A record page's related tab counts at most this many rows ("1,000+"), and pages
# through them; the list of that record type, filtered, shows the rest.
RELATED_COUNT_CAP = 1000

def _own_department():
    return getattr(current_actor(), "department", None)


class ReadableListWidget(ListWidget):
    """FAB's list with a class per column (key or secondary) for narrow screens."""

    template = "readable_list.html"


def cut(value):
    """A text cut to the cell's width in lists, the full text on hover."""
    text = plain(value)
    if isinstance(text, str) and not isinstance(text, Markup):
        return Markup('<span class="cut" title="{}">{}</span>').format(text, text)
    return text


def _key_columns(cls, model):
    """Name, state and date: the columns a list keeps on a phone screen."""
    columns = list(cls.__dict__.get("list_columns", []))
    if not columns:
        return []
    workflow = getattr(model, "__workflow__", None)
    state = workflow.state_field if workflow else "status"
    keys = [columns[0]]
    keys += [c for c in columns if c == state][:1]
    mapper = sa_inspect(model)
    keys += [c for c in columns if c in mapper.columns
             and isinstance(mapper.columns[c].type, (Date, DateTime))][:1]
    return keys


class RecordView(FabRouteGuard, ExportMixin, ValidatedSaveMixin, ModelView):
    """Shared behaviour of every record screen.

    A subclass names its ``datamodel`` model and its columns; permissions
    (read/write per record type), department scoping, dropdown restriction,
    enum badges, local times, stamps, attachments, eager loading and input rules
    (app/validation.py) follow from the model's declarations.
    """

    method_permission_name = PERMISSIONS
    page_size = 20
    label_columns = LABELS
    stamp_columns = ["created_by", "created_on", "changed_by", "changed_on"]
    # Field -> default of the add form (a callable is called per form), e.g. the current user.
    add_form_defaults = {}
    list_widget = ReadableListWidget
    key_columns = []
    # The records shown as tabs on a record's page, by model: each tab is that model's
    # screen in the menu, whichever chapter declares it.
    related_records = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "datamodel" not in cls.__dict__:
            return
        model = cls.datamodel.obj
        cls.class_permission_name = model.__name__
        if isinstance(cls.datamodel, ListInterface):
            cls.datamodel.shown = tuple(cls.__dict__.get("list_columns", ()))
        # FAB fills in missing labels: keep LABELS pristine. A screen's own label_columns
        # name a column differently where the shared word would mislead (a project's
        # 建设内容 is an operation log's 内容).
        cls.label_columns = {**LABELS, **cls.__dict__.get("label_columns", {})}
        if "key_columns" not in cls.__dict__:
            cls.key_columns = _key_columns(cls, model)
        noun = cls.__dict__.get("record_label")
        RECORD_LABELS[model.__name__] = noun
        if noun is not None:
            cls.list_title = noun
            cls.show_title = _l("%(record)s details", record=noun)
            cls.add_title = _l("New %(record)s", record=noun)
            cls.edit_title = _l("Edit %(record)s", record=noun)
        formatters = {"created_on": local_time, "changed_on": local_time,
                      "created_by": author, "changed_by": author}
        mapper = sa_inspect(model)
        for column in mapper.columns:
            enum_class = getattr(column.type, "enum_class", None)
            if enum_class is not None and issubclass(enum_class, enum.Enum):
                formatters[column.key] = enum_badge
            elif isinstance(column.type, Numeric):
                formatters[column.key] = money
            elif isinstance(column.type, DateTime):
                formatters[column.key] = local_time_or_dash  # stored UTC, company time
        attachments = getattr(model, "__attachments__", ())
        for name in attachments:
            formatters[name] = attachment_link
        formatters.update(cls.__dict__.get("formatters_columns", {}))
        for column in _shown_columns(cls):
            formatters.setdefault(column, plain)
        cls.formatters_columns = formatters
        uploads = {f"{name}_upload": FileField(LABELS[name], validators=[UploadCheck()],
                                                 description=_l("PDF, Word, Excel, images; "
                                                                "checked by content."))
                   for name in attachments}
        cls.add_form_extra_fields = {**uploads, **cls.__dict__.get("add_form_extra_fields", {})}
        cls.edit_form_extra_fields = {**uploads,
                                      **cls.__dict__.get("edit_form_extra_fields", {})}
        for attr in ("add_columns", "edit_columns"):
            if attr in cls.__dict__:
                setattr(cls, attr, list(cls.__dict__[attr]) + list(uploads))
        owner = owner_relationship(model)
        if owner:
            restrict = {owner: [["id", FilterInScope, None]]}
            cls.add_form_query_rel_fields = {
                **cls.__dict__.get("add_form_query_rel_fields", {}), **restrict}
            cls.edit_form_query_rel_fields = {
                **cls.__dict__.get("edit_form_query_rel_fields", {}), **restrict}
        if "show_fieldsets" in cls.__dict__:
            cls.show_fieldsets = list(cls.show_fieldsets) + [
                (_l("Record"), {"fields": cls.stamp_columns, "expanded": False})]
        elif "show_columns" in cls.__dict__:
            cls.show_columns = list(cls.show_columns) + cls.stamp_columns

    def get_uninit_inner_views(self):
        from .chapters import view_for_model

        return list(self.related_views or ()) + [view_for_model(model)
                                                 for model in self.related_records]

    # -- show page: the record's workspace -----------------------------------
    show_template = "record_show.html"
    add_template = "record_add.html"
    edit_template = "record_edit.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk, refused=None):
        """The record with its steps (each with the fields it needs), the step tracker,
        who acts next, the latest return or rejection reason, approvals and history.
        ``refused``: (step name, its form, the comment typed) when a step was refused."""
        from .history_views import (
            ACTIONS,
            HISTORY_PAGE_SIZE,
            describe,
            entries_for,
            evidence_time,
            prepare,
            who,
        )

        widgets = self._show(pk)  # 404 when the record is outside the user's scope
        record = self.datamodel.get(pk, self._base_filters)
        workflow = None
        if hasattr(type(record), "__workflow__"):
            workflow = self._workspace(record, refused)
        history_page = request.args.get("page_History", 0, type=int)
        history, history_count, history_page = entries_for(record, history_page)
        names = prepare(history)  # every name the History tab shows, in a few queries
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets,
            related_views=self._related_views, history=history,
            history_count=history_count, history_page=history_page,
            history_pages=pages_of(history_count, HISTORY_PAGE_SIZE),
            describe=lambda entry: describe(entry, names), who=lambda entry: who(entry, names),
            when=evidence_time, actions=ACTIONS, local_time=local_time, workflow=workflow,
            buttons=self.record_buttons(record), panel=self.record_panel(record),
            form_url=(url_for(f"{type(self).__name__}.approval_form", pk=record.id)
                      if workflow is not None else None),
            edit_url=self._edit_url(record),
            can_see_log=self.appbuilder.sm.has_access("can_read", "ChangeLog"),
            clauses=self.record_clauses(), english=str(get_locale() or "zh").startswith("en"))

    def record_clauses(self):
        """The regulation's clauses this record type serves: those its model's docstring
        names (app/regulation.py), shown at the top of the record page."""
        return [CLAUSES[cid] for cid in model_clauses(self.datamodel.obj)]

    def _get_related_view_widget(self, item, related_view, order_column="",
                                 order_direction="", page=None, page_size=None):
        # A tab of 24,000 incidents costs what a tab of three does: a bounded count
        # ("1,000+") and one page on the (foreign key, order) index.
        with capped(RELATED_COUNT_CAP):
            return super()._get_related_view_widget(item, related_view, order_column,
                                                    order_direction, page, page_size)

    def _edit_url(self, record):
        """The edit page, for whoever may write something of the record in its state."""
        user = current_actor()
        if user is None or not self.appbuilder.sm.has_access("can_write",
                                                             self.class_permission_name):
            return None
        if not getattr(self, "edit_columns", None):
            return None
        allowed = writable_fields(record, user)
        if allowed is not None and not (allowed - _derived(type(record))) & \
                {name for c in self.edit_columns for name in (c, c.removesuffix("_upload"))}:
            return None
        if allowed is None:
            try:
                check_write(record, user)
            except ScopeError:
                return None
        return url_for(f"{type(self).__name__}.edit", pk=record.id)

    def _workspace(self, record, refused=None):
        from .approvals import approvals_of, next_steps, transitions_for
        from .history import unrecorded_approvals

        flow = type(record).__workflow__
        state = getattr(record, flow.state_field)
        approvals = approvals_of(record)
        moves = []
        for move in transitions_for(record, current_actor()):
            form = None
            if move.fields:
                if refused is not None and refused[0] == move.name:
                    form = refused[1]
                else:
                    form = self._step_form(move, record)
            moves.append({"name": move.name, "label": move.label, "style": move.style,
                          "needs_comment": move.needs_comment, "form": form,
                          "terminal": flow.terminal(move)})
        path = flow.main_path()
        reached = path.index(state) if state in path else None
        if reached is None:
            # Off the main path (returned, rejected ...): where it left the path counts.
            for approval in reversed(approvals):
                left = flow.states[approval.from_state] if approval.from_state in \
                    flow.states.__members__ else None
                if left in path:
                    reached = path.index(left)
                    break
        tracker = [{"state": s, "done": reached is not None and i < reached,
                    "current": s is state} for i, s in enumerate(path)]
        if state not in path:
            tracker.insert((reached or 0) + 1, {"state": state, "done": False,
                                                "current": True, "aside": True})
        reasons = {t.name for t in flow.transitions if t.needs_comment}
        reason = next((a for a in reversed(approvals)
                       if a.transition in reasons and a.comment), None)
        steps = next_steps(record)
        forward = [(t, people) for t, people in steps if not t.needs_comment]
        return {"state": state, "moves": moves, "approvals": approvals,
                "version": record.version, "tracker": tracker, "reason": reason,
                "next": forward or steps, "final": state in flow.final_states(),
                "comment": refused[2] if refused is not None else "",
                "comment_missing": bool(refused and refused[3]),
                # not in the tamper-evident history: never shown as genuine
                "unrecorded": unrecorded_approvals(db.session, approvals)}

    def _step_form(self, transition, record=None, formdata=None):
        """A form of the step's fields (``Transition.fields``), with the screen's
        widgets and input rules (the edit form's fields, uploads as files)."""
        base = self.__dict__.get("_edit_form") or self.__dict__.get("_add_form")
        wanted = {name for field in transition.fields
                  for name in (field, f"{field}_upload")}
        hidden = {name: None for name in dir(base)
                  if isinstance(getattr(base, name, None), UnboundField)
                  and name not in wanted}
        form_class = type(f"{base.__name__}Step", (base,), hidden)
        if formdata is not None:
            form = form_class(formdata=formdata)
        else:
            form = form_class(formdata=None, obj=record)
        # In the order the step declares them (a text before the file that proves it).
        order = {name: index for index, name in enumerate(transition.fields)}
        form._fields = dict(sorted(form._fields.items(), key=lambda item: order.get(
            item[0].removesuffix("_upload"), -1)))
        return form

    def record_buttons(self, record):
        """Extra POST buttons on the show page, as (url, label, style); none by default."""
        return []

    def record_panel(self, record):
        """Extra HTML (a small form) on the show page; none by default."""
        return None

    # -- saving returns to the record; "save and submit" in one go ------------
    def _save(self, form, item, adding):
        saved = super()._save(form, item, adding)
        if saved:
            g.saved_record = item
            if adding and request.form.get("and_submit") and self._submit_step(item):
                self._submit_now(item)
            else:
                self._say_if_draft(item)
        return saved

    @staticmethod
    def _submit_step(record):
        """The record's submit step from its current state, when the current user may take
        it (an auditor recording a finding does not submit its rectification), or None."""
        from .approvals import actor_for
        from .workflow import who_may_fire

        workflow = getattr(type(record), "__workflow__", None)
        user = current_actor()
        if workflow is None or user is None:
            return None
        state = stored_state(record)
        with db.session.no_autoflush:
            return next((t for t in workflow.transitions
                         if t.submits and t.applies(record, state)
                         and who_may_fire(t, record, actor_for(user), state=state)), None)

    def _submit_now(self, record):
        from .approvals import perform
        from .validation import RecordInvalid
        from .workflow import WorkflowError

        move = self._submit_step(record)
        try:
            approval = perform(record, move.name, current_actor(), "")
        except (WorkflowError, ScopeError, RecordInvalid) as exc:
            flash(gettext("Saved as a draft, not submitted: %(reason)s",
                          reason=gettext(str(exc))), "warning")
            return
        flash(gettext("%(step)s: done. Now %(state)s.", step=gettext(approval.label),
                      state=str(stored_state(record))), "success")

    def _say_if_draft(self, record):
        move = self._submit_step(record)
        if move is not None:
            flash(gettext("Not submitted yet: this record stays a draft (%(state)s) until "
                          "you press “%(step)s” on its page.",
                          state=str(stored_state(record)), step=gettext(move.label)),
                  "warning")

    def _back_to_record(self):
        record = g.pop("saved_record", None)
        if record is not None and getattr(record, "id", None) is not None:
            return redirect(url_for(f"{type(self).__name__}.show", pk=record.id))
        return None

    def post_add_redirect(self):
        return self._back_to_record() or super().post_add_redirect()

    def post_edit_redirect(self):
        return self._back_to_record() or super().post_edit_redirect()

    def render_template(self, template, **kwargs):
        if template == self.add_template:
            move = self._submit_step(self._form_record(True))
            kwargs.setdefault("submit_label", move.label if move is not None else None)
        elif template == self.edit_template:
            record = self._form_record(False)
            kwargs.setdefault("attached", [
                (LABELS.get(name, name), getattr(record, name))
                for name in getattr(type(record), "__attachments__", ())
                if getattr(record, name, None) is not None] if record is not None else [])
        return super().render_template(template, **kwargs)

    # -- add: not for those who may only fill in some fields ---------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        allowed = getattr(self.datamodel.obj, "__department_columns__", None)
        if allowed is not None and not set(self.add_columns) <= set(allowed) and \
                not scope_for(current_actor()).everything:
            # e.g. a department fills in a finding's rectification, never adds one; it
            # does add its own feedback on a plan (every field of that form is its own).
            abort(403)
        record = self._form_record(True)
        if writable_fields(record, current_actor()) == _derived(type(record)):
            abort(403)  # the workflow gives this role nothing to write in a new record
        return super().add()

    # -- edit: only when the record's state leaves the user something to write -----
    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        record = self.datamodel.get(pk, self._base_filters)
        if record is not None and writable_fields(record, current_actor()) == \
                _derived(type(record)):
            flash(gettext("Nothing of this record can be changed by you in its current "
                          "state (%(state)s).", state=str(stored_state(record))), "warning")
            return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        if record is not None and request.method == "GET":
            try:  # another department's record: no form that could only be refused
                check_write(record)
            except ScopeError as exc:
                db.session.rollback()
                flash(str(exc), "warning")
                return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        return super().edit(pk)

    # -- the printable approval form (审批单), A4 PDF in Chinese ---------------
    @expose("/approval-form/<pk>", methods=["GET"])
    @has_access
    def approval_form(self, pk):
        """The record's approval form as a PDF (app/approval_form.py): for whoever may
        read the record (404 outside the department scope, as the record page)."""
        from flask import make_response

        from .approval_form import render_pdf

        record = self.datamodel.get(pk, self._base_filters)
        if record is None or not hasattr(type(record), "__workflow__"):
            abort(404)
        data = render_pdf(record, self, current_actor())
        db.session.rollback()  # read only
        response = make_response(data)
        response.headers["Content-Type"] = "application/pdf"
        name = f"approval-form-{type(record).__name__}-{record.id}.pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{name}"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- workflow steps: POST only, with CSRF; the engine decides -----------
    @expose("/transition/<pk>/<name>", methods=["POST"])
    @has_access
    def transition(self, pk, name):
        """Fire a step, with the fields it needs written in the same transaction; a
        refused step shows the page again with everything typed and what is missing."""
        from werkzeug.datastructures import CombinedMultiDict

        from .approvals import perform, step_of
        from .validation import RecordInvalid
        from .workflow import CommentRequired, GuardFailed, WorkflowError

        record = self.datamodel.get(pk, self._base_filters)
        if record is None or not hasattr(type(record), "__workflow__"):
            abort(404)
        version = request.form.get("version", "")
        try:
            version = int(version) if version.strip() else None
        except ValueError:
            abort(400)
        comment = request.form.get("comment", "")
        user = current_actor()
        form = None
        try:
            move = step_of(record, name, user, version)
            if move.fields:
                form = self._step_form(move, formdata=CombinedMultiDict(
                    [request.form, request.files]))
                if name not in request.form.getlist("step_form"):
                    # Posted without the page's fields (a script): what is not sent
                    # stays as it is.
                    for field in list(form):
                        if field.type != "CSRFTokenField" and field.name not in \
                                request.form and field.name not in request.files:
                            del form[field.name]
                if not form.validate():
                    flash(gettext("Check the fields marked below."), "danger")
                    db.session.rollback()
                    return self.show(pk, refused=(name, form, comment, False)), 422

            def write(transition):
                if form is None:
                    return
                for field in form:
                    if field.name.removesuffix("_upload") in transition.fields and \
                            not field.name.endswith("_upload"):
                        field.populate_obj(record, field.name)
                self._store_uploads(record)

            approval = perform(record, name, user, comment, version=version,
                               write=write if form is not None else None)
        except (WorkflowError, ScopeError, RecordInvalid) as exc:
            status = getattr(exc, "status", 403 if isinstance(exc, ScopeError) else 422)
            if isinstance(exc, RecordInvalid):
                for field_name, messages in exc.errors.items():
                    if form is not None and field_name in form:
                        form[field_name].errors = list(form[field_name].errors) + \
                            list(messages)
                    elif form is not None and f"{field_name}_upload" in form:
                        form[f"{field_name}_upload"].errors = list(messages)
                flash(str(exc), "danger")
            else:
                flash(gettext(str(exc)), "danger")
            if isinstance(exc, GuardFailed) and form is not None:
                self._mark_missing(form, exc.fields)
            return self.show(pk, refused=(name, form, comment,
                                          isinstance(exc, CommentRequired))), status
        flash(gettext("%(step)s: done. Now %(state)s.", step=gettext(approval.label),
                      state=str(getattr(record, type(record).__workflow__.state_field))),
              "success")
        return redirect(url_for(f"{type(self).__name__}.show", pk=pk))

    @staticmethod
    def _mark_missing(form, wanted=()):
        """Marks the step's fields left empty (what the step's guard is missing): those
        the guard names when it names them (an optional file stays unmarked)."""
        for field in form:
            if field.type in ("CSRFTokenField", "HiddenField"):
                continue
            if wanted and field.name.removesuffix("_upload") not in wanted:
                continue
            data = field.data
            empty = data is None or data is False or (isinstance(data, str)
                                                      and not data.strip())
            if field.type == "FileField":
                empty = not getattr(data, "filename", None)
            if empty and not field.errors:
                field.errors = [gettext("Needed for this step.")]

    # -- lists: sorted only by the columns offered for sorting --------------
    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         **kwargs):
        # FAB sorts by any attribute named in _oc_ (``__class__``: 500; a related
        # user's password hash: a side channel); fall back to the default order.
        if order_column not in self.order_columns:
            order_column, order_direction = "", ""
        widgets = super()._get_list_widget(filters, actions, order_column, order_direction,
                                           **kwargs)
        self._readable_rows(widgets["list"].template_args)
        if request.endpoint == f"{type(self).__name__}.list":  # not a record page's tab
            widgets["list"].template_args["export_urls"] = self.export_urls()
        return widgets

    def _init_properties(self):
        super()._init_properties()
        # Deadline filters ("Overdue", "Ending soon", "Waiting too long") beside the
        # column's own filters, in the search form and by URL (_flt_<n>_<column>).
        from .deadlines import deadline_filter, deadlines_for

        for rule in deadlines_for(self.datamodel.obj):
            column = rule.column(self.datamodel.obj)
            flt = deadline_filter(rule)(column, self.datamodel)
            self._filters._search_filters.setdefault(column, []).append(flt)
            self._filters._all_filters.setdefault(column, []).append(flt)
        add_chart_filters(self)  # what its charts' drill-down links filter on

    def _readable_rows(self, args):
        """Deadline badges and cut texts for one page of a list (one query for the page)."""
        from .deadlines import deadlines_for

        args["key_columns"] = self.key_columns
        formatters = dict(args["formatters_columns"])
        rows = [dict(values) for values in args["value_columns"]]
        model = self.datamodel.obj
        rules = [rule for rule in deadlines_for(model)
                 if rule.column(model) in self.list_columns]
        records = {pk: values.pop(ROW_RECORD, None) for pk, values in zip(args["pks"], rows)}
        for column in self.list_columns:
            formatter = formatters.get(column)
            column_rules = [rule for rule in rules if rule.column(model) == column]
            if formatter is plain:
                formatter = cut
            elif not column_rules:
                continue
            for pk, values in zip(args["pks"], rows):
                shown = formatter(values[column]) if formatter else values[column]
                record = records.get(pk)
                badges = [rule.badge() for rule in column_rules
                          if record is not None and rule.applies(record)]
                values[column] = Markup("").join([Markup.escape(shown), *badges])
            formatters.pop(column, None)
        args["formatters_columns"] = formatters
        args["value_columns"] = rows

    # -- attachments ------------------------------------------------------
    def _store_uploads(self, item):
        for name in getattr(type(item), "__attachments__", ()):
            storage = request.files.get(f"{name}_upload") if request else None
            if storage is not None and storage.filename:
                setattr(item, name, make_attachment(storage))

    def pre_add(self, item):
        self._store_uploads(item)
        self._guard(item)
        check_record(item, db.session)

    def pre_update(self, item):
        self._store_uploads(item)
        self._guard(item)
        check_record(item, db.session)

    # -- forms: native date pickers in local time, length limits, placeholders ----
    def _init_forms(self):
        super()._init_forms()
        model = self.datamodel.obj
        defaults = dict(self.add_form_defaults)
        owner = owner_relationship(model)
        if owner:  # a new record belongs to the user's own department unless they choose
            defaults.setdefault(owner, _own_department)
        prepare_form(self.add_form, model, defaults)
        native_date_inputs(self.search_form, model)
        prepare_form(self.edit_form, model)

    # -- forms: only the fields the user may write in the record's state ------
    def _restricted_form(self, form_class, record):
        """``form_class`` without the fields the current user may not write on ``record``
        (per-state rules of approvable records, app/workflow.py ``Edit``)."""
        from .security import writable_fields

        if form_class is None or record is None:
            return form_class
        allowed = writable_fields(record, current_actor())
        if allowed is None:
            return form_class
        hidden = {name: None for name in dir(form_class)
                  if isinstance(getattr(form_class, name, None), UnboundField)
                  and name.removesuffix("_upload") not in allowed}
        if not hidden:
            return form_class
        return type(form_class.__name__, (form_class,), hidden)

    # The form widgets list only the fields the restricted form has.
    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["add"] = self.add_widget(
            form=form, include_cols=[c for c in self.add_columns if c in form],
            exclude_cols=exclude_cols or [], fieldsets=self.add_fieldsets)
        return widgets

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["edit"] = self.edit_widget(
            form=form, include_cols=[c for c in self.edit_columns if c in form],
            exclude_cols=exclude_cols or [], fieldsets=self.edit_fieldsets)
        return widgets

    def _form_record(self, adding):
        if adding:
            # A new record of the user's own department: that is where it will be.
            record = self.datamodel.obj()
            actor = current_actor()
            workflow = getattr(self.datamodel.obj, "__workflow__", None)
            for rule in getattr(workflow, "editable", ()):
                if rule.department and "." not in rule.department and actor is not None:
                    setattr(record, rule.department, actor.department_id)
            return record
        pk = (request.view_args or {}).get("pk")
        return self.datamodel.get(pk, self._base_filters) if pk is not None else None

    def _request_form(self, kind):
        """The add or edit form for this request: only the fields the user may write on
        the record (looked up once per request; dropdown filters read it from ``g``)."""
        form = self.__dict__.get(f"_{kind}_form")
        if not has_request_context() or request.endpoint != f"{type(self).__name__}.{kind}":
            return form
        key = (request.endpoint, (request.view_args or {}).get("pk"))
        if g.get("form_record_key") != key:
            g.form_record = self._form_record(kind == "add")
            g.form_record_key = key
        return self._restricted_form(form, g.form_record)

    add_form = property(lambda self: self._request_form("add"),
                        lambda self, value: self.__dict__.__setitem__("_add_form", value))
    edit_form = property(lambda self: self._request_form("edit"),
                         lambda self, value: self.__dict__.__setitem__("_edit_form", value))

    def pre_delete(self, item):
        self._guard(item, deleting=True)
        check_delete(item, db.session)

    def _guard(self, item, deleting=False):
        """The scoping rule, checked early so the user gets its own message."""
        try:
            check_write(item, deleting=deleting)
        except ScopeError:
            db.session.rollback()
            raise

    # -- actions: unknown or invisible rows are 404, never a crash ----------
    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        pks = request.form.getlist("rowid")
        permission = self.get_action_permission_name(name)
        if not self.appbuilder.sm.has_access(permission, self.class_permission_name):
            flash(str(_l("Access is Denied")), "danger")
            return redirect(self.get_redirect())
        items = [self.datamodel.get(pk) for pk in pks]
        if not items or any(item is None for item in items):
            abort(404)
        return self.actions[name].func(items)

    @action("muldelete", _l("Delete"), _l("Delete all selected records?"), "fa-trash",
            single=False)
    def muldelete(self, items):
        refusals = [f"{item}: {reason}" for item in items
                    if (reason := delete_refusal(item, db.session))]
        try:
            if refusals:
                raise ScopeError("；".join(refusals))
            self.datamodel.delete_all(items)
            flash(str(_l("Deleted %(count)d records.", count=len(items))), "success")
        except ScopeError as exc:
            flash(str(exc), "danger")
        except Exception:  # integrity: referenced records cannot go
            db.session.rollback()
            flash(str(_l("These records are still referenced and cannot be deleted.")),
                  "danger")
        self.update_redirect()
        return redirect(self.get_redirect())

    # Defined after the actions: in the class body this name hides the decorator.
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        """The single-record door: only actions offered on one record, on a visible one."""
        action_item = self.actions.get(name)
        if action_item is None or not action_item.single:
            abort(404)
        if request.method == "POST" and self.datamodel.get(pk) is None:
            abort(404)
        return super().action(name, pk)


ROW_RECORD = "__record__"


# Visible rows from which a list is paged on its sort index rather than collected by the
# scoping indexes and sorted: sorting costs a table lookup per visible row, walking the
# covering sort index at most one index entry per row of the table.
SORT_INDEX_WALK_ABOVE = 2000


class ListInterface(CappedCountMixin, ScopedInterface):
    """The data layer of a record screen. Its lists sort and page first and then load what
    the page shows: the related rows of the page's records (one ``SELECT ... IN`` per
    relation shown, never a join that sorts the whole table) and none of the long texts
    the list does not show. ``shown`` is the screen's ``list_columns``. Inside ``capped``
    (a record page's tabs) counts and pages are bounded (app/counting.py)."""

    shown = ()

    def get_values(self, lst, list_columns):
        # Each row keeps its record, for the badges of its deadlines (no second query).
        for item, values in zip(lst, super().get_values(lst, list_columns)):
            values[ROW_RECORD] = item
            yield values

    def page_options(self):
        mapper = sa_inspect(self.obj)
        shown = set(self.shown)
        options = [selectinload(getattr(self.obj, rel.key)) for rel in mapper.relationships
                   if rel.key in shown and rel.direction is RelationshipDirection.MANYTOONE]
        options += [defer(getattr(self.obj, attr.key)) for attr in mapper.column_attrs
                    if attr.key not in shown
                    and isinstance(attr.columns[0].type, (Text, LargeBinary))]
        return options

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False):
        """(count, the page's records). The page's keys are found first, on the sort
        column's index alone (``(column, id)``: an index-only walk), from whichever end of
        the list is nearer; then the page's 20 or 100 rows are read by key, in one
        statement. So page 200 and the last page cost about what page 1 does."""
        if not (order_column or page_size or select_columns):
            return self._choices(filters)
        if select_columns or not order_column or not page_size or current_cap() is not None:
            return super().query(filters, order_column, order_direction, page, page_size,
                                 select_columns, outer_default_load)
        pk = getattr(self.obj, self.get_pk_name())
        count = self._apply_inner_all(self.session.query(pk), filters).order_by(None).count()
        start = (page or 0) * page_size
        size = max(0, min(page_size, count - start))
        backwards = start + size / 2 > count / 2
        if backwards:  # the far half of the list: read it from the other end
            start = count - start - size
            order_direction = "asc" if order_direction == "desc" else "desc"
        # A long list is paged on its sort index when that carries the scoping columns; a
        # short one is found by its scoping indexes and sorted (app/security.py).
        walk = SORT_INDEX_WALK.set(count > SORT_INDEX_WALK_ABOVE
                                   and self._sort_index_covers_scope(order_column))
        try:
            keys = (self._apply_inner_all(self.session.query(pk), filters, order_column,
                                          order_direction, aliases_mapping={})
                    .offset(start).limit(size).subquery())
        finally:
            SORT_INDEX_WALK.reset(walk)
        rows = self.session.query(self.obj).join(keys, pk == keys.c[pk.key])
        rows = self.apply_order_by(rows, order_column, order_direction, aliases_mapping={},
                                   add_pk=True)
        records = rows.options(*self.page_options()).all() if size else []
        return count, records[::-1] if backwards else records

    def _sort_index_covers_scope(self, order_column):
        """Whether an index led by ``order_column`` holds every scoping column."""
        mapper = sa_inspect(self.obj)
        wanted = set()
        for path in getattr(self.obj, "__scope__", None) or ():
            head = path.partition(".")[0]
            wanted |= ({column.name for column in mapper.relationships[head].local_columns}
                       if head in mapper.relationships else {head})
        return any(index.columns[0].name == order_column
                   and wanted <= {column.name for column in index.columns}
                   for index in self.obj.__table__.indexes)

    def _choices(self, filters):
        """Every row in scope, for a dropdown of a form or of the search form: no count
        (the form needs none), and a table that several dropdowns offer (the requesting
        and the providing department) is read once per request."""
        cacheable = has_request_context() and not (filters and filters.filters)
        cache = g.setdefault("choices", {}) if cacheable else {}
        if self.obj not in cache:
            query = self.apply_all(self.session.query(self.obj), filters)
            cache[self.obj] = query.options(*self.page_options()).all()
        rows = cache[self.obj]
        return len(rows), rows


def scoped(model):
    return ListInterface(model)


class ListLink:
    """A menu entry opening a record screen's list filtered by one of its deadlines (the
    badge and list filter a record type declares, ``__deadlines__``), e.g. 运行维护 →
    未授权变更. Declared by a chapter in ``MENU_LINKS`` beside its ``MENU``; ``name`` is
    its permission name (menu_access, config.py). With ``home`` (user, scope -> bool),
    also a card with the count on the home page of the users it names."""

    def __init__(self, name, category, view, deadline, label, icon, home=None):
        self.name, self.category, self.view, self.deadline = name, category, view, deadline
        self.label, self.icon, self.home = label, icon, home

    def _instance(self):
        return next(view for view in current_app.appbuilder.baseviews
                    if type(view) is self.view)

    def path(self):
        """The list's path with the deadline filter (``_flt_<n>_<column>=y``)."""
        view = self._instance()
        column = self.deadline.column(view.datamodel.obj)
        index = next(i for i, flt in enumerate(view._filters._all_filters[column])
                     if getattr(flt, "arg_name", "") == f"deadline_{self.deadline.name}")
        return f"{view.route_base}/list/?_flt_{index}_{column}=y"

    def count(self, user):
        """How many records of the link the user sees (under their scope)."""
        from sqlalchemy import func

        from .security import read_clause, scope_for

        model = self.view.datamodel.obj
        query = db.session.query(func.count(model.id)).filter(self.deadline.clause(model))
        clause = read_clause(model, scope_for(user))
        if clause is not None:
            query = query.filter(clause)
        return query.scalar()

    def card(self, user):
        """(label, count, path, icon) for the user's home page, or None when not theirs."""
        from .security import scope_for

        sm = current_app.appbuilder.sm
        if (user is None or self.home is None or not self.home(user, scope_for(user))
                or not sm.has_access("menu_access", self.name)):
            return None
        return self.label, self.count(user), self.path(), self.icon


GENERIC_FORMATTERS.update({attachment_link, author, cut, enum_badge, local_time,
                           local_time_or_dash, money, plain})
