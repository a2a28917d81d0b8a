"""Planning and project initiation (regulation chapter 3): screens and API resources."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import permission_name, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from app.api import RecordApi
from app.base import AppUser
from app.extensions import db
from app.planning import panels
from app.planning.models import (
    DevelopmentPlan,
    ExpertReview,
    PlanFeedback,
    PlanStatus,
    ProjectRequest,
    ProjectStatus,
    plan_new_version,
)
from app.procurement.models import (
    ChangeOrder,
    Contract,
    Milestone,
    ProgressReport,
    Tender,
    overdue_milestones,
)
from app.records import RecordView, scoped
from app.security import PERMISSIONS, ScopedInterface, ScopeError, check_write, current_actor
from app.workflow import N_


# ---------------------------------------------------------------------- Screens

class PlanFeedbackView(RecordView):
    record_label = _l("Plan feedback")
    datamodel = scoped(PlanFeedback)
    list_columns = ["plan", "department", "opinion", "it_response", "changed_on"]
    search_columns = ["department", "opinion", "it_response", "created_on"]
    show_columns = ["plan", "department", "opinion", "it_response"]
    add_columns = ["plan", "department", "opinion"]
    edit_columns = ["opinion", "it_response"]
    order_columns = ["changed_on"]
    base_order = ("changed_on", "desc")
    add_form_query_rel_fields = {"plan": [["status", FilterEqual, PlanStatus.consultation]]}


class DevelopmentPlanView(RecordView):
    record_label = _l("Development plan")
    datamodel = scoped(DevelopmentPlan)
    method_permission_name = {**PERMISSIONS, "new_version": "write"}
    list_columns = ["title", "period", "plan_version", "status", "changed_on"]
    search_columns = ["title", "period", "plan_version", "status", "goals", "created_on"]
    show_fieldsets = [
        (_l("Plan"), {"fields": ["title", "period", "plan_version", "previous_version",
                                 "status"]}),
        (_l("Content"), {"fields": ["goals", "tasks", "priorities", "schedule"]}),
    ]
    add_columns = ["title", "period", "goals", "tasks", "priorities", "schedule"]
    edit_columns = add_columns
    order_columns = ["title", "period", "plan_version", "status", "changed_on"]
    base_order = ("changed_on", "desc")
    related_records = (PlanFeedback,)

    def record_buttons(self, record):
        if (record.status is PlanStatus.published and not record.next_versions
                and self.appbuilder.sm.has_access("can_write", "DevelopmentPlan")):
            return [(url_for(f"{type(self).__name__}.new_version", pk=record.id),
                     _l("Start a new version"), "primary")]
        return []

    @expose("/new_version/<pk>", methods=["POST"])
    @has_access
    def new_version(self, pk):
        """A new draft starting from a published plan (3.1); POST with CSRF only."""
        plan = self.datamodel.get(pk, self._base_filters)
        if plan is None:
            abort(404)
        try:
            draft = plan_new_version(plan)
            check_write(draft)
            db.session.add(draft)
            db.session.commit()
        except (ValueError, ScopeError, IntegrityError) as exc:
            db.session.rollback()
            message = str(exc) if not isinstance(exc, IntegrityError) else N_(
                "A newer version of this plan exists already.")
            flash(gettext(message), "danger")
            return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        flash(gettext("Version %(version)s started as a draft.", version=draft.plan_version),
              "success")
        return redirect(url_for(f"{type(self).__name__}.show", pk=draft.id))


class FilterExperts(BaseFilter):
    """Dropdown filter: users holding the Expert role."""

    name = _l("Experts")
    arg_name = "expert"

    def apply(self, query, value):
        return query.filter(AppUser.roles.any(name="Expert"))


class ExpertReviewView(RecordView):
    record_label = _l("Expert review")
    datamodel = scoped(ExpertReview)
    list_columns = ["project", "expert", "no_conflict", "score", "status", "changed_on"]
    search_columns = ["status", "score", "department", "created_on"]
    show_columns = ["project", "expert", "department", "no_conflict", "score", "opinion",
                    "status"]
    add_columns = ["project", "expert"]  # IT assigns; the expert fills in the rest
    edit_columns = ["no_conflict", "score", "opinion"]
    order_columns = ["score", "status", "changed_on"]
    base_order = ("changed_on", "asc")
    add_form_query_rel_fields = {
        "expert": [["id", FilterExperts, None]],
        "project": [["status", FilterEqual, ProjectStatus.expert_review]],
    }
    edit_form_query_rel_fields = add_form_query_rel_fields


def _overdue_milestones_link(project):
    """The milestone list filtered to the project's overdue milestones."""
    from app.chapters import view_for_model
    from app.charts import _filter_index, _view_instance

    try:
        view = _view_instance(view_for_model(Milestone))
        by_project = _filter_index(view, "project",
                                   lambda f: getattr(f, "arg_name", "") == "rel_o_m")
        overdue = _filter_index(view, "due_on",
                                lambda f: getattr(f, "arg_name", "") == "deadline_overdue")
    except (LookupError, TypeError):
        return "#"
    return url_for(f"{type(view).__name__}.list", **{
        f"_flt_{by_project}_project": project.id, f"_flt_{overdue}_due_on": "y"})


