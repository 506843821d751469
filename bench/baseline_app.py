"""The same-run baselines: minimal Flask views, with one raw psycopg statement or none.

Served by gunicorn with the same worker count as the API, against the same PostgreSQL server, so
the ratio between the two measures what Backstride's own work costs (auth, validation, the
idempotent upsert, the sync counter, the roster's rules), not the machine.
"""

from __future__ import annotations

import os
import uuid

import psycopg
from flask import Flask, request

app = Flask(__name__)
_connection: psycopg.Connection | None = None

# bench/roster.py's baseline: for the coach named in `?coach=`, per linked athlete, last run,
# two weekly sums and unread warnings, in one statement (no auth, grants, rules or access log).
ROSTER = """
SELECT l.athlete_id, a.display_name, max(c.occurred_at) AS last_run_at,
       coalesce(sum(c.distance_m) FILTER (WHERE c.occurred_at > now() - interval '7 days'), 0),
       coalesce(sum(c.distance_m) FILTER (WHERE c.occurred_at <= now() - interval '7 days'
                                            AND c.occurred_at > now() - interval '14 days'), 0),
       (SELECT count(*) FROM notifications n
        WHERE n.athlete_id = l.athlete_id AND n.read_at IS NULL) AS unread
FROM coach_links l JOIN accounts a ON a.id = l.athlete_id
LEFT JOIN checkins c ON c.athlete_id = l.athlete_id AND c.kind = 'run' AND c.deleted_at IS NULL
WHERE l.coach_id = %(coach)s AND l.revoked_at IS NULL
GROUP BY l.athlete_id, a.display_name
"""
INSERT = ("INSERT INTO bench_raw_checkins (id, kind, started_at, distance_m, duration_s) "
          "VALUES (%s, %s, %s, %s, %s)")


def connection() -> psycopg.Connection:
    global _connection
    if _connection is None:
        _connection = psycopg.connect(os.environ["BENCH_DSN"], autocommit=True)
    return _connection


@app.put("/raw/<checkin_id>")
def put(checkin_id: str):
    body = request.get_json()
    connection().execute(INSERT, (uuid.UUID(checkin_id), body["kind"], body["started_at"],
                                  body["distance_m"], body["duration_s"]))
    return {"id": checkin_id}, 201


@app.post("/raw/batch")
def batch():
    items = request.get_json()["items"]
    rows = [(uuid.UUID(i["id"]), i["kind"], i["started_at"], i["distance_m"], i["duration_s"])
            for i in items]
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    connection().execute(INSERT.split(" VALUES ")[0] + " VALUES " + values,
                         [v for row in rows for v in row])
    return {"count": len(rows)}, 200


@app.get("/json")
def hello():
    """The roster benchmark's baseline: Flask and JSON, nothing else."""
    return {"status": "ok", "items": []}


@app.get("/raw/roster")
def raw_roster():
    rows = connection().execute(ROSTER, {"coach": uuid.UUID(request.args["coach"])}).fetchall()
    return {"items": [{"athlete_id": str(r[0]), "display_name": r[1],
                       "last_run_at": r[2].isoformat() if r[2] else None,
                       "last_7_days_m": r[3], "previous_7_days_m": r[4], "unread_warnings": r[5]}
                      for r in rows]}
