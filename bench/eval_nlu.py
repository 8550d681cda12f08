"""`make eval-nlu`: scores the trained model on the held-out set (tests/nlu/).

Writes reports/nlu/results.json and results.md (intent accuracy, macro-F1,
entity F1 and language-ID accuracy per language, language ID beside
langdetect, lingua and langid) and one confusion matrix PNG per language;
then the message sets of bench/message_sets.py per language: the held-out
questions plain, after a greeting, after thanks, with a greeting or thanks at
the end, two questions in one message (all answered, in order), lines typed
carelessly, without diacritics, and messages in other languages. A message
with one question counts as right only when it is answered once: split into
two turns, it is wrong even if one of them is the right intent.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from bot.language_model import LANGUAGES  # noqa: E402

MODEL = ROOT / "models" / "cps-assistant.tar.gz"
TEST_DIR = ROOT / "tests" / "nlu"
OUT = ROOT / "reports" / "nlu"
SHORT_MAX_WORDS = 3

Example = Tuple[str, str, str, List[Tuple[str, str]]]  # text, language, intent, entities


def load_test_set(directory: Path = TEST_DIR) -> List[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples: List[Example] = []
    for path in sorted(directory.glob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            language = ((message.get("metadata") or {}).get("intent") or {}).get("language")
            examples.append((message.get("text"), language, message.get("intent"),
                             entity_pairs(message.get("entities") or [])))
    return examples


def peer_identifiers() -> Dict[str, Callable[[str], str]]:
    """langdetect, lingua and langid, each restricted to our six languages."""
    import langid
    from langdetect import DetectorFactory, detect_langs
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    DetectorFactory.seed = 0
    lingua_detector = LanguageDetectorBuilder.from_iso_codes_639_1(
        *[getattr(IsoCode639_1, c.upper()) for c in LANGUAGES]
    ).build()
    langid.set_languages(list(LANGUAGES))

    def with_langdetect(text: str) -> str:
        try:
            ranked = [g for g in detect_langs(text) if g.lang in LANGUAGES]
        except Exception:  # langdetect raises on text without features
            return "?"
        return ranked[0].lang if ranked else "?"

    def with_lingua(text: str) -> str:
        found = lingua_detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found else "?"

    return {
        "langdetect": with_langdetect,
        "lingua": with_lingua,
        "langid": lambda text: langid.classify(text)[0],
    }


def entity_pairs(entities: List[dict]) -> List[Tuple[str, str]]:
    """Entities (of a test example or a parse result) as the (entity, value) pairs that are scored."""
    return [(e["entity"], str(e.get("value"))) for e in entities]


def overall_entity_f1(examples: List[Example], parsed: List[dict]) -> Dict[str, float]:
    return entity_f1([e[3] for e in examples], [entity_pairs(p["entities"]) for p in parsed])


def entity_f1(gold: Sequence[List[Tuple[str, str]]], predicted: Sequence[List[Tuple[str, str]]]) -> Dict[str, float]:
    tp = fp = fn = 0
    for g, p in zip(gold, predicted):
        g_left, p_left = list(g), list(p)
        for item in list(p_left):
            if item in g_left:
                g_left.remove(item)
                p_left.remove(item)
                tp += 1
        fp += len(p_left)
        fn += len(g_left)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def plot_confusion(language: str, gold: List[str], predicted: List[str]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = sorted(set(gold) | set(predicted))
    fig, ax = plt.subplots(figsize=(14, 14))
    ConfusionMatrixDisplay.from_predictions(
        gold, predicted, labels=labels, ax=ax, xticks_rotation=90, colorbar=False
    )
    ax.set_title(f"Intent confusion, held-out set, {language}")
    fig.tight_layout()
    path = OUT / f"confusion_{language}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


async def parse_all(examples: List[Example], model: Path = MODEL) -> Tuple[List[dict], List[float]]:
    parsed, latencies = await parse_texts([e[0] for e in examples], model, "parsing held-out set")
    return parsed, latencies


_AGENTS: Dict[str, object] = {}


async def parse_texts(texts: Sequence[str], model: Path = MODEL, label: str = "parsing") -> Tuple[List[dict], List[float]]:
    """Every text parsed in-process by the model (loaded once per model path), with each parse's latency in ms."""
    import structlog
    from rasa.core.agent import Agent

    if str(model) not in _AGENTS:
        _AGENTS[str(model)] = Agent.load(str(model))
        if "--parts-off" in sys.argv:
            parts_off(_AGENTS[str(model)])
    agent = _AGENTS[str(model)]
    # Rasa 3.6 logs every parse through structlog at debug level: keep the progress bar readable.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parsed, latencies = [], []
    for text in tqdm(texts, desc=label, unit="msg"):
        start = time.perf_counter()
        parsed.append(await agent.parse_message(text))  # type: ignore[attr-defined]
        latencies.append((time.perf_counter() - start) * 1000)
    return parsed, latencies


