"""What an attacker found in push: endpoints that reach our own network, and one bad device that
stopped push for everyone. Every address here is on loopback; nothing leaves the machine."""

from __future__ import annotations

import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from service.db import make_engine, make_session_factory
from service.domain.notify import deliveries, devices
from service.models import Delivery, Device
from tests.support.fake_apns import KEY_ID, TEAM_ID, TOPIC, FakeApns
from tests.support.fake_push import ACCESS_TOKEN, FakeExpo
from tests.support.fake_webpush import FakeWebPush
from tests.support.nightly_stories import runner
from tests.workers.test_push_delivery import notify
from workers.push.apns import ApnsProvider
from workers.push.expo import ExpoProvider
from workers.push.send import send_due
from workers.push.webpush import WebPushProvider, generate_keys

# The words an athlete may read in their export for any failure to reach a push service.
UNREACHABLE = "webpush: the push service could not be reached"


@pytest.fixture
def session(database):
    engine = make_engine(database.url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def web(tmp_path):
    with FakeWebPush(tmp_path) as fake:
        yield fake


@pytest.fixture
def internal():
    """A service on our own network that no push may ever reach; it counts what reaches it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.hits = hits
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def listener():
    """A bare TCP port on loopback that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def accepted(sock: socket.socket) -> bool:
    try:
        connection, _ = sock.accept()
    except TimeoutError:
        return False
    connection.close()
    return True


def provider(fake, private_key, *, hosts=None, allow_loopback=True):
    return {"webpush": WebPushProvider(private_key, "mailto:ops@example.org",
                                       hosts or (fake.host,), timeout_s=5,
                                       ca_bundle=str(fake.cert), allow_loopback=allow_loopback)}


def stored_device(session, endpoint, keys, kind="webpush"):
    """A device row as an older release may have stored it, past today's registration checks."""
    athlete = runner(session, f"{uuid.uuid4()}@example.org")
    session.add(Device(athlete_id=athlete.id, kind=kind, address=endpoint,
                       p256dh=keys["p256dh"], auth=keys["auth"]))
    session.commit()
    return athlete


def planned(session, athlete, kinds=("webpush",)):
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), list(kinds))
    session.commit()


def only_delivery(session):
    return session.scalar(select(Delivery))


def test_a_backslash_in_the_authority_does_not_smuggle_a_private_host(session, web):
    """urlsplit reads fcm.googleapis.com here, urllib3 127.0.0.1: neither may decide."""
    private_key, _ = generate_keys()
    endpoint = f"https://{web.host}\\@fcm.googleapis.com/push/x"
    assert devices.endpoint_problem(endpoint, ["fcm.googleapis.com"]) is not None
    athlete = stored_device(session, endpoint, web.subscribe("x")["keys"])
    planned(session, athlete)

    send_due(session, provider(web, private_key, hosts=("fcm.googleapis.com", web.host)))

    assert web.paths == [], "the worker connected to the host behind the backslash"
    delivery = only_delivery(session)
    assert delivery.status == "gone"
    assert "127.0.0.1" not in (delivery.last_error or "")


def test_a_redirect_from_a_push_service_is_not_followed(session, web, internal):
    private_key, _ = generate_keys()
    web.redirect_to = f"http://127.0.0.1:{internal.server_port}/admin/flush"
    sub = web.subscribe("redirect")
    athlete = stored_device(session, sub["endpoint"], sub["keys"])
    planned(session, athlete)

    send_due(session, provider(web, private_key))

    assert web.paths == ["/push/redirect"]
    assert internal.hits == [], "the worker followed the push service's 307"
    delivery = only_delivery(session)
    assert (delivery.status, delivery.last_error) == ("dead", "webpush: HTTP 307")


def test_a_host_that_resolves_to_loopback_is_not_connected_to(session, web, listener):
    """Allowed by name, but the address it resolves to is checked when the worker connects."""
    private_key, _ = generate_keys()
    port = listener.getsockname()[1]
    endpoint = f"https://localhost:{port}/push/x"
    athlete = stored_device(session, endpoint, web.subscribe("x")["keys"])
    planned(session, athlete)

    send_due(session, provider(web, private_key, hosts=(f"localhost:{port}",),
                               allow_loopback=False))

    assert not accepted(listener), "a connection was opened to a loopback address"
    delivery = only_delivery(session)
    assert (delivery.status, delivery.last_error) == ("pending", UNREACHABLE)


def test_a_failure_to_connect_tells_the_athlete_nothing_about_our_network(session, web):
    private_key, _ = generate_keys()
    endpoint = "https://127.0.0.1:9/push/x"  # the discard port: nothing listens on loopback
    athlete = stored_device(session, endpoint, web.subscribe("x")["keys"])
    planned(session, athlete)

    send_due(session, provider(web, private_key, hosts=("127.0.0.1:9",)))

    delivery = only_delivery(session)
    assert (delivery.status, delivery.last_error) == ("pending", UNREACHABLE)


