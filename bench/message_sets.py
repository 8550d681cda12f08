"""The held-out message sets of issue #22, beside the plain held-out questions of tests/nlu/.

- **greeting in front / thanks in front / greeting or thanks at the end**: every
  held-out question or request (tests/nlu/<language>.yml, intents other than
  greetings, thanks, yes, no, values, help and out of scope) with a held-out social phrase of its language
  (tests/nlu_messages/social_phrases.yml) put in front of it or after it; the
  same questions alone are the "plain" figure they are compared with.
- **two questions**: tests/nlu_messages/two_questions.yml, the intents in the
  order they must be answered.
- **other languages**: tests/nlu_messages/other_languages.yml.
- **noisy**: every held-out line typed carelessly, one of five ways in turn:
  no diacritics, all capitals, no capitals or punctuation, a typo (two letters
  swapped in the longest word), chat abbreviations (tests/nlu_messages/noise.yml).
  Every fifth line of the greeting and thanks sets is typed carelessly too.
- **no diacritics**: every held-out line without diacritics (language ID).

All of them are written (or built from lines written) without sight of the
training data, and tests/test_nlu_data.py keeps them out of it. Standard
library and PyYAML only, so tests can import it without Rasa.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from bot.clauses import NOT_A_QUESTION

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ROOT / "tests" / "nlu_messages"

Item = Tuple[str, str, List[str]]  # text, language, gold intents (one, or the questions in order)
NOISE_KINDS = ("no diacritics", "all capitals", "no capitals or punctuation", "typo", "chat abbreviations")


def _yaml(name: str) -> dict:
    return yaml.safe_load((MESSAGES / name).read_text("utf-8"))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def typo(text: str) -> str:
    """Two neighbouring letters of the longest word swapped ("registrovat" -> "registorvat")."""
    words = text.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 4:
        return text
    middle = len(word) // 2
    words[longest] = word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]
    return " ".join(words)


def abbreviate(text: str, language: str) -> str:
    """The language's chat abbreviations (tests/nlu_messages/noise.yml) applied word by word."""
    table = _yaml("noise.yml")[language]
    for long_form, short_form in table.items():
        text = re.sub(rf"(?i)\b{re.escape(long_form)}\b", short_form, text)
    return text


def noisy(text: str, language: str, kind: str) -> str:
    """`text` typed carelessly in the way `kind` says (one of NOISE_KINDS)."""
    if kind == "no diacritics":
        return _strip_marks(text)
    if kind == "all capitals":
        return text.upper()
    if kind == "no capitals or punctuation":
        return re.sub(r"[^\w\s'-]", "", text).lower().strip()
    if kind == "typo":
        return typo(text)
    if kind == "chat abbreviations":
        return abbreviate(text, language)
    raise ValueError(f"unknown kind of noise {kind!r}; one of {NOISE_KINDS}")


def _strip_marks(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def questions_by_language(examples: Sequence[Tuple[str, str, str, list]]) -> Dict[str, List[Tuple[str, str]]]:
    """The held-out lines that ask or request something (not greetings, thanks, yes, no or a value), per language."""
    found: Dict[str, List[Tuple[str, str]]] = {}
    for text, language, intent, _ in examples:
        if intent not in NOT_A_QUESTION:
            found.setdefault(language, []).append((text, intent))
    return found


def social_sets(examples: Sequence[Tuple[str, str, str, list]]) -> Dict[str, List[Item]]:
    """plain, greeting in front, thanks in front, at the end: the same held-out questions each time."""
    phrases = _yaml("social_phrases.yml")
    sets: Dict[str, List[Item]] = {"plain": [], "greeting in front": [], "thanks in front": [], "at the end": []}
    for language, questions in questions_by_language(examples).items():
        own = phrases[language]
        for n, (text, intent) in enumerate(questions):
            front = own["greeting_front"][n % len(own["greeting_front"])]
            thanks = own["thanks_front"][n % len(own["thanks_front"])]
            end = own["end"][n % len(own["end"])]
            variants = {
                "plain": text,
                "greeting in front": f"{front} {_lower_first(text)}",
                "thanks in front": f"{thanks} {_lower_first(text)}",
                "at the end": f"{text.rstrip()} {end}",
            }
            for name, variant in variants.items():
                if name != "plain" and n % 5 == 0:  # every fifth typed carelessly
                    variant = noisy(variant, language, NOISE_KINDS[(n // 5) % len(NOISE_KINDS)])
                sets[name].append((variant, language, [intent]))
    return sets


def two_question_set() -> List[Item]:
    return [(item["text"], language, list(item["intents"]))
            for language, items in _yaml("two_questions.yml").items() for item in items]


def other_language_set() -> List[Tuple[str, str, str]]:
    """(text, language code, intent it would have in one of the six)."""
    return [(item["text"], str(language), item["intent"])
            for language, items in _yaml("other_languages.yml").items() for item in items]


def noisy_set(examples: Sequence[Tuple[str, str, str, list]]) -> List[Tuple[str, str, str, str]]:
    """(text, language, intent, kind of noise): every held-out line typed carelessly, the kinds in turn."""
    return [(noisy(text, language, NOISE_KINDS[n % len(NOISE_KINDS)]), language, intent,
             NOISE_KINDS[n % len(NOISE_KINDS)])
            for n, (text, language, intent, _) in enumerate(examples)]


def all_texts(examples: Sequence[Tuple[str, str, str, list]]) -> List[str]:
    """Every line these sets type, for the check that training holds none of them."""
    texts = [text for items in social_sets(examples).values() for text, _, _ in items]
    texts += [text for text, _, _ in two_question_set()]
    texts += [text for text, _, _ in other_language_set()]
    return texts


def answered(parse: dict) -> List[str]:
    """The intents a parse gets answered, in order: its questions, or its one intent."""
    questions = [q["intent"]["name"] for q in parse.get("questions") or []]
    return questions or [parse["intent"]["name"]]


def all_answered(parse: dict, gold: List[str]) -> bool:
    """Every gold intent is answered, in order (a statement beside a request may be answered too)."""
    remaining = iter(answered(parse))
    return all(any(intent == got for got in remaining) for intent in gold)
