"""Checks every incoming message before Rasa stores or logs it.

Messages that must not be kept (card numbers, IBANs, passwords) or cannot be
read (empty, over-long) are replaced by an internal intent payload, so the
tracker store and the logs never hold the sensitive text and the dialogue
answers with a clear, localised notice (rules in data/rules/input_guard.yml).

The guard runs synchronously on Rasa's event loop for every visitor, so the
length is checked on the raw string before anything else looks at it, and
every pattern here matches in linear time.
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Collection, Iterator, List, Optional, Tuple

# Longer messages are refused unread: no customer question needs more, and
# scanning megabytes on the event loop would stall every conversation.
MAX_MESSAGE_CHARS = 2000

EMPTY_PAYLOAD = "/empty_message"
TOO_LONG_PAYLOAD = "/input_too_long"
SENSITIVE_PAYLOAD = "/sensitive_data"

# Markup is never rendered, and its tag names are no language: keep only the text.
# (One way to split the spaces around "/": "<" and 2,000 spaces stays linear.)
_HTML_TAG = re.compile(r"<\s*(?:/\s*)?[a-zA-Z][^<>]*>")
# A text that was not an offered button keeps its words but loses the "/",
# or Rasa would read it as an intent the visitor picked.
_LEADING_SLASHES = re.compile(r"^[\s/]+")

# --- card numbers -----------------------------------------------------------
# What people (and copy-paste from banking apps) put between digit blocks:
# any Unicode space (NBSP, narrow NBSP, thin space...), zero-width and
# soft-hyphen characters, every dash and minus, and . / _
_CARD_SEPARATORS = "\\s\u00ad\u200b-\u200d\u2060\ufeff\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d./_\\-"
# Digit blocks joined by separators. Digits and separators are disjoint
# classes, so there is exactly one way to match: linear time.
_DIGIT_CHUNK = re.compile(rf"[0-9]+(?:[{_CARD_SEPARATORS}]+[0-9]+)*")
_DIGIT_GROUP = re.compile(r"[0-9]+")
CARD_MIN_DIGITS, CARD_MAX_DIGITS = 13, 19
# Cards are printed and typed in blocks of 3-6 digits. Blocks of 1-2 digits
# are days, months, list numbers and "2 100" amounts; letting them into a
# run would make "20.01.2026-31.12.2026" or "SN 123045007891 15.6.2021"
# a card one time in ten (the Luhn check passes 10% of random numbers).
CARD_MIN_BLOCK_DIGITS = 3

# --- IBANs (ISO 13616) ------------------------------------------------------
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})([0-9]{2})")
# The account part: alphanumerics, spaces allowed between groups.
_IBAN_BODY = re.compile(r"(?: *[A-Za-z0-9]){11,30}")
# Full IBAN length per country; a known country must have exactly this length.
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23,
    "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
}

# --- passwords --------------------------------------------------------------
# The word for a password in each of the six languages (and German), with
# and without diacritics; declined forms share a stem.
_PASSWORD_WORDS = (
    r"(?:login[\s-]?)?pass(?:words?|wd|[\s-]?codes?)|pwd|pw"
    r"|pin(?:[\s-]?(?:codes?|k[oó]d\w*|koodi\w*))?"  # PIN, PIN code, PIN kód, PIN-kód, pinkode, PIN kodas, PIN-koodi
    r"|hesl(?:o|a|em|u|e)|hesel"  # cs
    r"|jelsz(?:ó|o|av)\w*"  # hu: jelszó, jelszót, jelszavam, jelszava...
    r"|adgangskode\w*|kodeord\w*|kode[nr]?"  # da
    r"|slapta[žz]od\w*"  # lt: slaptažodis, slaptažodžio, slaptažodį, slaptazodis...
    r"|salasan\w*|tunnussan\w*"  # fi: salasana, salasanani, salasanaksi...
    r"|passwort\w*|kennwort\w*"  # de
)
_PASSWORD_KEYWORD = re.compile(rf"(?<!\w)(?:{_PASSWORD_WORDS})(?!\w)", re.IGNORECASE)
# Copulas and fillers between the word and the secret ("heslo zní ...",
# "salasana on nyt ...").
_FILLERS = (
    r"(?:should|will)\s+be"
    r"|(?:is|was|je|zní|zni|bylo|byl|az|volt|er|var|yra|buvo|on|oli|lautet|ist|war)"
    r"(?:\s+(?:now|teď|ted|most|nu|dabar|nyt|jetzt))?"
)
# "changed to ..." (cs na, da til, hu erre, lt į, de auf/zu).
_CHANGED_TO = r"to|into|na|til|erre|į|auf|zu"
_OPEN_QUOTE = "[\"'„“”«»‚‘’]?"
# "password Foto2024!", "password: ...", "password is now ...", "password - ...";
# the optional quote lets `{"password":"..."}` in a payload match too.
_VALUE_AFTER_KEYWORD = re.compile(
    rf"{_OPEN_QUOTE}(?:\s*(?P<assign>[:=])\s*|\s+(?:[-–—]\s+)?)"
    rf"(?:(?:{_FILLERS}|{_CHANGED_TO})(?:\s*(?P<assign2>[:=])\s*|\s+))?{_OPEN_QUOTE}(?P<value>\S+)",
    re.IGNORECASE,
)
# "password for my account is ...", "adgangskode til kontoen er ...",
# "heslo jsem změnil na ...": up to three words, then a copula, ':', '=' or a "to".
_VALUE_AFTER_WORDS = re.compile(
    rf"(?:\s+[^\s:=.,;!?]+){{1,3}}?"
    rf"(?:\s*(?P<assign>[:=])\s*|\s+(?:{_FILLERS}|{_CHANGED_TO})(?:\s*(?P<assign2>[:=]))?\s+)"
    rf"{_OPEN_QUOTE}(?P<value>\S+)",
    re.IGNORECASE,
)
# How far after the keyword a value is looked for.
_PASSWORD_WINDOW = 120
# Sentence punctuation and quotes around a value are not part of it.
_EDGE_PUNCTUATION = "\"'„“”«»‚‘’()[]{}<>.,;:!?…"
# "e-mail", "set-password", "don't": joined words, not a symbol in a secret.
_WORD_JOINER = re.compile(r"(?<=[^\W\d_])[-'’](?=[^\W\d_])")
_SYMBOL = re.compile(r"[^\w]|_")
# Shorter values are words like "is", "2x" or "ok"; no PIN or password is that short.
PASSWORD_MIN_CHARS = 4

# --- e-mail addresses -------------------------------------------------------
# Stored on purpose (the support form asks for one), so the guard lets them
# through; whatever shows messages to staff or exports them masks them.
# The same pattern the support form accepts (actions/support.py imports it).
EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MASK = "[e-mail]"


@dataclass(frozen=True)
class GuardedMessage:
    """The text to hand to Rasa, and what was done to the original, if anything."""

    text: str
    notice: Optional[str] = None  # "empty" | "too_long" | "sensitive"


def _normalised(text: str) -> str:
    # Fullwidth digits and letters, ligatures and compatibility spaces become plain ones.
    return unicodedata.normalize("NFKC", text)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_candidates(groups: List[str]) -> Iterator[str]:
    for group in groups:  # one unseparated run too long to be a card: a card may start or end it
        if len(group) > CARD_MAX_DIGITS:
            for n in range(CARD_MIN_DIGITS, CARD_MAX_DIGITS + 1):
                yield group[:n]
                yield group[-n:]
    for i in range(len(groups)):  # every run of whole blocks, so an expiry or CVV next to it does not hide it
        digits = ""
        for group in groups[i:]:
            if len(group) < CARD_MIN_BLOCK_DIGITS:
                break
            digits += group
            if len(digits) > CARD_MAX_DIGITS:
                break
            if len(digits) >= CARD_MIN_DIGITS:
                yield digits


def contains_card_number(text: str) -> bool:
    """Whether the text holds 13-19 digits that pass the Luhn check, however they are separated."""
    for chunk in _DIGIT_CHUNK.finditer(_normalised(text)):
        if any(_luhn_ok(c) for c in _card_candidates(_DIGIT_GROUP.findall(chunk.group()))):
            return True
    return False


def _iban_remainders(country_and_check: str, account: str) -> Iterator[int]:
    """ISO 7064 mod-97 of country_and_check moved behind each prefix of account, one pass."""
    moved = int("".join(str(int(ch, 36)) for ch in country_and_check))  # always 6 digits
    remainder = 0
    for ch in account:
        value = int(ch, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
        yield (remainder * 1_000_000 + moved) % 97


def contains_iban(text: str) -> bool:
    """Whether the text holds an IBAN whose mod-97 check (and, for a known country, length) holds."""
    text = _normalised(text)
    for start in _IBAN_START.finditer(text):
        body_match = _IBAN_BODY.match(text, start.end())
        if not body_match:
            continue
        tokens = body_match.group().split()
        body = "".join(tokens).upper()
        country = start.group(1).upper()
        if country in IBAN_LENGTHS:
            lengths = [IBAN_LENGTHS[country] - 4]
        else:  # unknown country: the account part ends where a group of characters ends
            lengths = list(itertools.accumulate(map(len, tokens)))
            if body_match.end() < len(text) and text[body_match.end()].isalnum():
                lengths.pop()
        digits = list(itertools.accumulate(ch.isdigit() for ch in body))
        remainders = list(_iban_remainders(country + start.group(2), body))
        for n in lengths:
            # Account numbers are mostly digits; "ab12 hello world" is not one.
            if 11 <= n <= len(body) and 2 * digits[n - 1] >= n and remainders[n - 1] == 1:
                return True
    return False


def _looks_secret(value: str, assigned: bool, clause_ends: bool) -> bool:
    stripped = value.lstrip(_EDGE_PUNCTUATION).rstrip(_EDGE_PUNCTUATION)
    if len(stripped) < PASSWORD_MIN_CHARS:
        return False
    if any(ch.isdigit() for ch in stripped) or _SYMBOL.search(_WORD_JOINER.sub("", stripped)):
        return True
    if any(ch.isupper() for ch in stripped[1:]) and any(ch.islower() for ch in stripped):
        return True
    # "heslo: tajne" is a secret; "heslo: nejde se přihlásit" describes a problem.
    return assigned and clause_ends


def _password_values(tail: str) -> Iterator[Tuple[str, bool, bool]]:
    for pattern in (_VALUE_AFTER_KEYWORD, _VALUE_AFTER_WORDS):
        match = pattern.match(tail)
        if match:
            value = match.group("value")
            rest = tail[match.end():]
            clause_ends = value[-1] in ".,;!?…\"'”»" or not rest.split("\n", 1)[0].strip()
            yield value, bool(match.group("assign") or match.group("assign2")), clause_ends


def contains_password(text: str) -> bool:
    """Whether a password word is followed by something that looks like the password itself.

    A bare word after it ("my password is not working") is a question about
    the password; a value with a digit, an inner symbol or mixed case, or any
    value after ':' or '=' that ends the clause, is taken for a secret.
    """
    text = _normalised(text)
    for keyword in _PASSWORD_KEYWORD.finditer(text):
        tail = text[keyword.end():keyword.end() + _PASSWORD_WINDOW]
        if any(_looks_secret(*candidate) for candidate in _password_values(tail)):
            return True
    return False


def contains_sensitive_data(text: str) -> bool:
    """Whether the text must not be stored: a card number, an IBAN or a password."""
    return contains_card_number(text) or contains_iban(text) or contains_password(text)


def strip_control_characters(text: str) -> str:
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )


def guard(text: Optional[str], offered_payloads: Collection[str] = ()) -> GuardedMessage:
    """What Rasa may see of a user's message.

    `offered_payloads` are the button payloads the assistant showed in this
    conversation; only those may reach Rasa as a "/intent" payload.
    """
    if text is None:
        return GuardedMessage(EMPTY_PAYLOAD, "empty")
    if len(text) > MAX_MESSAGE_CHARS:
        return GuardedMessage(TOO_LONG_PAYLOAD, "too_long")
    if isinstance(offered_payloads, str):  # one payload, not a set of its substrings
        offered_payloads = (offered_payloads,)
    payload = text.strip()
    if payload.startswith("/") and payload in offered_payloads:
        # A payload can carry what the visitor typed into a form, so it is checked too.
        if contains_sensitive_data(payload):
            return GuardedMessage(SENSITIVE_PAYLOAD, "sensitive")
        return GuardedMessage(payload)
    cleaned = _HTML_TAG.sub(" ", strip_control_characters(text)).strip()
    cleaned = _LEADING_SLASHES.sub("", cleaned)
    if not cleaned:
        return GuardedMessage(EMPTY_PAYLOAD, "empty")
    if contains_sensitive_data(cleaned):
        return GuardedMessage(SENSITIVE_PAYLOAD, "sensitive")
    return GuardedMessage(cleaned)


def mask_email_addresses(text: str) -> str:
    """The text with every e-mail address replaced by EMAIL_MASK, for reports that people read."""
    return EMAIL_ADDRESS.sub(EMAIL_MASK, text)
