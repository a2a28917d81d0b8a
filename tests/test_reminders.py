"""到期提醒: the page of what falls due for each person, its links, and the daily mail
digests of `flask reminders send` received on a real local SMTP server."""
import datetime as dt
import itertools
import re
import socket
import threading
from email import message_from_bytes, policy

import pytest
from webhelpers import list_page

from app.deadlines import company_today

ROLES = ["admin", "clerk_fin", "head_fin", "it_staff", "expert", "manager", "auditor"]


def _today(app):
    with app.app_context():
        return company_today()


def _page(client):
    response = client.get("/reminders/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _groups(html):
    """{group id: (count shown, [record links], all link)} of the reminders page."""
    found = {}
    for key, body in re.findall(r'(?s)<div class="panel panel-warning reminder-group" '
                                r'id="([^"]+)">(.*?)</div>\s*</div>', html):
        count = re.search(r'<span class="badge count">([^<]+)</span>', body).group(1)
        links = re.findall(r'<li class="list-group-item"><a href="([^"]+)"', body)
        all_link = re.search(r'class="btn btn-default btn-sm reminder-all" href="([^"]+)"',
                             body).group(1).replace("&amp;", "&")
        found[key] = (count, links, all_link)
    return found


_runs = itertools.count(1)


@pytest.fixture
def contracts(app, make):
    """A contract of FIN and one of MKT ending in ten days, one of FIN ending in 60; their
    numbers under ``number_<key>``."""
    today = _today(app)
    soon, later = today + dt.timedelta(days=10), today + dt.timedelta(days=60)
    n = next(_runs)
    found = {}
    for key, dept, end in (("fin", "FIN", soon), ("mkt", "MKT", soon),
                           ("later", "FIN", later)):
        found[f"number_{key}"] = f"RM-{key.upper()}-{n}"
        found[key] = make("contract", dept=dept, end_date=end, number=found[f"number_{key}"])
    return found


# ------------------------------------------------------------------ the page

@pytest.mark.parametrize("username", ROLES)
def test_every_role_opens_its_reminders_page_with_the_configured_days(login_as, username):
    html = _page(login_as(username))
    assert "30" in re.search(r'(?s)<p class="text-muted reminder-windows">(.*?)</p>', html).group(1)


def test_reminders_need_a_login_and_take_no_post(client, login_as):
    assert client.get("/reminders/").status_code in (302, 401)
    signed_in = login_as("clerk_fin")
    assert signed_in.post("/reminders/").status_code in (400, 405)


def test_home_page_and_navbar_lead_to_the_reminders(login_as):
    html = login_as("clerk_fin").get("/").get_data(as_text=True)
    assert 'class="btn btn-default btn-sm home-reminders" href="/reminders/"' in html
    assert '<a href="/reminders/" class="navbar-reminders" title="到期提醒">' in html


def test_clerk_is_reminded_of_own_departments_contract_ending_not_anothers(
        app, login_as, contracts):
    fin = _groups(_page(login_as("clerk_fin")))["contract_ending"]
    mkt = _groups(_page(login_as("clerk_mkt")))["contract_ending"]
    assert f"/contractview/show/{contracts['fin']}" in fin[1]
    assert f"/contractview/show/{contracts['mkt']}" not in fin[1]
    assert f"/contractview/show/{contracts['mkt']}" in mkt[1]
    later = f"/contractview/show/{contracts['later']}"
    assert later not in fin[1] and later not in mkt[1]


def test_another_departments_reminder_link_answers_404(login_as, contracts):
    fin_link = f"/contractview/show/{contracts['fin']}"
    assert login_as("clerk_fin").get(fin_link).status_code == 200
    assert login_as("clerk_mkt").get(fin_link).status_code == 404


def test_all_link_lists_exactly_the_records_counted(login_as, contracts):
    for username in ("clerk_fin", "clerk_mkt", "head_fin", "it_staff"):
        client = login_as(username)
        groups = _groups(_page(client))
        assert groups, username
        for key, (count, links, all_link) in groups.items():
            if key == "inbox_waiting":
                continue
            view, _, query = all_link.strip("/").partition("/list/?")
            total, _ids = list_page(client, view, query)
            assert str(total) == count, (username, key, all_link)
            assert len(links) == min(total, 5)


def test_all_link_of_one_department_lists_none_of_anothers(login_as, contracts):
    client = login_as("clerk_mkt")
    _count, _links, all_link = _groups(_page(client))["contract_ending"]
    view, _, query = all_link.strip("/").partition("/list/?")
    _total, ids = list_page(client, view, query)
    assert contracts["mkt"] in ids and contracts["fin"] not in ids


def test_it_staff_are_reminded_of_what_it_runs_for_every_department(login_as, contracts):
    links = _groups(_page(login_as("it_staff")))["contract_ending"][1]
    count = int(_groups(_page(login_as("it_staff")))["contract_ending"][0])
    assert count >= 2
    # The page shows the first ones by end date; the two of ten days are among them.
    assert {f"/contractview/show/{contracts[k]}" for k in ("fin", "mkt")} <= set(links) \
        or count > 5


@pytest.mark.parametrize("username", ["admin", "manager", "auditor", "expert"])
def test_who_reads_everything_is_not_reminded_of_everything(app, login_as, ids, contracts,
                                                             username):
    from app.extensions import db
    from app.operations.models import MaintenancePlan
    from app.procurement.models import Milestone

    groups = _groups(_page(login_as(username)))
    assert "contract_ending" not in groups
    # Only what waits for them, their delegations, and records naming them responsible.
    named = {"milestone_overdue": Milestone, "maintenance_plan_overdue": MaintenancePlan}
    assert not set(groups) - {"inbox_waiting", "delegation_ending", *named}
    with app.app_context():
        for key, model in named.items():
            for link in groups.get(key, (0, [], ""))[1]:
                record = db.session.get(model, int(link.rsplit("/", 1)[1]))
                assert record.responsible_id == ids.user(username), link


def test_contract_window_comes_from_the_configuration(app, login_as, contracts):
    client = login_as("clerk_fin")

    def listed():
        html = _page(client)
        all_link = _groups(html)["contract_ending"][2]
        view, _, query = all_link.strip("/").partition("/list/?")
        return html, list_page(client, view, query + "&psize_ContractView=100")[1]

    html, ids = listed()
    assert contracts["fin"] in ids and contracts["later"] not in ids
    app.config["CONTRACT_DUE_DAYS"] = 90
    try:
        html, ids = listed()
        assert contracts["later"] in ids
        assert "90" in re.search(r'(?s)reminder-windows">(.*?)</p>', html).group(1)
    finally:
        app.config["CONTRACT_DUE_DAYS"] = 30


def test_overdue_rectification_is_for_the_responsible_department(app, login_as, make):
    finding = make("finding", dept="MKT", due_date=_today(app) - dt.timedelta(days=3))
    link = f"/auditfindingview/show/{finding}"
    assert link in _groups(_page(login_as("head_mkt")))["audit_finding_overdue"][1] or \
        int(_groups(_page(login_as("head_mkt")))["audit_finding_overdue"][0]) > 5
    assert link not in str(_groups(_page(login_as("head_fin"))))


def test_delegation_ending_reminds_principal_and_substitute_only(app, login_as, ids, make):
    from app.base import Delegation
    from app.extensions import db

    today = _today(app)
    # Starting tomorrow: nobody stands in for anybody during the other tests.
    with app.app_context():
        delegation = Delegation(principal_id=ids.user("clerk_mkt"),
                                substitute_id=ids.user("head_mkt"),
                                start_date=today + dt.timedelta(days=1),
                                end_date=today + dt.timedelta(days=5), reason="RM-休假")
        db.session.add(delegation)
        db.session.commit()
        pk = delegation.id
    try:
        link = f"/delegationview/show/{pk}"
        for username in ("clerk_mkt", "head_mkt"):
            client = login_as(username)
            count, links, all_link = _groups(_page(client))["delegation_ending"]
            assert link in links
            assert client.get(link).status_code == 200  # the substitute reads it too
            view, _, query = all_link.strip("/").partition("/list/?")
            assert pk in list_page(client, view, query)[1]
        other = login_as("clerk_fin")
        assert "delegation_ending" not in _groups(_page(other))
        assert other.get(link).status_code == 404
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Delegation, pk))
            db.session.commit()


