"""Import of reference data from XLSX or CSV: a dry-run preview, then an all-or-nothing
commit (issue 12; PRODUCT.md section 6).

A chapter declares what may be imported (``IMPORTS`` in its ``imports.py``, reached
through app/chapters.py): an ``Importer`` per record type, with the record's natural key
(department code, username, system code, vendor credit code) and its ``Field``s. The
core here knows no chapter. It

* reads a file (``read_table``): XLSX (the zip's declared sizes checked before openpyxl
  parses it, read-only) or CSV (UTF-8, with or without BOM, else GB18030, which GBK is a
  part of; the preview says which); at most ``IMPORT_MAX_ROWS`` data rows, counted while
  reading, so a 100,000-row file is refused after reading a few thousand;
* matches the header row to fields by label (Chinese or English, as the screens and the
  export name them) or by field name; a missing, unknown or repeated column refuses the
  whole file, naming the columns;
* runs every row (``run``): each matches an existing record by its key (changed,
  unchanged) or is new; cell values are parsed (dates, numbers, states by label, related
  records by their natural key or title), then the record is checked by the same
  declared rules as the forms and the API (app/validation.py ``record_errors``), by the
  importer's own form rules, and by the department-scoping rule (app/security.py
  ``check_write``). Errors are kept per row and column;
* writes nothing in the preview (no flush, the session rolled back); a commit runs the
  same file again and commits only when no row has an error, in one transaction, so the
  change history ties every entry of the import to one request id. Unchanged records are
  not touched: importing the same file twice changes nothing the second time.

Between preview and commit the upload waits in ``IMPORT_STORE`` (a directory; shared by
the app servers in a multi-server deployment) under a random token bound to the user and
to their session, for ``IMPORT_TOKEN_MINUTES``; a commit deletes it, so a repeated or
stale commit is refused.
"""
import csv
import datetime as dt
import decimal
import hashlib
import io
import json
import os
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field

import filetype
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import inspect as sa_inspect

from .security import ScopeError, check_write
from .validation import BAD_CHARACTERS, record_errors

# Formula starts that the export prefixes with an apostrophe (CSV injection): taken off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d",
                "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M")
TRUE_WORDS = {"是", "yes", "y", "true", "1", "启用", "有效"}
FALSE_WORDS = {"否", "no", "n", "false", "0", "停用", "禁用", "无效"}


