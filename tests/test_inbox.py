"""待我处理 decided by the database: the SQL form of the workflow rules (app/workflow_sql.py)
against the engine's own decision (app/workflow.py), record by record.

The matrix compares, for every demo account, every workflow transition and every record,
the records the database finds with those the engine's ``who_may_fire`` accepts; the
constructed cases put one separation-of-duties rule at a time in the data (submitter,
creator, whom the submitter acted for, a substitute, an editor of this round, two review
steps, an expert of the own department, an opinion handed back only while its panel
sits) and check both agree on the expected answer. Then
the inbox itself: its pages and count, its scoping, its cached count after a step.

Runs on a database of its own (the demo data plus the constructed records), so the
delegations made here change no other test's answers.
"""
import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from conftest import PASSWORD, dispose, scratch_database_url, seeded_app
from seeds.demo import DEMO_ACCOUNTS
from test_workflows import buttons, page_messages, signed_in, translated
from webhelpers import form_token

ACCOUNTS = [username for username, *_ in DEMO_ACCOUNTS]
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def inbox_app(tmp_path_factory):
    application = seeded_app(
        scratch_database_url(str(tmp_path_factory.mktemp("inboxsql")), "inboxsql"))
    yield application
    dispose(application)


@pytest.fixture
def ctx(inbox_app):
    with inbox_app.app_context():
        from app.extensions import db

        yield db
        db.session.rollback()


# ------------------------------------------------------------------ helpers


def user(username):
    from app.base import AppUser
    from app.extensions import db

    return db.session.query(AppUser).filter_by(username=username).one()


def dept(code):
    from app.extensions import db
    from app.organisation.models import Department

    return db.session.query(Department).filter_by(code=code).one().id


def project(state, dept_code="FIN", submitter=None, changed_on=None, **extra):
    """A project request put straight into ``state`` (test setup, no workflow)."""
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    n = next(_numbers)
    record = ProjectRequest(
        name=f"收件箱测试项目{n}", applicant_department_id=dept(dept_code), background="b",
        goals="g", content="c", budget=Decimal("1000"), implementation_plan="p",
        status=ProjectStatus[state],
        submitted_by_fk=user(submitter).id if submitter else None, **extra)
    db.session.add(record)
    db.session.commit()
    if changed_on is not None:
        table = ProjectRequest.__table__
        db.session.execute(table.update().where(table.c.id == record.id)
                           .values(changed_on=changed_on))
        db.session.commit()
    return record


def approval(record, transition, actor, acting_for=None, submits=False, approves=False,
             from_state=None):
    """An approval row as the engine would have written it (test setup)."""
    from app.base import Approval
    from app.extensions import db

    state = from_state or record.status.name
    db.session.add(Approval(
        record_type=type(record).__name__, record_id=record.id, transition=transition,
        label=transition, from_state=state, to_state=state, actor_id=user(actor).id,
        acting_for_id=user(acting_for).id if acting_for else None, content_hash="0" * 64,
        submits=submits, approves=approves))
    db.session.commit()


def delegation(principal, substitute, start=None, end=None):
    from app.base import Delegation
    from app.extensions import db

    today = dt.date.today()
    row = Delegation(principal_id=user(principal).id, substitute_id=user(substitute).id,
                     start_date=start or today, end_date=end or today)
    db.session.add(row)
    db.session.commit()
    return row


def remove(row):
    from app.extensions import db

    db.session.delete(row)
    db.session.commit()


def by_sql(model, username, transitions):
    """Ids of the records the database finds for ``transitions`` and the account."""
    from app.approvals import actor_for
    from app.extensions import db
    from app.workflow_sql import actionable, substituted_for

    actor = actor_for(user(username))
    substitutes = substituted_for({who.user_id for who, _ in actor.identities()})
    found = actionable(model, actor, substitutes, transitions)
    if found is None:
        return set()
    assert found.exact, f"{model.__name__}: a rule has no SQL form"
    return set(db.session.scalars(select(model.id).where(found.clause)))


