"""A phone's life against a live Backstride server, through the generated Python client.

The same story as clients/typescript/src/phone.ts, written against the package that
openapi-python-client makes from openapi/openapi.json (`backstride_client`, installed on its own;
tests/processes/test_python_client_flow.py generates it). Written as a developer writes it: the
generated models and functions and nothing else, so `mypy --strict` on this file tells whether
the spec's types hold up, and running it tells whether the server answers as the spec says.

    python clients/python/phone_flow.py http://127.0.0.1:8000

Prints one JSON summary and exits 1 if any step failed. A chapter stops at its first failure;
the next one still runs.
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

from backstride_client import AuthenticatedClient, Client
from backstride_client.api.auth import create_token, register
from backstride_client.api.checkins import list_checkins, upload_checkin, upload_checkin_batch
from backstride_client.api.coach import (
    create_coach_invite,
    get_coach_athlete_load,
    list_coach_athletes,
)
from backstride_client.api.consent import accept_coach_invite
from backstride_client.api.devices import list_devices, register_device
from backstride_client.api.imports import create_import, get_import
from backstride_client.api.load import get_load
from backstride_client.api.me import (
    create_personal_token,
    get_profile,
    revoke_personal_token,
    update_profile,
)
from backstride_client.api.notifications import list_notifications
from backstride_client.models import (
    AcceptInvite,
    AcceptInviteScopesItem,
    Batch,
    BatchResponse,
    BatchResultResult,
    Checkin,
    CheckinBatchItem,
    CheckinBatchItemFocus,
    CheckinBatchItemKind,
    CheckinBatchItemLocation,
    CheckinInput,
    CheckinInputKind,
    CheckinPage,
    Coach,
    Credentials,
    Device,
    DeviceList,
    DeviceRegistration,
    DeviceRegistrationKind,
    Import,
    ImportUpload,
    Invite,
    Load,
    NotificationPage,
    PainReviewData,
    PersonalTokenCreate,
    PersonalTokenCreated,
    PersonalTokenCreateScopesItem,
    Problem,
    Profile,
    ProfilePatch,
    QuietHours,
    Register,
    RegisterUnits,
    Roster,
    TokenPair,
)
from backstride_client.types import File, Response

PASSWORD = "tarmac-and-trails-2026"
T = TypeVar("T")

steps: list[dict[str, Any]] = []
failures: list[dict[str, Any]] = []
seen: dict[str, Any] = {}


class StepFailed(Exception):
    def __init__(self, step: str, status: int | None, detail: Any) -> None:
        super().__init__(f"{step}: {status}")
        self.step, self.status, self.detail = step, status, detail


def expect(step: str, status: HTTPStatus, kind: type[T], response: Response[Any]) -> T:
    """The parsed answer, once it came with the status expected and as the model expected.

    `kind` names the model: a GET that may answer 304 is typed `Response[Any | Problem | X]`.
    """
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        raise StepFailed(step, response.status_code.value, describe(response))
    steps.append({"step": step, "status": status.value})
    return parsed


def refused(step: str, status: HTTPStatus, response: Response[Any]) -> Problem:
    """A refusal with the status expected, as a problem document."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, Problem):
        raise StepFailed(step, response.status_code.value, describe(response))
    steps.append({"step": step, "status": status.value})
    return parsed


def check(step: str, ok: bool, detail: Any) -> None:
    if not ok:
        raise StepFailed(step, None, detail)


def describe(response: Response[Any]) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return response.content[:300].decode(errors="replace")


def etag(step: str, response: Response[Any]) -> str:
    tag = response.headers.get("ETag")
    if not tag:
        raise StepFailed(step, response.status_code.value, "the answer carries no ETag")
    return tag


def chapter(name: str, story: Callable[[], None]) -> bool:
    try:
        story()
    except StepFailed as error:
        failures.append({"chapter": name, "step": error.step, "status": error.status,
                         "detail": error.detail})
        return False
    except Exception as error:  # a model that would not parse, a call that would not build
        failures.append({"chapter": name, "step": "unexpected", "status": None,
                         "detail": f"{type(error).__name__}: {error}"})
        return False
    return True


