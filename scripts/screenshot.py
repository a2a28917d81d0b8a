"""Log in as a demo account and screenshot pages with Debian's Chromium.

    .venv/bin/python scripts/screenshot.py clerk_fin /informationsystemview/list/ out.png
    .venv/bin/python scripts/screenshot.py auditor /projectrequestview/show/2 out.png "a[href='#History']"

The optional last argument is a selector to click before the screenshot.
"""
import os
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def main(username, path, out, click=None, base="http://127.0.0.1:8080"):
    password = os.environ.get("DEMO_PASSWORD", "Demo-Pass-2026")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(base + "/login/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("input[type=submit], button[type=submit]")
        page.goto(base + path)
        if click:
            page.click(click)
        page.screenshot(path=out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
