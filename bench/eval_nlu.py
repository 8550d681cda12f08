"""`make eval-nlu`: scores the trained model on the held-out set (tests/nlu/).

Writes reports/nlu/results.json and results.md (intent accuracy, macro-F1,
entity F1 and language-ID accuracy per language, language ID beside
langdetect, lingua and langid) and one confusion matrix PNG per language.
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
    import structlog
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    # Rasa 3.6 logs every parse through structlog at debug level: keep the progress bar readable.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parsed, latencies = [], []
    for text, *_ in tqdm(examples, desc="parsing held-out set", unit="msg"):
        start = time.perf_counter()
        parsed.append(await agent.parse_message(text))
        latencies.append((time.perf_counter() - start) * 1000)
    return parsed, latencies


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
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    (OUT / "results.md").write_text(render_markdown(results))
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
    return "\n".join(lines)


if __name__ == "__main__":
    main()