def by_engine(model, username, transition, records=None):
    """Ids of the records on which the engine lets the account fire ``transition`` now."""
    from app.approvals import actor_for, duties_for_many
    from app.extensions import db
    from app.workflow import NO_DUTIES, who_may_fire

    actor = actor_for(user(username))
    records = records if records is not None else db.session.query(model).all()
    duties = duties_for_many(model, records)
    field = model.__workflow__.state_field
    found = set()
    for record in records:
        state = getattr(record, field)
        if transition.applies(record, state) and who_may_fire(
                transition, record, actor, duties.get(record.id, NO_DUTIES), state):
            found.add(record.id)
    return found


def offered_on(record, username):
    """The step names the database and the engine give the account on the record: they
    must agree; returns the engine's."""
    model = type(record)
    by_name = {}
    for transition in model.__workflow__.transitions:
        engine = record.id in by_engine(model, username, transition, [record])
        sql = record.id in by_sql(model, username, (transition,))
        assert engine == sql, (f"{model.__name__} #{record.id} {transition.name} from "
                               f"{record.status.name} for {username}: engine {engine}, SQL {sql}")
        by_name[transition.name] = by_name.get(transition.name, False) or engine
    return {name for name, yes in by_name.items() if yes}


def everything(username):
    from app.approvals import inbox_page

    page = inbox_page(user(username), 1, 10**5)
    return [(type(record).__name__, record.id) for record, _moves in page.items]


# ------------------------------------------------------------ the matrix


def test_database_and_engine_agree_for_every_account_transition_and_record(inbox_app, ctx):
    from app.approvals import workflow_models

    compared, found = 0, {}
    for model in workflow_models():
        for username in ACCOUNTS:
            for index, transition in enumerate(model.__workflow__.transitions):
                engine = by_engine(model, username, transition)
                sql = by_sql(model, username, (transition,))
                assert sql == engine, (f"{model.__name__} {transition.name} "
                                       f"#{index} for {username}")
                compared += 1
                if engine:
                    found.setdefault(model.__name__, set()).add(username)
    # The demo holds records in every state: each workflow gives somebody work to do.
    assert set(found) == {model.__name__ for model in workflow_models()}, found
    assert compared > 500


def test_every_workflow_rule_of_the_product_has_an_sql_form(inbox_app, ctx):
    """No record type falls back to counting in Python (app/workflow_sql.py ``exact``)."""
    from app.approvals import _inbox_sources

    for username in ACCOUNTS:
        _actor, sources = _inbox_sources(user(username))
        assert [m.__name__ for m, _c, exact in sources if not exact] == [], username


@pytest.mark.parametrize("username", ACCOUNTS)
def test_inbox_holds_what_the_engine_offers_within_what_the_account_sees(inbox_app, ctx,
                                                                         username):
    from app.approvals import actor_for, available, duties_for_many, inbox_count, \
        workflow_models
    from app.extensions import db
    from app.security import read_clause, scope_for
    from app.workflow import NO_DUTIES

    me = user(username)
    actor = actor_for(me)
    expected = set()
    for model in workflow_models():
        query = db.session.query(model)
        clause = read_clause(model, scope_for(me))
        records = (query if clause is None else query.filter(clause)).all()
        duties = duties_for_many(model, records)
        expected |= {(model.__name__, r.id) for r in records
                     if available(model.__workflow__, r, actor, duties.get(r.id, NO_DUTIES))}
    listed = everything(username)
    assert len(listed) == len(set(listed))
    assert set(listed) == expected
    assert inbox_count(me) == len(expected)
    assert expected, f"{username} has nothing to do in the demo"


# ------------------------------------------- separation of duties, one rule at a time