def test_substitute_may_read_but_not_change_the_delegation(app, login_as, ids):
    from app.base import Delegation
    from app.extensions import db
    from webhelpers import form_token

    today = _today(app)
    with app.app_context():
        delegation = Delegation(principal_id=ids.user("clerk_mkt"),
                                substitute_id=ids.user("head_mkt"),
                                start_date=today + dt.timedelta(days=1),
                                end_date=today + dt.timedelta(days=2), reason="RM-只读")
        db.session.add(delegation)
        db.session.commit()
        pk = delegation.id
    try:
        client = login_as("head_mkt")
        response = client.post(f"/delegationview/delete/{pk}",
                               data={"csrf_token": form_token(client)})
        assert response.status_code in (302, 403, 404)
        with app.app_context():
            assert db.session.get(Delegation, pk) is not None
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Delegation, pk))
            db.session.commit()


def test_approval_waiting_over_the_set_days_is_a_reminder_linking_to_the_inbox(
        app, login_as, make):
    from sqlalchemy import update

    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    project = make("project", dept="FIN", status=ProjectStatus.dept_review,
                   name="RM-久等的项目")
    with app.app_context():
        db.session.execute(update(ProjectRequest).where(ProjectRequest.id == project).values(
            changed_on=dt.datetime.now() - dt.timedelta(days=10)))
        db.session.commit()
    try:
        client = login_as("head_fin")
        count, links, all_link = _groups(_page(client))["inbox_waiting"]
        assert f"/projectrequestview/show/{project}" in links or int(count) > 5
        assert all_link == "/inbox/?waiting=1"
        inbox = client.get(all_link).get_data(as_text=True)
        assert f"/projectrequestview/show/{project}" in inbox
        assert "inbox_waiting" not in _groups(_page(login_as("head_mkt")))
    finally:
        with app.app_context():
            db.session.execute(update(ProjectRequest).where(ProjectRequest.id == project)
                               .values(status=ProjectStatus.rejected))
            db.session.commit()


