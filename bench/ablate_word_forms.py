"""`make ablate-word-forms`: which word forms should the features count? Chosen on a dev split.

The variants of bot.plain_words.PlainWords (words as typed, diacritic-free
words, diacritic-free stems of 5, 6 or 8 letters, and diacritic-free char
n-grams with 5-letter word stems) are each trained NLU-only on seven eighths
of data/nlu/ and scored on the rest, so that the held-out set (tests/nlu/)
stays unseen while choosing. Examples are mostly written as pairs (with and
without diacritics), so the split holds out whole pairs: every eighth pair of
example lines in each intent block. Writes reports/ablation/word_forms.{json,md}.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ablate_spacy import OUT, log, train  # noqa: E402
from bench.eval_nlu import intent_scores, load_test_set, overall_entity_f1, parse_all  # noqa: E402

SPLIT = OUT / "dev-split"
HELD_OUT_PAIR = 3  # which pair of every eight goes to the dev split
PLAIN_WORDS = "bot.plain_words.PlainWords"

# Variant name -> (form the char n-grams see, form the word counts see): None for the words as
# typed, else PlainWords' prefix length (0: whole diacritic-free word). The README table, "Word forms".
VARIANTS: Dict[str, Tuple[Optional[int], Optional[int]]] = {
    "words as typed": (None, None),
    "diacritic-free words": (0, 0),
    "first 5 letters, diacritic-free": (None, 5),
    "first 6 letters, diacritic-free": (None, 6),
    "first 8 letters, diacritic-free": (8, 8),
    "char n-grams diacritic-free, words cut to 5": (0, 5),
}


def write_dev_split() -> None:
    """data/nlu/ split into SPLIT/train/ (same files, fewer examples) and SPLIT/dev/dev.yml."""
    dev: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    (SPLIT / "train").mkdir(parents=True, exist_ok=True)
    (SPLIT / "dev").mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        kept: List[str] = []
        intent, language, position = None, None, 0
        for line in path.read_text().splitlines():
            if match := re.match(r"- intent: (\S+)", line):
                intent, position = match.group(1), 0
            elif line.startswith("- "):
                intent = None  # a synonym, lookup or regex block: all of it trains
            elif match := re.match(r"\s+language: (\w+)", line):
                language = match.group(1)
            elif intent and line.startswith("    - "):
                position += 1
                if (position - 1) // 2 % 8 == HELD_OUT_PAIR:
                    dev[(intent, language)].append(line)
                    continue
            kept.append(line)
        (SPLIT / "train" / path.name).write_text("\n".join(kept) + "\n")
    blocks = ['version: "3.1"', "nlu:"]
    for (intent, language), lines in dev.items():
        blocks += [f"- intent: {intent}", "  metadata:", f"    language: {language}", "  examples: |", *lines]
    (SPLIT / "dev" / "dev.yml").write_text("\n".join(blocks) + "\n")


def variant_config(name: str, char_form: Optional[int], word_form: Optional[int]) -> Path:
    """config.yml with PlainWords placed and cut as the variant says."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    pipeline = [c for c in config["pipeline"] if c["name"] != PLAIN_WORDS]
    words = next(c for c in pipeline if c["name"] == "CountVectorsFeaturizer" and "analyzer" not in c)
    chars = next(c for c in pipeline if c.get("analyzer") == "char_wb")
    after_language_id = next(i for i, c in enumerate(pipeline) if c["name"].endswith("LanguageIdentifier")) + 1
    if char_form is not None and char_form != word_form:  # two forms: features are taken in pipeline order
        pipeline.remove(words)
        at = pipeline.index(chars)
        pipeline[at:at + 1] = [{"name": PLAIN_WORDS, "prefix_length": char_form}, chars,
                               {"name": PLAIN_WORDS, "prefix_length": word_form}, words]
    elif word_form is not None:  # one step, where config.yml has it
        pipeline.insert(after_language_id, {"name": PLAIN_WORDS, "prefix_length": word_form})
        if char_form is None:  # char n-grams from the text as typed
            chars["use_lemma"] = False
    config["pipeline"] = pipeline
    path = OUT / f"config-{re.sub(r'[^a-z0-9]+', '-', name)}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


def main() -> None:
    logging.getLogger("rasa").setLevel(logging.ERROR)
    OUT.mkdir(parents=True, exist_ok=True)
    write_dev_split()
    examples = load_test_set(SPLIT / "dev")
    log(f"dev split: {len(examples)} examples held out of data/nlu/")
    results: Dict[str, dict] = {}
    for n, (name, prefixes) in enumerate(VARIANTS.items(), 1):
        log(f"variant {n}/{len(VARIANTS)}: {name}")
        trained = train(f"word-forms-{n}", variant_config(name, *prefixes), SPLIT / "train")
        parsed, _ = asyncio.run(parse_all(examples, trained["model"]))
        results[name] = {"train_s": trained["train_s"], "entity_f1": overall_entity_f1(examples, parsed)["f1"],
                         "intent_accuracy": {language: r["intent_accuracy"]
                                             for language, r in intent_scores(examples, parsed).items()}}
    (OUT / "word_forms.json").write_text(json.dumps(results, indent=2))
    markdown = render(results)
    (OUT / "word_forms.md").write_text(markdown)
    print(markdown)


def render(results: Dict[str, dict]) -> str:
    languages = list(next(iter(results.values()))["intent_accuracy"])
    lines = [f"| features from | {' | '.join(languages)} | mean | entity F1 | NLU training |",
             "|---|" + "---|" * (len(languages) + 3)]
    for name, result in results.items():
        accuracy = result["intent_accuracy"]
        mean = sum(accuracy.values()) / len(accuracy)
        lines.append(f"| {name} | {' | '.join(f'{accuracy[x]:.3f}' for x in languages)} | {mean:.3f} | "
                     f"{result['entity_f1']:.3f} | {result['train_s']:.0f} s |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
