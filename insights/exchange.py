"""Unanswered messages out as CSV for annotation, annotated lines back into the training data.

Export: one CSV per language, one row per group of similar unanswered
messages; the annotator fills the `intent` column (and may rewrite `text`,
with entity markup such as `[gold](tier)`). Import adds each annotated line
to the block of its intent and language in data/nlu/, and refuses a line
that the training or held-out data already holds (exactly or as a near
duplicate once folded, tests/nlu_overlap.py), an unknown intent or entity,
a line that still holds a mask, or one the message guard would not store.
"""
from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from bot.language_model import LANGUAGES
from bot.message_guard import MAX_MESSAGE_CHARS, contains_sensitive_data
from insights.aggregate import FALLBACK_INTENT, GUARD_INTENTS
from insights.guarded import holds_mask

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("language", "group", "count", "text", "also_written_as", "model_guess", "confidence", "intent")
# A cell a spreadsheet would run as a formula gets a leading apostrophe; the import takes it off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_INTENT_LINE = re.compile(r"^- intent: *(\S+) *$")
_LANGUAGE_LINE = re.compile(r"^    language: *(\S+) *$")
_EXAMPLE_LINE = re.compile(r"^    - ")


def _cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(text: str) -> str:
    text = (text or "").strip()
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def export_csv(report: Dict[str, Any], out_dir: Path) -> List[Path]:
    """unanswered-<language>.csv for every language, from the report's (guarded) groups."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for language in report["languages"]:
        path = out_dir / f"unanswered-{language}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for number, group in enumerate(report["unanswered"][language], 1):
                writer.writerow([_cell(v) for v in (
                    language, number, group["count"], group["text"], " | ".join(group["variants"][1:]),
                    group["guess"], f"{group['confidence']:.3f}", "")])
        written.append(path)
    return written


@dataclass
class Line:
    """One annotated line of the CSV, as the import judged it."""

    row: int
    language: str
    intent: str
    text: str  # as it goes into the YAML, entity markup included
    plain: str = ""  # without markup, for the duplicate checks
    reason: Optional[str] = None


@dataclass
class ImportResult:
    added: List[Line] = field(default_factory=list)
    refused: List[Line] = field(default_factory=list)


def read_annotations(path: Path) -> List[Line]:
    """The rows with an intent filled in."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"language", "text", "intent"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: no column {', '.join(sorted(missing))} (export with `make insights-export`)")
        return [Line(number, _uncell(row["language"]).lower(), _uncell(row["intent"]), _uncell(row["text"]))
                for number, row in enumerate(reader, 2) if _uncell(row.get("intent") or "")]


def _judge(line: Line, intents: set, entities: set) -> Optional[str]:
    from rasa.shared.nlu.training_data.entities_parser import parse_training_example

    if line.language not in LANGUAGES:
        return f"unknown language {line.language!r}"
    if line.intent not in intents:
        return f"unknown intent {line.intent!r}"
    if not line.text or "\n" in line.text or len(line.text) > MAX_MESSAGE_CHARS:
        return "empty, several lines or too long"
    if holds_mask(line.text):
        return "still holds a mask ([e-mail], [token]): write it as a visitor would, without personal data"
    try:
        message = parse_training_example(line.text, line.intent)
    except Exception as error:  # Rasa raises several kinds for broken markup
        return f"entity markup does not parse: {error}"
    unknown = {e["entity"] for e in message.get("entities") or []} - entities
    if unknown:
        return f"unknown entity {', '.join(sorted(unknown))}"
    line.plain = message.get("text")
    if contains_sensitive_data(line.plain):
        return "holds a card number, IBAN or password"
    return None


def _blocks(data_dir: Path) -> Dict[Tuple[str, str], Tuple[Path, int]]:
    """(intent, language) -> (file, index of the block's last example line)."""
    found = {}
    for path in sorted(data_dir.glob("*.yml")):
        intent = language = None
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
            if line.startswith("- "):
                match = _INTENT_LINE.match(line)
                intent, language = (match.group(1) if match else None), None
            elif intent and _LANGUAGE_LINE.match(line):
                language = _LANGUAGE_LINE.match(line).group(1)
            elif intent and language and _EXAMPLE_LINE.match(line):
                found[(intent, language)] = (path, i)
    return found


def _write_atomically(path: Path, text: str) -> None:
    yaml.safe_load(text)  # never leave a file Rasa cannot read
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, path.stat().st_mode & 0o777)
    os.replace(temporary, path)


def import_annotations(path: Path, data_dir: Path = ROOT / "data" / "nlu", held_out_dir: Path = ROOT / "tests" / "nlu",
                       domain: Path = ROOT / "domain" / "domain.yml") -> ImportResult:
    """Adds the annotated lines of `path` to `data_dir`; returns what was added and what refused, with why."""
    from rasa.shared.nlu.training_data.loading import load_data

    from tests.nlu_overlap import THRESHOLD, fold, near_duplicates

    spec = yaml.safe_load(domain.read_text(encoding="utf-8"))
    intents = set(spec["intents"]) - GUARD_INTENTS - {FALLBACK_INTENT}
    result = ImportResult()
    lines = read_annotations(path)
    for line in lines:
        line.reason = _judge(line, intents, set(spec.get("entities") or ()))
    candidates = [line for line in lines if line.reason is None]

    existing = [m.get("text") for d in (data_dir, held_out_dir) for m in load_data(str(d)).intent_examples]
    closest = {held: (ratio, known) for ratio, held, known in near_duplicates([c.plain for c in candidates], existing)}
    seen: Dict[str, Line] = {}
    blocks = _blocks(data_dir)
    for line in candidates:
        folded = fold(line.plain)
        if line.plain in closest:
            ratio, known = closest[line.plain]
            line.reason = f"already in the training or held-out data: {known!r} ({ratio:.2f} once folded, " \
                          f"limit {THRESHOLD})"
        elif folded in seen:
            line.reason = f"the same as row {seen[folded].row} of this file"
        elif (line.intent, line.language) not in blocks:
            line.reason = f"no block for {line.intent} in {line.language} under {data_dir}"
        else:
            seen[folded] = line

    accepted = [line for line in candidates if line.reason is None]
    for file in {blocks[(line.intent, line.language)][0] for line in accepted}:
        text_lines = file.read_text(encoding="utf-8").split("\n")
        inserts = [(blocks[(l.intent, l.language)][1], l) for l in accepted
                   if blocks[(l.intent, l.language)][0] == file]
        for index, line in sorted(inserts, key=lambda x: (-x[0], -x[1].row)):  # bottom up: indices stay valid
            text_lines.insert(index + 1, f"    - {line.text}")
        _write_atomically(file, "\n".join(text_lines))
    result.added = accepted
    result.refused = [line for line in lines if line.reason is not None]
    return result


def describe(result: ImportResult) -> Iterable[str]:
    """What the import did, line by line, for the terminal."""
    for line in result.added:
        yield f"added    row {line.row}: [{line.language}] {line.intent}: {line.text}"
    for line in result.refused:
        yield f"refused  row {line.row}: [{line.language}] {line.intent}: {line.text!r}: {line.reason}"
    yield f"{len(result.added)} added, {len(result.refused)} refused" + (
        "; retrain with `make train` (or `make run`)" if result.added else "")
