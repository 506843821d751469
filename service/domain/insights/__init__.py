"""Insights: what an athlete's own check-ins say about their pain, as counts, never causes.

`rules` compares groups of runs or days on plain data; `report` reads the last 180 days for
`GET /v1/me/insights`.
"""
