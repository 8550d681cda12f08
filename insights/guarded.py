"""What of a visitor's message may be shown to staff or exported.

The message guard (bot/message_guard.py) keeps card numbers, IBANs and
passwords out of the tracker store as it runs, but a store can be older than
a guard rule, or filled by another channel. So every text the report shows
passes the guard's own checks once more: a message that holds such a secret
is withheld whole; e-mail addresses and anything that could be a bearer
token (bot/token_cipher.py) are masked in place.
"""
from __future__ import annotations

import re
from typing import Optional

from bot.message_guard import EMAIL_MASK, contains_sensitive_data, mask_email_addresses
from bot.token_cipher import could_be_token

TOKEN_MASK = "[token]"
MASKS = (EMAIL_MASK, TOKEN_MASK)
# A word that could be a bearer token is a secret when it looks generated: long and mixing letters
# and digits, or too long for any word (sealed tokens, JWTs). Serial numbers are digits only.
TOKEN_MIN_CHARS, TOKEN_ANY_CHARS = 16, 32
_WORD = re.compile(r"\S+")
_EDGES = "\"'„“”«»‚‘’()[]{}<>.,;:!?…"


def looks_like_token(word: str) -> bool:
    """Whether a word of a message could be someone's CPS token (or another credential)."""
    word = word.strip(_EDGES)
    if not could_be_token(word) or len(word) < TOKEN_MIN_CHARS:
        return False
    has_letter, has_digit = any(c.isalpha() for c in word), any(c.isdigit() for c in word)
    return len(word) >= TOKEN_ANY_CHARS or (has_letter and has_digit)


def shown_text(text: Optional[str]) -> Optional[str]:
    """The text as a report may show it, or None when it must be withheld."""
    if not text or contains_sensitive_data(text):
        return None
    masked = mask_email_addresses(text)
    return _WORD.sub(lambda m: TOKEN_MASK if looks_like_token(m.group()) else m.group(), masked)


def holds_mask(text: str) -> bool:
    """Whether a text still carries a mask, i.e. is no real sentence a visitor typed."""
    return any(mask in text for mask in MASKS)