def parts_off(agent: object) -> None:
    """The intent classifier reads whole messages only, as before issue #22 (`make eval-nlu` with
    `--parts-off` gives the figures the README compares with)."""
    from bot.linear_intents import LinearIntentClassifier

    for node in agent.processor.graph_runner._instantiated_nodes.values():  # type: ignore[attr-defined]
        component = getattr(node, "_component", None)
        if isinstance(component, LinearIntentClassifier):
            component._config = {**component._config, "social_threshold": 9, "question_threshold": 9}


def _per_language(items: Sequence[Tuple[str, bool]]) -> Dict[str, float]:
    """(language, hit) pairs -> share of hits per language and "all"."""
    by_language: Dict[str, List[bool]] = defaultdict(list)
    for language, hit in items:
        by_language[language].append(hit)
        by_language["all"].append(hit)
    return {language: sum(hits) / len(hits) for language, hits in by_language.items()}


async def message_set_scores(examples: List[Example], model: Path = MODEL) -> Dict[str, dict]:
    """The message sets of bench/message_sets.py, scored per language (see the module's docstring)."""
    from bench import message_sets as sets
    from bot.language_model import content_words

    results: Dict[str, dict] = {}
    for name, items in sets.social_sets(examples).items():
        parsed, _ = await parse_texts([t for t, _, _ in items], model, name)
        results[name] = _per_language([(lang, sets.answered(p) == gold) for (_, lang, gold), p in zip(items, parsed)])
        results[name]["language ID"] = sum(p["language"]["name"] == lang for (_, lang, _), p in zip(items, parsed)) / len(items)
    two = sets.two_question_set()
    parsed, _ = await parse_texts([t for t, _, _ in two], model, "two questions")
    results["two questions, all answered"] = _per_language(
        [(lang, sets.all_answered(p, gold)) for (_, lang, gold), p in zip(two, parsed)])
    noisy = sets.noisy_set(examples)
    parsed, _ = await parse_texts([t for t, _, _, _ in noisy], model, "typed carelessly")
    results["typed carelessly"] = _per_language([(lang, sets.answered(p) == [gold])
                                                 for (_, lang, gold, _), p in zip(noisy, parsed)])
    results["typed carelessly, language ID"] = _per_language([(lang, p["language"]["name"] == lang)
                                                              for (_, lang, _, _), p in zip(noisy, parsed)])
    results["typed carelessly, by kind"] = {
        kind: sum(sets.answered(p) == [gold] for (_, _, gold, k), p in zip(noisy, parsed) if k == kind)
        / max(1, sum(k == kind for *_, k in noisy)) for kind in sets.NOISE_KINDS}
    bare = [(sets.noisy(text, lang, "no diacritics"), lang) for text, lang, _, _ in examples]
    parsed, _ = await parse_texts([t for t, _ in bare], model, "no diacritics")
    results["no diacritics, language ID"] = _per_language([(lang, p["language"]["name"] == lang)
                                                          for (_, lang), p in zip(bare, parsed)])
    results["no diacritics, intent"] = _per_language([(lang, sets.answered(p) == [e[2]])
                                                     for (_, lang), p, e in zip(bare, parsed, examples)])
    others = sets.other_language_set()
    parsed, _ = await parse_texts([t for t, _, _ in others], model, "other languages")
    results["other languages recognised"] = _per_language([(lang, p["language"]["name"] == lang)
                                                          for (_, lang, _), p in zip(others, parsed)])
    results["other languages, intent still right"] = _per_language(
        [(lang, p["intent"]["name"] == intent) for (_, lang, intent), p in zip(others, parsed)])
    return results


