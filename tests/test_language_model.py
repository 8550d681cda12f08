"""bot/language_model.py on its own: learning, neutral messages, confidence."""
from __future__ import annotations

import pytest

from bot.language_model import LanguageModel

TRAIN = {
    "cs": ["dobrý den", "jak se přihlásím", "zapomněl jsem heslo", "kolik mám bodů", "děkuji moc", "dobry den prosim"],
    "fi": ["hyvää päivää", "miten kirjaudun sisään", "unohdin salasanani", "paljonko minulla on pisteitä", "kiitos paljon"],
    "en": ["hello there", "how do I log in", "I forgot my password", "how many points do I have", "thanks a lot"],
    "da": ["goddag", "hvordan logger jeg på", "jeg har glemt min adgangskode", "hvor mange point har jeg", "tak"],
}
texts = [t for lang, items in TRAIN.items() for t in items] + ["ok", "ok", "ok", "ok CPS"]
labels = [lang for lang, items in TRAIN.items() for _ in items] + ["cs", "fi", "en", "da"]
MODEL = LanguageModel.fit(texts, labels)


def test_identifies_unseen_sentences():
    assert MODEL.identify("děkuji, jak se přihlásím?").name == "cs"
    assert MODEL.identify("kiitos, miten kirjaudun").name == "fi"
    assert MODEL.identify("hvor mange point har jeg nu").name == "da"


def test_words_common_to_many_languages_are_neutral():
    assert "ok" in MODEL.neutral
    for text in ("ok", "CPS", "2100", "anna@studio.example", "https://example.com", "", "EOS R5"):
        assert MODEL.identify(text).confidence == 0.0, text


def test_confidence_is_high_for_a_clear_word_and_survives_serialisation():
    guess = MODEL.identify("kiitos")
    assert guess.name == "fi" and guess.confidence > 0.7
    assert LanguageModel.from_dict(MODEL.to_dict()).identify("kiitos") == guess


def test_gibberish_and_shared_words_do_not_switch_the_language():
    for text in ("b" * 2000, "IHDR PNG", "qwzx", "xkcd"):
        assert MODEL.identify(text).confidence < 0.7, text
    shared = LanguageModel.fit(["ne děkuji", "ne", "ne ačiū", "ne"], ["cs", "cs", "lt", "lt"])
    assert shared.identify("ne").confidence < 0.7
    assert shared.identify("děkuji").confidence > 0.7


def test_another_language_sharing_a_few_words_does_not_switch():
    # German with two words the Danish examples use ("melde", "konto") and one
    # the English ones use ("an"): no single language knows enough of it.
    texts = ["jeg vil melde mig ind", "hvor er min konto", "log på min konto", "hvordan melder jeg mig",
             "how do I sign in to an account", "I have an old account", "sign in please", "where is my account"]
    model = LanguageModel.fit(texts, ["da"] * 4 + ["en"] * 4)
    assert model.identify("Wie melde ich mich bei meinem Konto an?").confidence < 0.7
    assert model.identify("hvordan melder jeg mig på min konto").confidence > 0.7
    assert model.identify("how do I sign in to my account").confidence > 0.7


def test_a_whole_message_in_capitals_is_read_as_its_words():
    assert MODEL.identify("KIITOS, MITEN KIRJAUDUN").name == "fi"
    assert MODEL.identify("KIITOS, MITEN KIRJAUDUN").confidence >= 0.7
    # Two words in capitals stay a code or a label.
    assert MODEL.identify("IHDR PNG").confidence < 0.7


def test_every_language_gets_a_probability():
    guess = MODEL.identify("hvor mange point har jeg nu")
    assert set(guess.scores) == set(MODEL.log_probs)
    assert sum(guess.scores.values()) == pytest.approx(1.0)
    assert max(guess.scores, key=guess.scores.get) == "da" and guess.scores["da"] >= guess.confidence
