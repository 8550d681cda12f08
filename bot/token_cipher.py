"""Keeps the visitor's CPS token out of the tracker store and the logs in clear.

The website sends the token with every message. The channel encrypts it before
Rasa stores the message; only the action server, which holds the same key,
can read it back. Both processes get the key from `CPS_TOKEN_KEY`
(scripts/run.sh creates one per machine under `.state/`).
"""
from __future__ import annotations

import os
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken

KEY_ENV = "CPS_TOKEN_KEY"
TOKEN_METADATA_KEY = "cps_token"
SEALED_METADATA_KEY = "cps_token_sealed"


class TokenKeyMissing(RuntimeError):
    """Raised when CPS_TOKEN_KEY is not set: tokens could be neither sealed nor read."""


def _fernet() -> Fernet:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise TokenKeyMissing(
            f"{KEY_ENV} is not set; start the stack with `make run` or set it to a key "
            "from `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        )
    return Fernet(key.encode())


def seal(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def unseal(sealed: Optional[str]) -> Optional[str]:
    """The token, or None when absent or not sealed with this key (a stale session)."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
