"""ORM models. They never commit: whoever started the unit of work owns the transaction."""

from service.models.account import Account
from service.models.auth import AuthSession, PersonalAccessToken, RefreshToken
from service.models.base import Base
from service.models.checkin import Checkin
from service.models.delivery import Delivery
from service.models.device import Device
from service.models.nightly import NightlyLog, NightlyState
from service.models.notification import Notification
from service.models.shoe import Shoe
from service.models.sync import IdempotencyRecord, SyncCounter

__all__ = [
    "Account",
    "AuthSession",
    "Base",
    "Checkin",
    "Delivery",
    "Device",
    "IdempotencyRecord",
    "NightlyLog",
    "NightlyState",
    "Notification",
    "PersonalAccessToken",
    "RefreshToken",
    "Shoe",
    "SyncCounter",
]
