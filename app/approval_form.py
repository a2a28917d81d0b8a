"""The printable approval form (审批单) of every approvable record, and its check
(5.1.3 traceability; 8.1.1, 8.2.1 audit evidence).

One A4 PDF in Chinese, for every model with a ``__workflow__``, from its screen's
declarations (no code per record type): the record page's fields (``show_fieldsets``,
labels in Chinese, enums by label, people by name, times in company time), its attached
files by name and SHA-256, every approval step (person, on whose behalf, time, from and
to state, comment, content hash) in order, and a verification line:

    ProjectRequest/12@345:<SHA-256 of change-history entry 345>

the record type and id, then the position (sequence number) and hash of the newest
entry of the hash-chained change history (app/history.py) about this record or one of
its approvals. ``check_line`` holds such a line against the history: the entry exists,
has that hash, recomputes to it, links to the entry before it, and concerns that
record; whether the record has changed since (a newer entry), and whether every
approval of the record still matches its own entry. ``flask history verify-form LINE``
also walks the whole chain with the entry as an anchor; the page ``/approval-form/
verify`` does the same checks (without the whole walk) for whoever may see the record.
"""
import datetime as dt
import decimal
import enum
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, gettext
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode
from sqlalchemy import and_, func, or_, select

from .base import Attachment, ChangeEntry
from .extensions import db
from .i18n import duration
from .workflow import N_

LINE_PATTERN = re.compile(r"([A-Za-z][A-Za-z0-9_]*)/(\d+)@(\d+):([0-9a-fA-F]{64})")
APPROVAL = "Approval"
INT_MAX = 2**31 - 1  # ids and sequence numbers are 32-bit integer columns

# Layout (millimetres, points).
MARGIN = 14
LABEL_WIDTH = 38
BODY_SIZE = 9
SMALL_SIZE = 7.5
PADDING = 1
# A table row never spans pages: a longer text goes on in rows of this many lines each.
ROW_LINES = 20


# ------------------------------------------------------------------ the line


def evidence_entry(record, approvals=None):
    """The newest change-history entry about ``record`` or one of its approvals."""
    if approvals is None:
        approvals = _approvals(record)
    ids = [str(a.id) for a in approvals]
    condition = and_(ChangeEntry.record_type == type(record).__name__,
                     ChangeEntry.record_id == str(record.id))
    if ids:
        condition = or_(condition, and_(ChangeEntry.record_type == APPROVAL,
                                        ChangeEntry.record_id.in_(ids)))
    seq = db.session.execute(select(func.max(ChangeEntry.seq)).where(condition)).scalar()
    return _entry(seq) if seq is not None else None


def _entry(seq):
    """The change-history entry at chain position ``seq`` (not its row id)."""
    return db.session.query(ChangeEntry).filter(ChangeEntry.seq == seq).one_or_none()


def verification_line(record, entry):
    if entry is None:
        return f"{type(record).__name__}/{record.id}@0:{'0' * 64}"
    return f"{type(record).__name__}/{record.id}@{entry.seq}:{entry.hash}"


def parse_line(text):
    """(record type, id, seq, hash) from a pasted line (spaces and line breaks that a
    copy from a PDF may add are ignored), or None."""
    found = LINE_PATTERN.search(re.sub(r"\s+", "", text or ""))
    if found is None:
        return None
    name, record_id, seq, digest = found.groups()
    if max(int(record_id), int(seq)) > INT_MAX:  # no such row; and a database error
        return None
    return name, int(record_id), int(seq), digest.lower()


@dataclass
class LineCheck:
    """The outcome of checking a verification line: ``ok`` when the line matches the
    chain; ``current`` when the record has not changed since it was printed."""

    ok: bool = False
    current: bool = False
    record: object = None
    problems: list = field(default_factory=list)  # English msgids, translated on display
    notes: list = field(default_factory=list)
    newer_seq: int = None


