"""Security headers on every response, and a per-request CSP nonce for inline scripts.

The Content-Security-Policy allows nothing from other hosts. FAB's templates put
``nonce="{{ csp_nonce() }}"`` on every inline script when ``csp_nonce`` is a Jinja
global, so scripts need no 'unsafe-inline'. Styles keep 'unsafe-inline': Bootstrap 3
widgets (select2, the date picker) set style attributes from script.
"""
import secrets

from flask import g

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def csp_nonce():
    """This request's nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app):
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_security_headers)
