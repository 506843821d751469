"""Every read an app makes goes to the athlete's access log, beside their coaches' reads.

After a GET answered by an app's token succeeds, one row is written (which app, what, when;
never the values) and the grant's last use is set, in a short writing transaction of its own: the
read may have run on the read-only session (service.api.context). If that write fails, the read
fails too: an app never reads what the athlete cannot see it read.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from service.api.context import now, state
from service.domain.accounts import apps


def resource_of(rule: str) -> str:
    """What a read is called in the log, from its URL rule: /v1/me is the profile, /v1/me/load
    the load, /v1/shoes/<id> shoes, /v1/coach/... coaching."""
    parts = [part for part in rule.split("/") if part and not part.startswith("<")][1:]
    if not parts:
        return "api"
    if parts[0] == "me":
        return parts[1] if len(parts) > 1 else "profile"
    if parts[0] == "coach":
        return "coaching"
    return parts[0]


def _log_app_read(response: Response) -> Response:
    principal = g.get("principal")
    access = getattr(principal, "app_access", None)
    if access is None or request.method not in ("GET", "HEAD") or request.url_rule is None:
        return response
    if response.status_code not in (200, 304):
        return response
    with state().session_factory() as session:
        apps.record_read(session, access, resource_of(request.url_rule.rule), now())
        session.commit()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_log_app_read)
