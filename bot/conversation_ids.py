"""Conversation ids that the server issues and a client can neither choose nor guess.

A widget gets `<id>.<mac>`: 128 random bits and an HMAC of them under
`CONVERSATION_KEY`, which only the Rasa server holds. The tracker store keys
the conversation by `<id>` alone, so reading the store or a log gives no id a
client could present. A client that presents anything else gets a new
conversation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from typing import Optional

KEY_ENV = "CONVERSATION_KEY"
_SIGNED = re.compile(r"([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})")


class ConversationKeyMissing(RuntimeError):
    """CONVERSATION_KEY is not set: no conversation id could be issued or checked."""


def _key() -> bytes:
    key = os.environ.get(KEY_ENV, "")
    if len(key) < 32:
        raise ConversationKeyMissing(
            f"{KEY_ENV} must hold at least 32 random characters; `make run` creates one in .state/conversation.key"
        )
    return key.encode()


def _mac(conversation_id: str) -> str:
    digest = hmac.new(_key(), conversation_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def issue() -> str:
    """A new signed id for a new conversation."""
    conversation_id = secrets.token_urlsafe(16)
    return f"{conversation_id}.{_mac(conversation_id)}"


def conversation_of(signed: object) -> Optional[str]:
    """The conversation a signed id names, or None when the server did not issue it."""
    match = _SIGNED.fullmatch(signed) if isinstance(signed, str) else None
    if not match or not hmac.compare_digest(match.group(2), _mac(match.group(1))):
        return None
    return match.group(1)
