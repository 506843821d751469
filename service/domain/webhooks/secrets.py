"""Signing secrets: made here, shown once, stored sealed.

A secret is `whsec_` and 32 random bytes in base64, as the Standard Webhooks spec writes them
(and as its libraries read them). We must keep it to sign with, so it is stored sealed with
AES-256-GCM under a key derived (HKDF-SHA256) from BACKSTRIDE_SECRET_KEY: a copy of the database
alone does not let anyone forge our requests. Changing BACKSTRIDE_SECRET_KEY makes every stored
secret unreadable; rotate each endpoint's secret after it.
"""

from __future__ import annotations

import base64
import os
import secrets as random

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
SEALED_PREFIX = "v1:"


def new_secret() -> str:
    return PREFIX + base64.b64encode(random.token_bytes(32)).decode()


class Sealer:
    """Seals and opens secrets with a key derived from the deployment's secret key."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"backstride webhook secrets").derive(secret_key.encode())
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), b"webhook")
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed.removeprefix(SEALED_PREFIX))
        return self._aead.decrypt(raw[:12], raw[12:], b"webhook").decode()


def hint(secret: str) -> str:
    """Enough to tell two secrets apart, not enough to use one."""
    return secret[:len(PREFIX) + 4] + "…"