class ImportRefused(Exception):
    """The file as a whole cannot be imported (the message says why, for the user)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class CellError(Exception):
    pass


class AmbiguousCell(CellError):
    """A name several related records share (two people called 张三). A row that keeps
    the record's current one (an exported list imported back) is unchanged; a row that
    would set another gets the message."""

    def __init__(self, message, candidates):
        super().__init__(message)
        self.candidates = candidates


# ------------------------------------------------------------------ declarations

@dataclass
class Field:
    """One column of an import: ``name`` is the model attribute (a relation's name for a
    related record), ``kind`` one of text, int, date, bool, enum, ref, roles."""

    name: str
    label: object
    kind: str = "text"
    required: bool = False
    enum: type = None
    resolve: object = None  # ref/roles: (session, text) -> object(s), raising CellError
    sample: object = None  # (session, user) -> the template's sample value
    hint: object = None  # what the template's notes say about the column
    aliases: tuple = ()
    attr: str = None  # the attribute set (default: name; a ref sets ``<name>_id``)

    def target(self):
        if self.attr:
            return self.attr
        return f"{self.name}_id" if self.kind == "ref" else self.name


@dataclass
class Importer:
    """What one kind of record imports: its model, natural key, fields and who may."""

    slug: str
    model: type
    key: str
    fields: list
    label: object  # the kind's name, plural ("部门")
    list_url: str
    may_import: object  # (user) -> bool
    # (session, record, values, changed field names, new?) -> {field name: message}: the
    # screen's own rules (its dropdowns' choices), for what the row sets.
    check: object = None
    before_new: object = None  # (record) -> None: what a new record gets besides fields
    scoped: bool = True  # check_write applies (department scoping, refusal rules)

    def field(self, name):
        return next(f for f in self.fields if f.name == name)


def is_admin(user):
    """Only Admin imports departments and users."""
    return user is not None and "Admin" in {role.name for role in user.roles}


def may_write(model_name):
    """Whoever may write the record type (config.FAB_ROLE_DEFINITIONS) may import it;
    department scoping still decides row by row."""
    def check(user):
        return user is not None and current_app.appbuilder.sm.has_access("can_write",
                                                                          model_name)
    return check


def importers():
    from .chapters import importers as declared

    return {imp.slug: imp for imp in declared()}


# ------------------------------------------------------------------ reading a file

@dataclass
class Table:
    headers: list
    rows: list  # [(spreadsheet row number, [cell, ...])]
    note: str = ""  # how the file was read (an encoding guess)


def _config(name):
    return current_app.config[name]


def read_table(filename, data):
    """The header and data rows of an uploaded XLSX or CSV file, or ImportRefused."""
    if not data:
        raise ImportRefused(gettext("The file is empty."))
    if len(data) > _config("IMPORT_MAX_BYTES"):
        raise ImportRefused(gettext(
            "The file is larger than %(size)d MB. Split it into several files.",
            size=_config("IMPORT_MAX_BYTES") // (1024 * 1024)))
    extension = os.path.splitext(filename or "")[1].lower().lstrip(".")
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportRefused(gettext(
            "This is an old Excel (.xls) file. Save it as .xlsx or as CSV and upload again."))
    guessed = filetype.guess(data[:8192])
    if guessed is not None or b"\x00" in data[:8192]:
        raise ImportRefused(gettext(
            "This file is not a spreadsheet (%(kind)s). Upload an .xlsx or .csv file.",
            kind=guessed.extension if guessed else extension or "?"))
    return _read_csv(data)


def _decode(data):
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportRefused(gettext(
            "The CSV file is neither UTF-8 nor GBK/GB18030 text. Save it as "
            "“CSV UTF-8” and upload again.")) from None
    return text, gettext("The CSV file is not UTF-8: it was read as GBK/GB18030 "
                         "(Chinese Windows). Check that the names below read correctly.")


def _read_csv(data):
    text, note = _decode(data)
    if BAD_CHARACTERS.search(text):
        raise ImportRefused(gettext("The file contains control characters (NUL): it is "
                                    "not a CSV text file."))
    limit = _config("IMPORT_MAX_ROWS")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader, None)
        if headers is None:
            raise ImportRefused(gettext("The file is empty."))
        rows = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= limit:
                raise _too_many(limit)
            rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise ImportRefused(gettext("The CSV file cannot be read: %(error)s",
                                    error=str(error))) from None
    return Table(headers, rows, note)


def _too_many(limit):
    return ImportRefused(gettext(
        "The file has more than %(limit)d data rows, the most one import takes. "
        "Split it into several files.", limit=limit))


def _read_xlsx(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRefused(gettext("The file is damaged: it is not a readable .xlsx "
                                    "file.")) from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise ImportRefused(gettext(
            "This zip file is not an Excel workbook (.xlsx). Upload an .xlsx or .csv "
            "file."))
    # Declared sizes, before anything is inflated (a "zip bomb" declares them honestly or
    # lies; a lie ends in an error while reading, below).
    total = sum(m.file_size for m in members)
    # The ratio of parts past a megabyte: a small part of repeated bytes inflates far too,
    # harmlessly.
    ratio = max((m.file_size / max(m.compress_size, 1) for m in members
                 if m.file_size > 1024 * 1024), default=0)
    if total > _config("IMPORT_MAX_UNCOMPRESSED") or ratio > _config("IMPORT_MAX_RATIO"):
        raise ImportRefused(gettext(
            "The Excel file unpacks to %(size)d MB (at most %(limit)d MB): refused as a "
            "possible zip bomb. Remove unused sheets and formatting, or split the file.",
            size=max(1, total // (1024 * 1024)),
            limit=_config("IMPORT_MAX_UNCOMPRESSED") // (1024 * 1024)))
    import openpyxl

    limit = _config("IMPORT_MAX_ROWS")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise ImportRefused(gettext("The file is damaged: it is not a readable .xlsx "
                                    "file.")) from None
    try:
        sheet = book.worksheets[0]
        headers, rows = None, []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), 1):
            if headers is None:
                if not any(_blank(c) is False for c in cells):
                    continue  # leading empty rows
                headers = list(cells)
                continue
            if all(_blank(c) for c in cells):
                continue
            if len(rows) >= limit:
                raise _too_many(limit)
            rows.append((number, list(cells)))
    except ImportRefused:
        raise
    except Exception:
        raise ImportRefused(gettext("The file is damaged: it is not a readable .xlsx "
                                    "file.")) from None
    finally:
        book.close()
    if headers is None:
        raise ImportRefused(gettext("The file is empty."))
    return Table(headers, rows)


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


# ------------------------------------------------------------------ columns

def _norm(text):
    return re.sub(r"\s+", "", str(text)).strip("*＊").casefold()


def labels_of(fld):
    """The column's names: its label in Chinese and English, its field name, aliases."""
    names = [fld.name, *fld.aliases]
    for locale in ("zh", "en"):
        with force_locale(locale):
            names.append(str(fld.label))
    return names


