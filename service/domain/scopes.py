"""What a personal access token may be allowed to do.

A signed-in session (the phone app) holds every scope. Personal access tokens hold only the ones
chosen when they were made, and can never manage tokens themselves.
"""

from __future__ import annotations

PROFILE_READ = "profile:read"
PROFILE_WRITE = "profile:write"
SHOES_READ = "shoes:read"
SHOES_WRITE = "shoes:write"
CHECKINS_READ = "checkins:read"
CHECKINS_WRITE = "checkins:write"
LOAD_READ = "load:read"
NOTIFICATIONS_READ = "notifications:read"
NOTIFICATIONS_WRITE = "notifications:write"

DESCRIPTIONS: dict[str, str] = {
    PROFILE_READ: "Read your profile.",
    PROFILE_WRITE: "Change your profile.",
    SHOES_READ: "Read your shoes.",
    SHOES_WRITE: "Add, change and retire your shoes.",
    CHECKINS_READ: "Read your runs, pain reports and exercise sessions.",
    CHECKINS_WRITE: "Record and delete check-ins.",
    LOAD_READ: "Read your training load.",
    NOTIFICATIONS_READ: "Read your notifications.",
    NOTIFICATIONS_WRITE: "Mark your notifications read.",
}

PERSONAL_TOKEN_SCOPES: tuple[str, ...] = tuple(DESCRIPTIONS)
SESSION_ONLY = "session"  # not grantable: marks operations only a signed-in session may perform
