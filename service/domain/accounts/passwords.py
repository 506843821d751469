"""Password policy and hashing.

Policy follows NIST SP 800-63B: a minimum length and a check against commonly used passwords, no
composition rules. The common list is zxcvbn's (the 30,000 most frequent leaked passwords).
Hashing is Argon2id through argon2-cffi, whose defaults sit above OWASP's floor.
"""

from __future__ import annotations

import secrets
import threading

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 256  # hashing megabytes of "password" is a denial of service, not security
ZXCVBN_MAX_LENGTH = 72  # zxcvbn 4.5's own limit (its `max_length` default)


def policy_violation(password: str) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if is_common(password):
        return "This password is on a list of commonly used passwords; choose another."
    return None


def is_common(password: str) -> bool:
    """True when the whole password (in any case) is one of the frequently leaked ones."""
    # zxcvbn refuses (ValueError) anything longer than ZXCVBN_MAX_LENGTH; no password on its
    # lists is anywhere near that long, so a longer one cannot be a whole-password match.
    if len(password) > ZXCVBN_MAX_LENGTH:
        return False
    result = zxcvbn(password)
    return any(
        match.get("dictionary_name") == "passwords"
        and match["i"] == 0
        and match["j"] == len(password) - 1
        for match in result["sequence"]
    )


def make_hasher(profile: str = "default") -> PasswordHasher:
    """Argon2id with the library's defaults; 'cheapest' exists for test suites only.

    Its stand-in hash for unknown emails is made now, so no sign-in pays for it."""
    hasher = (PasswordHasher.from_parameters(profiles.CHEAPEST) if profile == "cheapest"
              else PasswordHasher())
    dummy_hash(hasher)
    return hasher


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy_hashes: dict[tuple[object, ...], str] = {}
_dummy_lock = threading.Lock()


def dummy_hash(hasher: PasswordHasher) -> str:
    """A real hash of a random string with the hasher's parameters, verified against when the
    email is unknown so that a wrong email and a wrong password cost the same: one verification
    (no account enumeration by timing). Made once per set of parameters, never per request:
    hashing afresh each time made an unknown email take twice as long as a wrong password."""
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism,
           hasher.hash_len, hasher.salt_len)
    with _dummy_lock:
        if key not in _dummy_hashes:
            _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(32))
        return _dummy_hashes[key]