def shown_only_columns(importer):
    """The names (Chinese, English, field name) of the columns the record's screens show
    and its export writes but an import does not set (who created it and when, derived
    and related columns): a file exported from the list carries them, and they are left
    out, not refused."""
    names = set()
    for view in current_app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if getattr(datamodel, "obj", None) is not importer.model:
            continue
        for column in [*(view.show_columns or ()), *(view.list_columns or ())]:
            names.add(_norm(column))
            label = view.label_columns.get(column)
            for locale in ("zh", "en"):
                with force_locale(locale):
                    names.add(_norm(str(label if label is not None else column)))
    return names


def match_columns(importer, headers):
    """({column index: Field}, [headers left out]); refuses a file with missing, unknown
    or repeated columns. A column the record's screens show but the import does not set
    (as an export writes it) is left out and named."""
    known = {}
    for fld in importer.fields:
        for name in labels_of(fld):
            known.setdefault(_norm(name), fld)
    shown_only = shown_only_columns(importer)
    ignored = []
    while headers and _blank(headers[-1]):
        headers = headers[:-1]
    mapping, unknown, repeated = {}, [], []
    for index, header in enumerate(headers):
        if _blank(header):
            unknown.append(gettext("(column %(n)d without a header)", n=index + 1))
            continue
        fld = known.get(_norm(header))
        if fld is None and _norm(header) in shown_only:
            ignored.append(str(header).strip())
        elif fld is None:
            unknown.append(str(header).strip())
        elif fld in mapping.values():
            repeated.append(str(header).strip())
        else:
            mapping[index] = fld
    missing = [str(f.label) for f in importer.fields
               if (f.required or f.name == importer.key) and f not in mapping.values()]
    problems = []
    if missing:
        problems.append(gettext("missing columns: %(names)s", names="、".join(missing)))
    if unknown:
        problems.append(gettext("unknown columns: %(names)s", names="、".join(unknown)))
    if repeated:
        problems.append(gettext("repeated columns: %(names)s", names="、".join(repeated)))
    if problems:
        raise ImportRefused(gettext(
            "The columns do not match the template (%(problems)s). Expected columns: "
            "%(expected)s.", problems="；".join(problems),
            expected="、".join(str(f.label) for f in importer.fields)))
    return mapping, ignored


# ------------------------------------------------------------------ cells

def _text(raw):
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, dt.datetime):
        raw = raw.date() if raw.time() == dt.time() else raw
    text = raw.isoformat() if isinstance(raw, (dt.date, dt.datetime)) else str(raw)
    text = text.strip()
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_START):
        text = text[1:]
    return text


def enum_lookup(enum_class):
    found = {}
    for member in enum_class:
        found[member.name.casefold()] = member
        for locale in ("zh", "en"):
            with force_locale(locale):
                found[_norm(str(member))] = member
    return found