def days_ago(days: int, hour: int = 7) -> datetime:
    day = datetime.now(UTC) - timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def gpx_run(started_at: datetime) -> bytes:
    """A short run as a watch writes it: a GPX track with a point every 10 s."""
    points = "".join(
        f'<trkpt lat="{51.5 + i * 0.0001:.6f}" lon="-0.120000">'
        f"<time>{(started_at + timedelta(seconds=10 * i)).isoformat()}</time></trkpt>"
        for i in range(181))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="backstride-phone" '
            'xmlns="http://www.topografix.com/GPX/1/1">\n'
            f"<trk><name>Morning run</name><type>running</type><trkseg>{points}</trkseg></trk>\n"
            "</gpx>\n").encode()


def sign_in(base_url: str, anonymous: Client, email: str) -> AuthenticatedClient:
    pair = expect(f"sign in {email.split('-')[0]}", HTTPStatus.OK, TokenPair,
                  create_token.sync_detailed(client=anonymous,
                                             body=Credentials(email=email, password=PASSWORD)))
    return AuthenticatedClient(base_url=base_url, token=pair.access_token)


def phone(base_url: str) -> None:
    anonymous = Client(base_url=base_url)
    suffix = uuid.uuid4().hex[:8]
    athlete_email, coach_email = f"sam-{suffix}@example.org", f"kim-{suffix}@example.org"
    signed_in: list[AuthenticatedClient] = []
    athlete_ids: list[uuid.UUID] = []
    manual_runs: list[uuid.UUID] = []

    def account() -> None:
        expect("register", HTTPStatus.CREATED, Profile, register.sync_detailed(
            client=anonymous,
            body=Register(email=athlete_email, password=PASSWORD, timezone="Europe/London",
                          units=RegisterUnits.KM),
            idempotency_key=str(uuid.uuid4())))
        app = sign_in(base_url, anonymous, athlete_email)
        signed_in.append(app)
        me = expect("profile", HTTPStatus.OK, Profile, get_profile.sync_detailed(client=app))
        check("profile", me.email == athlete_email, me.to_dict())
        athlete_ids.append(me.id)
        seen["athlete"] = {"id": str(me.id), "email": me.email, "timezone": me.timezone}
        # A runner who trains at night turns quiet hours off (equal start and end), so the
        # inbox below reads the same at any hour of the day the phone lives its life.
        changed = expect("quiet hours off", HTTPStatus.OK, Profile, update_profile.sync_detailed(
            client=app, body=ProfilePatch(quiet_hours=QuietHours(start="00:00", end="00:00"))))
        check("quiet hours off", changed.quiet_hours.start == changed.quiet_hours.end == "00:00",
              changed.to_dict())

    if not chapter("account", account):
        return
    app = signed_in[0]

    def sync() -> None:
        # The phone was offline for a week: everything it recorded goes up in one batch.
        items = [
            CheckinBatchItem(id=uuid.uuid4(), kind=CheckinBatchItemKind.RUN,
                             started_at=days_ago(6), distance_m=5_000, duration_s=1_800),
            CheckinBatchItem(id=uuid.uuid4(), kind=CheckinBatchItemKind.RUN,
                             started_at=days_ago(4), distance_m=6_000, duration_s=2_200,
                             effort=6),
            CheckinBatchItem(id=uuid.uuid4(), kind=CheckinBatchItemKind.RUN,
                             started_at=days_ago(2), distance_m=8_000, duration_s=2_900),
            CheckinBatchItem(id=uuid.uuid4(), kind=CheckinBatchItemKind.EXERCISE,
                             recorded_at=days_ago(2, 9), focus=CheckinBatchItemFocus.STRETCH,
                             duration_s=600),
            CheckinBatchItem(id=uuid.uuid4(), kind=CheckinBatchItemKind.PAIN,
                             recorded_at=days_ago(1, 8), severity=8,
                             location=CheckinBatchItemLocation.LOWER_BACK),
        ]
        batch = expect("batch upload", HTTPStatus.OK, BatchResponse,
                       upload_checkin_batch.sync_detailed(client=app, body=Batch(items=items),
                                                       idempotency_key=str(uuid.uuid4())))
        check("batch upload",
              all(r.result == BatchResultResult.CREATED for r in batch.results),
              batch.to_dict())

        # A second phone catches up from the start of the feed.
        first = expect("sync since 0", HTTPStatus.OK, CheckinPage,
                       list_checkins.sync_detailed(client=app, since="0"))
        check("sync since 0", len(first.items) == len(items), len(first.items))
        cursor = first.next_cursor
        if cursor is None:
            raise StepFailed("sync since 0", None, "a sync page always has a cursor")

        # A run logged by hand under a new id, without If-Match: the phone has no tag yet.
        run_id = uuid.uuid4()

        def run(distance_m: int) -> CheckinInput:
            return CheckinInput(kind=CheckinInputKind.RUN, started_at=days_ago(0, 6),
                                distance_m=distance_m, duration_s=1_500)

        created_answer = upload_checkin.sync_detailed(run_id, client=app, body=run(4_000))
        created = expect("PUT without If-Match", HTTPStatus.CREATED, Checkin, created_answer)
        manual_runs.append(run_id)
        first_tag = etag("PUT without If-Match", created_answer)

        # The runner corrects the distance; the phone sends the tag it holds.
        updated_answer = upload_checkin.sync_detailed(run_id, client=app, body=run(4_200),
                                                   if_match=first_tag)
        updated = expect("PUT with If-Match", HTTPStatus.OK, Checkin, updated_answer)
        check("PUT with If-Match", updated.version == created.version + 1,
              [created.version, updated.version])
        second_tag = etag("PUT with If-Match", updated_answer)

        # Another phone still holds the old tag: its edit is refused, not silently applied.
        stale = refused("PUT with a stale If-Match", HTTPStatus.PRECONDITION_FAILED,
                        upload_checkin.sync_detailed(run_id, client=app, body=run(9_999),
                                                  if_match=first_tag))

        # The second phone syncs again and gets only what changed since.
        second = expect("sync since cursor", HTTPStatus.OK, CheckinPage,
                        list_checkins.sync_detailed(client=app, since=cursor))
        check("sync since cursor",
              len(second.items) == 1 and second.items[0].distance_m == 4_200,
              [c.to_dict() for c in second.items])
        seen["sync"] = {"first": len(first.items), "second": len(second.items),
                        "etags": [first_tag, second_tag], "stale": stale.status}

    def load() -> None:
        answer = expect("load", HTTPStatus.OK, Load, get_load.sync_detailed(client=app))
        check("load", len(answer.weeks) > 0, answer.to_dict())
        latest = answer.latest_run
        if manual_runs:
            check("load", latest is not None and latest.run_id == manual_runs[0],
                  answer.to_dict())
        seen["load"] = {"latest_run_m": latest.distance_m if latest else None,
                        "advice_paused": str(answer.advice_paused.tier)
                        if answer.advice_paused else None}

    def inbox() -> None:
        page = expect("inbox", HTTPStatus.OK, NotificationPage,
                      list_notifications.sync_detailed(client=app))
        triggers = [trigger for n in page.items if isinstance(n.data, PainReviewData)
                    for trigger in n.data.triggers]
        check("inbox", bool(triggers), [n.kind for n in page.items])
        seen["inbox"] = {"kinds": [n.kind for n in page.items], "triggers": triggers}

    def devices() -> None:
        device = expect("register device", HTTPStatus.CREATED, Device,
                        register_device.sync_detailed(client=app, body=DeviceRegistration(
                            kind=DeviceRegistrationKind.EXPO,
                            token=f"ExponentPushToken[py-{suffix}]", label="Sam's phone")))
        listed = expect("devices", HTTPStatus.OK, DeviceList,
                        list_devices.sync_detailed(client=app))
        check("devices", any(d.id == device.id for d in listed.items),
              [d.to_dict() for d in listed.items])
        seen["device"] = {"id": str(device.id), "kind": str(device.kind), "hint": device.hint}

    def imports() -> None:
        upload = ImportUpload(file=File(payload=io.BytesIO(gpx_run(days_ago(20))),
                                        file_name="morning-run.gpx",
                                        mime_type="application/gpx+xml"))
        created = expect("import upload", HTTPStatus.ACCEPTED, Import,
                         create_import.sync_detailed(client=app, body=upload))
        job = expect("import read back", HTTPStatus.OK, Import,
                     get_import.sync_detailed(created.id, client=app))
        seen["import"] = {"id": str(job.id), "status": str(job.status),
                          "filename": job.filename}

    def coaching() -> None:
        # A coach signs up, makes a token for their roster script and invites the athlete.
        expect("coach register", HTTPStatus.CREATED, Profile, register.sync_detailed(
            client=anonymous, body=Register(email=coach_email, password=PASSWORD)))
        coach = sign_in(base_url, anonymous, coach_email)
        pat = expect("coach personal token", HTTPStatus.CREATED, PersonalTokenCreated,
                     create_personal_token.sync_detailed(client=coach, body=PersonalTokenCreate(
                         name="roster script", scopes=[PersonalTokenCreateScopesItem.COACHREAD],
                         expires_in_days=30)))
        invite = expect("coach invite", HTTPStatus.CREATED, Invite,
                        create_coach_invite.sync_detailed(client=coach))
        link = expect("accept invite", HTTPStatus.CREATED, Coach,
                      accept_coach_invite.sync_detailed(client=app, body=AcceptInvite(
                          code=invite.code,
                          scopes=[AcceptInviteScopesItem.RUNS, AcceptInviteScopesItem.LOAD,
                                  AcceptInviteScopesItem.SHOES, AcceptInviteScopesItem.PAIN])))

        # The coach's script reads the roster with the personal token alone.
        with AuthenticatedClient(base_url=base_url, token=pat.token) as script:
            roster = expect("roster", HTTPStatus.OK, Roster,
                            list_coach_athletes.sync_detailed(client=script))
            entry = next((a for a in roster.items if a.athlete_id in athlete_ids), None)
            if entry is None:
                raise StepFailed("roster", None, roster.to_dict())
            athlete_load = expect("athlete load", HTTPStatus.OK, Load,
                                  get_coach_athlete_load.sync_detailed(entry.athlete_id,
                                                                       client=script))
            check("athlete load", len(athlete_load.weeks) > 0, athlete_load.to_dict())

            # The coach revokes the token; the script is locked out at once.
            revoked = revoke_personal_token.sync_detailed(pat.id, client=coach)
            check("revoke personal token", revoked.status_code == HTTPStatus.NO_CONTENT,
                  describe(revoked))
            steps.append({"step": "revoke personal token", "status": 204})
            denied = refused("roster with a revoked token", HTTPStatus.UNAUTHORIZED,
                             list_coach_athletes.sync_detailed(client=script))
        seen["coach"] = {"coach_id": str(link.coach_id), "scopes": link.scopes,
                         "roster": len(roster.items), "triage_tier": str(entry.triage_tier),
                         "attention": entry.attention, "revoked": denied.status}

    for name, story in [("sync", sync), ("load", load), ("inbox", inbox),
                        ("devices", devices), ("import", imports), ("coach", coaching)]:
        chapter(name, story)


def main(argv: list[str]) -> int:
    base_url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000"
    chapter("phone", lambda: phone(base_url))
    print(json.dumps({"ok": not failures, "steps": steps, "failures": failures, "seen": seen},
                     indent=2, default=str))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
