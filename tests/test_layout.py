"""The code is laid out by chapter of the regulation, and the imports keep it so.

Read from the import statements of every module (``ast``; imports inside functions
count too): the core (app/*.py) imports no chapter, it reaches them only through the
list in app/chapters.py; a chapter imports the core, its own modules and other
chapters' models, never another chapter's screens; the screens (app/records.py), the
REST API (app/api.py) and the change-log screens (app/history_views.py) import each
other in no cycle. Each rule is also run on a made-up module that breaks it.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from app.chapters import CHAPTERS

APP = Path(__file__).resolve().parent.parent / "app"


def module_name(path):
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source, module, package=False):
    """Every module ``source`` (the text of ``module``, a package's when ``package``)
    imports, as absolute names: for ``from a import b`` both ``a`` and ``a.b`` (b may be
    a module); for ``from . import b`` only ``b``."""
    package = module if package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            name = (f"{base}.{node.module}" if node.module else base) if node.level \
                else node.module
            if node.module:
                found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return found


def app_modules():
    """module name -> what it imports of app (``app.x``), for every module of app/."""
    modules = {}
    for path in sorted(APP.rglob("*.py")):
        name = module_name(path)
        source = path.read_text(encoding="utf-8")
        modules[name] = {m for m in imported(source, name, path.name == "__init__.py")
                         if m == "app" or m.startswith("app.")}
    return modules


def chapter_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in CHAPTERS else None


def core_violations(modules):
    """(core module, chapter module it imports)."""
    return sorted((name, target) for name, targets in modules.items()
                  if chapter_of(name) is None
                  for target in targets if chapter_of(target) is not None)


def chapter_violations(modules):
    """(chapter module, another chapter's module other than its models)."""
    found = []
    for name, targets in modules.items():
        own = chapter_of(name)
        if own is None:
            continue
        for target in targets:
            other = chapter_of(target)
            if other is not None and other != own and \
                    not target.startswith(f"app.{other}.models"):
                found.append((name, target))
    return sorted(found)


def reaches(modules, start, goal):
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        for target in modules.get(name, ()):
            if target == goal:
                return True
            if target in modules and target not in seen:
                seen.add(target)
                todo.append(target)
    return False


def cycles(modules, names):
    """Pairs of ``names`` each of which imports the other (directly or not)."""
    return sorted((a, b) for a in names for b in names
                  if a < b and reaches(modules, a, b) and reaches(modules, b, a))


SCREENS = ("app.records", "app.api", "app.history_views")


def test_every_chapter_is_a_package_with_its_records_and_screens():
    for chapter in CHAPTERS:
        assert (APP / chapter / "models.py").is_file(), chapter
        assert (APP / chapter / "views.py").is_file(), chapter
    assert not (APP / "models.py").exists() and not (APP / "views.py").exists()


def test_the_core_imports_no_chapter():
    modules = app_modules()
    assert "app.records" in modules and "app.organisation.models" in modules
    assert core_violations(modules) == []


def test_a_chapter_imports_no_other_chapters_screens():
    assert chapter_violations(app_modules()) == []


def test_screens_api_and_change_log_import_each_other_in_no_cycle():
    assert cycles(app_modules(), SCREENS) == []


def test_each_rule_finds_a_module_that_breaks_it():
    modules = app_modules()
    modules["app.charts"] = modules["app.charts"] | {"app.audit.models.OVERDUE"}
    modules["app.audit.views"] = modules["app.audit.views"] | {
        "app.planning.views", "app.planning.views.ProjectRequestView"}
    modules["app.history_views"] = modules["app.history_views"] | {"app.records"}
    assert ("app.charts", "app.audit.models.OVERDUE") in core_violations(modules)
    assert ("app.audit.views", "app.planning.views") in chapter_violations(modules)
    assert ("app.history_views", "app.records") in cycles(modules, SCREENS)


def test_relative_imports_are_read_as_absolute_names():
    source = "from ..planning import views\nfrom .models import Audit\nimport app.base\n"
    assert {"app.planning.views", "app.audit.models", "app.base"} <= \
        imported(source, "app.audit.views")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapters_records_load_without_the_screens(chapter):
    """A chapter's models import only the core's declarations (mixins, workflow, rules,
    charts, deadlines): the core declares every chapter's records before the first use of
    any (app/base.py), even while the screens' modules are still being imported."""
    code = (f"import sys; import app.{chapter}.models; "
            "print(sorted(m for m in ('app.security', 'app.records', 'app.api', "
            "'app.approvals', 'app.forms') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=APP.parent, check=True)
    assert result.stdout.strip() == "[]"
