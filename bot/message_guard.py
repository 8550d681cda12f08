"""Checks every incoming message before Rasa stores or logs it.

Messages that must not be kept (card numbers, passwords) or cannot be read
(empty, over-long) are replaced by an internal intent payload, so the tracker
store and the logs never hold the sensitive text and the dialogue answers with
a clear, localised notice (rules in data/rules/input_guard.yml).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

MAX_MESSAGE_CHARS = 2000
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>")

EMPTY_PAYLOAD = "/empty_message"
TOO_LONG_PAYLOAD = "/input_too_long"
SENSITIVE_PAYLOAD = "/sensitive_data"

_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ \-.]?){12,18}\d(?!\d)")
_PASSWORD_WORDS = (
    r"password|passwd|pwd|heslo|hesla|heslem|jelsz\w*|adgangskode\w*|kodeord\w*|"
    r"slapta[zž]od\w*|salasan\w*"
)
_PASSWORD = re.compile(
    rf"\b(?:{_PASSWORD_WORDS})\s*(?:(?:is|je|er|yra|on|az|lautet)\s*[:=]?|[:=])\s*(\S+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GuardedMessage:
    """The text to hand to Rasa, and what was done to the original, if anything."""

    text: str
    notice: Optional[str] = None  # "empty" | "too_long" | "sensitive"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    for match in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return True
    return False


def contains_password(text: str) -> bool:
    for match in _PASSWORD.finditer(text):
        value = match.group(1)
        # "my password is not working" is a question, "password: Foto2024!" is a secret.
        if len(value) >= 4 and (re.search(r"[\d\W_]", value) or ":" in match.group() or "=" in match.group()):
            return True
    return False


def strip_control_characters(text: str) -> str:
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )


def guard(text: Optional[str]) -> GuardedMessage:
    """What Rasa may see of a user's message."""
    if text is None:
        return GuardedMessage(EMPTY_PAYLOAD, "empty")
    if text.startswith("/"):  # a button payload from our own widget
        return GuardedMessage(text[:MAX_MESSAGE_CHARS])
    # Markup is never rendered, and its tag names are no language: keep only the text.
    cleaned = _HTML_TAG.sub(" ", strip_control_characters(text)).strip()
    if not cleaned:
        return GuardedMessage(EMPTY_PAYLOAD, "empty")
    if contains_card_number(cleaned) or contains_password(cleaned):
        return GuardedMessage(SENSITIVE_PAYLOAD, "sensitive")
    if len(cleaned) > MAX_MESSAGE_CHARS:
        return GuardedMessage(TOO_LONG_PAYLOAD, "too_long")
    return GuardedMessage(cleaned)
