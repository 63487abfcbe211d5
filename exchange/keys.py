"""This installation's exchange key (a file, EXCHANGE_SIGNING_KEY_FILE, never a row) and the
signatures of the protocol (README, "公文交换").

Every HTTP message of the exchange, request or answer, carries three headers:

    Gongwen-Installation: the sender installation's name
    Gongwen-Timestamp:    seconds since 1970 (UTC), an integer
    Gongwen-Signature:    base64 of the Ed25519 signature of
                          b"gongwen-exchange/1\\n" + timestamp + b"\\n" + lowercase hex SHA-256 of the body

so that a body cannot be replayed outside the window (EXCHANGE_REPLAY_SECONDS) or moved to another
message. A consignment's envelope is signed on its own as well (`envelope_signature`): that
signature is kept with what was received, as evidence of who sent it.
"""

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext as _

PROTOCOL = "gongwen-exchange/1"
INSTALLATION_HEADER = "Gongwen-Installation"
TIMESTAMP_HEADER = "Gongwen-Timestamp"
SIGNATURE_HEADER = "Gongwen-Signature"


class ExchangeKeyError(Exception):
    """The installation's key is not configured or unusable (the message says which, in Chinese)."""


def signing_key() -> Ed25519PrivateKey:
    path = settings.EXCHANGE_SIGNING_KEY_FILE
    if not path:
        raise ExchangeKeyError(_("未配置公文交换签名密钥（EXCHANGE_SIGNING_KEY_FILE）。"))
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        problem = {"path": path, "error": error}
        raise ExchangeKeyError(_("无法读取公文交换签名密钥 %(path)s：%(error)s") % problem) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ExchangeKeyError(_("公文交换签名密钥 %(path)s 不是 Ed25519 密钥。") % {"path": path})
    return key


def public_key_of(pem: str) -> Ed25519PublicKey | None:
    """The Ed25519 key of a peer's PEM, or None when the text is not one."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def replay_seconds() -> int:
    return settings.EXCHANGE_REPLAY_SECONDS


def _signed_bytes(timestamp: str, body: bytes) -> bytes:
    return f"{PROTOCOL}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode("ascii")


def message_signature(key: Ed25519PrivateKey, timestamp: str, body: bytes) -> str:
    return base64.b64encode(key.sign(_signed_bytes(timestamp, body))).decode("ascii")


def envelope_signature(key: Ed25519PrivateKey, envelope: bytes) -> str:
    return base64.b64encode(key.sign(envelope)).decode("ascii")


def verifies(public: Ed25519PublicKey, signature: str, signed: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), signed)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def message_verifies(public: Ed25519PublicKey, signature: str, timestamp: str, body: bytes) -> bool:
    return verifies(public, signature, _signed_bytes(timestamp, body))
