"""Keeps the visitor's CPS token unusable in the tracker store, the logs and backups.

The website sends the token with every message. The Rasa server seals it
before anything is stored, with a *public* key: Rasa can seal but never open.
Only the action server holds the private key (`CPS_TOKEN_PRIVATE_KEY`).

A sealed token is bound to its conversation (the sender id is authenticated
data) and carries its expiry (`CPS_TOKEN_TTL_SECONDS`, default 900 s), so a
copy taken from a tracker row, a log line or a backup opens neither in
another conversation nor after its lifetime. The website sends the token
again with each message, so the lifetime only has to cover one turn.

Construction: X25519 with a fresh ephemeral key per seal, HKDF-SHA256, and
AES-256-GCM; the expiry is inside the authenticated plaintext.
"""
from __future__ import annotations

import base64
import os
import re
import struct
import time
from typing import Any, Optional, Tuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PUBLIC_KEY_ENV = "CPS_TOKEN_PUBLIC_KEY"
PRIVATE_KEY_ENV = "CPS_TOKEN_PRIVATE_KEY"
TTL_ENV = "CPS_TOKEN_TTL_SECONDS"
DEFAULT_TTL_SECONDS = 900

TOKEN_METADATA_KEY = "cps_token"  # what the website sends
SEALED_METADATA_KEY = "cps_token_sealed"  # what the tracker keeps; never accepted from a client

_TOKEN = re.compile(r"[!-~]{1,512}")  # printable ASCII without spaces: what a bearer token can be
_VERSION = "v1"
_INFO = b"cps-token-v1"
_MAX_SEALED_CHARS = 4096


class TokenKeyMissing(RuntimeError):
    """The key this process needs to seal or open tokens is not configured."""


def could_be_token(value: Any) -> bool:
    """Whether `value` can be a CPS bearer token at all; anything else is dropped, never sent in a header."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _raw(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_from_env(name: str) -> bytes:
    value = os.environ.get(name, "").strip()
    if not value:
        raise TokenKeyMissing(
            f"{name} is not set; start the stack with `make run` (it creates the keys under .state/), "
            "or create a pair with `python -m bot.token_cipher`"
        )
    try:
        raw = base64.urlsafe_b64decode(value)
    except ValueError as error:
        raise TokenKeyMissing(f"{name} is not base64: {error}") from None
    if len(raw) != 32:
        raise TokenKeyMissing(f"{name} must be a base64 X25519 key of 32 bytes, not {len(raw)}")
    return raw


def _ttl() -> int:
    return int(os.environ.get(TTL_ENV, DEFAULT_TTL_SECONDS))


def _aead_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    key = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO + ephemeral + recipient).derive(shared)
    return AESGCM(key)


def _aad(conversation_id: str) -> bytes:
    return _INFO + b"|" + conversation_id.encode("utf-8")


def new_key_pair() -> Tuple[str, str]:
    """(private, public) as base64 strings for the two environment variables."""
    private = X25519PrivateKey.generate()
    private_raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.urlsafe_b64encode(private_raw).decode(), base64.urlsafe_b64encode(_raw(private.public_key())).decode()


def public_key_of(private_b64: str) -> str:
    private = X25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(private_b64))
    return base64.urlsafe_b64encode(_raw(private.public_key())).decode()


def seal(token: str, conversation_id: str, now: Optional[float] = None) -> str:
    """The token as only the action server can open it, in this conversation, until it expires."""
    recipient_raw = _key_from_env(PUBLIC_KEY_ENV)
    recipient = X25519PublicKey.from_public_bytes(recipient_raw)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = _raw(ephemeral.public_key())
    expires = int((time.time() if now is None else now) + _ttl())
    nonce = os.urandom(12)
    plaintext = struct.pack(">Q", expires) + token.encode("utf-8")
    ciphertext = _aead_key(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw).encrypt(
        nonce, plaintext, _aad(conversation_id)
    )
    return f"{_VERSION}.{base64.urlsafe_b64encode(ephemeral_raw + nonce + ciphertext).decode()}"


def unseal(sealed: Any, conversation_id: str, now: Optional[float] = None) -> Optional[str]:
    """The token, or None when absent, malformed, sealed for another conversation, or expired."""
    if not isinstance(sealed, str) or not sealed.startswith(_VERSION + ".") or len(sealed) > _MAX_SEALED_CHARS:
        return None
    private = X25519PrivateKey.from_private_bytes(_key_from_env(PRIVATE_KEY_ENV))
    try:
        blob = base64.urlsafe_b64decode(sealed[len(_VERSION) + 1:])
    except ValueError:
        return None
    if len(blob) < 32 + 12 + 16 + 8:
        return None
    ephemeral_raw, nonce, ciphertext = blob[:32], blob[32:44], blob[44:]
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
        plaintext = _aead_key(shared, ephemeral_raw, _raw(private.public_key())).decrypt(
            nonce, ciphertext, _aad(conversation_id)
        )
    except (InvalidTag, ValueError):
        return None
    (expires,) = struct.unpack(">Q", plaintext[:8])
    if (time.time() if now is None else now) > expires:
        return None
    return plaintext[8:].decode("utf-8", errors="strict")


if __name__ == "__main__":
    private_key, public_key = new_key_pair()
    print(f"{PRIVATE_KEY_ENV}={private_key}  # the action server only")
    print(f"{PUBLIC_KEY_ENV}={public_key}  # the Rasa server")
