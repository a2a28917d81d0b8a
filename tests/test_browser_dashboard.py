"""The Auditor's dashboard in Chromium: every request stays on the app's own origin (the
chart library is served by the app), the charts render, a click on a bar opens the list
behind it, and the page reads at 1366x768 and on a 390 px phone (screenshots kept)."""
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import PASSWORD

SHOTS = Path(tempfile.gettempdir())  # screenshots of the last run, for a person to look at


def _watched(browser, live_server, **context_args):
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.base = live_server
    page.requests, page.errors = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return context, page


def _sign_in(page, username):
    page.goto(page.base + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()


def _foreign(page):
    origin = urlsplit(page.base)
    return [url for url in page.requests if not url.startswith(("data:", "blob:"))
            and urlsplit(url)[:2] != origin[:2]]


@pytest.mark.parametrize("size,name", [({"width": 1366, "height": 768}, "1366"),
                                       ({"width": 390, "height": 844}, "390")])
def test_the_auditors_dashboard_renders_its_charts_from_the_apps_own_origin(
        browser, live_server, size, name):
    context, page = _watched(browser, live_server, viewport=size,
                             is_mobile=size["width"] < 500)
    try:
        _sign_in(page, "auditor")
        page.goto(page.base + "/dashboard/")
        page.wait_for_load_state("load")
        page.wait_for_selector(".chart[data-drawn]")  # drawn, its animation finished
        boxes = page.locator(".chart[data-chart]")
        assert boxes.count() >= 8
        drawn = page.locator(".chart[data-chart] canvas")
        assert drawn.count() >= 6  # every chart with numbers is drawn (empty ones hidden)
        # side by side on a screen, one under another on a phone: never squeezed
        widths = page.evaluate("[...document.querySelectorAll('.chart[data-chart]')]"
                               ".filter(b => b.offsetParent).map(b => b.clientWidth)")
        least = 500 if size["width"] > 1000 else 260  # a phone: the screen less margins
        assert min(widths) >= least, widths
        assert "驾驶舱" in page.content() and "每月故障数" in page.content()
        assert page.errors == []
        assert _foreign(page) == [], _foreign(page)
        assert any("/static/vendor/echarts/" in url for url in page.requests)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], width
        page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=True)
        page.screenshot(path=str(SHOTS / f"dashboard-{name}-top.png"))
    finally:
        context.close()


def test_clicking_a_bar_opens_the_list_of_the_records_behind_it(browser, live_server):
    context, page = _watched(browser, live_server, viewport={"width": 1366, "height": 768})
    try:
        _sign_in(page, "auditor")
        page.goto(page.base + "/charts/projects_by_stage/")
        page.wait_for_load_state("load")
        page.wait_for_selector(".chart[data-drawn]")  # drawn, its animation finished
        box = page.locator(".chart[data-chart]").first
        link = page.locator(".chart-numbers a").first
        expected = link.get_attribute("href")
        # ECharts draws on a canvas: click where the first bar's value is drawn.
        point = page.evaluate("""() => {
            const box = document.querySelector('.chart[data-chart]');
            const chart = echarts.getInstanceByDom(box);
            const series = chart.getOption().series;
            const values = series[0].data.map(v => (v !== null && typeof v === 'object') ? v.value : v);
            const index = values.findIndex(v => v > 0);
            const [x, y] = chart.convertToPixel({seriesIndex: 0}, [index, values[index] / 2]);
            return {x, y, index};
        }""")
        with page.expect_navigation():
            box.click(position={"x": point["x"], "y": point["y"]})
        assert "/projectrequestview/list/" in page.url and "_flt_0_status=" in page.url
        assert expected is not None
        assert _foreign(page) == []
    finally:
        context.close()
