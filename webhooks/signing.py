"""Signing calls in the Standard Webhooks style, and keeping the signing secrets sealed.

A secret is "whsec_" + base64 of 32 random bytes; the bytes are the HMAC key. A call carries

    webhook-id:        the event id (the same at every attempt: receivers deduplicate by it)
    webhook-timestamp: seconds since the epoch, at this attempt
    webhook-signature: "v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))

The secret must be at hand to sign, so it cannot be kept as a digest like an API key. It is kept
sealed (Fernet: AES-128-CBC and HMAC-SHA256) under a key derived from SECRET_KEY, which lives in
the environment, not in the database: a dump, a backup or a replica of the database holds nothing
that can forge a call the other systems would take as ours. SECRET_KEY_FALLBACKS still open what
an earlier SECRET_KEY sealed, so the key can be rotated.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix of every secret, not a secret)
_KEY_INFO = b"gongwen webhook signing secrets"


class SecretUnreadable(Exception):
    """The sealed secret opens with no configured key (SECRET_KEY changed without keeping the old
    one in SECRET_KEY_FALLBACKS)."""


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]])


def secret_seal(secret: str) -> str:
    return _keys().encrypt(secret.encode("ascii")).decode("ascii")


def secret_open(sealed: str) -> str:
    try:
        return _keys().decrypt(sealed.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable from None


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for this body."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, event_id, timestamp, body),
    }
