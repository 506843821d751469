"""Notifications reach devices once, gone tokens are dropped, busy services are retried."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from service.db import make_engine, make_session_factory
from service.domain.notify import deliveries, devices, notifications
from service.models import Delivery, Device
from tests.support.fake_apns import KEY_ID, TEAM_ID, TOPIC, FakeApns
from tests.support.fake_apns import token as apns_token
from tests.support.fake_fcm import PROJECT, FakeFcm
from tests.support.fake_push import ACCESS_TOKEN, FakeExpo
from tests.support.fake_webpush import FakeWebPush
from tests.support.nightly_stories import runner
from workers.push.apns import ApnsProvider
from workers.push.expo import ExpoProvider
from workers.push.fcm import FcmProvider
from workers.push.send import send_due
from workers.push.webpush import WebPushProvider, generate_keys


@pytest.fixture
def session(database):
    engine = make_engine(database.url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def expo():
    with FakeExpo() as fake:
        yield fake


def provider(fake):
    return {"expo": ExpoProvider(fake.url, ACCESS_TOKEN, timeout_s=5)}


def athlete_with(session, *tokens, kind="expo"):
    athlete = runner(session, f"{uuid.uuid4()}@example.org")
    for token in tokens:
        devices.register(session, athlete, None, kind=kind, address=token)
    session.commit()
    return athlete


def notify(session, athlete, *, due=True, key="run_spike:1"):
    now = datetime.now(UTC)
    notifications.write(session, [notifications.Draft(
        athlete.id, "run_spike", key, "Big step up", "Keep the next long run under 11 km.",
        now - timedelta(minutes=1) if due else now + timedelta(hours=8), {})], now)
    session.commit()


def statuses(session):
    return sorted(session.scalars(select(Delivery.status)))


def test_a_due_notification_reaches_each_device_once_with_a_collapse_key(session, expo):
    athlete = athlete_with(session, "ExponentPushToken[phone]", "ExponentPushToken[tablet]")
    notify(session, athlete)

    for _ in range(2):  # the same job twice: nothing is sent twice
        deliveries.plan(session, datetime.now(UTC), ["expo"])
        session.commit()
        send_due(session, provider(expo))

    assert expo.problems == []
    assert sorted(m["to"] for m in expo.received) == ["ExponentPushToken[phone]",
                                                      "ExponentPushToken[tablet]"]
    assert {m["collapseId"] for m in expo.received} == {
        str(session.scalar(select(Delivery.notification_id)))}
    assert statuses(session) == ["sent", "sent"]


def test_nothing_is_pushed_before_quiet_hours_end_or_to_unconfigured_providers(session, expo):
    quiet = athlete_with(session, "ExponentPushToken[asleep]")
    notify(session, quiet, due=False)
    web = athlete_with(session, "fcm-token", kind="fcm")
    notify(session, web)
    assert deliveries.plan(session, datetime.now(UTC), ["expo"]) == 0


def test_a_gone_token_disables_its_device(session, expo):
    athlete = athlete_with(session, "ExponentPushToken[gone]")
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), ["expo"])
    session.commit()
    send_due(session, provider(expo))

    device = session.scalar(select(Device))
    assert device.disabled_at is not None and device.disabled_reason == "DeviceNotRegistered"
    assert statuses(session) == ["gone"]
    notify(session, athlete, key="run_spike:2")
    assert deliveries.plan(session, datetime.now(UTC), ["expo"]) == 0, "no more pushes to it"


def test_a_busy_service_is_retried_after_its_retry_after(session, expo):
    athlete = athlete_with(session, "ExponentPushToken[busy]")
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), ["expo"])
    session.commit()
    before = datetime.now(UTC)
    send_due(session, provider(expo))

    delivery = session.scalar(select(Delivery))
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at >= before + timedelta(seconds=120)


def test_a_service_that_stays_down_is_given_up_after_six_attempts(session, expo):
    athlete = athlete_with(session, "ExponentPushToken[down]")
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), ["expo"])
    session.commit()
    for _ in range(deliveries.MAX_ATTEMPTS):
        session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
        session.commit()
        send_due(session, provider(expo))
    assert len(expo.received) == deliveries.MAX_ATTEMPTS
    assert statuses(session) == ["dead"]


def test_a_delivery_left_sending_by_a_dead_worker_is_put_back(session):
    athlete = athlete_with(session, "ExponentPushToken[phone]")
    notify(session, athlete)
    now = datetime.now(UTC)
    deliveries.plan(session, now, ["expo"])
    assert len(deliveries.claim(session, now)) == 1
    session.commit()
    assert deliveries.release_stuck(session, now + timedelta(minutes=4)) == 0, "still sending"
    assert deliveries.release_stuck(session, now + timedelta(minutes=6)) == 1
    session.commit()
    assert statuses(session) == ["pending"]


def test_backoff_doubles_with_jitter_and_respects_retry_after():
    assert deliveries.backoff_s(1, jitter=lambda: 0.5) == 30
    assert deliveries.backoff_s(3, jitter=lambda: 0.5) == 120
    assert deliveries.backoff_s(1, jitter=lambda: 0.0) == 15
    assert deliveries.backoff_s(20, jitter=lambda: 0.5) == deliveries.MAX_BACKOFF_S
    assert deliveries.backoff_s(1, retry_after_s=300, jitter=lambda: 0.5) == 300


@pytest.fixture
def web(tmp_path):
    with FakeWebPush(tmp_path) as fake:
        yield fake


def webpush_provider(fake, private_key):
    return {"webpush": WebPushProvider(private_key, "mailto:ops@example.org", (fake.host,),
                                       timeout_s=5, ca_bundle=str(fake.cert),
                                       allow_loopback=True)}


def subscribed(session, fake, *names):
    athlete = runner(session, f"{uuid.uuid4()}@example.org")
    for name in names:
        sub = fake.subscribe(name)
        devices.register(session, athlete, None, kind="webpush", address=sub["endpoint"],
                         p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"],
                         allowed_hosts=(fake.host,))
    session.commit()
    return athlete


def test_web_push_is_encrypted_signed_kept_for_offline_phones_and_collapsible(session, web):
    private_key, _public = generate_keys()
    athlete = subscribed(session, web, "laptop", "phone")
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), ["webpush"])
    session.commit()

    send_due(session, webpush_provider(web, private_key))

    assert web.problems == []
    assert sorted(m["path"] for m in web.received) == ["/push/laptop", "/push/phone"]
    assert {m["title"] for m in web.received} == {"Big step up"}
    assert len({m["topic"] for m in web.received}) == 1, "one collapse key per notification"
    assert statuses(session) == ["sent", "sent"]


def test_web_push_gone_and_busy_answers(session, web):
    private_key, _public = generate_keys()
    athlete = subscribed(session, web, "gone", "busy")
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), ["webpush"])
    session.commit()
    send_due(session, webpush_provider(web, private_key))
    assert statuses(session) == ["gone", "pending"]
    disabled = session.scalars(select(Device.disabled_reason)
                               .where(Device.disabled_at.is_not(None))).all()
    assert disabled == ["webpush: HTTP 410"]


def test_vapid_keys_come_from_the_cli():
    from click.testing import CliRunner

    from service.cli.main import cli

    output = CliRunner().invoke(cli, ["push", "vapid-keys"]).output
    assert output.startswith("BACKSTRIDE_VAPID_PRIVATE_KEY=")
    private = output.splitlines()[0].split("=", 1)[1]
    assert WebPushProvider(private, "mailto:ops@example.org", (), 5).vapid is not None


def test_fcm_signs_in_once_sends_v1_messages_and_drops_gone_tokens(session, tmp_path):
    with FakeFcm(tmp_path) as fcm:
        athlete = athlete_with(session, "fcm-token-phone", "fcm-token-gone",
                               "fcm-token-busy", kind="fcm")
        notify(session, athlete)
        deliveries.plan(session, datetime.now(UTC), ["fcm"])
        session.commit()
        available = {"fcm": FcmProvider(str(fcm.account_file), PROJECT, fcm.url, timeout_s=5)}

        send_due(session, available)

        assert fcm.problems == []
        assert fcm.tokens_issued == 1, "one access token for all three sends"
        assert sorted(m["token"] for m in fcm.received) == [
            "fcm-token-busy", "fcm-token-gone", "fcm-token-phone"]
        assert {m["android"]["collapse_key"] for m in fcm.received} == {
            str(session.scalar(select(Delivery.notification_id)))}
        by_status = dict(session.execute(select(Device.address, Delivery.status)
                                         .join(Delivery, Delivery.device_id == Device.id)).all())
        assert by_status == {"fcm-token-phone": "sent", "fcm-token-gone": "gone",
                             "fcm-token-busy": "pending"}
        busy = session.scalar(select(Delivery).join(Device, Delivery.device_id == Device.id)
                              .where(Device.address == "fcm-token-busy"))
        assert busy.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=85)


def test_apns_over_http2_reuses_its_provider_token_and_drops_gone_devices(session, tmp_path):
    with FakeApns(tmp_path) as apns:
        phone, gone, bad, busy = (apns_token("200"), apns_token("410"), apns_token("400"),
                                 apns_token("429"))
        athlete = athlete_with(session, phone, gone, bad, busy, kind="apns")
        notify(session, athlete)
        deliveries.plan(session, datetime.now(UTC), ["apns"])
        session.commit()
        available = {"apns": ApnsProvider(str(apns.key_file), KEY_ID, TEAM_ID, TOPIC, apns.url,
                                          timeout_s=5, verify=str(apns.cert))}

        send_due(session, available)

        assert apns.problems == []
        assert len(apns.provider_tokens) == 1, "one provider token for every push"
        assert sorted(m["device"] for m in apns.received) == sorted([phone, gone, bad, busy])
        assert {m["aps"]["alert"]["title"] for m in apns.received} == {"Big step up"}
        by_status = dict(session.execute(select(Device.address, Delivery.status)
                                         .join(Delivery, Delivery.device_id == Device.id)).all())
        assert by_status == {phone: "sent", gone: "gone", bad: "gone", busy: "pending"}


def test_a_batch_that_outlasts_the_stuck_time_is_not_sent_twice(session, database, expo):
    """A slow push service: while one worker is still working through its claimed batch, a
    sweep on another puts the waiting tail back and sends it; the first must then skip it."""
    athlete = athlete_with(session, *(f"ExponentPushToken[slow-{n}]" for n in range(3)))
    notify(session, athlete)
    deliveries.plan(session, datetime.now(UTC), ["expo"])
    session.commit()
    other_engine = make_engine(database.url)
    real = provider(expo)["expo"]

    class SlowThenSwept:
        """The first send takes a while; during the second, another worker sweeps with a stuck
        time shorter than that while: the message in flight is fresh, the waiting tail is not."""

        calls = 0

        def send(self, device, message):
            SlowThenSwept.calls += 1
            if SlowThenSwept.calls == 1:
                time.sleep(0.3)
            if SlowThenSwept.calls == 2:
                with make_session_factory(other_engine)() as other:
                    released = deliveries.release_stuck(other, datetime.now(UTC),
                                                        timedelta(seconds=0.15))
                    assert released == 1, "the one still waiting in the batch"
                    other.commit()
                    send_due(other, provider(expo))
            return real.send(device, message)

    send_due(session, {"expo": SlowThenSwept()})
    other_engine.dispose()
    assert sorted(m["to"] for m in expo.received) == [
        f"ExponentPushToken[slow-{n}]" for n in range(3)], "each once"
    assert statuses(session) == ["sent", "sent", "sent"]


def test_a_claimed_batch_is_never_longer_than_the_stuck_time_at_the_push_timeout():
    assert deliveries.batch_size(300, 10) == 29  # the defaults: 29 x 10 s < 300 s
    assert deliveries.batch_size(300, 1) == 100  # the most one claim takes
    assert deliveries.batch_size(3, 2) == 1
    assert deliveries.batch_size(11, 10) == 1


def test_recording_answers_leaves_no_connection_with_commits_unflushed(database, expo):
    """The fan-out's own connection turns synchronous_commit off for its records; the pool
    must get it back as it was, or every later transaction on it would skip the WAL flush."""
    engine = make_engine(database.url, **({} if database.backend == "sqlite" else
                                          {"pool_size": 1, "max_overflow": 0}))
    with make_session_factory(engine)() as session:
        athlete = athlete_with(session, "ExponentPushToken[one]", "ExponentPushToken[two]")
        notify(session, athlete)
        deliveries.plan(session, datetime.now(UTC), ["expo"])
        session.commit()
        assert send_due(session, provider(expo)) == {"sent": 2}
    assert len(expo.received) == 2
    if database.backend == "postgresql":  # the one pooled connection is the one it used
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    engine.dispose()
