"""Forms with and without diacritics share one feature (bot/plain_words.py)."""
from __future__ import annotations

from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.plain_words import PlainWords, plain_form


def test_diacritics_and_case_go_and_a_prefix_cuts_the_ending():
    assert plain_form("Kártyával") == plain_form("kartyaval") == "kartyaval"
    assert plain_form("Přihlášení") == "prihlaseni"
    assert plain_form("kortelės", 6) == plain_form("Kortele", 6) == "kortel"
    assert plain_form("EOS", 6) == "eos"


def tokenised(text: str) -> Message:
    message = Message({"text": text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    return message


def test_lemmas_change_but_text_and_offsets_stay():
    message = tokenised("Zaplatím kartou")
    before = [(t.text, t.start, t.end) for t in message.get("text_tokens")]
    PlainWords().process([message])
    tokens = message.get("text_tokens")
    assert [(t.text, t.start, t.end) for t in tokens] == before
    assert [t.lemma for t in tokens] == ["zaplatim", "kartou"]


def test_training_examples_get_the_same_forms_as_messages():
    example = tokenised("Zaplatím kartou")
    PlainWords().process_training_data(TrainingData([example]))
    assert [t.lemma for t in example.get("text_tokens")] == ["zaplatim", "kartou"]
