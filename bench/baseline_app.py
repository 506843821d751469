"""The same-run baseline: a minimal Flask app doing one raw psycopg INSERT per request.

Served by gunicorn with the same worker count as the API, against the same PostgreSQL server, so
the ratio between the two measures what Backstride's own work costs (auth, validation, the
idempotent upsert, the sync counter), not the machine.
"""

from __future__ import annotations

import os
import uuid

import psycopg
from flask import Flask, request

app = Flask(__name__)
_connection: psycopg.Connection | None = None

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
