"""ORM models. They never commit: whoever started the unit of work owns the transaction."""

from service.models.account import Account
from service.models.apps import OAuthClient, OAuthCode, OAuthGrant, OAuthToken
from service.models.auth import AuthSession, PersonalAccessToken, RefreshToken
from service.models.base import Base
from service.models.checkin import Checkin
from service.models.coaching import AccessLogEntry, CoachInvite, CoachLink
from service.models.delivery import Delivery
from service.models.device import Device
from service.models.imports import Import, ImportedFile, ImportUpload
from service.models.nightly import NightlyLog, NightlyState
from service.models.notification import Notification
from service.models.shoe import Shoe
from service.models.sync import IdempotencyRecord, SyncCounter

__all__ = [
    "AccessLogEntry",
    "Account",
    "AuthSession",
    "Base",
    "Checkin",
    "CoachInvite",
    "CoachLink",
    "Delivery",
    "Device",
    "IdempotencyRecord",
    "Import",
    "ImportUpload",
    "ImportedFile",
    "NightlyLog",
    "NightlyState",
    "Notification",
    "OAuthClient",
    "OAuthCode",
    "OAuthGrant",
    "OAuthToken",
    "PersonalAccessToken",
    "RefreshToken",
    "Shoe",
    "SyncCounter",
]
