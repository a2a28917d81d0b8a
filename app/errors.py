"""Error pages in the user's language; JSON for the API. Never a bare stack trace."""
from flask import current_app, g, jsonify, render_template, request
from flask_login import current_user
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to do this."),
    404: _l("The page or record does not exist, or you may not see it."),
    405: _l("This action is not allowed here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. The error has been logged."),
}


def _render(code, message):
    if request.path.startswith("/api/"):
        return jsonify(message=str(message)), code
    if "user" not in g:  # CSRF errors fire before FAB sets the user for its menu
        g.user = current_user
    try:
        return render_template("error.html", code=code, message=message,
                               appbuilder=current_app.appbuilder,
                               base_template=current_app.appbuilder.base_template), code
    except Exception:  # the page itself failed: answer plainly rather than 500 twice
        current_app.logger.exception("Error page failed")
        return str(message), code


def handle_http_error(error):
    code = error.code or 500
    return _render(code, MESSAGES.get(code, error.description))


def handle_csrf_error(error):
    return _render(400, _l("The form has expired or lacks its security token. "
                           "Please go back, reload the page and try again."))


def handle_unexpected(error):
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    current_app.logger.exception("Unhandled error")
    return _render(500, MESSAGES[500])


def register_error_handlers(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
    from .validation import handle_database_error, handle_out_of_range

    app.register_error_handler(SQLAlchemyError, handle_database_error)
    app.register_error_handler(OverflowError, handle_out_of_range)
