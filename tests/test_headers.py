"""Every response forbids framing and sniffing, limits the referrer, and carries a
Content-Security-Policy that allows nothing from other hosts; inline scripts run only
with this response's nonce."""
import re

import pytest

SCRIPT_RE = re.compile(r"<script\b([^>]*)>", re.I)


def csp_of(response):
    policy = response.headers.get("Content-Security-Policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";")
                if part.strip())


def assert_safe_headers(response):
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin",
                                                   "same-origin", "no-referrer")
    csp = csp_of(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    for directive, sources in csp.items():
        # nothing from other hosts: no scheme, host or wildcard sources
        assert not re.search(r"https?:|\*|//|\bhttp\b", sources), (directive, sources)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    return csp


def pages(make):
    project = make("project", dept="FIN")
    return ["/", "/projectrequestview/list/", f"/projectrequestview/show/{project}",
            "/contractview/add", "/incidentview/add", "/inbox/", "/resetmypassword/form",
            "/no-such-page/"]


@pytest.mark.parametrize("path", ["/login/", "/logout/", "/no-such-page/",
                                  "/static/inbox.js"])
def test_pages_for_everyone_send_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in (200, 302, 404)
    assert_safe_headers(response)


def test_signed_in_pages_send_the_security_headers_and_nonce_every_script(login_as, make):
    client = login_as("admin")
    nonces = set()
    paths = pages(make)
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        csp = assert_safe_headers(response)
        match = re.search(r"'nonce-([A-Za-z0-9_\-]+)'", csp["script-src"])
        assert match, path
        nonce = match.group(1)
        nonces.add(nonce)
        html = response.get_data(as_text=True)
        for attributes in SCRIPT_RE.findall(html):
            if "src=" in attributes:
                src = re.search(r'src="([^"]*)"', attributes).group(1)
                assert src.startswith("/"), (path, src)  # served by the app itself
            else:
                assert f'nonce="{nonce}"' in attributes, (path, attributes)
    assert len(nonces) == len(paths)  # a new nonce for every response


def test_api_responses_send_the_security_headers(api_as):
    client, headers = api_as("clerk_fin")
    assert_safe_headers(client.get("/api/v1/project_request/", headers=headers))
    assert_safe_headers(client.post("/api/v1/security/login", json={
        "username": "clerk_fin", "password": "wrong", "provider": "db"}))


def test_swagger_ui_is_served_from_the_app_under_the_same_policy(login_as):
    response = login_as("admin").get("/swagger/v1")
    assert response.status_code == 200
    csp = assert_safe_headers(response)
    assert "'nonce-" in csp["script-src"]