def test_an_endpoint_with_user_info_stopped_no_one_elses_push(session, web):
    """py_vapid raised on it inside the provider, and the whole claimed batch stayed 'sending'."""
    private_key, _ = generate_keys()
    bad = stored_device(session, "https://u:p@fcm.googleapis.com/x", web.subscribe("x")["keys"])
    good = web.subscribe("good")
    other = stored_device(session, good["endpoint"], good["keys"])
    planned(session, bad)
    planned(session, other)

    send_due(session, provider(web, private_key, hosts=("fcm.googleapis.com", web.host)))

    assert web.paths == ["/push/good"]
    by_address = dict(session.execute(select(Device.address, Delivery.status)
                                      .join(Delivery, Delivery.device_id == Device.id)).all())
    assert by_address == {"https://u:p@fcm.googleapis.com/x": "gone",
                          good["endpoint"]: "sent"}


class Exploding:
    """A provider with a bug that shows for one token only."""

    kind = "expo"

    def __init__(self, inner, bad: str) -> None:
        self.inner, self.bad = inner, bad

    def send(self, device, message):
        if device.address == self.bad:
            raise ValueError("a bug in a provider, with internals: /srv/app/secret.py")
        return self.inner.send(device, message)


def test_a_provider_that_raises_fails_that_delivery_alone_and_gives_up_in_the_end(session):
    with FakeExpo() as expo:
        available = {"expo": Exploding(ExpoProvider(expo.url, ACCESS_TOKEN, timeout_s=5),
                                       "ExponentPushToken[bad]")}
        for token in ("ExponentPushToken[before]", "ExponentPushToken[bad]",
                      "ExponentPushToken[after]"):
            athlete = runner(session, f"{uuid.uuid4()}@example.org")
            devices.register(session, athlete, None, kind="expo", address=token)
            session.commit()
            planned(session, athlete, ["expo"])

        send_due(session, available)

        by_address = dict(session.execute(select(Device.address, Delivery.status)
                                          .join(Delivery, Delivery.device_id == Device.id)).all())
        assert by_address == {"ExponentPushToken[before]": "sent",
                              "ExponentPushToken[bad]": "pending",
                              "ExponentPushToken[after]": "sent"}
        bad = session.scalar(select(Delivery).where(Delivery.status == "pending"))
        assert bad.last_error == "expo: could not be sent (an error on our side)"
        for _ in range(deliveries.MAX_ATTEMPTS):
            session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
            session.commit()
            send_due(session, available)
        session.refresh(bad)
        assert (bad.status, bad.attempts) == ("dead", deliveries.MAX_ATTEMPTS)


def test_a_delivery_that_kills_its_worker_every_time_ends_dead(session):
    """The sweep puts back what a dead worker claimed, but not forever."""
    athlete = runner(session, f"{uuid.uuid4()}@example.org")
    devices.register(session, athlete, None, kind="expo", address="ExponentPushToken[crash]")
    session.commit()
    planned(session, athlete, ["expo"])
    now = datetime.now(UTC)
    for attempt in range(1, deliveries.MAX_ATTEMPTS + 1):
        assert len(deliveries.claim(session, now)) == 1, f"attempt {attempt}"
        session.commit()
        now += timedelta(minutes=6)  # the worker died: nothing recorded
        deliveries.release_stuck(session, now)
        session.commit()
    delivery = only_delivery(session)
    assert (delivery.status, delivery.attempts) == ("dead", deliveries.MAX_ATTEMPTS)
    assert deliveries.claim(session, now) == []


def test_an_apns_token_stored_before_tokens_were_checked_never_reaches_the_url(session,
                                                                               tmp_path):
    with FakeApns(tmp_path) as apns:
        athlete = stored_device(session, "../../3/device/x?y", {"p256dh": None, "auth": None},
                                kind="apns")
        planned(session, athlete, ["apns"])
        available = {"apns": ApnsProvider(str(apns.key_file), KEY_ID, TEAM_ID, TOPIC, apns.url,
                                          timeout_s=5, verify=str(apns.cert))}

        send_due(session, available)

        assert apns.received == []
        assert only_delivery(session).status == "gone"


def test_keys_that_cannot_encrypt_end_that_subscription_without_a_post(session, web):
    """A p256dh that is no P-256 point (stored before keys were checked) can never be sent to:
    the subscription is gone, nothing is posted, and the next device is sent to as usual."""
    private_key, _ = generate_keys()
    sub = web.subscribe("broken")
    bad = stored_device(session, sub["endpoint"], {"p256dh": "AAAA", "auth": sub["keys"]["auth"]})
    good = web.subscribe("good")
    other = stored_device(session, good["endpoint"], good["keys"])
    planned(session, bad)
    planned(session, other)

    send_due(session, provider(web, private_key))

    assert web.paths == ["/push/good"]
    statuses = dict(session.execute(select(Device.address, Delivery.status)
                                    .join(Delivery, Delivery.device_id == Device.id)).all())
    assert statuses == {sub["endpoint"]: "gone", good["endpoint"]: "sent"}