class ProjectRequestView(RecordView):
    record_label = _l("Project request")
    label_columns = {"content": _l("Construction content")}
    method_permission_name = {**PERMISSIONS, "assign_experts": "read"}

    def record_panel(self, record):
        """The overdue milestones' count (4.2.3), with the list behind it; IT assigns the
        expert panel from the project's page (several at once)."""
        overdue = overdue_milestones(record)
        if overdue:
            link = _overdue_milestones_link(record)
            return Markup(
                '<div class="alert alert-danger overdue-milestones">'
                '<span class="label label-danger">{badge}</span> {text} '
                '<a href="{link}">{names}</a></div>').format(
                badge=gettext("Overdue"),
                text=gettext("%(count)d milestone(s) past the due date and not done:",
                             count=len(overdue)),
                link=link, names="、".join(m.name for m in overdue))
        if record.status is not ProjectStatus.expert_review or \
                not panels.may_assign_experts(current_actor()):
            return None
        return Markup(render_template(
            "assign_experts.html", experts=panels.eligible_experts(record),
            action=url_for(f"{type(self).__name__}.assign_experts", pk=record.id)))

    @expose("/assign_experts/<pk>", methods=["POST"])
    @has_access
    def assign_experts(self, pk):
        """IT assigns the chosen experts (3.2.3); POST with CSRF only."""
        project = self.datamodel.get(pk, self._base_filters)
        if project is None:
            abort(404)
        if not panels.may_assign_experts(current_actor()):
            abort(403)
        try:
            reviews = panels.assign_experts(project, request.form.getlist("expert"))
        except ScopeError as exc:
            flash(gettext(str(exc)), "danger")
        else:
            flash(gettext("%(count)d experts assigned.", count=len(reviews)), "success")
        return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
    datamodel = scoped(ProjectRequest)
    list_columns = ["name", "applicant_department", "budget", "status", "changed_on"]
    search_columns = ["name", "status", "applicant_department", "budget", "created_on",
                      "changed_on", "background", "goals"]
    show_fieldsets = [
        (_l("Request"), {"fields": ["name", "applicant_department", "status", "budget",
                                    "systems"]}),
        (_l("Content"), {"fields": ["background", "goals", "content",
                                    "implementation_plan"]}),
        (_l("Reports and review"), {"fields": ["requirements_report", "expert_opinion",
                                               "feasibility_report", "acceptance_report"]}),
    ]
    add_columns = ["name", "applicant_department", "background", "goals", "content",
                   "budget", "implementation_plan", "systems"]
    edit_columns = add_columns + ["expert_opinion"]
    order_columns = ["name", "budget", "status", "changed_on"]
    base_order = ("changed_on", "desc")
    related_records = (Contract, ExpertReview, Tender, Milestone, ProgressReport, ChangeOrder)


