"""Recognises messages in a language the assistant does not speak (Polish, Slovak, German, …).

Our own identifier (bot/language_model.py) knows only the six languages, so
it reads Polish or Slovak as Czech, Swedish or Norwegian as Danish, Estonian
as Finnish and Latvian as Lithuanian. Telling a neighbour apart takes text of
that neighbour, which the NLU data does not have; lingua (already pinned for
the language-ID comparison of `make eval-nlu`) has it. It runs in its
low-accuracy mode (trigram models only: 40 MB and about a second to load
instead of 500 MB and half a minute), restricted to the six languages and
their neighbours, and it is asked only whether the message belongs to a
neighbour, and only when our own identifier is unsure (below 0.7). The rule
was chosen on dev lines (README, "Other languages"): it loses none of the six
languages' dev lines and finds about half of the neighbours; every rule that
found more took Czech for Slovak or Polish and Danish for Norwegian too often
(lingua's trigram mode; its full models cost 500 MB and half a minute to load).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional, Tuple

from bot.language_model import LANGUAGES, content_words

# The languages recognised as not spoken (ISO 639-1; Norwegian as "no", from Bokmål and Nynorsk).
OTHER_LANGUAGES = ("pl", "sk", "de", "sv", "no", "et", "lv", "ru", "fr", "es", "it", "nl", "pt", "uk")
_LINGUA_CODES = {"nb": "no", "nn": "no"}
_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class OtherLanguageRule:
    """lingua must give the other language at least `confidence`, on at least `min_words` words
    (or on any text in another script), while our identifier is below `ours_below` for its best
    guess, or lingua gives that guess at most `guess_at_most`."""

    confidence: float = 0.5
    min_words: int = 2
    ours_below: float = 0.7
    guess_at_most: float = -1.0  # off: lingua alone never overrules a confident guess of ours


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = list(LANGUAGES) + [c for c in OTHER_LANGUAGES if c != "no"] + ["nb", "nn"]
    return LanguageDetectorBuilder.from_iso_codes_639_1(
        *[getattr(IsoCode639_1, code.upper()) for code in codes]).with_low_accuracy_mode().build()


def lingua_confidences(text: str) -> Dict[str, float]:
    """lingua's confidence per language (Norwegian summed), highest first."""
    confidences: Dict[str, float] = {}
    for value in _detector().compute_language_confidence_values(text):
        code = value.language.iso_code_639_1.name.lower()
        code = _LINGUA_CODES.get(code, code)
        confidences[code] = confidences.get(code, 0.0) + value.value
    return dict(sorted(confidences.items(), key=lambda item: -item[1]))


def other_language(text: str, ours_confidence: float, rule: OtherLanguageRule = OtherLanguageRule(),
                   ours: str = "") -> Optional[Tuple[str, float]]:
    """The language the message is written in, and lingua's confidence, when it is not one of the six;
    `ours` and `ours_confidence` are our identifier's best guess among the six."""
    non_latin = bool(_NON_LATIN.search(text))
    if not non_latin and len(content_words(text)) < rule.min_words:
        return None
    confidences = lingua_confidences(text)
    if not confidences:
        return None
    best, confidence = next(iter(confidences.items()))
    if best in LANGUAGES or (confidence < rule.confidence and not non_latin):
        return None
    if not non_latin and ours_confidence >= rule.ours_below and confidences.get(ours, 0.0) > rule.guess_at_most:
        return None
    return (best, confidence) if best in OTHER_LANGUAGES else None
