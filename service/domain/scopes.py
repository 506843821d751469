"""What a personal access token may be allowed to do.

A signed-in session (the phone app) holds every scope. Personal access tokens hold only the ones
chosen when they were made, and can never manage tokens themselves.
"""

from __future__ import annotations

PROFILE_READ = "profile:read"
PROFILE_WRITE = "profile:write"

DESCRIPTIONS: dict[str, str] = {
    PROFILE_READ: "Read your profile.",
    PROFILE_WRITE: "Change your profile.",
}

PERSONAL_TOKEN_SCOPES: tuple[str, ...] = tuple(DESCRIPTIONS)
SESSION_ONLY = "session"  # not grantable: marks operations only a signed-in session may perform