def check_line(text, visible=None):
    """Hold a verification line against the change history.

    ``visible(model, record_id)``: whether the reader may see that record (the page
    answers "not found" otherwise, as the record page does); None: everything (CLI).
    """
    from .approvals import approvals_of, model_named
    from .history import entry_content, entry_hash, unrecorded_approvals

    result = LineCheck()
    parsed = parse_line(text)
    if parsed is None:
        result.problems.append((N_("This is not a verification line of an approval form."), {}))
        return result
    name, record_id, seq, digest = parsed
    model = model_named(name)
    record = db.session.get(model, record_id) if model is not None else None
    if record is None or (visible is not None and not visible(model, record_id)):
        result.problems.append((N_("No such record."), {}))
        return result
    result.record = record
    entry = _entry(seq)
    approvals = approvals_of(record)
    if entry is None:
        result.problems.append((N_("The change history has no entry #%(seq)d."), {"seq": seq}))
        return result
    own = (entry.record_type == name and entry.record_id == str(record_id)) or (
        entry.record_type == APPROVAL and entry.record_id in {str(a.id) for a in approvals})
    if not own:
        result.problems.append((N_("Entry #%(seq)d of the change history is not about "
                                   "this record."), {"seq": seq}))
    if entry.hash != digest:
        result.problems.append((N_("Entry #%(seq)d of the change history has another "
                                   "hash: the line was altered, or the history was."),
                                 {"seq": seq}))
    if entry.hash != entry_hash(entry.prev_hash, entry_content(entry)):
        result.problems.append((N_("Entry #%(seq)d does not match its own hash."),
                                 {"seq": seq}))
    before = _entry(seq - 1) if seq > 1 else None
    expected_prev = before.hash if before is not None else "0" * 64
    if entry.prev_hash != expected_prev:
        result.problems.append((N_("Entry #%(seq)d is not linked to the entry before it."),
                                 {"seq": seq}))
    forged = unrecorded_approvals(db.session, approvals)
    if forged:
        result.problems.append((N_("%(count)d approvals of this record do not match their "
                                   "change-history entries."), {"count": len(forged)}))
    result.ok = not result.problems
    latest = evidence_entry(record, approvals)
    result.current = latest is not None and latest.seq == seq
    if result.ok and not result.current and latest is not None:
        result.newer_seq = latest.seq
        result.notes.append((N_("The record has changed since this form was printed: "
                                "the newest entry about it is #%(seq)d."),
                              {"seq": latest.seq}))
    db.session.rollback()  # read only: hold no lock on the evidence tables
    return result


def describe_check(result):
    """The outcome as translated sentences."""
    lines = [gettext(message, **args) for message, args in result.problems + result.notes]
    if result.ok and result.current:
        lines.insert(0, gettext("The line matches the change history and the record's "
                                "current state."))
    elif result.ok:
        lines.insert(0, gettext("The line matches the change history."))
    return lines


# ------------------------------------------------------------------ values


def _zone():
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_seconds(value):
    if value is None:
        return "—"
    return (value.replace(tzinfo=dt.timezone.utc).astimezone(_zone())
            .strftime("%Y-%m-%d %H:%M:%S"))


def printable(text):
    """``text`` without control and format characters (bidirectional overrides, zero
    width), which a PDF font has no glyph for; tabs become spaces, line breaks stay."""
    text = str(text).replace("\t", " ").replace("\r\n", "\n")
    return "".join(ch for ch in text
                   if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))


def readable(value):
    """A field's value as the record page reads it, as plain text."""
    return printable(_readable(value))


