"""Traceability kept true by a test: the regulation's 64 clauses (app/regulation.py and
docs/regulation.md, the same clauses with the same Chinese text), and docs/traceability.md,
the table that says what serves each clause and which tests prove it.

The rules, each a checker function run on the real files and on a small made-up input
that breaks it:

* every clause of the registry is served by a row: a row names a clause (``5.1.4``), a
  range of clauses (``4.2.1–4.2.3``) or of sections (``6.1–6.4``, expanded against the
  registry); a row serves its clauses unless its "Served by" text starts with "Not yet"
  (organisational clauses say so and why: "Organisational (...); outside software").
  The clauses nothing serves yet are listed in ``NOT_YET``, visibly; the list can only
  shrink: a clause listed there that a row serves fails the test until it is removed;
* a row names only clauses the regulation has;
* every test file named in the Tests column exists (``test_x.py``), and so does the test
  function when one is named (``test_x.py::test_name``);
* every record type named in backticks (a CamelCase name, ``Contract`` or
  ``Contract.number``) is a class of the application (and the attribute exists);
* every record type (app.chapters.record_models() and the models of the menu's record
  screens) is named in at least one row;
* every record type's docstring names at least one clause ID, and only IDs the registry
  has (the record page shows those clauses, tests/test_record_clauses.py).
"""
import ast
import importlib
import re
from pathlib import Path

import pytest

from app.regulation import CHAPTERS, CLAUSES, SECTIONS, clauses_in, expand

ROOT = Path(__file__).resolve().parent.parent
TRACEABILITY = ROOT / "docs" / "traceability.md"
REGULATION = ROOT / "docs" / "regulation.md"
TESTS = ROOT / "tests"

# Clauses nothing in the product serves yet (their rows start with "Not yet"). This list
# may only shrink: when a row starts serving one of them, remove it from here.
NOT_YET = {
    "4.1.1",  # tendering: Tender records
    "4.2.1", "4.2.2", "4.2.3",  # implementation: milestones, progress reports
    "6.1.1", "6.1.2",  # security policy
    "6.2.2",  # vulnerability scans and risk assessments
    "6.3.1", "6.3.2",  # security training
}


# -- the regulation ------------------------------------------------------------------

REG_CLAUSE = re.compile(r"^- \*\*(\d+\.\d+\.\d+)\*\* (.+?)\s*$")


def regulation_doc_clauses(text):
    """Clause ID -> Chinese text of a regulation document in the form of
    docs/regulation.md (``- **1.1.1** 中文…`` then the English on the next line);
    a clause named twice raises ValueError."""
    found = {}
    for line in text.splitlines():
        match = REG_CLAUSE.match(line)
        if match:
            if match.group(1) in found:
                raise ValueError(f"clause {match.group(1)} twice")
            found[match.group(1)] = match.group(2)
    return found


def registry_differences(doc, registry):
    """What differs between the clauses of a document and of the registry."""
    problems = [f"{cid}: in docs/regulation.md, not in app/regulation.py"
                for cid in doc if cid not in registry]
    problems += [f"{cid}: in app/regulation.py, not in docs/regulation.md"
                 for cid in registry if cid not in doc]
    problems += [f"{cid}: Chinese text differs" for cid in doc
                 if cid in registry and doc[cid] != registry[cid]]
    return problems


def test_the_regulation_has_64_clauses_in_8_chapters():
    assert len(CLAUSES) == 64
    assert list(CHAPTERS) == [str(n) for n in range(1, 9)]
    assert {clause.section for clause in CLAUSES.values()} == set(SECTIONS)
    assert all(clause.zh and clause.en for clause in CLAUSES.values())


def test_docs_regulation_and_the_registry_hold_the_same_clauses_and_chinese_text():
    doc = regulation_doc_clauses(REGULATION.read_text(encoding="utf-8"))
    assert len(doc) == 64
    assert registry_differences(doc, {cid: c.zh for cid, c in CLAUSES.items()}) == []
    assert list(doc) == list(CLAUSES)  # the same order


def test_the_registry_check_finds_a_missing_an_extra_and_a_changed_clause():
    registry = {"1.1.1": "甲", "1.1.2": "乙"}
    doc = regulation_doc_clauses("- **1.1.1** 甲  \n  A\n- **1.1.3** 丙  \n  C\n")
    assert registry_differences(doc, registry) == [
        "1.1.3: in docs/regulation.md, not in app/regulation.py",
        "1.1.2: in app/regulation.py, not in docs/regulation.md"]
    assert registry_differences({"1.1.1": "甲!", "1.1.2": "乙"}, registry) == [
        "1.1.1: Chinese text differs"]
    with pytest.raises(ValueError):
        regulation_doc_clauses("- **1.1.1** 甲\n- **1.1.1** 乙\n")


