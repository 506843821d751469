"""The in-app inbox."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from service.api.context import commit, db, now
from service.api.extension import Blueprint
from service.api.pagination import page_schema, paginate
from service.api.security import current_account, current_principal
from service.domain.accounts import scopes
from service.domain.errors import NotFound
from service.domain.notify import notifications
from service.domain.pain import tiers as pain
from service.models import Notification

from .schemas import InboxArgsSchema, NotificationSchema


def _hidden_kinds() -> tuple[str, ...]:
    """Pain warnings are behind `pain:read` for any token (scopes.SENSITIVE)."""
    return () if current_principal().sees_pain else (pain.NOTIFICATION_PREFIX,)


blp = Blueprint("notifications", __name__, url_prefix="/v1/notifications",
                description="Your inbox: every warning and reminder.")


@blp.route("")
class Inbox(MethodView):
    @blp.operation("listNotifications")
    @blp.read_only()
    @blp.auth_required(scopes.NOTIFICATIONS_READ)
    @blp.arguments(InboxArgsSchema, location="query")
    @blp.response(200, page_schema(NotificationSchema))
    def get(self, args):
        """List your notifications

        Newest first, once their delivery time (after your quiet hours) has come.
        """
        statement = notifications.inbox(current_account(), now(), unread=args.get("unread"),
                                        hide_kinds=_hidden_kinds())
        return paginate(db(), statement, order=(Notification.created_at, Notification.id),
                        cursor=args["cursor"], limit=args["limit"])


@blp.route("/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @blp.operation("markNotificationRead")
    @blp.auth_required(scopes.NOTIFICATIONS_WRITE)
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, notification_id: uuid.UUID):
        """Mark a notification read

        Marking it again keeps the first time.
        """
        notification = notifications.mark_read(db(), current_account(), notification_id, now())
        if notification.kind.startswith(_hidden_kinds()):
            raise NotFound("No such notification.")  # not committed: nothing was marked
        commit()
        return notification
