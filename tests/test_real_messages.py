"""Messages as people write them, over REST against the real stack (issue #22), in each of the six
languages: a greeting with the question, two questions at once, a language it does not speak,
one- and two-word replies."""
from __future__ import annotations

import pytest

from tests.languages import CODES, language_of
from tests.phrases import GREETING_AND_QUESTION, OTHER_LANGUAGE, POINTS, TWO_QUESTIONS
from tests.stack import new_sender, response_texts

LOGIN_URL = "https://businessid.canon-europe.com/b2bcustomers/s/login/?language=en_GB"
RESET_URL = "https://businessid.canon-europe.com/b2bcustomers/s/login/ForgotPassword?language=en_GB"
# One- and two-word replies that another of the six languages could claim. Not in tests/phrases.py: words
# this short are in the training data too (no one-word "yes" is unseen), and what they test is the reply's
# language, which the conversation's language decides, not the intent.
SHORT_REPLIES = {
    "cs": ("jo", "super, dík"), "hu": ("igen", "oké, köszi"), "da": ("Ja", "ja tak"),
    "lt": ("taip", "gerai, ačiū"), "fi": ("joo", "okei kiitti"), "en": ("yep", "ok thanks"),
}


def texts(replies):
    return [r["text"] for r in replies if r.get("text")]


def first_with(replies, fragment):
    return next((i for i, r in enumerate(replies) if fragment in r), None)


@pytest.mark.parametrize("language", CODES)
def test_a_greeting_with_the_question_gets_the_answer(stack, language):
    sender = new_sender(f"greet-{language}")
    replies = texts(stack.say(sender, GREETING_AND_QUESTION[language], language=language))
    assert first_with(replies, RESET_URL) is not None, replies
    assert response_texts("utter_greet", language)[0] not in replies, replies
    assert all(language_of(r) == language for r in replies if len(r.split()) >= 4), replies


@pytest.mark.parametrize("language", CODES)
def test_two_questions_in_one_message_are_both_answered_in_order(stack, language):
    sender = new_sender(f"two-{language}")
    replies = texts(stack.say(sender, TWO_QUESTIONS[language], language=language))
    reset, login = first_with(replies, RESET_URL), first_with(replies, LOGIN_URL)
    assert reset is not None and login is not None and reset < login, replies
    assert all(language_of(r) == language for r in replies if len(r.split()) >= 4), replies
    # Each question is a turn of its own in the tracker, with its own text, in order.
    user_texts = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert len(user_texts) == 2 and all(part in TWO_QUESTIONS[language] for part in user_texts), user_texts


@pytest.mark.parametrize("page", CODES)
def test_a_language_it_does_not_speak_is_told_which_it_speaks(stack, page):
    other, message = OTHER_LANGUAGE[page]
    sender = new_sender(f"other-{other}")
    metadata = {} if page == "en" else {"language": page}
    replies = texts(stack.say(sender, message, **metadata))
    assert replies[:1] == response_texts("utter_other_language", page), replies
    assert stack.tracker(sender)["slots"]["language"] == page
    assert stack.tracker(sender)["latest_message"]["language"]["name"] == other


@pytest.mark.parametrize("language", CODES)
def test_short_replies_keep_the_conversation_language(stack, language):
    sender = new_sender(f"short-{language}")
    stack.say(sender, POINTS[language], language=language)
    assert stack.tracker(sender)["slots"]["language"] == language
    for reply in SHORT_REPLIES[language]:
        stack.say(sender, reply)
        assert stack.tracker(sender)["slots"]["language"] == language, reply
