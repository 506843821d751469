"""Coaching: consent-based links between an athlete and a coach, and the coach's roster.

`links` holds invites, links with their scopes, the one access check and the access log;
`roster` summarises every linked athlete in a fixed number of queries.
"""
