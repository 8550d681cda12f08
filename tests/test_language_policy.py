"""The order in which the conversation's language is decided (bot/language_policy.py)."""
from __future__ import annotations

from bot.language_policy import choose_language, language_events


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



def tracker_after(text_language, confidence, page=None, language="en"):
    """A conversation in `language` whose latest message was identified as `text_language`."""
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.slots import AnySlot
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [
        SlotSet("language", language),
        UserUttered(
            "text",
            intent={"name": "greet", "confidence": 1.0},
            parse_data={"language": {"name": text_language, "confidence": confidence}},
            metadata={"language": page} if page else {},
        ),
    ]
    slots = [AnySlot("language", []), AnySlot("page_language", [])]
    return DialogueStateTracker.from_events("user", events, slots=slots)


def test_policy_sets_language_and_page_then_has_nothing_more_to_say():
    tracker = tracker_after("fi", 0.95, page="lt")
    events = language_events(tracker)
    assert {(e.key, e.value) for e in events} == {("language", "fi"), ("page_language", "lt")}
    for event in events:
        tracker.update(event)
    # Rasa asks on every prediction of the turn: the answer must not change.
    assert language_events(tracker) == []


def test_policy_keeps_language_on_a_neutral_message():
    assert language_events(tracker_after("en", 0.1, language="hu")) == []


def reply(text, language, confidence, scores, page=None):
    """A user reply as the NLU leaves it: its text, and the identifier's guess with every language's probability."""
    return {"text": text, "intent": {"name": "affirm"}, "entities": [],
            "language": {"name": language, "confidence": confidence, "scores": scores},
            "metadata": {"language": page} if page else {}}


SCORES_JO = {"da": 0.80, "cs": 0.12, "hu": 0.05, "lt": 0.01, "fi": 0.01, "en": 0.01}


def test_a_one_word_reply_keeps_the_conversation_language_it_may_belong_to():
    # "jo" is Czech, Danish and (as "jó") Hungarian: in a Czech conversation it stays Czech.
    assert choose_language(reply("jo", "da", 0.80, SCORES_JO), current="cs", previous_page="cs") == "cs"


def test_a_short_reply_that_cannot_be_the_conversation_language_still_switches():
    scores = {"fi": 0.999, "cs": 0.0002, "hu": 0.0002, "da": 0.0002, "lt": 0.0002, "en": 0.0002}
    assert choose_language(reply("kiitos paljon", "fi", 0.999, scores), current="cs", previous_page="cs") == "fi"


def test_three_words_speak_for_themselves():
    assert choose_language(reply("jo to je", "da", 0.80, SCORES_JO), current="cs", previous_page="cs") == "da"


def test_a_language_it_does_not_speak_is_no_evidence():
    other = {"text": "Ile mam punktów?", "intent": {"name": "check_points"}, "entities": [],
             "language": {"name": "pl", "confidence": 0.99}, "metadata": {"language": "cs"}}
    assert choose_language(other, current=None, previous_page=None) == "cs"
    assert choose_language({**other, "metadata": {}}, current=None, previous_page=None) == "en"
    assert choose_language({**other, "metadata": {}}, current="hu", previous_page=None) == "hu"