def test_nobody_approves_what_they_submitted(inbox_app, ctx):
    record = project("dept_review", submitter="head_fin")
    assert offered_on(record, "head_fin") == {"return", "reject"}
    other = project("dept_review", submitter="clerk_fin")
    assert offered_on(other, "head_fin") == {"approve", "return", "reject"}


def test_the_creator_counts_as_submitter_when_nobody_submitted(inbox_app, ctx):
    from app.extensions import db

    record = project("dept_review")
    record.created_by_fk = user("head_fin").id
    db.session.commit()
    assert offered_on(record, "head_fin") == {"return", "reject"}


def test_nobody_approves_what_was_submitted_in_their_name(inbox_app, ctx):
    record = project("dept_review", submitter="clerk_fin")
    approval(record, "submit", "clerk_fin", acting_for="head_fin", submits=True,
             from_state="draft")
    assert offered_on(record, "head_fin") == {"return", "reject"}


def test_a_substitute_of_the_submitter_does_not_approve(inbox_app, ctx):
    record = project("dept_review", submitter="clerk_fin")
    today = dt.date.today()
    past = delegation("clerk_fin", "head_fin", today - dt.timedelta(days=9),
                      today - dt.timedelta(days=2))
    assert offered_on(record, "head_fin") == {"approve", "return", "reject"}
    current = delegation("clerk_fin", "head_fin")
    try:
        assert offered_on(record, "head_fin") == {"return", "reject"}
    finally:
        remove(current)
        remove(past)
    # Whoever submitted an earlier round stands behind the record too.
    approval(record, "submit", "clerk_mkt", submits=True, from_state="draft")
    earlier = delegation("clerk_mkt", "head_fin")
    try:
        assert offered_on(record, "head_fin") == {"return", "reject"}
    finally:
        remove(earlier)
    assert offered_on(record, "head_fin") == {"approve", "return", "reject"}


def test_a_substitute_approves_for_the_principal_but_not_what_they_submitted(inbox_app,
                                                                             ctx):
    """head_mkt stands in for head_fin: FIN's waiting project is in head_mkt's inbox, except
    the one head_mkt submitted."""
    theirs = project("dept_review", submitter="clerk_fin")
    own = project("dept_review", submitter="head_mkt")
    row = delegation("head_fin", "head_mkt")
    try:
        assert offered_on(theirs, "head_mkt") == {"approve", "return", "reject"}
        assert offered_on(own, "head_mkt") == {"return", "reject"}
        listed = everything("head_mkt")
        assert ("ProjectRequest", theirs.id) in listed and ("ProjectRequest", own.id) in listed
    finally:
        remove(row)
    assert offered_on(theirs, "head_mkt") == set()
    assert ("ProjectRequest", theirs.id) not in everything("head_mkt")


def test_whoever_changed_the_content_this_round_does_not_approve_it(inbox_app, ctx):
    record = project("dept_review", submitter="clerk_fin")
    approval(record, "submit", "clerk_fin", submits=True, from_state="draft")
    approval(record, "reapproval", "head_fin")
    assert offered_on(record, "head_fin") == {"return", "reject"}
    approval(record, "submit", "clerk_fin", submits=True, from_state="returned")
    assert offered_on(record, "head_fin") == {"approve", "return", "reject"}


def test_nobody_approves_two_review_steps_of_one_record(inbox_app, ctx):
    record = project("expert_review", submitter="clerk_fin")
    approval(record, "approve", "it_staff", approves=True, from_state="it_review")
    assert offered_on(record, "it_staff") == {"return", "reject"}
    assert offered_on(record, "it_staff2") == {"approve", "return", "reject"}


def test_an_expert_of_the_applicant_department_is_never_offered_the_review(inbox_app, ctx):
    from app.extensions import db
    from app.planning.models import ExpertReview

    expert = user("expert")
    fin, ops = project("expert_review", submitter="clerk_fin"), project("expert_review", "OPS")
    with db.session.no_autoflush:
        fair = ExpertReview(project=fin, expert_id=expert.id)
        conflicted = ExpertReview(project=ops, expert_id=expert.id)
        db.session.add_all([fair, conflicted])
    db.session.commit()
    assert conflicted.department_id == expert.department_id
    assert offered_on(fair, "expert") == {"submit"}
    assert offered_on(conflicted, "expert") == set()
    listed = everything("expert")
    assert ("ExpertReview", fair.id) in listed and ("ExpertReview", conflicted.id) not in listed


