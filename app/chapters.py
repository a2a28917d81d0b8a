"""The chapters of the regulation: the one list through which the core reaches them.

Each name is a package of app/ holding a chapter's records:

* ``models.py``: its records, their workflow tables (``__workflow__``), input rules,
  deadlines, scorecard rules (``@rule``) and charts (``__charts__``);
* ``views.py``: its screens and REST resources, as configuration: ``MENU``, the menu
  categories in the chapter's order, each ``(name, label, icon, [(view, label, icon)])``,
  and ``APIS``, the resources; optionally ``MENU_LINKS``, menu entries opening a list
  filtered by a deadline (app.records.ListLink), e.g. 运行维护 → 未授权变更.

The core imports no chapter but through this list (by name, here): the menu, the REST
API, the charts, the scorecard and the inbox follow from it. A chapter imports the core
and other chapters' models, never another chapter's views (tests/test_layout.py).
"""
import importlib

from flask_appbuilder import Model

CHAPTERS = (
    "organisation",  # 1-2: departments, information systems, delegations
    "planning",  # 3: development plans, project requests, expert reviews
    "procurement",  # 4: vendors, tenders, contracts, implementation, change orders
    "operations",  # 5: operation log, incidents, change requests, maintenance
    "infosec",  # 6: security policies, vulnerabilities, training, emergency plans
    "data",  # 7: data assets, quality, backups, data sharing
    "audit",  # 8: audits, supervision checks and findings
)

_declared = []


def _modules(part):
    return [importlib.import_module(f"{__package__}.{name}.{part}") for name in CHAPTERS]


def load_models():
    """Every chapter's records declared (the application, Alembic, the seeds), then the
    indexes the core derives from them; returns the chapters' models modules."""
    modules = _modules("models")
    if not _declared:
        _declared.append(True)
        from .base import index_workflow_states

        index_workflow_states(record_models(modules))
    return modules


def record_models(modules=None):
    """Every record type of every chapter, in the chapters' order."""
    found = []
    for module in modules or load_models():
        found += [value for value in vars(module).values()
                  if isinstance(value, type) and issubclass(value, Model)
                  and value.__module__ == module.__name__
                  and getattr(value, "__tablename__", None)]
    return found


def menu():
    """The menu categories of every chapter, in regulation order."""
    return [category for module in _modules("views") for category in module.MENU]


def menu_links():
    """The chapters' menu entries that open a list filtered (``MENU_LINKS``, optional:
    app.records.ListLink), in regulation order."""
    return [link for module in _modules("views") for link in getattr(module, "MENU_LINKS", ())]


def record_views():
    """Every record screen of the menu, in menu order."""
    return [view for _name, _label, _icon, items in menu() for view, *_rest in items]


def apis():
    """Every REST resource of every chapter."""
    return [api for module in _modules("views") for api in module.APIS]


def view_for_model(model):
    """The screen of a record type in the menu (for links to a record), or None."""
    return next((view for view in record_views() if view.datamodel.obj is model), None)


def importers():
    """What may be imported from spreadsheets (app/imports.py): every chapter's
    ``IMPORTS``, from its ``imports.py`` when it has one."""
    found = []
    for name in CHAPTERS:
        try:
            module = importlib.import_module(f"{__package__}.{name}.imports")
        except ModuleNotFoundError as error:
            if error.name != f"{__package__}.{name}.imports":
                raise
            continue
        found += module.IMPORTS
    return found