def three_words_or_more(text: str) -> bool:
    """The messages the language-ID promise of three words or more is about."""
    return len(text.split()) >= 3


def top_intent(parsed: dict) -> str:
    """The classifier's best intent, ignoring the FallbackClassifier's verdict."""
    ranking = [r["name"] for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    return ranking[0] if ranking else (parsed["intent"]["name"] or "none")


def indices_by_language(examples: List[Example]) -> Dict[str, List[int]]:
    by_language: Dict[str, List[int]] = defaultdict(list)
    for i, (_, language, _, _) in enumerate(examples):
        by_language[language].append(i)
    return by_language


def intent_scores(examples: List[Example], parsed: List[dict], plot: bool = False) -> Dict[str, dict]:
    """Intent accuracy, macro-F1 and entity F1 per language (and a confusion matrix PNG)."""
    from sklearn.metrics import f1_score

    results: Dict[str, dict] = {}
    by_language = indices_by_language(examples)
    for language in LANGUAGES:
        idx = by_language.get(language, [])
        if not idx:
            continue
        gold = [examples[i][2] for i in idx]
        predicted = [parsed[i]["intent"]["name"] or "none" for i in idx]
        top = [top_intent(parsed[i]) for i in idx]
        gold_entities = [examples[i][3] for i in idx]
        predicted_entities = [entity_pairs(parsed[i]["entities"]) for i in idx]
        results[language] = {
            "examples": len(idx),
            "intent_accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(idx),
            "top_intent_accuracy": sum(g == p for g, p in zip(gold, top)) / len(idx),
            "intent_macro_f1": f1_score(gold, predicted, average="macro", zero_division=0),
            "entities": entity_f1(gold_entities, predicted_entities),
        }
        if plot:
            results[language]["confusion_matrix"] = plot_confusion(language, gold, predicted).name
    return results


def main() -> None:
    logging.getLogger("rasa").setLevel(logging.ERROR)
    OUT.mkdir(parents=True, exist_ok=True)
    examples = load_test_set()
    print(f"==> {len(examples)} held-out examples in {len(set(e[1] for e in examples))} languages")
    parsed, latencies = asyncio.run(parse_all(examples))

    peers = peer_identifiers()
    peer_guesses = {
        name: [identify(text) for text, *_ in tqdm(examples, desc=f"language ID: {name}", unit="msg")]
        for name, identify in peers.items()
    }

    by_language = indices_by_language(examples)
    results: Dict[str, dict] = {"languages": intent_scores(examples, parsed, plot=True)}
    identifiers = {"ours": [p["language"]["name"] for p in parsed], **peer_guesses}
    short = [i for i, e in enumerate(examples) if len(e[0].split()) <= SHORT_MAX_WORDS]
    long_ = [i for i, e in enumerate(examples) if len(e[0].split()) > SHORT_MAX_WORDS]
    results["language_id"] = {
        name: {
            "all": sum(g[i] == examples[i][1] for i in range(len(examples))) / len(examples),
            "1-3 words": sum(g[i] == examples[i][1] for i in short) / max(1, len(short)),
            "4+ words": sum(g[i] == examples[i][1] for i in long_) / max(1, len(long_)),
            **{
                lang: sum(g[i] == lang for i in by_language[lang]) / max(1, len(by_language[lang]))
                for lang in LANGUAGES
            },
        }
        for name, g in identifiers.items()
    }
    results["language_id_counts"] = {"1-3 words": len(short), "4+ words": len(long_)}
    results["entities_overall"] = overall_entity_f1(examples, parsed)
    results["parse_latency_ms"] = {
        "p50": statistics.median(latencies),
        "p95": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
    }
    results["language_id_3_words"] = {
        lang: sum(p["language"]["name"] == lang for i in by_language[lang] for p in [parsed[i]]
                  if three_words_or_more(examples[i][0])) / max(1, sum(three_words_or_more(examples[i][0]) for i in by_language[lang]))
        for lang in LANGUAGES}
    results["message_sets"] = asyncio.run(message_set_scores(examples))
    name = "results-parts-off" if "--parts-off" in sys.argv else "results"
    (OUT / f"{name}.json").write_text(json.dumps(results, indent=2))
    (OUT / f"{name}.md").write_text(render_markdown(results))
    print(render_markdown(results))
    print(f"==> written to {OUT.relative_to(ROOT)}/")


def render_markdown(results: dict) -> str:
    lines = ["## Intents and entities (held-out set)", "",
             "Intent accuracy counts a fallback (below the FallbackClassifier's threshold) as wrong;",
             "top intent is the classifier's best guess alone.", "",
             "| language | examples | intent accuracy | top intent | intent macro-F1 | entity F1 |",
             "|---|---|---|---|---|---|"]
    for language, r in results["languages"].items():
        lines.append(
            f"| {language} | {r['examples']} | {r['intent_accuracy']:.3f} | {r['top_intent_accuracy']:.3f} | "
            f"{r['intent_macro_f1']:.3f} | {r['entities']['f1']:.3f} (n={r['entities']['support']}) |"
        )
    lines += ["", f"Entity F1 overall: {results['entities_overall']['f1']:.3f}", "",
              "## Language identification (held-out set)", "",
              "| identifier | all | 1-3 words | 4+ words | " + " | ".join(LANGUAGES) + " |",
              "|---" * (4 + len(LANGUAGES)) + "|"]
    for name, r in results["language_id"].items():
        lines.append(
            f"| {name} | {r['all']:.3f} | {r['1-3 words']:.3f} | {r['4+ words']:.3f} | "
            + " | ".join(f"{r[lang]:.3f}" for lang in LANGUAGES) + " |"
        )
    counts = results["language_id_counts"]
    lat = results["parse_latency_ms"]
    lines += ["", f"Messages: {counts['1-3 words']} of 1-3 words, {counts['4+ words']} of 4+ words.",
              f"In-process parse latency: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms.", ""]
    if "language_id_3_words" in results:
        lines += ["Language ID, ours, messages of three words or more: " + ", ".join(
            f"{lang} {v:.3f}" for lang, v in results["language_id_3_words"].items()), ""]
    if "message_sets" in results:
        lines += render_message_sets(results["message_sets"])
    return "\n".join(lines)


def render_message_sets(sets: Dict[str, dict]) -> List[str]:
    """The message sets' table: intent accuracy (a fallback counts as wrong) unless the row says otherwise."""
    lines = ["## Messages as people write them (bench/message_sets.py)", "",
             "| set | " + " | ".join(LANGUAGES) + " | all |", "|---" * (len(LANGUAGES) + 2) + "|"]
    for name, row in sets.items():
        if name == "typed carelessly, by kind":
            continue
        cells = [f"{row[lang]:.3f}" if lang in row else "" for lang in LANGUAGES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {row.get('all', 0):.3f} |")
    others = sets.get("other languages recognised", {})
    lines += ["", "Other languages recognised, per language: " + ", ".join(
        f"{k} {v:.2f}" for k, v in others.items() if k != "all"),
              "Typed carelessly, intent accuracy by kind: " + ", ".join(
        f"{k} {v:.3f}" for k, v in sets.get("typed carelessly, by kind", {}).items()), ""]
    return lines


if __name__ == "__main__":
    main()
