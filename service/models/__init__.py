"""ORM models. They never commit: whoever started the unit of work owns the transaction."""

from service.models.account import Account
from service.models.auth import AuthSession, PersonalAccessToken, RefreshToken
from service.models.base import Base

__all__ = ["Account", "AuthSession", "Base", "PersonalAccessToken", "RefreshToken"]
