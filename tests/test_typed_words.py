"""Every word a response tells the user to type is understood: the trained model reads it as what the
response promises ("napište „pokračovat“" resumes the guided sign-up), in every language."""
from __future__ import annotations

import asyncio
import re
from typing import List, Tuple

import pytest

from tests.stack import MODEL
from translations.catalogue import all_responses, language_of

# "type …" as each language's responses say it, followed by the quoted word.
INSTRUCTION = {"cs": r"napsat", "hu": r"írd be, hogy", "da": r"skriv bare", "lt": r"parašykite",
               "fi": r"kirjoita vain", "en": r"say"}
QUOTED = r"\s*[„“\"”]([^„“\"”]+)[“”\"]"
# What typing the word must do, by the response that asks for it.
PROMISED_INTENT = {"utter_signup_resume_hint": "start_signup"}


def typed_words() -> List[Tuple[str, str, str]]:
    """(response, language, word) for every "type X" in the catalogue."""
    found = []
    for name, variations in all_responses().items():
        for variation in variations:
            language = language_of(variation)
            for word in re.findall(INSTRUCTION[language] + QUOTED, variation["text"]):
                found.append((name, language, word))
    return found


def test_the_resume_hint_names_a_word_in_every_language():
    assert sorted(lang for name, lang, _ in typed_words() if name == "utter_signup_resume_hint") == \
        sorted(INSTRUCTION), typed_words()


def test_every_response_that_names_a_word_says_what_it_does():
    assert {name for name, _, _ in typed_words()} <= set(PROMISED_INTENT)


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")
    from rasa.core.agent import Agent
    return Agent.load(str(MODEL))


@pytest.mark.parametrize("name,language,word", typed_words())
def test_a_word_the_assistant_asks_for_is_understood(agent, name, language, word):
    parsed = asyncio.run(agent.parse_message(word))
    assert parsed["intent"]["name"] == PROMISED_INTENT[name], (
        f"{language} {word!r} (from {name}) is read as {parsed['intent']['name']} "
        f"({parsed['intent'].get('confidence', 0):.2f})")