def test_systems_due_for_backup_scan_or_drill_list_by_the_scorecard_rules(app, login_as):
    from app.compliance import RULES
    from app.extensions import db
    from app.organisation.models import InformationSystem

    client = login_as("it_staff")
    groups = _groups(_page(client))
    keys = {"information_system_scan_due": "vulnerability_scan",
            "information_system_drill_due": "emergency_plan",
            "information_system_backup_due": "backup"}
    with app.app_context():
        for key, rule_key in keys.items():
            failing = next(r for r in RULES if r.key == rule_key).failing().subquery()
            expected = db.session.query(InformationSystem.id).filter(
                InformationSystem.id.in_(db.session.query(failing.c.system_id))).count()
            shown = groups.get(key, ("0", [], ""))[0]
            assert shown == str(expected), key
    assert "information_system_backup_due" in groups  # the demo has a failing backup


def test_junk_filter_values_on_the_lists_answer_without_error(login_as):
    client = login_as("clerk_fin")
    for path in ("/contractview/list/?_flt_4_end_date=mine",
                 "/informationsystemview/list/?_flt_3_lifecycle=mine",
                 "/delegationview/list/?_flt_2_end_date=x",
                 "/inbox/?waiting=2", "/inbox/?waiting=1&page=junk"):
        assert client.get(path).status_code in (200, 400), path


# ------------------------------------------------------------------ the daily mail


