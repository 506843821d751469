"""The Flask application factory."""

from __future__ import annotations

import swagger_ui_bundle
from flask import Blueprint, Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from service.api import compression, dashboard, edge, json_body, limits, oauth, observe, unions
from service.api.apps.routes import authorised_blp as authorised_apps_blp
from service.api.apps.routes import developer_blp
from service.api.auth.routes import blp as auth_blp
from service.api.checkins.routes import blp as checkins_blp
from service.api.coach.routes import blp as coach_blp
from service.api.consent.routes import blp as consent_blp
from service.api.context import EXTENSION_KEY, AppState, close_db
from service.api.devices.routes import blp as devices_blp
from service.api.extension import BEARER, OAUTH2, Api
from service.api.health.routes import blp as health_blp
from service.api.hints import Hints
from service.api.imports.routes import blp as imports_blp
from service.api.insights.routes import blp as insights_blp
from service.api.load.routes import blp as load_blp
from service.api.me.routes import blp as me_blp
from service.api.notifications.routes import blp as notifications_blp
from service.api.plan.routes import blp as plan_blp
from service.api.routines.routes import blp as routines_blp
from service.api.shoes.routes import blp as shoes_blp
from service.api.webhooks import spec as webhooks_spec
from service.api.webhooks.routes import blp as webhooks_blp
from service.config import Settings
from service.db import make_engine, make_session_factory
from service.domain.accounts import scopes
from service.domain.accounts.passwords import make_hasher
from service.domain.accounts.tokens import TokenPolicy
from service.mail import make_mailer

API_VERSION = "1.0.0"
BLUEPRINTS = (auth_blp, me_blp, consent_blp, shoes_blp, checkins_blp, imports_blp, load_blp,
              insights_blp, notifications_blp, plan_blp, routines_blp, devices_blp, coach_blp,
              developer_blp, authorised_apps_blp, webhooks_blp, health_blp)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("backstride")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        API_TITLE="Backstride",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The API behind the Backstride running-coach app.",
                # No licence is granted (the project has no LICENSE file); the contact is a
                # placeholder in the reserved .invalid domain, the same as the settings' defaults.
                "license": {"name": "Proprietary"},
                "contact": {"name": "Backstride", "url": "https://backstride.invalid"},
            },
            "servers": [{"url": "/"}],
        },
    )
    if settings.proxy_hops:
        # Trust exactly this many proxies' X-Forwarded-For/-Proto: with more, a client could
        # pick its own address, and the rate limits with it.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # Outermost: a request line or header too long is refused before anything reads it.
    app.wsgi_app = edge.EdgeLimits(app.wsgi_app)  # type: ignore[method-assign]
    engine = make_engine(settings.database_url)
    app.extensions[EXTENSION_KEY] = AppState(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        read_session_factory=make_session_factory(engine, writes=False),
        hasher=make_hasher(settings.password_profile),
        token_policy=TokenPolicy(
            secret_key=settings.secret_key,
            access_ttl_s=settings.access_token_ttl_s,
            refresh_ttl_s=settings.refresh_token_ttl_s,
            personal_token_max_days=settings.personal_token_max_days,
        ),
        hints=Hints(settings),
        mailer=make_mailer(settings),
    )
    # Swagger UI's assets come from a package, so /docs works on a machine with no internet.
    app.register_blueprint(Blueprint("docs_assets", __name__, static_url_path="/docs/assets",
                                     static_folder=swagger_ui_bundle.swagger_ui_path))
    app.teardown_appcontext(close_db)
    observe.install(app)  # first, so its after_request runs last and sees the final status
    app.after_request(_response_headers)
    compression.init_app(app)  # after: it runs before _response_headers sees the final ETag

    api = Api(app)
    unions.document(api)
    limits.init_app(app, settings)
    json_body.init_app(app)  # after the limiter: a flood of bad bodies is still counted
    api.spec.components.security_scheme(
        BEARER, {"type": "http", "scheme": "bearer",
                 "description": "An access token from /v1/auth/token or a personal access token."}
    )
    # What generated clients need to send athletes through the consent page (docs/decisions.md,
    # "Apps (OAuth 2)"); the server's own description is /.well-known/oauth-authorization-server.
    api.spec.components.security_scheme(OAUTH2, {
        "type": "oauth2",
        "description": "An app acting for an athlete who consented: authorization code with "
                       "PKCE (S256 only), refresh tokens that rotate. Register the app at "
                       "/v1/developer/apps.",
        "flows": {"authorizationCode": {
            "authorizationUrl": "/oauth/authorize", "tokenUrl": "/oauth/token",
            "refreshUrl": "/oauth/token", "scopes": dict(scopes.DESCRIPTIONS)}},
    })
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    webhooks_spec.document(api)  # the events we send, as the spec's `webhooks`
    oauth.init_app(app)  # after the limiter: the token endpoints get per-app limits
    dashboard.init_app(app)
    return app


def _response_headers(response: Response) -> Response:
    """Health data must not sit in shared caches; conditional GETs answer 304 when unchanged."""
    if request.path.startswith("/v1/"):
        response.headers["Cache-Control"] = "no-store"
        if request.method == "GET" and response.status_code == 200 and response.get_etag()[0]:
            response.make_conditional(request)
    return response
