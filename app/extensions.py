"""Extension singletons, created empty and bound in create_app()."""
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
csrf = CSRFProtect()
migrate = Migrate()
mail = Mail()
