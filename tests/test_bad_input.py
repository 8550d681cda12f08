"""Hostile and odd messages, in every language, against the running stack.

Each gets a clear answer in the conversation's language (or a polite
refusal), never an error, and the server keeps serving everyone else.
"""
from __future__ import annotations

import concurrent.futures

import pytest
import requests

from bot.message_guard import MAX_MESSAGE_CHARS
from tests.languages import CODES, language_of
from tests.stack import new_sender, plain_numbers

GREETING = {"cs": "Dobrý den", "hu": "Jó napot", "da": "Goddag", "lt": "Laba diena", "fi": "Hyvää päivää", "en": "Hello"}
PASSWORD = {"cs": "moje heslo je Foto2024!", "hu": "a jelszavam: Foto2024!", "da": "min adgangskode er Foto2024!",
            "lt": "mano slaptažodis yra Foto2024!", "fi": "salasanani on Foto2024!", "en": "my password is Foto2024!"}
CARD = {"cs": "číslo karty 4111 1111 1111 1111", "hu": "a kártyaszámom 4111111111111111",
        "da": "mit kort 4111-1111-1111-1111", "lt": "kortelė 4111 1111 1111 1111",
        "fi": "korttini 4111 1111 1111 1111", "en": "card 4111 1111 1111 1111 exp 12/29"}

# (kind, text): at least 30 kinds, the same in every language unless they depend on it.
COMMON = [
    ("empty", ""),
    ("whitespace", "   \n\t  "),
    ("over-long", "a" * (MAX_MESSAGE_CHARS * 5 + 1)),
    ("exactly the limit", "b" * MAX_MESSAGE_CHARS),
    ("control bytes", "\x00\x01\x02\x1b[31m\x7f"),
    ("binary-looking", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("emoji only", "👍👍🎉📷"),
    ("html", "<b>bold</b><img src=x onerror=alert(1)>"),
    ("script", "<script>alert('x')</script>"),
    ("sql", "'; DROP TABLE events; --"),
    ("template", "{{7*7}} ${7*7} {% debug %} {slot}"),
    ("markdown injection", "[click here](javascript:alert(1)) ![x](http://127.0.0.1/x.png)"),
    ("only digits", "2100"),
    ("url", "https://example.com/login?next=/admin"),
    ("email", "anna.studio@example.com"),
    ("json", '{"sender": "admin", "message": "/restart"}'),
    ("path traversal", "../../../../etc/passwd"),
    ("null words", "null undefined NaN"),
    ("punctuation", "?????!!!!...."),
    ("zero-width", "\u200b\u200b\u200b"),
    ("right-to-left", "مرحبا كيف حالك"),
    ("chinese", "你好，我想注册"),
    ("german", "Wie melde ich mich bei meinem Konto an?"),
    ("mixed languages", "Dobrý den, how do I log in please?"),
    ("one long word", "x" * 1500),
    ("newlines", "\n\n\nok\n\n\n"),
    ("someone else's numbers", "INV-2026-00417 CPS-GLD-204817"),
    ("format string", "%s%s%s%n %x"),
]


# Kinds whose text is itself in a language the assistant speaks.
EXTRA_LANGUAGES = {"mixed languages": ("cs", "en"), "markdown injection": ("en",)}


def texts(replies):
    return [r["text"] for r in replies if r.get("text")]


@pytest.mark.parametrize("language", CODES)
def test_every_odd_message_gets_a_localised_answer(stack, language):
    cases = COMMON + [("password", PASSWORD[language]), ("card number", CARD[language])]
    assert len(cases) >= 30
    for kind, text in cases:
        sender = new_sender(f"bad-{language}")
        stack.say(sender, GREETING[language], language=language)
        replies = texts(stack.say(sender, text, language=language))
        assert replies, f"{language} {kind}: no answer"
        assert "Traceback" not in " ".join(replies) and "Exception" not in " ".join(replies)
        assert "2026-" not in " ".join(replies), f"{language} {kind}: account data without a token"
        judged = {language_of(r) for r in replies if len(r.split()) >= 5}
        # A message in two languages may be answered in either of them, but in one only;
        # the markdown link says "click here", which is English.
        allowed = {language, *EXTRA_LANGUAGES.get(kind, ())}
        assert len(judged) <= 1 and judged <= allowed, f"{language} {kind}: {replies}"


def test_sensitive_data_is_refused_and_never_stored(stack):
    sender = new_sender("sensitive")
    replies = texts(stack.say(sender, "my password is Foto2024!", language="en"))
    assert any("password" in r.lower() for r in replies), replies
    stack.say(sender, "card 4111 1111 1111 1111", language="en")
    events = stack.tracker(sender)["events"]
    stored = " ".join(str(e.get("text")) + str(e.get("metadata")) for e in events)
    assert "Foto2024" not in stored and "4111" not in stored


def test_over_long_message_is_answered_with_the_limit(stack):
    sender = new_sender("long")
    replies = texts(stack.say(sender, "x " * MAX_MESSAGE_CHARS, language="en"))
    assert any(str(MAX_MESSAGE_CHARS) in plain_numbers(r) for r in replies), replies  # "2,000" in English


def test_the_same_message_fifty_times(stack):
    sender = new_sender("repeat")
    for _ in range(50):
        replies = texts(stack.say(sender, "how many points do I need for CPS?", language="en"))
        assert replies
    assert stack.tracker(sender)["slots"]["language"] == "en"


def test_server_keeps_serving_others_during_a_barrage(stack):
    def hostile(i: int) -> int:
        return requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                             json={"sender": f"barrage-{i}", "message": "<script>" * 300}, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(hostile, range(24)))
        replies = texts(stack.say(new_sender("bystander"), "Goddag, hvordan logger jeg på?"))
    assert set(statuses) == {200}
    assert replies and "https://businessid.canon-europe.com" in " ".join(replies)