def parse_cell(fld, raw, session, cache):
    """The cell's value for the field (None when empty), or CellError."""
    if _blank(raw):
        return None
    kind = fld.kind
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = _text(raw)
        for fmt in DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise CellError(gettext("Invalid date “%(value)s” (write it as 2026-03-31).",
                                value=text[:40]))
    if kind == "int":
        if isinstance(raw, bool):
            raise CellError(gettext("Write a whole number."))
        try:
            number = decimal.Decimal(_text(raw))
        except decimal.InvalidOperation:
            raise CellError(gettext("“%(value)s” is not a whole number.",
                                    value=_text(raw)[:40])) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise CellError(gettext("“%(value)s” is not a whole number.",
                                    value=_text(raw)[:40]))
        return int(number)
    text = _text(raw)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        word = text.casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(gettext("Write 是 or 否 (yes or no), not “%(value)s”.",
                                value=text[:40]))
    if kind == "enum":
        lookup = cache.get(("enum", fld.name))
        if lookup is None:
            lookup = cache[("enum", fld.name)] = enum_lookup(fld.enum)
        member = lookup.get(_norm(text)) or lookup.get(text.casefold())
        if member is None:
            raise CellError(gettext("Unknown value “%(value)s”; allowed: %(allowed)s.",
                                    value=text[:40],
                                    allowed="、".join(str(m) for m in fld.enum)))
        return member
    if kind in ("ref", "roles"):
        return fld.resolve(session, text, cache)
    return text