def test_contracts_route_to_management_by_amount_in_the_database_too(inbox_app, ctx):
    from app.extensions import db
    from app.procurement.models import (
        Contract,
        ContractStatus,
        Vendor,
        contract_approval_threshold,
    )

    vendor = db.session.query(Vendor).first()
    threshold = contract_approval_threshold()
    contracts = []
    for amount in (threshold - 1, threshold, threshold + 1):
        n = next(_numbers)
        contracts.append(Contract(number=f"INBOX-HT-{n}", name=f"收件箱合同{n}",
                                  department_id=dept("IT"), vendor_id=vendor.id,
                                  amount=amount, status=ContractStatus.review,
                                  submitted_by_fk=user("it_staff").id))
    db.session.add_all(contracts)
    db.session.commit()
    model = Contract
    low, high = [t for t in model.__workflow__.transitions
                 if t.name == "approve" and ContractStatus.review in t.source]
    for transition in (low, high):
        assert by_sql(model, "it_head", (transition,)) == by_engine(model, "it_head", transition)
    ids = [c.id for c in contracts]
    routed = {t.target.name: sorted(set(ids) & by_sql(model, "it_head", (t,)))
              for t in (low, high)}
    assert routed == {"mgmt_review": ids[1:], "signed": ids[:1]}


