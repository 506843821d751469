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
COACH_READ = "coach:read"
COACH_WRITE = "coach:write"
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
    COACH_READ: "As a coach: read the athletes who linked you, within what each granted.",
    COACH_WRITE: "As a coach: create invites, unlink athletes, and write the plans of those "
                 "who granted `plan`.",
    PLAN_READ: "Read your planned runs and how they were done.",
    PLAN_WRITE: "Write and delete your planned runs.",
}

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
SESSION_ONLY = "session"  # not grantable: marks operations only a signed-in session may perform
