"""The change log answers every filter and combination exactly: each list, page by page
and in both orders, holds the same entries as a plain Python filter over all entries.

The log is queried as ranges of entry numbers (app/history_views.py LogQuery): a date
range becomes a range of seq, counts of filtered lists are bounded ("N+"), pages past
the bound are empty. Runs on its own database (a few hundred entries appended to the
demo's chain, the hash chain kept valid), SQLite and PostgreSQL alike.
"""
import datetime as dt
import re
import tempfile
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import dispose, login, scratch_database_url, seeded_app

USERS = ["ann", "bob", "cai", None]
TYPES = ["Incident", "Contract", "ProjectRequest", "Approval"]
ACTIONS = ["insert", "update", "update", "delete"]
PAGE = 25
ROW = re.compile(r'/changelog/show/(\d+)"')
COUNT = re.compile(r"</strong>\s*([0-9,]+)(\+| 以上)?\s*</div>")  # "1,000 以上": 1,000+


@pytest.fixture(scope="module")
def log_app():
    application = seeded_app(scratch_database_url(tempfile.mkdtemp(), "changelog"))
    with application.app_context():
        _append_entries(application)
    yield application
    dispose(application)


def _append_entries(application, count=300):
    """``count`` entries after the demo's, ten minutes apart (one written 25 minutes
    "early", as a server with a skewed clock would), hashed into the chain."""
    from sqlalchemy import text

    from app.base import ChainHead, ChangeEntry
    from app.extensions import db
    from app.history import entry_content, entry_hash

    head = db.session.get(ChainHead, 1)
    seq, prev = head.seq, head.hash
    last = db.session.query(ChangeEntry.occurred_at).filter_by(seq=seq).scalar()
    start = last.replace(microsecond=0) + dt.timedelta(hours=1)
    rows = []
    for i in range(count):
        seq += 1
        moment = start + dt.timedelta(minutes=10 * i)
        if i == 150:
            moment -= dt.timedelta(minutes=25)  # before the entry it follows
        row = {"seq": seq, "occurred_at": moment, "user_id": None,
               "username": USERS[i % 4], "acting_for_id": None, "acting_for": None,
               "request_id": f"req{i // 3:04d}", "record_type": TYPES[(i // 4) % 4],
               "record_id": str(i % 7 + 1), "action": ACTIONS[(i // 16) % 4],
               "changes": "{}", "prev_hash": prev}
        row["hash"] = prev = entry_hash(prev, entry_content(row))
        rows.append(row)
    with db.engine.begin() as conn:
        conn.execute(ChangeEntry.__table__.insert(), rows)
        conn.execute(text("UPDATE change_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                     {"s": seq, "h": prev})


@pytest.fixture(scope="module")
def everything(log_app):
    """Every entry as (id, seq, username, record_type, record_id, action, request_id,
    occurred_at), in the log's order (newest first)."""
    from app.base import ChangeEntry
    from app.extensions import db

    with log_app.app_context():
        return [dict(id=e.id, seq=e.seq, username=e.username, record_type=e.record_type,
                     record_id=e.record_id, action=e.action, request_id=e.request_id,
                     occurred_at=e.occurred_at)
                for e in db.session.query(ChangeEntry).order_by(ChangeEntry.seq.desc())]


@pytest.fixture(scope="module")
def auditor(log_app):
    client = log_app.test_client()
    assert login(client, "auditor").status_code == 302
    return client


def _local(moment, app):
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _listed(client, query, page=0, ascending=False):
    url = f"/changelog/list/?{query}&psize_ChangeLogView={PAGE}&page_ChangeLogView={page}"
    if ascending:
        url += "&_oc_ChangeLogView=seq&_od_ChangeLogView=asc"
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    ids = [int(pk) for pk in dict.fromkeys(ROW.findall(html))]
    found = COUNT.search(html)
    return ids, (found.group(1) + ("+" if found.group(2) else "") if found else "0")


def _every_page(client, query, ascending=False):
    ids, count = _listed(client, query, 0, ascending)
    shown, page = list(ids), 0
    while len(ids) == PAGE:
        page += 1
        ids, again = _listed(client, query, page, ascending)
        assert again == count
        shown += ids
    return shown, count


def _cases(entries, app):
    """(name, query string, predicate) for every filter the screen offers, alone and
    combined."""
    synthetic = [e for e in entries if e["request_id"].startswith("req")]
    middle = synthetic[len(synthetic) // 2]["occurred_at"]
    since, until = middle - dt.timedelta(hours=7), middle + dt.timedelta(hours=5)
    at = synthetic[100]["occurred_at"]
    late = synthetic[149]["occurred_at"]  # the entry dated 25 minutes early
    seq_low, seq_high = synthetic[-1]["seq"] + 40, synthetic[-1]["seq"] + 120

    def t(name, value):
        return f"_flt_{name}={_local(value, app)}"

    def between(a, b):
        return lambda e: a < e["occurred_at"] < b

    return [
        ("everything", "", lambda e: True),
        ("user", "_flt_0_username=ann", lambda e: e["username"] == "ann"),
        ("not this user", "_flt_1_username=ann", lambda e: e["username"] != "ann"
         and e["username"] is not None),
        ("record type", "_flt_0_record_type=Contract", lambda e: e["record_type"] == "Contract"),
        ("record type by its name", "_flt_0_record_type=合同",
         lambda e: e["record_type"] == "Contract"),
        ("record id", "_flt_0_record_id=3", lambda e: e["record_id"] == "3"),
        ("record", "_flt_0_record_type=Incident&_flt_0_record_id=5",
         lambda e: e["record_type"] == "Incident" and e["record_id"] == "5"),
        ("request id", "_flt_0_request_id=req0042", lambda e: e["request_id"] == "req0042"),
        ("action", "_flt_0_action=delete", lambda e: e["action"] == "delete"),
        ("user + type", "_flt_0_username=bob&_flt_0_record_type=Approval",
         lambda e: e["username"] == "bob" and e["record_type"] == "Approval"),
        ("user + action", "_flt_0_username=cai&_flt_0_action=update",
         lambda e: e["username"] == "cai" and e["action"] == "update"),
        ("type + action", "_flt_0_record_type=Incident&_flt_0_action=insert",
         lambda e: e["record_type"] == "Incident" and e["action"] == "insert"),
        ("user + type + action",
         "_flt_0_username=ann&_flt_0_record_type=Incident&_flt_0_action=update",
         lambda e: (e["username"], e["record_type"], e["action"]) == ("ann", "Incident",
                                                                      "update")),
        ("date range", f"{t('1_occurred_at', since)}&{t('2_occurred_at', until)}",
         between(since, until)),
        ("from a time on", t("1_occurred_at", middle), lambda e: e["occurred_at"] > middle),
        ("until a time", t("2_occurred_at", middle), lambda e: e["occurred_at"] < middle),
        ("at a time", t("0_occurred_at", at), lambda e: e["occurred_at"] == at),
        ("the entry written early", f"{t('1_occurred_at', late - dt.timedelta(minutes=1))}"
         f"&{t('2_occurred_at', late + dt.timedelta(minutes=1))}",
         between(late - dt.timedelta(minutes=1), late + dt.timedelta(minutes=1))),
        ("user + date range", f"_flt_0_username=bob&{t('1_occurred_at', since)}"
         f"&{t('2_occurred_at', until)}",
         lambda e: e["username"] == "bob" and since < e["occurred_at"] < until),
        ("type + date range", f"_flt_0_record_type=Approval&{t('1_occurred_at', since)}"
         f"&{t('2_occurred_at', until)}",
         lambda e: e["record_type"] == "Approval" and since < e["occurred_at"] < until),
        ("user + type + date range", f"_flt_0_username=ann&_flt_0_record_type=Incident"
         f"&{t('1_occurred_at', since)}&{t('2_occurred_at', until)}",
         lambda e: e["username"] == "ann" and e["record_type"] == "Incident"
         and since < e["occurred_at"] < until),
        ("record + until", f"_flt_0_record_type=Contract&_flt_0_record_id=2"
         f"&{t('2_occurred_at', middle)}",
         lambda e: e["record_type"] == "Contract" and e["record_id"] == "2"
         and e["occurred_at"] < middle),
        ("request + user", "_flt_0_request_id=req0010&_flt_0_username=bob",
         lambda e: e["request_id"] == "req0010" and e["username"] == "bob"),
        ("entry numbers", f"_flt_1_seq={seq_low}&_flt_2_seq={seq_high}",
         lambda e: seq_low < e["seq"] < seq_high),
        ("one entry number", f"_flt_0_seq={seq_low}", lambda e: e["seq"] == seq_low),
        ("not this entry number", f"_flt_3_seq={seq_low}", lambda e: e["seq"] != seq_low),
        ("entry numbers + user", f"_flt_1_seq={seq_low}&_flt_0_username=cai",
         lambda e: e["seq"] > seq_low and e["username"] == "cai"),
        ("nothing matches", "_flt_0_username=nobody-at-all", lambda e: False),
        ("an empty date range", f"{t('1_occurred_at', until)}&{t('2_occurred_at', since)}",
         lambda e: False),
    ]


def test_every_filter_and_combination_lists_exactly_the_matching_entries(
        log_app, auditor, everything):
    for name, query, wanted in _cases(everything, log_app):
        expected = [e["id"] for e in everything if wanted(e)]
        shown, count = _every_page(auditor, query)
        assert shown == expected, name
        assert count == str(len(expected)), name
        oldest_first, _count = _every_page(auditor, query, ascending=True)
        assert oldest_first == expected[::-1], name


def test_sorting_by_time_is_the_order_of_entry_numbers(log_app, auditor, everything):
    for direction in ("desc", "asc"):
        html = auditor.get("/changelog/list/?_oc_ChangeLogView=occurred_at"
                           f"&_od_ChangeLogView={direction}&psize_ChangeLogView=50"
                           ).get_data(as_text=True)
        ids = [int(pk) for pk in dict.fromkeys(ROW.findall(html))]
        expected = [e["id"] for e in everything]
        assert ids == (expected if direction == "desc" else expected[::-1])[:50]


def test_a_deep_page_of_the_whole_log_is_the_right_slice(log_app, auditor, everything):
    ids, count = _listed(auditor, "", page=9)
    assert ids == [e["id"] for e in everything][9 * PAGE:10 * PAGE]
    assert count == str(len(everything))
    assert _listed(auditor, "", page=10_000)[0] == []


def test_a_large_filtered_count_is_bounded_and_said_so(log_app, auditor, everything,
                                                       monkeypatch):
    from app import history_views

    monkeypatch.setattr(history_views, "LOG_COUNT_CAP", 40)
    expected = [e["id"] for e in everything if e["username"] == "ann"]
    assert len(expected) > 40
    ids, count = _listed(auditor, "_flt_0_username=ann")
    assert count == "40+"
    assert ids == expected[:PAGE]
    assert _listed(auditor, "_flt_0_username=ann", page=1)[0] == expected[PAGE:2 * PAGE]
    # past the bound: nothing (a narrower filter reaches older entries), never an error
    assert _listed(auditor, "_flt_0_username=ann", page=2)[0] == []
    # the whole log and a range of numbers are counted exactly from the numbering
    assert _listed(auditor, "")[1] == str(len(everything))


@pytest.mark.parametrize("query", [
    "_flt_1_occurred_at=not-a-time", "_flt_2_occurred_at=9999-99-99",
    "_flt_1_seq=abc", "_flt_0_seq=99999999999999999999999", "_flt_2_seq=-5",
    "_flt_0_username=%00", "_flt_0_record_type=" + "x" * 3000, "_flt_7_username=ann",
    "_flt_2_username=ann", "_flt_0_action=nonsense", "_oc_ChangeLogView=username",
    "_oc_ChangeLogView=record_type&_od_ChangeLogView=asc",
])
def test_bad_filter_values_never_fail(log_app, auditor, query):
    response = auditor.get(f"/changelog/list/?{query}", follow_redirects=True)
    assert response.status_code == 200


def test_a_date_range_is_read_as_a_range_of_entry_numbers(log_app, auditor, everything):
    """Every statement of "user + date range" bounds seq on both sides (a range scan of
    the (username, seq) index); the count and the page carry no condition on the time
    (only the few entries near the bounds have their time checked), nothing sorts by
    time."""
    from sqlalchemy import event

    from app.extensions import db

    middle = everything[len(everything) // 4]["occurred_at"]
    since, until = middle - dt.timedelta(hours=3), middle + dt.timedelta(hours=3)
    seen = []
    with log_app.app_context():
        engine = db.engine

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = auditor.get(f"/changelog/list/?_flt_0_username=ann"
                               f"&_flt_1_occurred_at={_local(since, log_app)}"
                               f"&_flt_2_occurred_at={_local(until, log_app)}")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200
    filtered = [s for s in seen if "change_entry.username =" in s]
    assert all("change_entry.seq >=" in s and "change_entry.seq <=" in s for s in filtered)
    assert not any("ORDER BY change_entry.occurred_at" in s for s in filtered)
    big = [s for s in filtered if "count(" in s or "OFFSET" in s]
    assert len(big) == 2  # the count and the page
    assert not any("occurred_at" in s for s in big)


def test_an_entry_is_never_dated_before_the_one_it_follows(log_app):
    """The log's last entries are dated ahead of the clock (another server's): an entry
    written now takes the time of the one it follows, so time and number stay in order.
    (Last in this file: it adds an entry to the module's log.)"""
    from app.base import ChainHead, ChangeEntry
    from app.extensions import db
    from app.organisation.models import Department

    with log_app.app_context():
        head = db.session.get(ChainHead, 1).seq
        ahead = db.session.query(ChangeEntry.occurred_at).filter_by(seq=head).scalar()
        assert ahead > dt.datetime.utcnow() + dt.timedelta(hours=1)
        department = db.session.query(Department).filter_by(code="FIN").one()
        department.description = "时钟测试"
        db.session.commit()
        written = db.session.query(ChangeEntry).filter(ChangeEntry.seq > head).one()
        assert (written.record_type, written.occurred_at) == ("Department", ahead)


@pytest.mark.parametrize("query", ["", "date range", "user + type + date range"])
def test_a_change_log_page_costs_at_most_ten_statements(log_app, auditor, everything, query):
    """A page of the log (20 entries of several record types, users, a date range) is
    read in at most 10 statements: the bounds of a date range in one, the page's entries
    once, names per table, never per entry nor per name inside the changes."""
    from sqlalchemy import event

    from app.extensions import db

    middle = everything[len(everything) // 4]["occurred_at"]
    since, until = middle - dt.timedelta(hours=20), middle + dt.timedelta(hours=20)
    dates = (f"&_flt_1_occurred_at={_local(since, log_app)}"
             f"&_flt_2_occurred_at={_local(until, log_app)}")
    path = {"": "/changelog/list/", "date range": "/changelog/list/?" + dates[1:],
            "user + type + date range": "/changelog/list/?_flt_0_username=ann"
            "&_flt_0_record_type=Incident" + dates}[query]
    seen = []
    with log_app.app_context():
        engine = db.engine

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    auditor.get(path)  # the session's own lookups (user, roles) once
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = auditor.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200
    assert ROW.search(response.get_data(as_text=True))
    assert len(seen) <= 10, "\n".join(seen)
