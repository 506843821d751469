"""Pain: triage of a pain check-in into a tier and what to do about it, never a diagnosis.

`rules` is the triage on plain answers; `messages` words each tier; `tiers` triages check-ins as
they arrive, writes the notification of a new tier and answers which tier is active.
"""
