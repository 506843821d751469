"""Reading Web Push endpoints strictly, and the addresses push traffic may reach."""

from __future__ import annotations

import ipaddress

import pytest

from service.config import WEBPUSH_HOSTS
from service.domain.notify import endpoints


@pytest.mark.parametrize(("given", "sent_to"), [
    ("https://fcm.googleapis.com/fcm/send/abc:APA91b-x_y",
     "https://fcm.googleapis.com/fcm/send/abc:APA91b-x_y"),
    ("HTTPS://Updates.Push.Services.Mozilla.com/wpush/v2/gAAA?x=1",
     "https://updates.push.services.mozilla.com/wpush/v2/gAAA?x=1"),
    ("https://web.push.apple.com/QGx-Tz", "https://web.push.apple.com/QGx-Tz"),
])
def test_what_is_sent_to_is_rebuilt_from_what_was_read(given, sent_to):
    endpoint = endpoints.parse(given, WEBPUSH_HOSTS)
    assert endpoint.url == sent_to
    assert endpoint.origin == sent_to[:sent_to.index("/", 8)]


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "::1", "::",
    "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2001:db8::1",
])
def test_no_address_but_a_global_unicast_one_is_reached(address):
    assert endpoints.forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["142.250.180.10", "17.253.144.10", "2a00:1450:4009::200e"])
def test_public_addresses_are_reached(address):
    assert not endpoints.forbidden_address(ipaddress.ip_address(address))


def test_loopback_only_when_the_setting_allows_it_and_nothing_else_with_it():
    assert not endpoints.forbidden_address(ipaddress.ip_address("127.0.0.1"), allow_loopback=True)
    assert not endpoints.forbidden_address(ipaddress.ip_address("::1"), allow_loopback=True)
    assert endpoints.forbidden_address(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)
