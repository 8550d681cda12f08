"""`.venv/bin/python -m bench.ablate_social`: greetings around a question and two questions in one message, chosen on a dev split.

The NLU pipeline is trained on seven eighths of data/nlu/ (the split of
bench/ablate_word_forms.py; DIET for 1 epoch, since only intents are scored
here) and the dev eighth is turned into the kinds of message people write:
each dev question alone, after a greeting, after thanks, followed by thanks,
and two dev questions of different intents joined by the language's "and" or
as two sentences (questions: intents other than yes, no, values, help, out of
scope; "question alone" has every dev line). The greetings and thanks are the dev split's own short
`greet` and `thank` lines. The dev split's `greet` and `thank` lines alone show
what the mechanism costs them. Each setting of bot/clauses.py's thresholds
(and the mechanism off) is scored on the same parses, so the held-out sets
(tests/nlu/) stay unseen while choosing. Writes reports/ablation/social.{json,md}.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ablate_spacy import OUT, log, train  # noqa: E402
from bench.ablate_word_forms import SPLIT, write_dev_split  # noqa: E402
from bench.eval_nlu import load_test_set  # noqa: E402
from bot.clauses import NOT_A_QUESTION, SOCIAL_INTENTS  # noqa: E402
from bot.language_model import LANGUAGES  # noqa: E402

MODEL_NAME = "social-dev"
AND = {"cs": "a", "hu": "és", "da": "og", "lt": "ir", "fi": "ja", "en": "and"}
# (social, rest, question) thresholds; None: the mechanism off (the message read as a whole only).
# (social, rest, question thresholds, the rest must ask something); None: the mechanism off.
# (social, rest, question thresholds, the rest must ask something, the rest must be surer than the whole);
# None: the mechanism off.
SETTINGS: List[Tuple[str, object]] = [("off", None)] + [
    (f"social {s}, rest {r}{' (asks)' if a else ''}{' (beats whole)' if b else ''}, question {q}", (s, r, q, a, b))
    for s, r, q, a, b in ((0.5, 0.5, 0.7, False, False), (0.5, 0.5, 0.7, True, False),
                          (0.5, 0.5, 0.7, False, True), (0.5, 0.5, 0.7, True, True), (0.5, 0.5, 0.5, True, True))]


def dev_config() -> Path:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    for component in config["pipeline"]:
        if component["name"].endswith("LeanDIETClassifier"):
            component["epochs"] = 1
    path = OUT / "config-social-dev.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def dev_sets(seed: int = 7) -> Dict[str, List[Tuple[str, str, List[str]]]]:
    """name -> [(text, language, gold intents)]: one gold intent, or the two questions in order."""
    rng = random.Random(seed)
    examples = load_test_set(SPLIT / "dev")
    questions: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    social: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    for text, language, intent, _ in examples:
        if intent in SOCIAL_INTENTS:
            if len(text.split()) <= 3:
                social[(intent, language)].append(text.rstrip(".!"))
        else:
            questions[language].append((text, intent))
    sets: Dict[str, List[Tuple[str, str, List[str]]]] = defaultdict(list)
    for text, language, intent, _ in examples:
        if intent in SOCIAL_INTENTS:
            sets["greet and thank alone"].append((text, language, [intent]))
    for language in LANGUAGES:
        greets = social[("greet", language)] or ["Hello"]
        thanks = social[("thank", language)] or ["Thanks"]
        answerable = [(t, i) for t, i in questions[language] if i not in NOT_A_QUESTION]
        for n, (text, intent) in enumerate(questions[language]):
            sets["question alone"].append((text, language, [intent]))
            if intent in NOT_A_QUESTION:  # as in the held-out sets: greetings go in front of questions
                continue
            separator = (", ", "! ", " ")[n % 3]
            sets["greeting in front"].append((f"{rng.choice(greets)}{separator}{lower_first(text)}", language, [intent]))
            sets["thanks in front"].append((f"{rng.choice(thanks)}{separator}{lower_first(text)}", language, [intent]))
            sets["thanks at the end"].append((f"{text.rstrip()} {lower_first(rng.choice(thanks))}", language, [intent]))
        for n in range(len(answerable) // 2):
            (first, one), (second, two) = rng.sample(answerable, 2)
            if one == two:
                continue
            joined = (f"{first.rstrip(' ?.!')} {AND[language]} {lower_first(second)}" if n % 2
                      else f"{first.rstrip(' ?.!')}? {second}")
            sets["two questions"].append((joined, language, [one, two]))
    return sets


def correct(parse: dict, gold: List[str]) -> bool:
    if len(gold) == 1:  # one question, answered once: a second turn the visitor did not ask for is wrong
        return parse["intent"]["name"] == gold[0] and not parse.get("questions")
    return [q["intent"]["name"] for q in parse.get("questions") or []] == gold


async def score(model: Path, sets: Dict[str, List[Tuple[str, str, List[str]]]]) -> Dict[str, dict]:
    """Parses every message once, then re-runs only the intent classifier under each setting."""
    from rasa.core.agent import Agent

    from bot.linear_intents import QUESTIONS, LinearIntentClassifier

    agent = Agent.load(str(model))
    node = next(node for node in agent.processor.graph_runner._instantiated_nodes.values()
                if isinstance(getattr(node, "_component", None), LinearIntentClassifier))
    classifier, run = node._component, node._fn
    captured = []
    node._fn = lambda component, messages: run(component, captured.extend(messages) or messages)
    messages = {}
    for set_name, items in sets.items():
        log(f"parsing {set_name}")
        for text, _, _ in items:
            if text not in messages:
                await agent.parse_message(text)
                messages[text] = captured[-1]
    node._fn = run
    original = classifier.process
    results: Dict[str, dict] = {}
    for name, thresholds in SETTINGS:
        social, rest, question, asks, beats = thresholds if thresholds is not None else (9, 9, 9, True, True)
        classifier._config = {**classifier._config, "social_threshold": social, "rest_threshold": rest,
                              "question_threshold": question, "rest_asks": asks, "rest_beats_whole": beats}
        by_set: Dict[str, Dict[str, float]] = {}
        for set_name, items in sets.items():
            hits: Dict[str, List[bool]] = defaultdict(list)
            for text, language, gold in items:
                message = original([messages[text]])[0]
                parse = {"intent": message.get("intent"), "questions": message.get(QUESTIONS)}
                hits[language].append(correct(parse, gold))
            by_set[set_name] = {language: sum(h) / len(h) for language, h in hits.items()}
        results[name] = by_set
        log(f"{name}: " + ", ".join(f"{s} {sum(v.values()) / len(v):.3f}" for s, v in by_set.items()))
    return results


def render(results: Dict[str, dict]) -> str:
    set_names = list(next(iter(results.values())))
    lines = ["| setting | " + " | ".join(set_names) + " |", "|---|" + "---|" * len(set_names)]
    for name, by_set in results.items():
        cells = [f"{sum(v.values()) / len(v):.3f} / {min(v.values()):.3f}" for v in by_set.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nEach cell: mean over the six languages / worst language.\n"


def main() -> None:
    logging.getLogger("rasa").setLevel(logging.ERROR)
    OUT.mkdir(parents=True, exist_ok=True)
    model = OUT / "models" / f"{MODEL_NAME}.tar.gz"
    if not model.exists() or "--train" in sys.argv:
        write_dev_split()
        train(MODEL_NAME, dev_config(), SPLIT / "train")
    sets = dev_sets()
    log("dev sets: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    results = asyncio.run(score(model, sets))
    (OUT / "social.json").write_text(json.dumps(results, indent=2))
    markdown = render(results)
    (OUT / "social.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
