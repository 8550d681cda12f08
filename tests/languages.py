"""An independent judge of which language a text is in (lingua, not our own model)."""
from __future__ import annotations

import functools
import re

from lingua import IsoCode639_1, LanguageDetectorBuilder

CODES = ("cs", "hu", "da", "lt", "fi", "en")
_NOISE = re.compile(r"https?://\S+|\S+@\S+|\{\w+\}|CPS Priority[- ]?[Ss]upport|CPS|Canon|EOS|MIGRATE PRODUCTS|My products|View product")


@functools.lru_cache(maxsize=1)
def _detector():
    languages = [getattr(IsoCode639_1, c.upper()) for c in CODES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*languages).build()


def language_of(text: str) -> str:
    """The ISO 639-1 code lingua sees in a text, URLs and brand names removed."""
    language = _detector().detect_language_of(_NOISE.sub(" ", text))
    return language.iso_code_639_1.name.lower() if language else "?"
