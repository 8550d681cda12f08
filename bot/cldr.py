"""Numbers, dates, amounts, lists and plural choice from CLDR (Babel), for the responses' placeholders.

A response text writes `{points}` for a value and, where the words depend on
a count, an ICU MessageFormat plural block:

    "Máte {points, plural, one {# bod} few {# body} many {# bodu} other {# bodů}}."

The branch is chosen by the count's CLDR plural category in the response's
language (cs and lt: one/few/many/other; hu, da, fi, en: one/other), `=N`
branches match one exact count first, and `#` is the count as that language
writes it. Values come from the actions as JSON (actions/values.py): a number,
`{"date": "2026-01-20"}`, `{"amount": 99, "currency": "EUR"}`, a list, or
`{"response": "utter_label_gold", ...}` for a fragment of the catalogue, which
the caller resolves. Nothing here knows a word of any language.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

# en is British English (Canon Europe's): "20 January 2026", "€99.00".
LOCALES = {"cs": "cs_CZ", "hu": "hu_HU", "da": "da_DK", "lt": "lt_LT", "fi": "fi_FI", "en": "en_GB"}
# How each language writes a date in running text: cs "20. 1. 2026", hu "2026. január 20.",
# da "20. januar 2026", lt "2026-01-20" (the Lithuanian standard), fi "20.1.2026", en "20 January 2026".
DATE_STYLE = {"cs": "medium", "hu": "long", "da": "long", "lt": "medium", "fi": "medium", "en": "long"}
PLURAL = re.compile(r"\s*(\w+)\s*,\s*plural\s*,(.*)", re.S)
BRANCH_KEY = re.compile(r"\s*(=\d+|zero|one|two|few|many|other)\s*\{")
NAME = re.compile(r"\s*(\w+)\s*")

Resolve = Callable[[str, Dict[str, Any]], str]  # (response name, its values) -> its text in this language


class TemplateError(ValueError):
    """A response text whose braces or plural block cannot be read; the message shows where."""


def locale(language: str) -> Locale:
    return Locale.parse(LOCALES.get(language, LOCALES["en"]))


def plural_categories(language: str) -> List[str]:
    """The CLDR plural categories of a language, 'other' last: cs ['few', 'many', 'one', 'other']."""
    return sorted(locale(language).plural_form.tags) + ["other"]


def plural_category(count: Union[int, float], language: str) -> str:
    return locale(language).plural_form(count)


def number(value: Union[int, float], language: str) -> str:
    """2501 → cs "2 501" (no-break space), da "2.501", en "2,501"."""
    return format_decimal(value, locale=locale(language))


def date(iso: str, language: str) -> str:
    return format_date(datetime.date.fromisoformat(iso), DATE_STYLE.get(language, "long"), locale=locale(language))


def money(amount: Union[int, float], currency: str, language: str) -> str:
    return format_currency(amount, currency, locale=locale(language))


# --- parsing ---------------------------------------------------------------------------------

@dataclass
class Placeholder:
    name: str


@dataclass
class Plural:
    name: str
    branches: Dict[str, list]  # key ("one", "=0", ...) -> parsed parts


def _closing(text: str, start: int) -> int:
    """Index of the brace closing the one opened at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise TemplateError(f"unclosed '{{' at {start}: {text!r}")


def parse(text: str, in_plural: bool = False) -> list:
    """Text, Placeholder and Plural parts; '#' stays text and is replaced when its branch renders."""
    parts: list = []
    i = 0
    while i < len(text):
        if text[i] == "}":
            raise TemplateError(f"unmatched '}}' at {i}: {text!r}")
        if text[i] != "{":
            j = min([k for k in (text.find("{", i), text.find("}", i)) if k != -1] or [len(text)])
            parts.append(text[i:j])
            i = j
            continue
        end = _closing(text, i)
        inner = text[i + 1:end]
        plural = PLURAL.fullmatch(inner)
        if plural:
            parts.append(Plural(plural.group(1), _branches(plural.group(2), text)))
        elif NAME.fullmatch(inner):
            parts.append(Placeholder(inner.strip()))
        else:
            raise TemplateError(f"cannot read {{{inner}}} in {text!r}")
        i = end + 1
    return parts


def _branches(body: str, text: str) -> Dict[str, list]:
    branches: Dict[str, list] = {}
    i = 0
    while body[i:].strip():
        key = BRANCH_KEY.match(body, i)
        if not key:
            raise TemplateError(f"a plural branch must look like 'one {{…}}': {body[i:]!r} in {text!r}")
        start = key.end() - 1
        end = _closing(body, start)
        if key.group(1) in branches:
            raise TemplateError(f"plural branch {key.group(1)!r} twice in {text!r}")
        branches[key.group(1)] = parse(body[start + 1:end], in_plural=True)
        i = end + 1
    if "other" not in branches:
        raise TemplateError(f"a plural block needs an 'other' branch: {text!r}")
    return branches


def placeholders(text: str) -> List[str]:
    """Every value a text uses, plural blocks' counts included, in order of first use."""
    names: List[str] = []

    def walk(parts: list) -> None:
        for part in parts:
            if isinstance(part, (Placeholder, Plural)) and part.name not in names:
                names.append(part.name)
            if isinstance(part, Plural):
                for branch in part.branches.values():
                    walk(branch)
    walk(parse(text))
    return names


def plural_blocks(text: str) -> List[Tuple[str, List[str]]]:
    """(count name, branch keys) of every plural block in a text."""
    found: List[Tuple[str, List[str]]] = []

    def walk(parts: list) -> None:
        for part in parts:
            if isinstance(part, Plural):
                found.append((part.name, list(part.branches)))
                for branch in part.branches.values():
                    walk(branch)
    walk(parse(text))
    return found


# --- rendering -------------------------------------------------------------------------------

def count_of(value: Any) -> Optional[Union[int, float]]:
    """The count a plural block chooses by: a number, the length of a list, an amount."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return len(value)
    if isinstance(value, Mapping) and isinstance(value.get("amount"), (int, float)):
        return value["amount"]
    return None


def format_value(value: Any, language: str, resolve: Resolve) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, (int, float)):
        return number(value, language)
    if isinstance(value, list):
        return format_list([format_value(v, language, resolve) for v in value], locale=locale(language))
    if isinstance(value, Mapping):
        if "response" in value:
            return resolve(value["response"], {k: v for k, v in value.items() if k != "response"})
        if "date" in value:
            return date(value["date"], language)
        if "amount" in value and "currency" in value:
            return money(value["amount"], value["currency"], language)
    return str(value)


def render(text: str, values: Mapping[str, Any], language: str, resolve: Resolve) -> str:
    """The text with its plural blocks chosen and its placeholders filled for `language`.

    A placeholder without a value stays as written, as Rasa's own interpolation leaves it.
    """
    return _render(parse(text), values, language, resolve, None)


def _render(parts: list, values: Mapping[str, Any], language: str, resolve: Resolve, hash_value: Optional[str]) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part.replace("#", hash_value) if hash_value is not None else part)
        elif isinstance(part, Placeholder):
            out.append(format_value(values[part.name], language, resolve) if part.name in values else f"{{{part.name}}}")
        else:
            value = values.get(part.name)
            count = count_of(value)
            if count is None:
                out.append(f"{{{part.name}}}")
                continue
            exact = f"={count}"
            key = exact if exact in part.branches else plural_category(count, language)
            branch = part.branches.get(key, part.branches["other"])
            out.append(_render(branch, values, language, resolve, number(count, language)))
    return "".join(out)
