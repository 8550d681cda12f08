"""The NLU gate: the held-out scores the README promises, checked on every `make test`.

The trained model parses the held-out set (tests/nlu/, never trained on, no
near duplicate of a training line: tests/test_nlu_data.py) in-process. Intent
accuracy counts a fallback as wrong. The intents come from the linear SVM,
which has no random start, so its figures repeat exactly from one training to
the next; DIET's entity figures vary by about ±0.01 between trainings, so
their floors leave that much room. The table is printed at the end of the run.
"""
from __future__ import annotations

import asyncio
from typing import Dict

import pytest

from bench.eval_nlu import SHORT_MAX_WORDS, intent_scores, load_test_set, overall_entity_f1, parse_all
from tests.languages import CODES
from tests.stack import MODEL

# The README's promise ("Figures"), per language: intent accuracy, entity F1, language ID.
INTENT_ACCURACY = {"cs": 0.95, "hu": 0.95, "da": 0.97, "lt": 0.96, "fi": 0.94, "en": 0.95}
ENTITY_F1 = {"cs": 0.95, "hu": 0.96, "da": 0.93, "lt": 0.96, "fi": 0.98, "en": 0.97}
ENTITY_F1_OVERALL = 0.96
LANGUAGE_ID = {"all": 0.99, "4+ words": 0.995, "1-3 words": 0.96}

RESULTS: Dict[str, dict] = {}  # for the table conftest.py prints at the end of the run


@pytest.fixture(scope="module")
def scored():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run the tests with `make test`")
    examples = load_test_set()
    parsed, _ = asyncio.run(parse_all(examples, MODEL))
    per_language = intent_scores(examples, parsed)
    identified = [p["language"]["name"] == e[1] for p, e in zip(parsed, examples)]
    short = [ok for ok, e in zip(identified, examples) if len(e[0].split()) <= SHORT_MAX_WORDS]
    long_ = [ok for ok, e in zip(identified, examples) if len(e[0].split()) > SHORT_MAX_WORDS]
    RESULTS.update({
        "languages": per_language,
        "entities_overall": overall_entity_f1(examples, parsed)["f1"],
        "language_id": {"all": sum(identified) / len(identified), "1-3 words": sum(short) / len(short),
                        "4+ words": sum(long_) / len(long_)},
    })
    return RESULTS


@pytest.mark.parametrize("language", CODES)
def test_intent_accuracy(scored, language):
    accuracy = scored["languages"][language]["intent_accuracy"]
    assert accuracy >= INTENT_ACCURACY[language], f"{language}: {accuracy:.3f} < {INTENT_ACCURACY[language]}"


@pytest.mark.parametrize("language", CODES)
def test_entity_f1(scored, language):
    f1 = scored["languages"][language]["entities"]["f1"]
    assert f1 >= ENTITY_F1[language], f"{language}: {f1:.3f} < {ENTITY_F1[language]}"


def test_entity_f1_overall(scored):
    assert scored["entities_overall"] >= ENTITY_F1_OVERALL, scored["entities_overall"]


@pytest.mark.parametrize("length", list(LANGUAGE_ID))
def test_language_identification(scored, length):
    accuracy = scored["language_id"][length]
    assert accuracy >= LANGUAGE_ID[length], f"{length}: {accuracy:.3f} < {LANGUAGE_ID[length]}"


def gate_table() -> str:
    """The gate's figures beside its floors, for the end of `make test`."""
    if not RESULTS:
        return ""
    lines = ["NLU gate (held-out set): figure / floor",
             "| language | intent accuracy | entity F1 |", "|---|---|---|"]
    for language in CODES:
        row = RESULTS["languages"][language]
        lines.append(f"| {language} | {row['intent_accuracy']:.3f} / {INTENT_ACCURACY[language]} | "
                     f"{row['entities']['f1']:.3f} / {ENTITY_F1[language]} |")
    lines.append(f"entity F1 overall {RESULTS['entities_overall']:.3f} / {ENTITY_F1_OVERALL}; language ID " + ", ".join(
        f"{k} {v:.3f} / {LANGUAGE_ID[k]}" for k, v in RESULTS["language_id"].items()))
    return "\n".join(lines)
