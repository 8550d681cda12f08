"""Short localised fragments (labels, topics) that actions insert into responses.

They live in the catalogue (domain/responses/) like every other text, as responses with one
variation per language; this module reads them once so that an action can
pass "sériové číslo" rather than "serial_number" into a sentence.
"""
from __future__ import annotations

import functools
from typing import Dict, Iterable, Optional

from translations.catalogue import all_responses



@functools.lru_cache(maxsize=1)
def _fragments() -> Dict[str, Dict[str, str]]:
    responses = all_responses()
    table: Dict[str, Dict[str, str]] = {}
    for name, variations in responses.items():
        for variation in variations:
            for condition in variation.get("condition") or []:
                if condition.get("name") == "language":
                    table.setdefault(name, {})[condition["value"]] = variation["text"]
    return table


def text_for(response: str, language: Optional[str]) -> Optional[str]:
    """The text of a one-variation-per-language response, or None if unknown."""
    variations = _fragments().get(response) or {}
    return variations.get(language or "en") or variations.get("en")


def labels(names: Iterable[str], language: Optional[str]) -> str:
    """'serial number, purchase date' for ['serial_number', 'purchase_date']."""
    return ", ".join(text_for(f"utter_label_{n}", language) or n for n in names)