def shown(value):
    """A value as the preview shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (list, tuple, set, frozenset)):
        return "、".join(sorted(str(v) for v in value)) or "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------ running

NEW, CHANGED, UNCHANGED, ERROR = "new", "changed", "unchanged", "error"


@dataclass
class RowResult:
    number: int
    key: str
    status: str = UNCHANGED
    changes: list = field(default_factory=list)  # [(label, before, after)]
    errors: list = field(default_factory=list)  # [(label or "", message)]


@dataclass
class Outcome:
    importer: Importer
    rows: list
    note: str = ""

    def count(self, status):
        return sum(1 for r in self.rows if r.status == status)

    @property
    def errors(self):
        return sum(1 for r in self.rows if r.errors)

    @property
    def ok(self):
        return self.errors == 0

    @property
    def writes(self):
        return self.count(NEW) + self.count(CHANGED)


def _same(old, new):
    if isinstance(old, (list, tuple, set)) or isinstance(new, (list, tuple, set)):
        return {getattr(v, "id", v) for v in old or ()} == {getattr(v, "id", v)
                                                            for v in new or ()}
    if isinstance(old, str) or isinstance(new, str):
        return (old or "").replace("\r\n", "\n") == (new or "").replace("\r\n", "\n")
    return old == new


def _column_default(model, name):
    column = sa_inspect(model).columns.get(name)
    return column is not None and column.default is not None


def run(importer, table, user, session, commit=False):
    """Check every row of ``table`` (and write them all when ``commit`` and no row has an
    error). The session is rolled back unless committed: a preview writes nothing."""
    mapping, ignored = match_columns(importer, table.headers)
    model = importer.model
    key_field = importer.field(importer.key)
    key_index = next(i for i, f in mapping.items() if f is key_field)
    keys = [_text(cells[key_index]) for _n, cells in table.rows
            if key_index < len(cells) and not _blank(cells[key_index])]
    existing = {}
    key_column = getattr(model, importer.key)
    for start in range(0, len(keys), 500):
        for record in session.query(model).filter(key_column.in_(keys[start:start + 500])):
            existing[getattr(record, importer.key)] = record
    unique_fields = [f for f in importer.fields
                     if f.kind == "text" and _is_unique(model, f.target())]
    seen = {f.name: {} for f in unique_fields}
    cache, results, new_records = {}, [], []
    try:
        with session.no_autoflush:
            for number, cells in table.rows:
                result = _run_row(importer, mapping, number, cells, existing, seen, session,
                                  cache, user, new_records)
                results.append(result)
        note = table.note
        if ignored:
            note = " ".join(filter(None, [note, gettext(
                "Columns that are shown but not imported were left out: %(names)s.",
                names="、".join(ignored))]))
        outcome = Outcome(importer, results, note)
        if commit and outcome.ok and outcome.writes:
            session.add_all(new_records)
            session.commit()
        else:
            session.rollback()
    except Exception:
        session.rollback()
        raise
    return outcome


def _is_unique(model, name):
    column = sa_inspect(model).columns.get(name)
    return column is not None and bool(column.unique)


def _run_row(importer, mapping, number, cells, existing, seen, session, cache, user,
             new_records):
    model = importer.model
    values, errors = {}, []
    for index, fld in mapping.items():
        raw = cells[index] if index < len(cells) else None
        try:
            values[fld.name] = parse_cell(fld, raw, session, cache)
        except AmbiguousCell as ambiguous:
            values[fld.name] = ambiguous  # decided once the record is known
        except CellError as error:
            errors.append((str(fld.label), str(error)))
    key = values.get(importer.key)
    result = RowResult(number, "" if key is None else str(key))
    if key is None and not any(str(lbl) == str(importer.field(importer.key).label)
                               for lbl, _m in errors):
        errors.append((str(importer.field(importer.key).label),
                       gettext("Must not be empty: it identifies the record.")))
    for fld_name, firsts in seen.items():
        value = values.get(fld_name)
        if value is None:
            continue
        earlier = firsts.setdefault(str(value).casefold(), number)
        if earlier != number:
            errors.append((str(importer.field(fld_name).label), gettext(
                "“%(value)s” appears again: row %(row)d has it already.",
                value=str(value)[:60], row=earlier)))
    if errors:
        result.status, result.errors = ERROR, errors
        return result
    record = existing.get(key)
    is_new = record is None
    if is_new:
        record = model()
        if importer.before_new:
            importer.before_new(record)
    for fld in mapping.values():
        value = values[fld.name]
        target = fld.target()
        if isinstance(value, AmbiguousCell):
            current = None if is_new else getattr(record, fld.name)
            if current is None or current not in value.candidates:
                errors.append((str(fld.label), str(value)))
                continue
            value = values[fld.name] = current
        if value is None and not is_new and fld.required:
            errors.append((str(fld.label), gettext("Must not be empty.")))
            continue
        if value is None and _column_default(model, target):
            continue  # an empty state keeps the record's (a new one: the default)
        if fld.kind == "ref":
            old_obj = getattr(record, fld.name)
            if (old_obj.id if old_obj is not None else None) == \
                    (value.id if value is not None else None):
                continue
            setattr(record, target, value.id if value is not None else None)
            result.changes.append((str(fld.label), shown(old_obj), shown(value)))
            continue
        old = getattr(record, target)
        if _same(old, value):
            continue
        setattr(record, target, list(value) if isinstance(value, (set, frozenset, tuple)) else value)
        result.changes.append((str(fld.label), shown(old), shown(value)))
    if is_new:
        for fld in importer.fields:
            if fld.required and values.get(fld.name) is None:
                errors.append((str(fld.label), gettext("Must not be empty.")))
    if not errors and importer.check:
        changed = {fld.name for fld in mapping.values()
                   if str(fld.label) in {label for label, _b, _a in result.changes}}
        found = importer.check(session, record, values, changed, is_new) or {}
        for name, message in found.items():
            errors.append((str(importer.field(name).label), message))
    if not errors:
        for name, messages in record_errors(record, session).items():
            errors += [(_label_of(importer, name), str(m)) for m in messages]
    if not errors and importer.scoped and (is_new or result.changes):
        try:
            check_write(record, user)
        except ScopeError as error:
            errors.append(("", str(error)))
    if errors:
        result.status, result.errors = ERROR, errors
    elif is_new:
        result.status = NEW
        new_records.append(record)
    elif result.changes:
        result.status = CHANGED
    return result


def _label_of(importer, name):
    base = name.removesuffix("_id")
    for fld in importer.fields:
        if fld.name in (name, base) or fld.target() == name:
            return str(fld.label)
    return name


# ------------------------------------------------------------------ templates

def template_rows(importer, session, user):
    headers = [str(f.label) for f in importer.fields]
    sample = []
    for fld in importer.fields:
        value = fld.sample(session, user) if callable(fld.sample) else fld.sample
        sample.append("" if value is None else value)
    return headers, sample


def column_notes(importer):
    """(label, required, what to write) for each column (the template's notes)."""
    notes = []
    for fld in importer.fields:
        if fld.kind == "enum":
            what = gettext("one of: %(values)s", values="、".join(str(m) for m in fld.enum))
        elif fld.kind == "date":
            what = gettext("a date, 2026-03-31")
        elif fld.kind == "bool":
            what = gettext("是 or 否")
        elif fld.kind == "int":
            what = gettext("a whole number")
        else:
            what = ""
        hint = str(fld.hint) if fld.hint else ""
        notes.append((str(fld.label),
                      fld.required or fld.name == importer.key,
                      "；".join(x for x in (hint, what) if x)))
    return notes


def template_csv(importer, session, user):
    headers, sample = template_rows(importer, session, user)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerow([shown(v) if not isinstance(v, str) else v for v in sample])
    return "\ufeff".encode("utf-8") + buffer.getvalue().encode("utf-8")


def template_xlsx(importer, session, user):
    import openpyxl
    from openpyxl.styles import Font

    headers, sample = template_rows(importer, session, user)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = str(importer.label)[:31]
    sheet.append(headers)
    sheet.append(sample)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, _h in enumerate(headers):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index + 1)].width = 22
    notes = book.create_sheet(gettext("Notes"))
    notes.append([gettext("Column"), gettext("Required"), gettext("What to write")])
    for label, required, what in column_notes(importer):
        notes.append([label, gettext("Yes") if required else "", what])
    notes.append([])
    notes.append([gettext("Only the first sheet is imported. Rows match existing records "
                          "by %(key)s; nothing is ever deleted. Replace the sample row.",
                          key=str(importer.field(importer.key).label))])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ the waiting upload

