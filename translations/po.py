"""A translator's round trip: one language of the catalogue to a gettext PO file and back.

Export: one entry per text (a response's text, each button title), the
English text as msgid, the language's text as msgstr, the response name as
msgctxt, a note on every placeholder and plural block, the topic file as the
reference. Poedit, Weblate and Crowdin open it. Counts are ICU plural blocks
inside the text ("{points, plural, one {# bod} few {# body} …}"), which Weblate
and Crowdin understand; the note lists the branches the language needs.

Import: reads the PO file back into domain/responses/, refusing the whole
file, with the line of each entry at fault, when a translation drops or
invents a placeholder, breaks a plural block or lacks one of its language's
CLDR categories, is empty, or names a response the catalogue does not have.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from babel.messages import pofile
from babel.messages.catalog import Catalog

from bot import cldr
from translations.catalogue import (LANGUAGES, RESPONSES_DIR, ROOT, SOURCE_LANGUAGE, TopicFile, language_of,
                                    texts_by_language, topic_files, write)

BUTTON = "#button"  # msgctxt of a button title: "utter_help#button2"

# What each placeholder holds, for the translator (a new placeholder needs its note: tests/test_translations.py).
NOTES = {
    "points": "a number of points (the number is written for the language, e.g. 2 501)",
    "total": "the account's points in total (a number)",
    "allocated": "the points allocated to the account (a number)",
    "pending": "the points still waiting for allocation (a number)",
    "threshold": "the points a membership level needs (a number)",
    "missing": "how many points are missing (a number), or, next to a product, the list of missing details "
               "(\"serial number and purchase date\"; its plural block counts the details)",
    "products": "how many products were migrated (a number)",
    "count": "how many products the account has registered (a number)",
    "level": "a membership level's name, from utter_label_level_* (hu Arany, lt Aukso)",
    "price": "a level's price with its currency, from the CPS API (e.g. 99,00 €)",
    "amount": "an invoice's amount with its currency, from the CPS API (e.g. 99,00 €)",
    "payment_method": "the payment method, from utter_label_card or utter_label_bank_transfer",
    "due_date": "the invoice's due date from the CPS API, written for the language (cs 20. 1. 2026)",
    "invoice": "an invoice number such as INV-2026-00417",
    "number": "a CPS membership number such as CPS-GLD-204817",
    "previous": "the previous CPS membership number",
    "ticket_id": "a support request number such as T-1A2B3C4D",
    "email": "the e-mail address the user gave",
    "product": "a product's name such as EOS R3",
    "topic": "what the user may have meant, from utter_topic_* (\"logging in\")",
    "payload": "(button payload, not shown)",
}


class TranslationError(ValueError):
    """A PO file that cannot go into the catalogue; the message lists each entry at fault with its line."""


@dataclass
class Entry:
    context: str
    source: str
    text: str
    location: str


def entries(language: str, directory: Path = RESPONSES_DIR) -> List[Entry]:
    """Every text of one language, in catalogue order, with the English source beside it."""
    found = []
    for topic in topic_files(directory):
        location = str(topic.path.relative_to(ROOT)) if topic.path.is_relative_to(ROOT) else topic.path.name
        for name, variations in topic.responses.items():
            by_language = texts_by_language(variations)
            source, target = by_language[SOURCE_LANGUAGE], by_language[language]
            found.append(Entry(name, source["text"], target["text"], location))
            for i, (sb, tb) in enumerate(zip(source.get("buttons") or [], target.get("buttons") or []), 1):
                found.append(Entry(f"{name}{BUTTON}{i}", sb["title"], tb["title"], location))
    return found


def notes(text: str, language: str) -> List[str]:
    lines = [f"{{{name}}}: {NOTES.get(name, 'a value the assistant fills in')}" for name in cldr.placeholders(text)]
    for count, _ in cldr.plural_blocks(text):
        lines.append(f"{{{count}, plural, …}}: one branch per CLDR category of this language: "
                     f"{' '.join(cldr.plural_categories(language))}; '#' is the number")
    return lines


def export(language: str, directory: Path = RESPONSES_DIR) -> bytes:
    catalog = Catalog(locale=cldr.LOCALES[language].split("_")[0], project="CPS sign-up assistant",
                      header_comment=f"# The CPS sign-up assistant's texts in '{language}', English source as msgid.\n"
                                     "# Edit msgstr only; `make translations-import FILE=…` checks and reads it back.",
                      fuzzy=False)
    for entry in entries(language, directory):
        catalog.add(entry.source, entry.text, locations=[(entry.location, None)], context=entry.context,
                    auto_comments=notes(entry.source, language))
    out = io.BytesIO()
    pofile.write_po(out, catalog, width=0, include_lineno=False)
    return out.getvalue()


def _problems(source: str, text: str, language: str) -> List[str]:
    if not text.strip():
        return ["empty translation"]
    try:
        wanted, given = set(cldr.placeholders(source)), set(cldr.placeholders(text))
        blocks = cldr.plural_blocks(text)
    except cldr.TemplateError as error:
        return [str(error)]
    problems = []
    if wanted - given:
        problems.append(f"drops {', '.join('{%s}' % n for n in sorted(wanted - given))}")
    if given - wanted:
        problems.append(f"invents {', '.join('{%s}' % n for n in sorted(given - wanted))}")
    categories = set(cldr.plural_categories(language))
    for count, keys in blocks:
        have = {k for k in keys if not k.startswith("=")}
        if have != categories:
            problems.append(f"{{{count}, plural}} has {' '.join(sorted(have))}, {language} needs {' '.join(sorted(categories))}")
    return problems


def import_po(data: bytes, directory: Path = RESPONSES_DIR, language: Optional[str] = None) -> Tuple[str, int]:
    """Reads a PO file into the catalogue; returns (language, texts changed). Nothing is written on any error."""
    catalog = pofile.read_po(io.BytesIO(data), abort_invalid=True)
    language = language or (str(catalog.locale) if catalog.locale else None)
    if language not in LANGUAGES:
        raise TranslationError(f"the PO file's Language header is {language!r}; expected one of {' '.join(LANGUAGES)}")
    topics = topic_files(directory)
    where: Dict[str, Tuple[TopicFile, dict]] = {}
    for topic in topics:
        for name, variations in topic.responses.items():
            where[name] = (topic, texts_by_language(variations))
    errors, changed, touched = [], 0, set()
    for message in catalog:
        if not message.id:
            continue
        context = message.context or ""
        name, _, button = context.partition(BUTTON)
        line = f"line {message.lineno}: {context}"
        if name not in where:
            errors.append(f"{line}: no such response in the catalogue")
            continue
        topic, by_language = where[name]
        source, target = by_language[SOURCE_LANGUAGE], by_language[language]
        if button:
            index = int(button) - 1
            if index >= len(target.get("buttons") or []):
                errors.append(f"{line}: the response has no button {button}")
                continue
            source_text, slot = source["buttons"][index]["title"], (target["buttons"][index], "title")
        else:
            source_text, slot = source["text"], (target, "text")
        text = message.string if isinstance(message.string, str) else ""
        problems = _problems(source_text, text, language)
        if problems:
            errors.append(f"{line}: {'; '.join(problems)}")
        elif slot[0][slot[1]] != text:
            slot[0][slot[1]] = text
            changed += 1
            touched.add(topic.path)
    if errors:
        raise TranslationError("the PO file was not imported:\n  " + "\n  ".join(errors))
    for topic in topics:
        if topic.path in touched:
            write(topic)
    return language, changed