def test_ranges_expand_against_the_registry():
    assert expand("4.2.1", "4.2.3") == ["4.2.1", "4.2.2", "4.2.3"]
    assert expand("6.1", "6.4") == ["6.1.1", "6.1.2", "6.2.1", "6.2.2", "6.2.3", "6.3.1",
                                    "6.3.2", "6.3.3", "6.4.1", "6.4.2", "6.4.3"]
    assert expand("7.3") == ["7.3.1", "7.3.2", "7.3.3"]
    for bad in (("9.9.9",), ("4.2.3", "4.2.1"), ("4.9",)):
        with pytest.raises(KeyError):
            expand(*bad)


# -- the table -----------------------------------------------------------------------

ROW_CLAUSES = re.compile(r"^(\d+\.\d+(?:\.\d+)?)(?:\s*[–—-]\s*(\d+\.\d+(?:\.\d+)?))?(?!\d)")
TEST_REF = re.compile(r"\b(test_\w+\.py)(?:::(\w+))?")
TYPE_REF = re.compile(r"`([A-Z][a-z][A-Za-z0-9]*)(?:\.(\w+))?`")


class Row:
    def __init__(self, line, clause, served, tests):
        self.line, self.clause, self.served, self.tests = line, clause, served, tests

    @property
    def serves(self):
        return not self.served.lower().startswith("not yet")


