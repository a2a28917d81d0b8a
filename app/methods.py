"""Only POST changes state: one rule, for every route, FAB's own included.

FAB's ``delete`` and ``action`` routes accept GET and refuse only
``request.method == "GET"`` (``is_get_mutation_allowed``); Flask answers HEAD
with the GET function, so ``HEAD /<view>/delete/<id>`` deleted without a CSRF
token. Here every route that accepts POST refuses GET, HEAD and OPTIONS with
405, before any view code runs, except the pages whose GET only shows the
form that a POST then submits.
"""
from flask import current_app, request
from werkzeug.exceptions import MethodNotAllowed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# View functions whose GET renders a form (or a confirmation page); the change is the POST.
FORM_PAGES = frozenset({"add", "edit", "login", "logout"})


def is_form_page(endpoint):
    return endpoint.rpartition(".")[2] in FORM_PAGES


def refuses_safe_methods(rule):
    """Does this URL rule change state, so that only POST (PUT, DELETE) may reach it?"""
    if "POST" not in rule.methods:
        return False
    return not is_form_page(rule.endpoint)


def only_post_changes_state():
    if request.method not in SAFE_METHODS or request.url_rule is None:
        return None
    if not refuses_safe_methods(request.url_rule):
        return None
    allowed = sorted(request.url_rule.methods - SAFE_METHODS)
    response = current_app.make_response(
        current_app.handle_http_exception(MethodNotAllowed(valid_methods=allowed)))
    response.headers["Allow"] = ", ".join(allowed)  # the error page drops it
    return response


def init_app(app):
    app.before_request(only_post_changes_state)
