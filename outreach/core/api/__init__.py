"""The JSON API under /api/v1 (DESIGN §4): thin views over the sync engine."""

from flask import Flask

from outreach.core.api import common, docs, records, session, sync


def init_app(app: Flask) -> None:
    """Register the API's blueprints and its response compression."""
    for module in (session, sync, records, docs):
        app.register_blueprint(module.bp)
    common.init_app(app)
