"""Accounts: registering, signing in, tokens and scopes, the profile, leaving.

`rules` holds the profile's pure rules (time zones, units, quiet hours); `passwords` the password
policy and hashing; `scopes` the one vocabulary of what a token or a coach may do. The use cases
beside them take a session: `registration`, `tokens`, `erasure`, `housekeeping`.
"""
