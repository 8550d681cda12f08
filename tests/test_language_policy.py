"""The order in which the conversation's language is decided (actions/language.py)."""
from __future__ import annotations

from actions.language import choose_language


def message(intent="greet", language=None, confidence=0.0, page=None, entities=()):
    return {
        "intent": {"name": intent},
        "entities": list(entities),
        "language": {"name": language or "en", "confidence": confidence},
        "metadata": {"language": page} if page else {},
    }


def test_explicit_request_wins_over_everything():
    msg = message("switch_language", "en", 0.99, page="hu",
                  entities=[{"entity": "language", "value": "fi"}])
    assert choose_language(msg, current="cs", previous_page="hu") == "fi"


def test_confident_message_language_beats_page_and_history():
    assert choose_language(message(language="da", confidence=0.95, page="cs"), "lt", "cs") == "da"


def test_neutral_message_keeps_current_language():
    assert choose_language(message(language="en", confidence=0.0, page="cs"), "hu", "cs") == "hu"


def test_page_locale_counts_on_first_message_and_when_changed():
    assert choose_language(message(page="lt"), current=None, previous_page=None) == "lt"
    assert choose_language(message(page="fi"), current="lt", previous_page="lt") == "fi"


def test_unsupported_page_locale_is_ignored():
    assert choose_language(message(page="de"), current="da", previous_page=None) == "da"


def test_english_by_default():
    assert choose_language(message(), current=None, previous_page=None) == "en"


def test_switch_without_a_supported_language_keeps_current():
    msg = message("switch_language", entities=[{"entity": "language", "value": "de"}])
    assert choose_language(msg, current="cs", previous_page=None) == "cs"
