"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.api.errors import register_error_handlers
from app.api.requests import register_request_hooks
from app.config import Settings
from app.crypto.keys import load_keyring
from app.db.engine import create_db_engine
from app.db.session import close_session
from app.logging import configure_logging


def create_app(settings: Settings | None = None, **config: Any) -> Flask:
    """Build the WSGI application; settings come from the environment unless given."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, **config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["usersecrets.settings"] = settings
    configure_logging(settings.log_level)
    app.extensions["usersecrets.engine"] = create_db_engine(settings.database_url)
    app.extensions["usersecrets.keyring"] = load_keyring(settings)

    register_request_hooks(app)
    register_error_handlers(app)
    app.teardown_appcontext(close_session)

    from app.api.health import blueprint as health_blueprint
    from app.api.openapi import blueprint as openapi_blueprint
    from app.audit.views import blueprint as audit_blueprint
    from app.auth.views import blueprint as tokens_blueprint
    from app.orgs.views import blueprint as organizations_blueprint
    from app.secrets.views import blueprint as secrets_blueprint
    from app.users.views import blueprint as users_blueprint

    app.register_blueprint(health_blueprint)
    app.register_blueprint(openapi_blueprint)
    app.register_blueprint(audit_blueprint)
    app.register_blueprint(users_blueprint)
    app.register_blueprint(secrets_blueprint)
    app.register_blueprint(tokens_blueprint)
    app.register_blueprint(organizations_blueprint)
    return app
