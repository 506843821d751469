"""Check-ins: what a phone may send, writing it idempotently, and reading it back.

`rules` says what a check-in may contain (kinds, fields, plausible limits); `writes` upserts one
or a batch from a phone that retries; `reads` serves the history and the change feed.
"""
