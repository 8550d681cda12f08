"""The NLU data keeps the promises the evaluation relies on.

Every intent has enough examples in every language, the held-out set never
leaks into training (not even as a near duplicate once folded the way the
pipeline folds text), and every entity span falls on token boundaries (a span
inside "silver/gold" is silently dropped by DIET, so it trains nothing).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.loading import load_data

from bot.language_id import example_language
from bot.message_guard import EMPTY_PAYLOAD, SENSITIVE_PAYLOAD, TOO_LONG_PAYLOAD
from tests.languages import CODES
from tests.nlu_overlap import near_duplicates

ROOT = Path(__file__).resolve().parent.parent
# Sent as payloads by bot/message_guard.py; they have no examples on purpose.
GUARD_INTENTS = {payload.lstrip("/") for payload in (EMPTY_PAYLOAD, TOO_LONG_PAYLOAD, SENSITIVE_PAYLOAD)}
MIN_EXAMPLES = 30


@pytest.fixture(scope="module")
def training():
    return load_data(str(ROOT / "data" / "nlu"))


def _plain(text: str) -> str:
    # Rasa's loader has already removed the entity markup from TEXT.
    return text.lower().strip(" ?!.")


def test_every_intent_has_enough_examples_in_every_language(training):
    intents = set(yaml.safe_load((ROOT / "domain" / "domain.yml").read_text())["intents"]) - GUARD_INTENTS
    counts = Counter((m.get("intent"), example_language(m)) for m in training.intent_examples)
    short = {(i, lang): counts[(i, lang)] for i in intents for lang in CODES if counts[(i, lang)] < MIN_EXAMPLES}
    assert not short, f"fewer than {MIN_EXAMPLES} examples: {short}"


def test_the_held_out_set_is_never_trained_on(training):
    trained = {_plain(m.get(TEXT)) for m in training.intent_examples}
    held_out = load_data(str(ROOT / "tests" / "nlu"))
    leaked = [m.get(TEXT) for m in held_out.intent_examples if _plain(m.get(TEXT)) in trained]
    assert not leaked, leaked


def test_the_held_out_set_has_no_near_duplicate_of_a_training_line(training):
    held_out = [m.get(TEXT) for m in load_data(str(ROOT / "tests" / "nlu")).intent_examples]
    found = near_duplicates(held_out, [m.get(TEXT) for m in training.intent_examples])
    assert not found, "held-out lines that training holds once folded: " + "; ".join(
        f"{held!r} ~ {trained!r} ({ratio:.2f})" for ratio, held, trained in found[:20])


def test_near_duplicates_are_found_through_case_diacritics_and_punctuation():
    found = near_duplicates(["jaky je muj stav bodu", "kolik stojí zlaté členství?"],
                            ["Jaký je můj stav bodů?", "Jak se přihlásím?"])
    assert [held for _, held, _ in found] == ["jaky je muj stav bodu"]


def test_entity_spans_fall_on_token_boundaries(training):
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    misaligned = []
    for message in training.entity_examples:
        tokens = tokenizer.tokenize(message, TEXT)
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        for entity in message.get(ENTITIES):
            if entity["start"] not in starts or entity["end"] not in ends:
                misaligned.append((message.get(TEXT), entity["value"]))
    assert not misaligned, misaligned


def _story_user_steps():
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for story in yaml.safe_load(path.read_text("utf-8"))["stories"]:
            for step in story["steps"]:
                if "intent" in step or "user" in step:
                    yield path.name, story["story"], step


def test_test_stories_are_read_by_rasa_test_e2e():
    # `rasa test core --e2e` reads only files named test_*.yml and passes when it finds none.
    names = [p.name for p in (ROOT / "tests" / "stories").glob("*.yml")]
    assert names and all(name.startswith("test_") for name in names), names


def test_every_test_story_turn_is_text_the_model_must_understand():
    without_text = [(name, story) for name, story, step in _story_user_steps() if not step.get("user")]
    assert not without_text, f"test story turns given as an intent, which skips the NLU: {without_text}"


def test_conversation_tests_type_sentences_in_no_training_file(training):
    from rasa.shared.nlu.training_data import entities_parser

    from tests import phrases

    typed = [entities_parser.replace_entities(step["user"].strip()) for _, _, step in _story_user_steps()]
    for name in filter(str.isupper, dir(phrases)):
        value = getattr(phrases, name)
        if isinstance(value, dict):
            for entry in value.values():
                typed.extend(entry if isinstance(entry, tuple) else [entry])
    found = near_duplicates(typed, [m.get(TEXT) for m in training.intent_examples])
    assert not found, "conversation test sentences that training holds once folded: " + "; ".join(
        f"{text!r} ~ {trained!r} ({ratio:.2f})" for ratio, text, trained in found[:20])


def test_the_message_sets_are_never_trained_on(training):
    # The greeting, thanks, two-question and other-language sets of bench/message_sets.py.
    from bench.eval_nlu import load_test_set
    from bench.message_sets import all_texts

    texts = all_texts(load_test_set())
    trained = {_plain(m.get(TEXT)) for m in training.intent_examples}
    assert not [t for t in texts if _plain(t) in trained]
    found = near_duplicates(texts, [m.get(TEXT) for m in training.intent_examples])
    assert not found, "message-set lines that training holds once folded: " + "; ".join(
        f"{text!r} ~ {trained!r} ({ratio:.2f})" for ratio, text, trained in found[:20])
