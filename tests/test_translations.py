"""The translator's round trip (translations/po.py) and the catalogue's own layout (translations/catalogue.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import cldr
from tests.languages import CODES
from translations.catalogue import RESPONSES_DIR, all_responses, dump, topic_files
from translations.po import NOTES, TranslationError, export, import_po


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    copy = tmp_path / "responses"
    shutil.copytree(RESPONSES_DIR, copy)
    return copy


def files(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.yml"))}


def test_every_catalogue_file_is_in_the_layout_the_tools_write():
    for topic in topic_files():
        assert dump(topic) == topic.path.read_text("utf-8"), f"{topic.path.name} is not laid out as translations/catalogue.py writes it"


@pytest.mark.parametrize("language", CODES)
def test_export_then_import_changes_nothing(language, catalogue):
    before = files(catalogue)
    po = export(language, catalogue)
    assert po.count(b'msgctxt "') == sum(1 + len(v[0].get("buttons") or []) for v in all_responses().values())
    assert import_po(po, catalogue) == (language, 0)
    assert files(catalogue) == before


def edited(po: bytes, context: str, old: str, new: str) -> bytes:
    head, _, tail = po.decode().partition(f'msgctxt "{context}"\n')
    msgstr_at = tail.index("msgstr ")
    entry_end = tail.index("\n\n", msgstr_at) if "\n\n" in tail[msgstr_at:] else len(tail)
    entry = tail[:entry_end]
    assert old in entry.split("msgstr ", 1)[1], f"{old!r} not in the msgstr of {context}"
    msgid, msgstr = entry.split("msgstr ", 1)
    return (head + f'msgctxt "{context}"\n' + msgid + "msgstr " + msgstr.replace(old, new, 1) + tail[entry_end:]).encode()


def test_a_translated_text_goes_into_its_topic_file(catalogue):
    po = edited(export("cs", catalogue), "utter_anything_else", "Dobře.", "Rozumím.")
    assert import_po(po, catalogue) == ("cs", 1)
    assert "Rozumím. S čím dalším vám mohu pomoci?" in (catalogue / "conversation.yml").read_text("utf-8")
    assert dump(next(t for t in topic_files(catalogue) if t.path.name == "conversation.yml")) == \
        (catalogue / "conversation.yml").read_text("utf-8")


@pytest.mark.parametrize("context,old,new,reason", [
    ("utter_account_not_invited", "{missing, plural,", "{chybi, plural,", "drops {missing}; invents {chybi}"),
    ("utter_ticket_opened", " {email}", " ", "drops {email}"),
    ("utter_account_not_invited", " many {# bodu}", "", "{points, plural} has few one other, cs needs few many one other"),
    ("utter_account_not_invited", "other {# bodů}}.", "other {# bodů}.", "unclosed"),
    ("utter_goodbye", "Na shledanou", "{jmeno}, na shledanou", "invents {jmeno}"),
])
def test_a_broken_translation_is_refused_with_its_line(catalogue, context, old, new, reason):
    before = files(catalogue)
    po = edited(export("cs", catalogue), context, old, new)
    with pytest.raises(TranslationError) as refused:
        import_po(po, catalogue)
    message = str(refused.value)
    assert f": {context}: " in message and reason in message and "line " in message
    assert files(catalogue) == before  # nothing written


def test_every_placeholder_has_a_note_for_translators():
    used = {name for variations in all_responses().values() for v in variations for name in cldr.placeholders(v["text"])}
    assert used <= set(NOTES), f"placeholders without a note in translations/po.py: {sorted(used - set(NOTES))}"