def test_a_review_is_handed_back_only_while_its_panel_sits(inbox_app):
    """IT hands a submitted opinion back while its project is in expert review and the
    opinion is of the project's current round; once the project moved on (or was
    returned and submitted again) the step is neither offered nor taken, over the web
    form and the API alike, and the inbox does not hold it."""
    from app.extensions import db
    from app.planning.models import PANEL_SITTING, ExpertReview, ReviewStatus

    def reviewed(state, new_round=False):
        record = project(state, submitter="clerk_fin")
        with db.session.no_autoflush:
            review = ExpertReview(project=record, expert_id=user("expert").id,
                                  no_conflict=True, score=80, opinion="可行",
                                  status=ReviewStatus.submitted)
            db.session.add(review)
        db.session.commit()
        if new_round:  # returned and submitted again: this opinion is of the last round
            record.round = review.project_round + 1
            db.session.commit()
        return review

    with inbox_app.app_context():
        sitting, moved, earlier = (reviewed("expert_review"), reviewed("feasibility"),
                                   reviewed("expert_review", new_round=True))
        assert offered_on(sitting, "it_staff") == {"hand_back"}
        assert offered_on(moved, "it_staff") == set()
        assert offered_on(earlier, "it_staff") == set()
        listed = everything("it_staff")
        assert ("ExpertReview", sitting.id) in listed
        assert ("ExpertReview", moved.id) not in listed
        assert ("ExpertReview", earlier.id) not in listed
        ids = sitting.id, moved.id, earlier.id

    def status(pk):
        with inbox_app.app_context():
            return db.session.get(ExpertReview, pk).status

    reason = translated(inbox_app, PANEL_SITTING.message)
    web = signed_in(inbox_app, "it_staff")
    api = inbox_app.test_client()
    token = api.post("/api/v1/security/login", json={
        "username": "it_staff", "password": PASSWORD, "provider": "db"}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    body = {"comment": "请补充风险评估"}
    for pk in ids[1:]:
        page = web.get(f"/expertreviewview/show/{pk}")
        assert page.status_code == 200 and buttons(page) == []
        answer = web.post(f"/expertreviewview/transition/{pk}/hand_back",
                          data={"csrf_token": form_token(web), **body})
        assert answer.status_code == 409 and reason in page_messages(answer)
        answer = api.post(f"/api/v1/expert_review/{pk}/transition/hand_back", json=body,
                          headers=headers)
        assert answer.status_code == 409 and answer.get_json()["message"] == reason
        assert status(pk) is ReviewStatus.submitted
    pk = ids[0]
    assert buttons(web.get(f"/expertreviewview/show/{pk}")) == ["hand_back"]
    answer = web.post(f"/expertreviewview/transition/{pk}/hand_back",
                      data={"csrf_token": form_token(web), **body})
    assert answer.status_code == 302 and status(pk) is ReviewStatus.assigned


# ------------------------------------------------------------ scoping


def test_department_heads_find_only_their_own_departments_projects(inbox_app, ctx):
    fin = project("dept_review", submitter="clerk_fin")
    mkt = project("dept_review", "MKT", submitter="clerk_mkt")
    assert ("ProjectRequest", fin.id) in everything("head_fin")
    assert ("ProjectRequest", mkt.id) not in everything("head_fin")
    assert ("ProjectRequest", mkt.id) in everything("head_mkt")
    assert ("ProjectRequest", fin.id) not in everything("head_mkt")


# ------------------------------------------------------- pages and the count


def test_pages_walk_every_record_once_oldest_first_and_agree_with_the_count(inbox_app, ctx):
    from app.approvals import inbox_count, inbox_page

    me = user("it_staff")
    whole = everything("it_staff")
    assert len(whole) > 7
    walked, stamps, page = [], [], inbox_page(me, 1, 3)
    while True:
        assert page.total == len(whole) == inbox_count(me)
        assert len(page.items) == (3 if page.page < page.pages else len(whole) - 3 * (page.pages - 1))
        walked += [(type(r).__name__, r.id) for r, _m in page.items]
        stamps += [r.changed_on for r, _m in page.items]
        if page.page == page.pages:
            break
        page = inbox_page(me, page.page + 1, 3)
    assert walked == whole
    assert stamps == sorted(stamps)
    beyond = inbox_page(me, 10**6, 3)
    assert beyond.page == beyond.pages and beyond.items


def _rows(html):
    table = html.split('class="table table-hover table-condensed inbox"')
    if len(table) < 2:
        return []
    return re.findall(r'<tr>\s*<td[^>]*>.*?</tr>', table[1].split("</table>")[0], re.S)


def test_the_inbox_page_pages_with_next_and_previous_and_survives_junk(inbox_app,
                                                                        monkeypatch):
    monkeypatch.setitem(inbox_app.config, "INBOX_PAGE_SIZE", 2)
    client = signed_in(inbox_app, "it_staff")
    total = client.get("/inbox/count").get_json()["count"]
    assert total > 4
    first = client.get("/inbox/").get_data(as_text=True)
    second = client.get("/inbox/?page=2").get_data(as_text=True)
    assert len(_rows(first)) == len(_rows(second)) == 2
    assert set(_rows(first)).isdisjoint(_rows(second))
    assert 'href="?page=2"' in first and 'href="?page=1"' not in first
    assert 'href="?page=1"' in second and 'href="?page=3"' in second
    assert f'<span class="badge inbox-total">{total}</span>' in second
    last = -(-total // 2)
    for junk in ("abc", "-3", "0", "2.5", "99999999999999999999", "%00"):
        response = client.get(f"/inbox/?page={junk}")
        assert response.status_code == 200, junk
        assert len(_rows(response.get_data(as_text=True))) in (1, 2)
    assert _rows(client.get(f"/inbox/?page={last + 5}").get_data(as_text=True)) == \
        _rows(client.get(f"/inbox/?page={last}").get_data(as_text=True)) == \
        _rows(client.get("/inbox/?page=last").get_data(as_text=True))
    assert 'href="?page=last"' in first


def test_the_count_is_recounted_as_soon_as_anyone_takes_a_step(inbox_app):
    """Requests run outside the test's own app context (each gets its own, as served)."""
    from app.extensions import db
    from app.planning.models import ProjectRequest

    def setup(make):
        with inbox_app.app_context():
            return make()

    first = setup(lambda: project("dept_review", submitter="clerk_fin",
                                  changed_on=dt.datetime(2001, 1, 1)).id)
    head = signed_in(inbox_app, "head_fin")
    page = head.get("/inbox/").get_data(as_text=True)  # counts afresh
    before = head.get("/inbox/count").get_json()["count"]
    assert f'<span class="badge inbox-total">{before}</span>' in page
    assert f'href="/projectrequestview/show/{first}"' in page

    answer = head.post(f"/projectrequestview/transition/{first}/approve",
                       data={"csrf_token": form_token(head)})
    assert answer.status_code == 302
    assert setup(lambda: db.session.get(ProjectRequest, first).status.name) == "it_review"
    assert head.get("/inbox/count").get_json()["count"] == before - 1

    # A record arriving without a step is counted when the cached count runs out ...
    second = setup(lambda: project("dept_review", submitter="clerk_fin").id)
    assert head.get("/inbox/count").get_json()["count"] == before - 1
    # ... or as soon as anyone takes a step anywhere.
    it = signed_in(inbox_app, "it_staff")
    assert it.post(f"/projectrequestview/transition/{first}/approve",
                   data={"csrf_token": form_token(it)}).status_code == 302
    assert setup(lambda: db.session.get(ProjectRequest, first).status.name) == "expert_review"
    assert head.get("/inbox/count").get_json()["count"] == before
    assert setup(lambda: ("ProjectRequest", second) in everything("head_fin"))


def test_a_rule_without_an_sql_form_is_left_to_the_engine_and_the_count_stays_true(
        inbox_app, ctx, monkeypatch):
    """The conflict-of-interest rule made Python-only: the database lists the conflicted
    review, the engine does not confirm it; the count is the engine's and the page leaves
    the record out, saying so."""
    from app.approvals import inbox_count, inbox_page
    from app.extensions import db
    from app.planning.models import ExpertReview

    expert = user("expert")
    ops = project("expert_review", "OPS")
    with db.session.no_autoflush:
        conflicted = ExpertReview(project=ops, expert_id=expert.id)
        db.session.add(conflicted)
    db.session.commit()
    honest = inbox_count(expert)
    monkeypatch.setattr(ExpertReview, "review_department_id",
                        property(lambda self: self.department_id))
    page = inbox_page(expert, 1, 10**4)
    assert page.total == inbox_count(expert) == honest == len(page.items)
    assert ("ExpertReview", conflicted.id) not in [(type(r).__name__, r.id)
                                                   for r, _m in page.items]
    assert page.dropped >= 1


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


def test_the_count_and_the_page_cost_a_bounded_number_of_statements(inbox_app,
                                                                      monkeypatch):
    from app.extensions import db

    client = signed_in(inbox_app, "it_staff")
    client.get("/inbox/count")
    with inbox_app.app_context():
        engine = db.engine
    with Statements(engine) as cached:
        assert client.get("/inbox/count").status_code == 200
    assert cached.count <= 4  # the session's user, roles, groups; the newest approval
    seen = {}
    for size in (2, 20):
        with inbox_app.test_request_context():
            from app.approvals import inbox_page

            me = user("it_staff")
            with Statements(engine) as page:
                found = inbox_page(me, 1, size)
                [str(record) for record, _moves in found.items]  # what the page shows
            types = {type(record) for record, _moves in found.items}
            seen[size] = (len(found.items), len(types), page.count - 3 * len(types))
    assert seen[20][0] > seen[2][0] and seen[20][1] > seen[2][1], seen
    # Three statements per record type on the page (its records, their approvals, their
    # submitters' delegations), none per row.
    assert seen[20][2] == seen[2][2], seen
