"""Screens of the charts: one generic chart page (with its JSON, table and CSV), the
Auditor/Management dashboard and the numbers a home page shows (PRODUCT.md §5).

Every chart is computed in SQL by app/charts.py under the user's department scope and
rendered by the vendored Apache ECharts (app/static/vendor/echarts/, nothing fetched from
another host). A page embeds its charts' numbers, so a whole dashboard is one page load.
"""
from flask import Response, abort, current_app, jsonify, make_response, request
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from .charts import (
    CHARTS,
    BadChartInput,
    ChartFilters,
    chart_csv,
    chart_data,
    number,
    parse_filters,
)
from .extensions import db
from .security import current_actor, scope_for

ECHARTS = "vendor/echarts/5.6.0/echarts.min.js"

# The Auditor and Management dashboard, in the order it shows them (PRODUCT.md §5):
# charts join by name once their record type declares them.
DASHBOARD = (
    "incidents_by_month", "incident_resolution_hours", "projects_by_stage",
    "project_budget_by_department", "contract_amount_by_vendor", "contract_amount_by_year",
    "findings_by_status", "findings_overdue", "change_requests_by_outcome",
    "approvals_waiting_projects", "approvals_waiting_contracts",
    "vulnerability_ageing",
)

# A home page shows the user's own department's picture with these (those they may read).
HOME = ("incidents_by_month", "projects_by_stage", "findings_by_status",
        "change_requests_by_outcome")


def _readable(name):
    chart = CHARTS.get(name)
    if chart is None or chart.view is None:
        return None
    if not current_app.appbuilder.sm.has_access("can_read", chart.model.__name__):
        return None
    return chart


def charts_data(names, filters=ChartFilters()):
    """The numbers of the charts named that the current user may read, in one request."""
    user = current_actor()
    found = []
    for name in names:
        chart = _readable(name)
        if chart is not None:
            found.append(chart_data(chart, user, filters))
    return found


def requested_filters():
    """(ChartFilters of the request, the message when they are junk: then none)."""
    try:
        return parse_filters(request.args), None
    except BadChartInput as exc:
        return ChartFilters(), str(exc)


def _json_filters():
    """The request's ChartFilters; junk answers 400 with the message as JSON."""
    filters, error = requested_filters()
    if error:
        abort(make_response(jsonify(message=error), 400))
    return filters


def department_choices():
    """Departments for the filter's dropdown: a scoped user's own; everyone's otherwise."""
    from .base import department_model

    Department = department_model()
    scope = scope_for(current_actor())
    query = db.session.query(Department.id, Department.name).order_by(Department.code)
    if not scope.everything:
        query = query.filter(Department.id == (scope.department_id or -1))
    return query.all()


class ChartView(BaseView):
    """Any declared chart: page (chart, table, CSV link), ``/data`` JSON and ``/csv``."""

    route_base = "/charts"
    default_view = "index"
    class_permission_name = "Charts"
    method_permission_name = {"index": "read", "show": "read", "data": "read", "csv": "read"}

    def _chart(self, name):
        chart = _readable(name)
        if chart is None:
            abort(404)
        return chart

    @expose("/")
    @has_access
    def index(self):
        names = [name for name in CHARTS if _readable(name) is not None]
        return self.render_template("charts_index.html", title=_l("Charts"),
                                    charts=[CHARTS[n] for n in names])

    @expose("/<name>/")
    @has_access
    def show(self, name):
        chart = self._chart(name)
        filters, error = requested_filters()
        data = chart_data(chart, current_actor(), filters)
        page = self.render_template(
            "chart.html", title=chart.title, chart=chart, data=data, error=error,
            filters=filters, departments=department_choices(), echarts=ECHARTS)
        return (page, 400) if error else page

    @expose("/<name>/data")
    @has_access
    def data(self, name):
        chart = self._chart(name)
        return jsonify(chart_data(chart, current_actor(), _json_filters()))

    @expose("/<name>/csv")
    @has_access
    def csv(self, name):
        chart = self._chart(name)
        body = chart_csv(chart_data(chart, current_actor(), _json_filters()))
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{chart.name}.csv"'})


class DashboardView(BaseView):
    """The Auditor and Management dashboard: every chart of DASHBOARD in one page load,
    with the compliance picture by department."""

    route_base = "/dashboard"
    default_view = "index"
    class_permission_name = "Dashboard"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self):
        filters, error = requested_filters()
        charts = charts_data(DASHBOARD, filters)
        compliance = trend = None
        if current_app.appbuilder.sm.has_access("can_read", "Compliance"):
            from .compliance import dashboard_compliance, trend_chart

            compliance = dashboard_compliance()
            trend = trend_chart(compliance["trend"]) if compliance["trend"] else None
        page = self.render_template(
            "dashboard.html", title=_l("Dashboard"), charts=charts, error=error,
            filters=filters, departments=department_choices(), echarts=ECHARTS,
            compliance=compliance, trend=trend)
        return (page, 400) if error else page


class HomeView(IndexView):
    """Home page: what waits for the user (待我处理) and their own department's picture,
    the charts of HOME narrowed to their department."""

    index_template = "index.html"

    @expose("/")
    def index(self):
        from .approvals import inbox_count
        from .chapters import menu_links

        user = current_actor()
        sm = self.appbuilder.sm
        waiting, charts, cards = None, [], []
        if user is not None:
            # What a role must watch (the IT head: unauthorised changes, 5.1.4).
            cards = [card for card in (link.card(user) for link in menu_links()) if card]
            if sm.has_access("can_read", "Inbox"):
                waiting = inbox_count(user)
            if sm.has_access("can_read", "Charts") and user.department_id:
                charts = charts_data(HOME, ChartFilters(department_id=user.department_id))
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, waiting=waiting, charts=charts,
            cards=cards, reminders=user is not None and sm.has_access("can_read", "Reminders"),
            echarts=ECHARTS, dashboard=user is not None and sm.has_access("can_read",
                                                                          "Dashboard"))


def register_dashboards(appbuilder):
    current_app.jinja_env.globals["chart_number"] = number
    appbuilder.add_view(DashboardView, "Dashboard", label=_l("Dashboard"),
                        icon="fa-dashboard", category="Dashboards",
                        category_label=_l("Charts and compliance"),
                        category_icon="fa-bar-chart")
    appbuilder.add_view(ChartView, "Charts", label=_l("All charts"), icon="fa-bar-chart",
                        category="Dashboards", category_label=_l("Charts and compliance"))