class Received:
    """A real SMTP server on a free loopback port (aiosmtpd) keeping what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.refused = set()  # addresses the server answers 550
        self.lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in outer.refused:
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with outer.lock:
                    outer.messages.append((list(envelope.rcpt_tos), envelope.content))
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def mails(self):
        with self.lock:
            return [(to, message_from_bytes(content, policy=policy.default))
                    for to, content in self.messages]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    server = Received()
    server.controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "APP_BASE_URL")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port,
                      APP_BASE_URL="https://itgov.example.com")
    _mail_settings(app)
    _forget_digests(app)
    yield server
    server.controller.stop()
    app.config.update(saved)
    _mail_settings(app)
    _forget_digests(app)


def _mail_settings(app):
    """Flask-Mailman reads the settings when bound to the app: bound again."""
    from app.extensions import mail

    mail.init_app(app)


def _forget_digests(app):
    from app.base import ReminderDigest
    from app.extensions import db

    with app.app_context():
        db.session.query(ReminderDigest).delete()
        db.session.commit()


def _send(app, *args):
    return app.test_cli_runner().invoke(args=["reminders", "send", *args])


def _due_people(app):
    """{address: groups} of everyone the page has something for."""
    from app.base import AppUser
    from app.extensions import db
    from app.reminders import reminders_for

    found = {}
    with app.app_context(), app.test_request_context():
        for user in db.session.query(AppUser).filter(AppUser.active.is_(True)):
            groups = reminders_for(user)
            if groups and user.email:
                found[user.email] = groups
    return found


def test_digest_mails_each_person_with_something_due_once_in_chinese(app, smtp, contracts):
    expected = _due_people(app)
    result = _send(app)
    assert result.exit_code == 0, result.output
    mails = smtp.mails()
    recipients = [to[0] for to, _mail in mails]
    assert sorted(recipients) == sorted(expected)  # one each, nobody with nothing due
    assert len(set(recipients)) == len(recipients)
    assert "expert@example.com" not in recipients or "expert@example.com" in expected
    assert f"{len(mails)} digests sent" in result.output
    by_address = {to[0]: mail for to, mail in mails}
    fin = by_address["clerk_fin@example.com"]
    assert "到期提醒" in fin["Subject"]
    body = fin.get_content()
    # Its own department's contracts (the first by end date), never another's.
    assert "RM-FIN-" in body and "RM-MKT-" not in body
    assert re.search(r"https://itgov\.example\.com/contractview/show/\d+", body)
    assert "天内到期的合同" in body and "逾期未整改的审计发现" in body
    assert "https://itgov.example.com/reminders/" in body
    it_body = by_address["it_staff@example.com"].get_content()
    assert "RM-FIN-" in it_body  # IT staff: contracts of every department

    again = _send(app)
    assert again.exit_code == 0, again.output
    assert len(smtp.mails()) == len(mails)  # nothing the second time the same day
    assert "0 digests sent" in again.output
    assert f"{len(mails)} already sent today" in again.output


def test_people_with_nothing_due_get_no_mail(app, smtp, ids):
    expected = _due_people(app)
    _send(app)
    recipients = {to[0] for to, _mail in smtp.mails()}
    with app.app_context():
        from app.base import AppUser
        from app.extensions import db

        everyone = {email for (email,) in db.session.query(AppUser.email)}
    nothing_due = everyone - set(expected)
    assert nothing_due  # some demo accounts have nothing due
    assert not recipients & nothing_due


def test_dry_run_prints_the_mails_and_sends_and_records_nothing(app, smtp, contracts):
    from app.base import ReminderDigest
    from webhelpers import count

    result = _send(app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "To: clerk_fin@example.com" in result.output
    assert "RM-FIN-" in result.output and "天内到期的合同" in result.output
    assert "would be sent" in result.output
    assert smtp.mails() == []
    assert count(app, ReminderDigest) == 0


def test_mail_server_down_exits_with_a_message_and_records_nothing(app, contracts):
    from app.base import ReminderDigest
    from webhelpers import count

    _forget_digests(app)
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    _mail_settings(app)
    try:
        result = _send(app)
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
        _mail_settings(app)
    assert result.exit_code == 2
    assert "cannot send" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert count(app, ReminderDigest) == 0


def test_a_run_cut_short_resumes_without_sending_twice(app, smtp, contracts):
    """A digest is committed per person: what was sent before a stop is not sent again."""
    from app.base import AppUser, ReminderDigest
    from app.extensions import db

    expected = _due_people(app)
    first = sorted(expected)[0]
    with app.app_context():
        user = db.session.query(AppUser).filter_by(email=first).one()
        db.session.add(ReminderDigest(user_id=user.id, day=company_today(), recipient=first,
                                      items=1))
        db.session.commit()
    result = _send(app)
    assert result.exit_code == 0, result.output
    recipients = sorted(to[0] for to, _mail in smtp.mails())
    assert recipients == sorted(set(expected) - {first})
    assert "1 already sent today" in result.output


def test_an_address_the_server_refuses_is_skipped_and_mailed_on_the_next_run(
        app, smtp, contracts):
    from app.base import ReminderDigest
    from webhelpers import count

    expected = set(_due_people(app))
    smtp.refused.add("clerk_mkt@example.com")
    result = _send(app)
    assert result.exit_code == 1
    assert "clerk_mkt@example.com: refused" in result.output
    assert {to[0] for to, _mail in smtp.mails()} == expected - {"clerk_mkt@example.com"}
    assert count(app, ReminderDigest) == len(expected) - 1
    smtp.refused.clear()
    again = _send(app)
    assert again.exit_code == 0, again.output
    assert [to[0] for to, _mail in smtp.mails()].count("clerk_mkt@example.com") == 1
    assert len(smtp.mails()) == len(expected)


# ------------------------------------------------------------------ in Chromium

@pytest.mark.parametrize("username", ["clerk_fin", "it_head"])
def test_reminders_page_reads_in_chromium_from_the_navbar(browser, live_server, username,
                                                        contracts):
    """Reached from the navbar, in Chinese, every group's links work; screenshots kept in the
    temporary directory for a person to look at."""
    import tempfile
    from pathlib import Path

    from conftest import PASSWORD

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(live_server + "/login/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state()
        page.click("a.navbar-reminders")
        page.wait_for_load_state()
        assert page.url.endswith("/reminders/")
        assert "到期提醒" in page.title() or "到期提醒" in page.content()
        groups = page.locator(".reminder-group")
        assert groups.count() >= 1
        page.screenshot(path=str(Path(tempfile.gettempdir()) / f"reminders-{username}.png"),
                        full_page=True)
        page.locator(".reminder-all").first.click()
        page.wait_for_load_state()
        assert "/list/" in page.url or "/inbox/" in page.url
        assert errors == []
    finally:
        context.close()