def _store_dir():
    path = _config("IMPORT_STORE")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _sweep(path, max_age):
    now = time.time()
    for name in os.listdir(path):
        full = os.path.join(path, name)
        try:
            if now - os.path.getmtime(full) > max_age:
                os.remove(full)
        except OSError:
            pass


def store_upload(data, filename, slug, user_id, nonce):
    """Keep an uploaded file for its commit; returns the token naming it."""
    path = _store_dir()
    _sweep(path, _config("IMPORT_TOKEN_MINUTES") * 60)
    token = secrets.token_urlsafe(24)
    meta = {"user_id": user_id, "nonce": nonce, "kind": slug, "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest(), "stored": time.time()}
    with open(os.path.join(path, token + ".bin"), "wb") as stream:
        stream.write(data)
    with open(os.path.join(path, token + ".json"), "w", encoding="utf-8") as stream:
        json.dump(meta, stream)
    return token


def load_upload(token, slug, user_id, nonce):
    """(data, filename) of a waiting upload of this user and session, or ImportRefused."""
    gone = ImportRefused(gettext(
        "This import is no longer waiting (already committed, expired, or started in "
        "another session). Upload the file again."))
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise gone
    path = _store_dir()
    try:
        with open(os.path.join(path, token + ".json"), encoding="utf-8") as stream:
            meta = json.load(stream)
        with open(os.path.join(path, token + ".bin"), "rb") as stream:
            data = stream.read()
    except (OSError, ValueError):
        raise gone from None
    if meta.get("user_id") != user_id or meta.get("nonce") != nonce \
            or meta.get("kind") != slug \
            or time.time() - meta.get("stored", 0) > _config("IMPORT_TOKEN_MINUTES") * 60 \
            or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise gone
    return data, meta.get("filename") or ""


def discard_upload(token):
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return
    for suffix in (".bin", ".json"):
        try:
            os.remove(os.path.join(_store_dir(), token + suffix))
        except OSError:
            pass
