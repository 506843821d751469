"""Apps: registering them (`/v1/developer/apps`), and the athlete's list of the apps they let in
(`/v1/me/apps`). Both need a signed-in session: no token, an app's least of all, can register an
app or see and change which apps an athlete trusts."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from service.api.context import commit, db, now
from service.api.extension import Blueprint
from service.api.security import current_account
from service.domain.accounts import apps, scopes
from service.models import OAuthClient

from .schemas import (
    AppCreatedSchema,
    AppCreateSchema,
    AppListSchema,
    AppSchema,
    AuthorisedAppListSchema,
)

developer_blp = Blueprint("developer", __name__, url_prefix="/v1/developer",
                          description="Your apps: programs that act for athletes who consent "
                                      "(OAuth 2).")
authorised_blp = Blueprint("authorised_apps", __name__, url_prefix="/v1/me",
                           description="The apps you let use your account, and what they hold.")


@developer_blp.route("/apps")
class Apps(MethodView):
    @developer_blp.operation("listApps")
    @developer_blp.read_only()
    @developer_blp.auth_required(scopes.SESSION_ONLY)
    @developer_blp.response(200, AppListSchema)
    def get(self):
        """List the apps you registered

        Their client ids and redirect URIs; secrets are never shown again.
        """
        statement = apps.apps_of_owner(current_account()).order_by(
            OAuthClient.created_at.desc(), OAuthClient.id)
        return {"items": list(db().scalars(statement))}

    @developer_blp.operation("createApp")
    @developer_blp.strict_limit()
    @developer_blp.auth_required(scopes.SESSION_ONLY)
    @developer_blp.arguments(AppCreateSchema)
    @developer_blp.response(201, AppCreatedSchema)
    def post(self, body):
        """Register an app

        It can then send athletes to `/oauth/authorize` (authorization code with PKCE, S256)
        and act for those who consent, within what each allowed. Copy a confidential app's
        `client_secret` now: only its hash is kept.
        """
        issued = apps.register_app(db(), current_account(), now=now(), **body)
        commit()
        return issued


@developer_blp.route("/apps/<uuid:app_id>")
class AppById(MethodView):
    @developer_blp.operation("getApp")
    @developer_blp.read_only()
    @developer_blp.auth_required(scopes.SESSION_ONLY)
    @developer_blp.response(200, AppSchema)
    @developer_blp.alt_response(404, response="NOT_FOUND")
    def get(self, app_id: uuid.UUID):
        """Read one of your apps

        Its client id, type and redirect URIs.
        """
        return apps.app_of_owner(db(), current_account(), app_id)

    @developer_blp.operation("deleteApp")
    @developer_blp.auth_required(scopes.SESSION_ONLY)
    @developer_blp.response(204)
    @developer_blp.alt_response(404, response="NOT_FOUND")
    def delete(self, app_id: uuid.UUID):
        """Delete one of your apps

        It stops working at once: every athlete's tokens for it end. Access logs keep its name.
        """
        apps.delete_app(db(), current_account(), app_id, now())
        commit()


@authorised_blp.route("/apps")
class AuthorisedApps(MethodView):
    @authorised_blp.operation("listAuthorisedApps")
    @authorised_blp.read_only()
    @authorised_blp.auth_required(scopes.SESSION_ONLY)
    @authorised_blp.response(200, AuthorisedAppListSchema)
    def get(self):
        """List the apps you let in

        Every app that can use your account, what you allowed it and when it last did. Each
        read it made is in your access log.
        """
        return {"items": apps.authorised_apps(db(), current_account(), now())}


@authorised_blp.route("/apps/<uuid:app_id>")
class AuthorisedApp(MethodView):
    @authorised_blp.operation("revokeAuthorisedApp")
    @authorised_blp.auth_required(scopes.SESSION_ONLY)
    @authorised_blp.response(204)
    @authorised_blp.alt_response(404, response="NOT_FOUND")
    def delete(self, app_id: uuid.UUID):
        """Take an app's access away

        Every token it holds for you stops working at once. To let it in again, approve it
        again on the consent page.
        """
        apps.revoke_app_for(db(), current_account(), app_id, now())
        commit()
