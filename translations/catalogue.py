"""The response catalogue: domain/responses/<topic>.yml, read and written in one canonical layout.

Rasa merges domain files key by key, so a response keeps its six language
variations together in one topic file; the condition is written on one line,
and each file is laid out by `dump` so that a tool (the PO import) can write it
back without a diff a person did not make. `tests/test_catalogue.py` checks
every file is in this layout.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_DIR = ROOT / "domain"
RESPONSES_DIR = DOMAIN_DIR / "responses"
CORE_FILE = DOMAIN_DIR / "domain.yml"
LANGUAGES = ("cs", "hu", "da", "lt", "fi", "en")
SOURCE_LANGUAGE = "en"

Variation = Dict[str, Any]


class CatalogueError(ValueError):
    """A catalogue file that breaks the catalogue's rules; the message names the file and response."""


@dataclass
class TopicFile:
    """One file of the catalogue: its leading comment and its responses, in order."""

    path: Path
    header: List[str] = field(default_factory=list)
    responses: Dict[str, List[Variation]] = field(default_factory=dict)


def language_of(variation: Variation) -> Optional[str]:
    found = [c.get("value") for c in variation.get("condition") or []
             if c.get("type") == "slot" and c.get("name") == "language"]
    return found[0] if len(found) == 1 else None


def read(path: Path) -> TopicFile:
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return TopicFile(path, header, dict(data.get("responses") or {}))


def topic_files(directory: Path = RESPONSES_DIR) -> List[TopicFile]:
    return [read(p) for p in sorted(directory.glob("*.yml"))]


def all_responses(directory: Path = RESPONSES_DIR) -> Dict[str, List[Variation]]:
    """Every response of the catalogue by name; a name in two files is an error."""
    merged: Dict[str, List[Variation]] = {}
    for topic in topic_files(directory):
        for name, variations in topic.responses.items():
            if name in merged:
                raise CatalogueError(f"{topic.path.name}: {name} is also in another topic file")
            merged[name] = variations
    return merged


def texts_by_language(variations: List[Variation]) -> Dict[str, Variation]:
    return {language_of(v): v for v in variations}


def _scalar(value: str) -> str:
    # A JSON string is a YAML double-quoted scalar: one line, every character kept.
    return json.dumps(value, ensure_ascii=False)


def dump(topic: TopicFile) -> str:
    """The canonical text of a topic file."""
    lines = list(topic.header)
    if lines:
        lines.append("")
    lines.append("responses:")
    for name, variations in topic.responses.items():
        lines.append(f"  {name}:")
        for variation in variations:
            language = language_of(variation)
            extra = set(variation) - {"text", "buttons", "condition"}
            if language is None or len(variation.get("condition") or []) != 1 or extra:
                raise CatalogueError(
                    f"{topic.path.name}: {name} has a variation with {sorted(extra) or 'no single language condition'}; "
                    "the catalogue holds text, buttons and one language condition per variation")
            lines.append(f"    - condition: [{{type: slot, name: language, value: {language}}}]")
            lines.append(f"      text: {_scalar(variation['text'])}")
            buttons = variation.get("buttons")
            if buttons:
                lines.append("      buttons:")
                for button in buttons:
                    lines.append(f"        - {{title: {_scalar(button['title'])}, payload: {_scalar(button['payload'])}}}")
    return "\n".join(lines) + "\n"


def write(topic: TopicFile) -> None:
    topic.path.write_text(dump(topic), encoding="utf-8")


def core() -> Dict[str, Any]:
    """domain/domain.yml: intents, entities, slots, forms, actions (everything but the texts)."""
    return yaml.safe_load(CORE_FILE.read_text(encoding="utf-8"))


def iter_texts(directory: Path = RESPONSES_DIR) -> Iterator[Tuple[TopicFile, str, Variation]]:
    for topic in topic_files(directory):
        for name, variations in topic.responses.items():
            for variation in variations:
                yield topic, name, variation
