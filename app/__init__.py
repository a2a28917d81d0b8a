"""信息系统归口管理平台: the application factory."""
import importlib
import os

from flask import Flask
from flask_appbuilder import AppBuilder
from werkzeug.middleware.proxy_fix import ProxyFix

from . import memory
from .extensions import csrf, db, migrate

def _config_class(config_class):
    if config_class is not None:
        return config_class
    module_name, _, class_name = os.environ.get("APP_CONFIG", "config.Config").rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def create_app(config_class=None):
    config_class = _config_class(config_class)
    config_class.init()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_class)
    _postgresql_session_options(app.config)
    if app.config["PROXY_COUNT"]:
        # Only behind trusted proxies may X-Forwarded-For name the client (login counters).
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    register_extensions(app)
    register_commands(app)
    memory.init_app(app)  # last: what create_app built is kept out of full collections
    return app


def _postgresql_session_options(config):
    """POSTGRESQL_SESSION_OPTIONS on every connection of a PostgreSQL database."""
    from sqlalchemy.engine import make_url

    options = config.get("POSTGRESQL_SESSION_OPTIONS")
    if not options or make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != \
            "postgresql":
        return
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(engine_options.get("connect_args") or {})
    connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), options]))
    engine_options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options


def register_extensions(app):
    # Session events: stamps, the change history, notifications of workflow steps.
    from . import headers, history, methods, notifications, sessions, stamps  # noqa: F401
    from .chapters import load_models
    from .dashboards import HomeView
    from .errors import register_error_handlers
    from .login_guard import LoginGuard
    from .paging import clean_paging_args
    from .security import AppSecurityManager

    load_models()  # every chapter's records, before the first request (app/chapters.py)
    db.init_app(app)
    # CSRF before FAB, so FAB exempts its API blueprints and protects every form.
    csrf.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    methods.init_app(app)  # first: a GET never reaches a state-changing view
    app.before_request(clean_paging_args)
    register_error_handlers(app)
    headers.init_app(app)
    LoginGuard(app)
    app.jinja_env.globals["unread_notifications"] = notifications.current_unread_count
    with app.app_context():
        appbuilder = AppBuilder(
            security_manager_class=AppSecurityManager,
            indexview=HomeView,
            base_template="app_base.html",
        )
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)


def register_views(appbuilder):
    """The chapters' screens and API resources (app/chapters.py), in the regulation's order,
    then the core's own pages."""
    from flask_babel import lazy_gettext as _l

    from .api import register_apis
    from .approval_views import ApprovalFormCheckView, InboxView, SeparationOfDutiesView
    from .attachments import AttachmentView
    from .chapters import menu, menu_links, record_views
    from .charts import register as register_charts
    from .compliance import register_compliance
    from .dashboards import register_dashboards
    from .history_views import ChangeLogView
    from .import_views import ImportView
    from .notification_views import NotificationApi, NotificationView
    from .security import DirectoryAccountView

    for view in record_views():
        register_charts(view)  # before the screens: their lists filter what charts show
    for category, category_label, category_icon, items in menu():
        for view, label, icon in items:
            appbuilder.add_view(
                view, view.datamodel.obj.__name__, label=label, icon=icon,
                category=category, category_label=category_label,
                category_icon=category_icon,
            )
    for link in menu_links():  # after the screens: a link opens one of their lists
        appbuilder.add_link(link.name, href=link.path(), label=link.label, icon=link.icon,
                            category=link.category)
    appbuilder.add_view(InboxView, "Inbox", label=_l("My inbox"), icon="fa-inbox",
                        href="/inbox/")
    # Beside the audit chapter's records (8.1, 8.2).
    appbuilder.add_view(SeparationOfDutiesView, "SoDReport", label=_l("Separation of duties"),
                        icon="fa-balance-scale", category="Audits",
                        category_label=_l("Audit and supervision"))
    appbuilder.add_view_no_menu(AttachmentView)
    appbuilder.add_view_no_menu(ApprovalFormCheckView)
    # Reached from the bell in the navbar (templates/appbuilder/navbar_right.html).
    appbuilder.add_view_no_menu(NotificationView)
    appbuilder.add_api(NotificationApi)
    appbuilder.add_view(ChangeLogView, "ChangeLog", label=_l("Change log"), icon="fa-history",
                        category="Audits", category_label=_l("Audit and supervision"))
    # Departments, users, systems and vendors from spreadsheets, beside the departments.
    appbuilder.add_view(ImportView, "DataImport", label=_l("Data import"), icon="fa-upload",
                        category="Organisation", category_label=_l("Organisation"))
    # The accounts the company directory vouches for, beside FAB's users and roles.
    appbuilder.add_view(DirectoryAccountView, "DirectoryAccounts",
                        label=_l("Directory accounts"), icon="fa-sitemap", category="Security")
    register_dashboards(appbuilder)
    register_compliance(appbuilder)
    register_apis(appbuilder)


def register_commands(app):
    from seeds import seed_command

    from .cli import backup_cli, db_role, history_cli, users_cli
    from .compliance import compliance_cli

    app.cli.add_command(seed_command)
    app.cli.add_command(history_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(db_role)
    app.cli.add_command(compliance_cli)
    app.cli.add_command(users_cli)
