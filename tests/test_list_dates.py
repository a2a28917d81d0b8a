"""List filters on dates: the browser's own pickers, read in the company's time zone
(as lists show times); the API's filters stay in UTC, as stored."""
import datetime as dt
import uuid

import prison
import pytest

from webhelpers import list_page

OCCURRED_UTC = dt.datetime(2026, 3, 1, 2, 0)  # 10:00 in Beijing


@pytest.fixture
def incident(make):
    title = f"时区筛选-{uuid.uuid4().hex[:8]}"
    return make("incident", dept="FIN", title=title, occurred_at=OCCURRED_UTC), title


def test_list_search_form_offers_the_browsers_date_pickers(login_as):
    html = login_as("clerk_fin").get("/incidentview/list/").get_data(as_text=True)
    # the filter widgets are embedded as JSON for FAB's filter script
    assert 'type=\\"datetime-local\\"' in html
    assert "appbuilder_datetime" not in html


@pytest.mark.parametrize("typed,found", [
    ("2026-03-01T09:59", True),   # Beijing time, a minute before it happened
    ("2026-03-01 10:01", False),  # a minute after
    ("2026-03-01T01:59", True),
])
def test_a_date_time_filter_is_read_in_company_time(login_as, incident, typed, found):
    pk, title = incident
    # _flt_1_: "greater than" among FAB's date-time filters
    shown, ids = list_page(login_as("clerk_fin"), "IncidentView",
                           f"_flt_0_title={title}&_flt_1_occurred_at={typed}")
    assert (pk in ids) is found
    assert shown == (1 if found else 0)


@pytest.mark.parametrize("value,found", [("2026-03-01T01:59:00", True),
                                         ("2026-03-01T02:01:00", False)])
def test_the_api_filters_date_times_in_utc(api_as, incident, value, found):
    pk, title = incident
    client, headers = api_as("clerk_fin")
    query = prison.dumps({"filters": [{"col": "title", "opr": "eq", "value": title},
                                      {"col": "occurred_at", "opr": "gt", "value": value}]})
    body = client.get(f"/api/v1/incident/?q={query}", headers=headers).get_json()
    assert (pk in body["ids"]) is found


def test_a_junk_date_in_a_filter_is_ignored_not_an_error(login_as, incident):
    pk, title = incident
    shown, ids = list_page(login_as("clerk_fin"), "IncidentView",
                           f"_flt_0_title={title}&_flt_1_occurred_at=not-a-date")
    assert (shown, ids) == (1, {pk})