def _readable(value):
    if callable(value) and not isinstance(value, type):
        value = value()
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return f"¥{value:,.2f}"
    if isinstance(value, dt.datetime):
        return local_seconds(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration(value)
    if isinstance(value, Attachment):
        return value.filename  # with its SHA-256 under the form's attached files
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__") and \
            not isinstance(value, str):
        items = [_readable(v) for v in value]
        return "、".join(items) or "—"
    return str(value)


def _approvals(record):
    from .approvals import approvals_of

    return approvals_of(record)


def _fieldsets(view):
    fieldsets = getattr(view, "show_fieldsets", None)
    if fieldsets:
        return [(str(title), list(spec["fields"])) for title, spec in fieldsets]
    columns = getattr(view, "show_columns", None) or view.list_columns
    return [(gettext("Detail"), list(columns))]


def form_content(record, view):
    """Everything the form prints, as plain strings (built in Chinese)."""
    from .history import unrecorded_approvals
    from .labels import RECORD_LABELS
    from .workflow import content_hash

    model = type(record)
    flow = model.__workflow__
    labels = view.label_columns
    noun = str(RECORD_LABELS.get(model.__name__) or model.__name__)
    sections = []
    for title, columns in _fieldsets(view):
        rows = []
        for column in columns:
            label = str(labels.get(column, column))
            try:
                value = readable(getattr(record, column))
            except Exception:  # a derived value that cannot be read stays a dash
                value = "—"
            rows.append((label, value))
        sections.append((title, rows))
    files = []
    for name in getattr(model, "__attachments__", ()):
        attachment = getattr(record, name, None)
        if attachment is not None:
            files.append((str(labels.get(name, name)), attachment.filename,
                          attachment.size, attachment.sha256))
    approvals = _approvals(record)
    suspect = unrecorded_approvals(db.session, approvals)
    steps = []
    for number, approval in enumerate(approvals, 1):
        who = str(approval.actor) if approval.actor is not None else gettext("System")
        if approval.acting_for is not None:
            who += "（" + gettext("on behalf of %(name)s", name=str(approval.acting_for)) + "）"
        steps.append({
            "number": number,
            "step": gettext(approval.label),
            "states": f"{_state(flow, approval.from_state)} → {_state(flow, approval.to_state)}",
            "who": who, "at": local_seconds(approval.at),
            "comment": printable(approval.comment or "—"), "hash": approval.content_hash,
            "genuine": approval.id not in suspect,
        })
    entry = evidence_entry(record, approvals)
    state = getattr(record, flow.state_field)
    return {
        "app": current_app.config.get("APP_NAME", ""),
        "title": gettext("%(record)s approval form", record=noun),
        "record": printable(record), "state": str(state), "noun": noun,
        "sections": sections, "files": files, "steps": steps,
        "content_hash": content_hash(flow, record),
        "line": verification_line(record, entry),
        "entry": entry,
    }


def _state(flow, name):
    member = flow.states.__members__.get(name)
    return str(member) if member is not None else name


# ------------------------------------------------------------------ the PDF


def _all_text(content, extra):
    parts = [content["app"], content["title"], content["record"], content["state"],
             content["line"], *extra]
    for title, rows in content["sections"]:
        parts.append(title)
        for label, value in rows:
            parts += [label, value]
    for label, name, _size, digest in content["files"]:
        parts += [label, name, digest]
    for step in content["steps"]:
        parts += [step["step"], step["states"], step["who"], step["at"], step["comment"]]
    return "".join(parts)


def render_pdf(record, view, printed_by=None):
    """The approval form of ``record`` (shown by ``view``) as PDF bytes, in Chinese."""
    from .form_font import truetype_subset

    with force_locale("zh"):
        content = form_content(record, view)
        now = local_seconds(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
        words = {
            "printed": gettext("Printed %(time)s by %(person)s", time=now,
                               person=str(printed_by) if printed_by else gettext("System")),
            "record": gettext("Record"), "state": gettext("Current state"),
            "files": gettext("Attached files"), "no_files": gettext("No attached files."),
            "steps": gettext("Approvals"), "no_steps": gettext("No approval step yet."),
            "step": gettext("Step"), "who": gettext("Person"), "at": gettext("Time"),
            "comment": gettext("Comment"), "hash": gettext("Content hash (SHA-256)"),
            "not_genuine": gettext("Not in the change history: not genuine"),
            "current_hash": gettext("Current content hash (SHA-256)"),
            "verify": gettext("Verification line"),
            "how": gettext("Check it: paste the line on the page “Verify an approval "
                           "form” (/approval-form/verify) or run: flask history "
                           "verify-form LINE"),
            "page": gettext("Page"),
        }
    text = _all_text(content, words.values()) + "0123456789/{}"
    with tempfile.TemporaryDirectory() as folder:
        font = truetype_subset(text, os.path.join(folder, "form.ttf"))
        pdf = _FormPDF(content, words)
        pdf.add_font("form", fname=font)
        pdf.set_font("form", size=BODY_SIZE)
        pdf.alias_nb_pages()
        pdf.add_page()
        _body(pdf, content, words)
        return bytes(pdf.output())


class _FormPDF(FPDF):
    """A4 portrait; every page ends with the verification line and its number."""

    def __init__(self, content, words):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.content, self.words = content, words
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 8)
        self.set_title(content["title"])
        self.set_subject(content["line"])
        self.set_creator(content["app"])
        self.set_lang("zh-CN")

    def footer(self):
        self.set_y(-MARGIN - 4)
        self.set_font("form", size=SMALL_SIZE)
        self.set_text_color(90)
        self.cell(0, 4, f"{self.words['verify']}：{self.content['line']}",
                  new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"{self.content['title']} · {self.words['page']} "
                        f"{self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)


def _pieces(pdf, text, width):
    """``text`` as wrapped in a cell ``width`` wide, in parts of at most ROW_LINES lines
    (fpdf2 cannot break one table row over two pages; a long text flows in several)."""
    lines = pdf.multi_cell(width - 2 * PADDING - 0.5, 4, text, dry_run=True,
                           output=MethodReturnValue.LINES, wrapmode=WrapMode.CHAR)
    if len(lines) <= ROW_LINES:
        return [text]
    return ["\n".join(lines[start:start + ROW_LINES])
            for start in range(0, len(lines), ROW_LINES)]


def _heading(pdf, text):
    pdf.ln(2)
    pdf.set_font("form", size=BODY_SIZE + 2)
    pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("form", size=BODY_SIZE)


def _body(pdf, content, words):
    width = pdf.epw
    pdf.set_font("form", size=SMALL_SIZE)
    pdf.cell(0, 4, content["app"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("form", size=16)
    pdf.cell(0, 9, content["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("form", size=BODY_SIZE)
    pdf.multi_cell(0, 5, f"{content['record']} · {words['state']}：{content['state']}",
                   align="C", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.set_font("form", size=SMALL_SIZE)
    pdf.cell(0, 4, words["printed"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("form", size=BODY_SIZE)

    table = {"wrapmode": WrapMode.CHAR, "first_row_as_headings": False,
             "text_align": "LEFT", "line_height": 4.6, "padding": PADDING}
    for title, rows in content["sections"]:
        _heading(pdf, title)
        with pdf.table(col_widths=(LABEL_WIDTH, width - LABEL_WIDTH), **table) as grid:
            for label, value in rows:
                for part, piece in enumerate(_pieces(pdf, value, width - LABEL_WIDTH)):
                    row = grid.row()
                    row.cell(label if part == 0 else "")
                    row.cell(piece)

    _heading(pdf, words["files"])
    if content["files"]:
        with pdf.table(col_widths=(LABEL_WIDTH, width - LABEL_WIDTH), **table) as grid:
            for label, name, size, digest in content["files"]:
                row = grid.row()
                row.cell(label)
                row.cell(f"{name}（{max(1, size // 1024)} KB）\nSHA-256 {digest}")
    else:
        pdf.cell(0, 5, words["no_files"], new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, words["steps"])
    if content["steps"]:
        pdf.set_font("form", size=SMALL_SIZE + 0.5)
        widths = (6, 40, 30, 30, width - 6 - 40 - 30 - 30)
        with pdf.table(col_widths=widths, **{**table, "line_height": 3.9}) as grid:
            head = grid.row()
            for text in ("#", words["step"], words["who"], words["at"], words["comment"]):
                head.cell(text)
            for step in content["steps"]:
                pieces = _pieces(pdf, step["comment"], widths[4])
                row = grid.row()
                row.cell(str(step["number"]))
                row.cell(f"{step['step']}\n{step['states']}")
                row.cell(step["who"])
                row.cell(step["at"])
                row.cell(pieces[0])
                for piece in pieces[1:]:  # a very long comment goes on in rows of its own
                    row = grid.row()
                    row.cell("", colspan=4)
                    row.cell(piece)
                row = grid.row()
                row.cell("")
                note = "" if step["genuine"] else f" 【{words['not_genuine']}】"
                row.cell(f"{words['hash']}：{step['hash']}{note}", colspan=4)
        pdf.set_font("form", size=BODY_SIZE)
    else:
        pdf.cell(0, 5, words["no_steps"], new_x="LMARGIN", new_y="NEXT")

    pdf.ln(2)
    pdf.set_font("form", size=SMALL_SIZE + 0.5)
    pdf.multi_cell(0, 4, f"{words['current_hash']}：{content['content_hash']}",
                   new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.ln(1)
    pdf.set_font("form", size=BODY_SIZE)
    pdf.cell(0, 5, f"{words['verify']}：", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, content["line"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("form", size=SMALL_SIZE)
    pdf.multi_cell(0, 4, words["how"], new_x="LMARGIN", new_y="NEXT",
                   wrapmode=WrapMode.CHAR)
