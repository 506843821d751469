"""The one vocabulary of what a token, an app or a coach may see and do.

A signed-in session (the phone app) holds every scope. Personal access tokens hold only the ones
chosen when they were made, and can never manage tokens themselves. Apps (OAuth 2 clients) ask for
scopes from the same list and hold those the athlete approved on the consent page, which words
each one as `DESCRIPTIONS` does. What an athlete lets a linked coach see is the separate, smaller
list `COACH_GRANTS` below.

Pain is the most sensitive thing Backstride holds: a token (personal or an app's) sees pain check-
ins, their triage, pain notifications and the insights only with `pain:read`, whatever other scope
the read comes through (`SENSITIVE`; docs/decisions.md, "Apps (OAuth 2)"). That holds for a
coach's reads too: an athlete's pain reaches a coach's token only if the athlete granted `pain`
and the token holds `pain:read`.
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
COACH_READ = "coach:read"
COACH_WRITE = "coach:write"
PAIN_READ = "pain:read"
PLAN_READ = "plan:read"
PLAN_WRITE = "plan:write"

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
    COACH_READ: "As a coach: read the athletes who linked you, within what each granted "
                "(their pain only with `pain:read` as well).",
    COACH_WRITE: "As a coach: create invites, unlink athletes, and write the plans of those "
                 "who granted `plan`.",
    PAIN_READ: "Read your pain reports, their triage and what Backstride told you about them; "
               "as a coach, those of athletes who granted you `pain`.",
    PLAN_READ: "Read your planned runs and how they were done.",
    PLAN_WRITE: "Write and delete your planned runs.",
}
# Shown apart on the consent page, and needed besides the route's own scope for any pain data.
SENSITIVE: frozenset[str] = frozenset({PAIN_READ})

# What an athlete can let a linked coach see. `runs` covers runs and exercise sessions; `pain`
# covers pain check-ins and the triage tier; `plan` lets the coach read and write the plan (the
# one grant that lets a coach change anything of the athlete's).
RUNS, SHOES, LOAD, PAIN, NOTIFICATIONS = "runs", "shoes", "load", "pain", "notifications"
PLAN = "plan"
COACH_GRANTS: dict[str, str] = {
    RUNS: "Your runs and stretch, core and strength sessions.",
    SHOES: "Your shoes and their wear.",
    LOAD: "Your training load: weekly distances, spikes, the weekly change.",
    PAIN: "Your pain check-ins and their triage.",
    NOTIFICATIONS: "The warnings Backstride has sent you, and whether you read them.",
    PLAN: "Your planned runs: read them, write and change them, and see how they were done.",
}

PERSONAL_TOKEN_SCOPES: tuple[str, ...] = tuple(DESCRIPTIONS)
# What an app may ask for: the same scopes as a personal token (never SESSION_ONLY).
APP_SCOPES: tuple[str, ...] = PERSONAL_TOKEN_SCOPES
SESSION_ONLY = "session"  # not grantable: marks operations only a signed-in session may perform
