"""Notifications: written once, timed for the athlete, pushed to their devices.

`rules` times and words a message for its athlete (quiet hours, units, local days);
`notifications` writes drafts exactly once and reads the inbox; `devices` registers push
targets; `deliveries` tracks each push to each device. Every other subdomain writes through
here; this package imports none of them.
"""