def table_rows(text):
    """The rows of the table (``| Clause | Served by | Tests |``), header and rule left out."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "Clause" or set(cells[0]) <= set("-: "):
            continue
        assert len(cells) == 3, f"line {number}: a row has three cells: {line[:80]}"
        rows.append(Row(number, *cells))
    return rows


def row_clauses(row, registry=CLAUSES):
    """The clause IDs a row names, its ranges expanded; KeyError for an unknown ID."""
    match = ROW_CLAUSES.match(row.clause)
    if not match:
        raise KeyError(f"line {row.line}: no clause ID in {row.clause!r}")
    first, last = match.groups()
    if last is None and first.count(".") == 2:
        if first not in registry:
            raise KeyError(first)
        return [first]
    return expand(first, last, registry)


def unknown_clauses(rows, registry=CLAUSES):
    problems = []
    for row in rows:
        try:
            row_clauses(row, registry)
        except KeyError as error:
            problems.append(f"line {row.line}: {row.clause!r} names {error}")
    return problems


def served_clauses(rows, registry=CLAUSES):
    """The clause IDs some row serves (its text does not start with "Not yet")."""
    return {cid for row in rows if row.serves for cid in row_clauses(row, registry)}


def unserved(rows, not_yet, registry=CLAUSES):
    """Clauses no row serves and ``not_yet`` does not list, and clauses ``not_yet`` lists
    that a row serves (the list must shrink)."""
    served = served_clauses(rows, registry)
    return ([f"{cid}: no row serves it" for cid in registry
             if cid not in served and cid not in not_yet]
            + [f"{cid}: served now, remove it from NOT_YET" for cid in sorted(not_yet)
               if cid in served]
            + [f"{cid}: in NOT_YET, not a clause" for cid in sorted(not_yet)
               if cid not in registry])


def functions_of(path):
    """The names of the test functions of a test file (methods of classes included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def missing_tests(rows, tests_dir=TESTS):
    """Test files (and test functions) the Tests column names that do not exist."""
    problems = []
    for row in rows:
        for filename, function in TEST_REF.findall(row.tests):
            path = tests_dir / filename
            if not path.is_file():
                problems.append(f"line {row.line}: {filename} does not exist")
            elif function and function not in functions_of(path):
                problems.append(f"line {row.line}: {filename}::{function} does not exist")
    return problems


def application_classes(app_dir=ROOT / "app"):
    """Class name -> module name of every class defined in the application's code."""
    found = {}
    for path in sorted(app_dir.rglob("*.py")):
        module = ".".join(path.relative_to(app_dir.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, module.removesuffix(".__init__"))
    return found


def resolve(name, known):
    """The class named ``name`` (``known``: name -> class or module name), or a column
    type of SQLAlchemy's (``Numeric``), or None."""
    target = known.get(name)
    if isinstance(target, str):
        return getattr(importlib.import_module(target), name, None)
    if target is None:
        import sqlalchemy

        target = getattr(sqlalchemy.types, name, None)
    return target if isinstance(target, type) else None


def unknown_types(rows, known):
    """Backticked CamelCase names (``Contract``, ``Contract.number``) that are no known
    class, or name an attribute the class does not have."""
    problems = []
    for row in rows:
        for name, attribute in TYPE_REF.findall(f"{row.clause} {row.served}"):
            cls = resolve(name, known)
            if cls is None:
                problems.append(f"line {row.line}: `{name}` is no class of the application")
            elif attribute and not hasattr(cls, attribute):
                problems.append(f"line {row.line}: `{name}.{attribute}` does not exist")
    return problems


def untraced(rows, names):
    """Record type names no row names in backticks."""
    named = {name for row in rows for name, _attr in TYPE_REF.findall(row.served)}
    return [name for name in names if name not in named]


def docstring_problems(models, registry=CLAUSES):
    problems = []
    for model in models:
        named = clauses_in(model.__doc__)
        if not [cid for cid in named if cid in registry]:
            problems.append(f"{model.__name__}: its docstring names no clause")
        problems += [f"{model.__name__}: its docstring names {cid}, not a clause"
                     for cid in named if cid not in registry]
    return problems


@pytest.fixture(scope="module")
def rows():
    return table_rows(TRACEABILITY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def record_types(app):
    from app.chapters import record_models, record_views

    with app.app_context():
        models = list(record_models())
        models += [view.datamodel.obj for view in record_views()
                   if view.datamodel.obj not in models]
    return models


def test_every_clause_is_served_by_a_row_or_listed_as_not_yet(rows):
    assert unknown_clauses(rows) == []
    assert unserved(rows, NOT_YET) == []


def test_every_test_file_and_test_the_table_names_exists(rows):
    assert missing_tests(rows) == []


def test_every_record_type_the_table_names_is_a_class_of_the_application(rows, record_types):
    known = application_classes()
    known.update({model.__name__: model for model in record_types})
    assert unknown_types(rows, known) == []


def test_every_record_type_is_traced_to_a_clause(rows, record_types):
    assert untraced(rows, [model.__name__ for model in record_types]) == []


def test_every_record_type_names_its_clauses_in_its_docstring(record_types):
    assert docstring_problems(record_types) == []


# -- each check fails on a planted violation --------------------------------------------

SAMPLE_REGISTRY = {"1.1.1": "", "1.1.2": "", "1.2.1": "", "1.2.2": "", "2.1.1": ""}

SAMPLE = """\
| Clause | Served by | Tests |
|---|---|---|
| 1.1.1–1.1.2 Ranges | `Contract` and `Contract.number` | `test_validation.py`, `test_validation.py::test_gone` |
| 1.2 Section | Not yet: `Tender` | `test_nowhere.py` |
| 1.2.2 Organisational | Organisational (meetings); outside software | — |
| 9.9.9 Unknown | `Contract.no_such_field` | — |
"""


def sample_rows():
    return table_rows(SAMPLE)


def test_rows_ranges_and_sections_expand():
    first, second, third, _fourth = sample_rows()
    assert row_clauses(first, SAMPLE_REGISTRY) == ["1.1.1", "1.1.2"]
    assert row_clauses(second, SAMPLE_REGISTRY) == ["1.2.1", "1.2.2"]
    assert (first.serves, second.serves, third.serves) == (True, False, True)


def test_a_clause_named_by_no_row_or_only_by_not_yet_is_found():
    rows = sample_rows()[:3]
    # 1.2.1 only "Not yet", 2.1.1 in no row at all
    assert unserved(rows, set(), SAMPLE_REGISTRY) == ["1.2.1: no row serves it",
                                                      "2.1.1: no row serves it"]
    assert unserved(rows, {"1.2.1", "2.1.1"}, SAMPLE_REGISTRY) == []
    # NOT_YET can only shrink: a served clause listed there fails
    assert unserved(rows, {"1.2.1", "2.1.1", "1.1.1"}, SAMPLE_REGISTRY) == [
        "1.1.1: served now, remove it from NOT_YET"]


def test_a_row_naming_an_unknown_clause_is_found():
    assert unknown_clauses(sample_rows(), SAMPLE_REGISTRY) == [
        "line 6: '9.9.9 Unknown' names '9.9.9'"]


def test_a_missing_test_file_or_test_function_is_found():
    assert missing_tests(sample_rows()) == [
        "line 3: test_validation.py::test_gone does not exist",
        "line 4: test_nowhere.py does not exist"]


def test_an_unknown_record_type_or_attribute_is_found(record_types):
    known = {model.__name__: model for model in record_types}
    assert unknown_types(sample_rows(), known) == [
        "line 4: `Tender` is no class of the application",
        "line 6: `Contract.no_such_field` does not exist"]


def test_a_record_type_traced_to_no_clause_is_found():
    assert untraced(sample_rows(), ["Contract", "Incident"]) == ["Incident"]


def test_a_docstring_without_a_clause_or_with_an_unknown_one_is_found():
    class Silent:
        """A record that names no clause."""

    class Wrong:
        """A record of 5.1.4 and 9.9.9."""

    class Right:
        """A record (5.1.3)."""

    assert docstring_problems([Silent, Wrong, Right]) == [
        "Silent: its docstring names no clause", "Wrong: its docstring names 9.9.9, not a clause"]
