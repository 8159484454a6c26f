"""The Flask application: `create_app(settings)` wires the core's runtime into the API and UI blueprints."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from web import access, auth, body_limit, database, errors, i18n, nul_bytes, security_headers
from web.form_text import FormRequest


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    settings = settings if settings is not None else Settings.from_env()
    app = Flask(__name__)
    app.request_class = FormRequest  # form text as typed (CRLF line breaks as LF) and its bytes as sent
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        # Strict: no cross-site request (a link or form elsewhere) carries the session.
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.https,
        JSON_SORT_KEYS=False,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
    )
    if settings.trusted_proxies:
        # Only behind proxies that overwrite these headers: otherwise a client picks its own audited address
        # and login-throttling key by sending X-Forwarded-For.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.extensions["callvault"] = runtime if runtime is not None else Runtime.from_settings(settings)

    # First of the before-request steps: nothing may read a body over the limit.
    body_limit.init_app(app, max_request_bytes=settings.max_request_bytes)
    database.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app, https=settings.https)
    # Authorization runs before the CSRF check (registered by auth): a request without credentials is told
    # 401 (API) or sent to the login page, not "CSRF token missing"; authorized requests are still CSRF-checked.
    app.before_request(access.enforce)
    auth.init_app(app)
    # After authorization and the CSRF check: it reads the body, which nothing may do before sign-in.
    nul_bytes.init_app(app)
    i18n.init_app(app)

    from web import health
    from web.api import api_spec, audit_events
    from web.api import assignments as assignments_api
    from web.api import bp as api_bp
    from web.api import calibration as calibration_api
    from web.api import evaluations as evaluations_api
    from web.api import partner as partner_api
    from web.api import recordings as recordings_api
    from web.api import research as research_api
    from web.api import retention as retention_api
    from web.api import search as search_api
    from web.api import subjects as subjects_api
    from web.api import training as training_api
    from web.api import training_sets as training_sets_api
    from web.api import transcripts as transcripts_api
    from web.api import withheld as withheld_api
    from web.ui import admin, call_page, dashboard, evaluations, institutes, partner, subject_withdrawal
    from web.ui import assignments as assignments_ui
    from web.ui import audit as audit_ui
    from web.ui import auth as auth_ui
    from web.ui import bp as ui_bp
    from web.ui import calibration as calibration_ui
    from web.ui import calls as calls_ui
    from web.ui import feedback as feedback_ui
    from web.ui import research as research_ui
    from web.ui import retention as retention_ui
    from web.ui import subjects as subjects_ui
    from web.ui import training as training_ui
    from web.ui import training_clips as training_clips_ui
    from web.ui import training_sets as training_sets_ui

    for blueprint in (
        health.bp,
        api_bp,
        recordings_api.bp,
        withheld_api.bp,
        transcripts_api.bp,
        search_api.bp,
        retention_api.bp,
        subjects_api.bp,
        research_api.bp,
        partner_api.bp,
        training_api.bp,
        training_sets_api.bp,
        evaluations_api.bp,
        calibration_api.bp,
        assignments_api.bp,
        audit_events.bp,
        ui_bp,
        calls_ui.bp,
        auth_ui.bp,
        i18n.bp,
        admin.bp,
        audit_ui.bp,
        partner.bp,
        call_page.bp,
        evaluations.bp,
        feedback_ui.bp,
        calibration_ui.bp,
        dashboard.bp,
        assignments_ui.bp,
        retention_ui.bp,
        subjects_ui.bp,
        subject_withdrawal.bp,
        research_ui.bp,
        institutes.bp,
        training_ui.bp,
        training_clips_ui.bp,
        training_sets_ui.bp,
    ):
        app.register_blueprint(blueprint)
    api_spec.register(app)
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("openapi"):  # spectree's interactive docs: the API description only
            access.public(view)
    return app
