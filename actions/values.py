"""The values actions pass to responses: JSON that the Rasa server's generator (bot/nlg.py) writes out.

An action never writes a word: it passes a number, a date, an amount or the
name of a catalogue fragment, and the response in the conversation's language
says it, with CLDR's numbers, dates and plural forms (bot/cldr.py).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Union

Value = Dict[str, Any]


def date(iso: str) -> Value:
    """A calendar date from the API, "2026-01-20": cs "20. 1. 2026", hu "2026. január 20."."""
    return {"date": iso}


def money(amount: Union[int, float], currency: str) -> Value:
    """An amount with its ISO currency: cs "99,00 €", en "€99.00"."""
    return {"amount": amount, "currency": currency}


def fragment(response: str, **values: Any) -> Value:
    """A short response of the catalogue (a label, a topic), said in the conversation's language."""
    return {"response": response, **values}


def label(code: str) -> Value:
    """`utter_label_<code>`: "card" → "kartou", "serial_number" → "sériové číslo"."""
    return fragment(f"utter_label_{code}")


def labels(codes: Iterable[str]) -> List[Value]:
    """A list the response joins as its language does ("sériové číslo a datum nákupu")
    and counts for its plural blocks ("add it" / "add them")."""
    return [label(code) for code in codes]


def level(code: str) -> Value:
    """A membership level's name as the guide of the language writes it (hu Arany, lt Aukso)."""
    return label(f"level_{code}")


def level_button(level_entry: Dict[str, Any], payload: str) -> Dict[str, Any]:
    """A button for one level the API offers: its title is the fragment `utter_label_level_button`."""
    price = level_entry["price"]
    return {"title": fragment("utter_label_level_button", level=level(level_entry["code"]),
                              price=money(price["amount"], price["currency"])),
            "payload": payload}
