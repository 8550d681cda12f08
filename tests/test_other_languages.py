"""Messages in a language the assistant does not speak are told apart from its six (bot/other_languages.py)."""
from __future__ import annotations

import pytest

from bot.other_languages import other_language


@pytest.mark.parametrize("text, language", [
    ("Dzień dobry, jak się zarejestrować w serwisie?", "pl"),
    ("Dobrý deň, ako sa prihlásim do účtu?", "sk"),
    ("Wie viele Punkte brauche ich für die Mitgliedschaft?", "de"),
    ("Hur många poäng behöver jag för medlemskapet?", "sv"),
    ("Привет, как зарегистрироваться?", "ru"),
])
def test_a_neighbour_language_is_recognised_where_our_identifier_is_unsure(text, language):
    found = other_language(text, ours_confidence=0.5)
    assert found is not None and found[0] == language, found
    # Where our identifier is sure of one of the six, lingua's trigrams do not overrule it (README).
    assert other_language(text, ours_confidence=0.95) is None or language == "ru"


@pytest.mark.parametrize("text", [
    "Dobrý den, jak se přihlásím do účtu?",
    "Hvor mange point skal jeg bruge for at blive medlem?",
    "Kiek taškų man reikia narystei?",
    "Montako pistettä tarvitsen jäsenyyteen?",
    "How many points do I need for the membership?",
    "Hány pont kell a tagsághoz?",
])
def test_the_six_languages_are_not_taken_for_another(text):
    assert other_language(text, ours_confidence=0.99) is None
    assert other_language(text, ours_confidence=0.5) is None


def test_one_word_says_too_little_unless_its_script_is_another():
    assert other_language("Danke", ours_confidence=0.3) is None
    assert other_language("Спасибо", ours_confidence=0.0)[0] == "ru"
