"""Short REST conversations in each of the six languages against the real stack."""
from __future__ import annotations

import pytest

from tests.languages import language_of
from tests.phrases import GREETING_LOGIN_RESET, SWITCH_TO
from tests.stack import new_sender, response_texts

LOGIN_URL = "https://businessid.canon-europe.com/b2bcustomers/s/login/?language=en_GB"
RESET_URL = "https://businessid.canon-europe.com/b2bcustomers/s/login/ForgotPassword?language=en_GB"
SENDER_ADDRESS = "donotreply@canon-europe.com"

MESSAGES = GREETING_LOGIN_RESET


def texts(replies):
    return [r["text"] for r in replies if r.get("text")]


@pytest.mark.parametrize("language", list(MESSAGES))
def test_greeting_login_and_reset_in_each_language(stack, language):
    sender = new_sender(language)
    greeting, login, reset = MESSAGES[language]

    for message in (greeting, login, reset):
        replies = texts(stack.say(sender, message))
        assert replies, f"no reply to {message!r}"
        for reply in replies:
            assert language_of(reply) == language, f"{message!r} got a reply in another language: {reply!r}"
        if message is greeting:
            assert replies[:1] == response_texts("utter_greet", language), replies
        if message is login:
            assert any(LOGIN_URL in r and SENDER_ADDRESS in r for r in replies), replies
        if message is reset:
            assert any(RESET_URL in r for r in replies), replies
    assert stack.tracker(sender)["slots"]["language"] == language


def test_switch_language_mid_conversation_and_neutral_reply_keeps_it(stack):
    sender = new_sender("switch")
    assert texts(stack.say(sender, GREETING_LOGIN_RESET["en"][0]))[:1] == response_texts("utter_greet", "en")

    replies = texts(stack.say(sender, SWITCH_TO["cs"]))
    assert replies == response_texts("utter_language_switched", "cs"), replies

    # Language-neutral messages keep the conversation's language.
    for neutral in ("ok", "CPS", "2100"):
        stack.say(sender, neutral)
        assert stack.tracker(sender)["slots"]["language"] == "cs", neutral

    replies = texts(stack.say(sender, GREETING_LOGIN_RESET["cs"][2]))
    assert any(RESET_URL in r for r in replies) and all(language_of(r) == "cs" for r in replies), replies


def test_short_message_in_another_language_switches(stack):
    sender = new_sender("short")
    stack.say(sender, GREETING_LOGIN_RESET["en"][0])
    replies = texts(stack.say(sender, "kiitos"))
    assert replies == response_texts("utter_you_are_welcome", "fi"), replies


def test_page_locale_used_when_message_is_neutral(stack):
    sender = new_sender("page")
    replies = texts(stack.say(sender, "ok", language="da"))
    assert stack.tracker(sender)["slots"]["language"] == "da"
    assert all(language_of(r) == "da" for r in replies), replies


def test_english_is_the_default(stack):
    sender = new_sender("default")
    stack.say(sender, "CPS")
    assert stack.tracker(sender)["slots"]["language"] == "en"


def test_model_parse_returns_language(stack):
    import requests

    for language, (greeting, login, _) in MESSAGES.items():
        parsed = requests.post(f"{stack.api_url}/model/parse", json={"text": login}, params=stack.api_token,
                               timeout=30).json()
        assert parsed["language"]["name"] == language, parsed["language"]
        assert 0.0 <= parsed["language"]["confidence"] <= 1.0
        assert parsed["intent"]["name"] == "login"