# (category = permission key of the menu, label, icon, [(view, label, icon)])
MENU = [
    ("Projects", _l("Planning and initiation"), "fa-lightbulb-o", [
        (DevelopmentPlanView, _l("Development plans"), "fa-map-o"),
        (PlanFeedbackView, _l("Plan feedback"), "fa-comments-o"),
        (ProjectRequestView, _l("Project requests"), "fa-file-text-o"),
        (ExpertReviewView, _l("Expert reviews"), "fa-gavel"),
    ]),
]


# --------------------------------------------------------------------- REST API

class DevelopmentPlanApi(RecordApi):
    resource_name = "development_plan"
    datamodel = ScopedInterface(DevelopmentPlan)
    list_columns = ["id", "title", "period", "plan_version", "status"]
    show_columns = ["title", "period", "plan_version", "previous_version_id", "goals", "tasks",
                    "priorities", "schedule", "status"]
    add_columns = ["title", "period", "goals", "tasks", "priorities", "schedule"]
    edit_columns = add_columns
    order_columns = ["title", "period", "plan_version"]


class PlanFeedbackApi(RecordApi):
    resource_name = "plan_feedback"
    datamodel = ScopedInterface(PlanFeedback)
    list_columns = ["id", "plan_id", "department_id", "opinion", "it_response"]
    show_columns = ["plan_id", "department_id", "opinion", "it_response"]
    add_columns = ["plan", "department", "opinion"]
    edit_columns = ["opinion", "it_response"]
    order_columns = ["plan_id", "department_id"]


class ProjectRequestAssignApi:
    """POST /api/v1/project_request/<id>/assign_experts {"experts": [ids]} (IT, 3.2.3)."""

    @api_expose("/<int:pk>/assign_experts", methods=["POST"])
    @protect()
    @safe
    @permission_name("transition")
    def assign_experts(self, pk):
        project = self.datamodel.get(pk, self._base_filters)
        if project is None:
            return self.response_404()
        if not panels.may_assign_experts(current_actor()):
            return self.response_403()
        payload = request.get_json(silent=True)
        experts = payload.get("experts") if isinstance(payload, dict) else None
        if not isinstance(experts, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) for e in experts):
            return self.response_400(message=gettext("Body must be {\"experts\": [ids]}."))
        try:
            reviews = panels.assign_experts(project, experts)
        except ScopeError as exc:
            return self.response(422, message=gettext(str(exc)))
        return self.response(200, reviews=[r.id for r in reviews])


class ProjectRequestApi(ProjectRequestAssignApi, RecordApi):
    resource_name = "project_request"
    method_permission_name = {**PERMISSIONS, "assign_experts": "read"}
    datamodel = ScopedInterface(ProjectRequest)
    list_columns = ["id", "name", "applicant_department_id", "budget", "status"]
    show_columns = ["name", "applicant_department_id", "background", "goals", "content",
                    "budget", "implementation_plan", "status", "expert_opinion",
                    "requirements_report.filename", "requirements_report.sha256",
                    "feasibility_report.filename", "feasibility_report.sha256"]
    add_columns = ["name", "applicant_department", "background", "goals", "content",
                   "budget", "implementation_plan", "systems"]
    # Who writes which of them in which state: app/planning/models.py (``Edit``).
    edit_columns = add_columns + ["expert_opinion"]
    order_columns = ["name", "budget", "status"]


class ExpertReviewApi(RecordApi):
    resource_name = "expert_review"
    datamodel = ScopedInterface(ExpertReview)
    list_columns = ["id", "project_id", "expert_id", "no_conflict", "score", "status"]
    show_columns = ["project_id", "expert_id", "department_id", "no_conflict", "score",
                    "opinion", "status"]
    add_columns = ["project", "expert"]
    edit_columns = ["no_conflict", "score", "opinion"]
    order_columns = ["score"]


APIS = [DevelopmentPlanApi, PlanFeedbackApi, ProjectRequestApi, ExpertReviewApi]
