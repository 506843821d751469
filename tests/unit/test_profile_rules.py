"""Profile rules: time zones, quiet hours, passwords."""

from __future__ import annotations

from datetime import time

import pytest

from service.domain.accounts import passwords
from service.domain.accounts import rules as profile


@pytest.mark.parametrize(("name", "valid"), [
    ("Europe/London", True), ("America/Los_Angeles", True), ("Pacific/Auckland", True),
    ("UTC", True), ("BST", False), ("Europe/Londn", False), ("", False),
])
def test_only_iana_zone_names_are_time_zones(name, valid):
    assert profile.is_valid_timezone(name) is valid


@pytest.mark.parametrize(("local", "quiet"), [
    (time(21, 29), False), (time(21, 30), True), (time(23, 59), True), (time(0, 0), True),
    (time(6, 59), True), (time(7, 0), False), (time(12, 0), False),
])
def test_default_quiet_hours_wrap_past_midnight(local, quiet):
    assert profile.in_quiet_hours(local, time(21, 30), time(7, 0)) is quiet


def test_quiet_hours_within_one_day_and_none_at_all():
    assert profile.in_quiet_hours(time(13, 0), time(12, 0), time(14, 0))
    assert not profile.in_quiet_hours(time(14, 0), time(12, 0), time(14, 0))
    assert not profile.in_quiet_hours(time(3, 0), time(7, 0), time(7, 0))


@pytest.mark.parametrize(("password", "refused"), [
    ("short", True), ("123456789", True), ("password123", True), ("Password123", True),
    ("qwertyuiop", True), ("x" * 257, True),
    ("tarmac-and-trails-2026", False), ("correct horse battery staple", False),
])
def test_password_policy_is_length_and_not_common(password, refused):
    assert (passwords.policy_violation(password) is not None) is refused


def test_hashes_are_argon2id_and_verify():
    hasher = passwords.make_hasher("cheapest")
    hashed = hasher.hash("tarmac-and-trails-2026")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hasher, hashed, "tarmac-and-trails-2026")
    assert not passwords.verify(hasher, hashed, "tarmac-and-trails-2025")
    assert not passwords.verify(hasher, "not a hash", "anything")
    assert passwords.make_hasher().time_cost >= 2, "the production profile is not the test one"
