"""Every response exists in all six languages, each variation in its own language."""
from __future__ import annotations

import re

import pytest

from bot import cldr
from tests.languages import CODES, language_of
from translations.catalogue import all_responses

RESPONSES = all_responses()


def variation_language(variation):
    conditions = variation.get("condition") or []
    languages = [c["value"] for c in conditions if c.get("type") == "slot" and c.get("name") == "language"]
    return languages[0] if len(languages) == 1 else None


def as_read(text: str, language: str) -> str:
    """The text as a reader sees it with placeholders left out: plural blocks resolved for 5."""
    return cldr.render(text, {name: 5 for name, _ in cldr.plural_blocks(text)}, language, lambda *_: "")


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_one_conditioned_variation_per_language(name):
    variations = RESPONSES[name]
    languages = [variation_language(v) for v in variations]
    assert None not in languages, f"{name} has a variation without a language condition"
    assert sorted(languages) == sorted(CODES), f"{name}: variations for {languages}"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_variations_agree_on_placeholders_and_buttons(name):
    variations = RESPONSES[name]
    placeholders = {frozenset(cldr.placeholders(v["text"])) for v in variations}
    assert len(placeholders) == 1, f"{name}: placeholders differ between languages: {placeholders}"
    payloads = {tuple(b["payload"] for b in v.get("buttons") or []) for v in variations}
    assert len(payloads) == 1, f"{name}: button payloads differ between languages"


# Fragments too short for any detector to judge reliably are checked by hand.
def long_enough(text: str) -> bool:
    return len(re.sub(r"\{\w+\}", "", text).split()) >= 4


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_each_variation_is_written_in_its_language(name):
    for variation in RESPONSES[name]:
        language = variation_language(variation)
        text = as_read(variation["text"], language)
        if long_enough(text):
            assert language_of(text) == language, (
                f"{name}: the {language} variation reads as {language_of(text)}: {text!r}"
            )
