"""Text as the pipeline's word features see it: lower case, no diacritics, no punctuation.

Standard library only, so that tools which must not load Rasa (the insights
report) fold exactly as the model (bot/plain_words.py, bot/entity_values.py)
and the held-out checks (tests/nlu_overlap.py) do.
"""
from __future__ import annotations

import re
import unicodedata


def plain(text: str) -> str:
    """Lower case without diacritics: "Kártyával" -> "kartyaval"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """The words of `text`, plain, one space apart: "Jaký je můj stav bodů?" -> "jaky je muj stav bodu"."""
    return " ".join(plain(word) for word in re.findall(r"\w+", text))
