"""`make ablate-spacy`: does a spaCy step help our NLU? Measured, not assumed.

Trains the NLU pipeline of config.yml twice, as it is and with
bot.spacy_lemmas.SpacyLookupLemmatizer after the tokenizer, scores both on the
held-out set (tests/nlu/) and writes reports/ablation/spacy.{json,md}. spaCy and
spacy-lookups-data (bench/ablation-requirements.txt, from PyPI) go into
reports/ablation/site, not into .venv: the assistant carries spaCy only if this
table says it helps.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_nlu import intent_scores, load_test_set, parse_all  # noqa: E402

OUT = ROOT / "reports" / "ablation"
SITE = OUT / "site"
REQUIREMENTS = ROOT / "bench" / "ablation-requirements.txt"
PY = str(ROOT / ".venv" / "bin" / "python")


def log(message: str) -> None:
    print(f"[ablate {time.strftime('%H:%M:%S')}] {message}", flush=True)


def install_spacy() -> None:
    if (SITE / "spacy").exists():
        return
    log("installing spaCy and spacy-lookups-data into reports/ablation/site (PyPI)")
    subprocess.run([PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--target", str(SITE), "-r", str(REQUIREMENTS)], check=True)


def variant_config(with_spacy: bool) -> Path:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    if with_spacy:
        at = next(i for i, c in enumerate(config["pipeline"]) if c["name"].endswith("LanguageIdentifier")) + 1
        config["pipeline"].insert(at, {"name": "bot.spacy_lemmas.SpacyLookupLemmatizer"})
    path = OUT / f"config-{'spacy' if with_spacy else 'plain'}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def train(name: str, config: Path, nlu: Path = ROOT / "data" / "nlu") -> Dict[str, object]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{SITE}", "RASA_TELEMETRY_ENABLED": "false",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    log(f"training the NLU pipeline: {name}")
    started = time.monotonic()
    subprocess.run([str(ROOT / ".venv" / "bin" / "rasa"), "train", "nlu", "--config", str(config),
                    "--nlu", str(nlu), "--out", str(OUT / "models"), "--fixed-model-name", name, "--quiet"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return {"model": OUT / "models" / f"{name}.tar.gz", "train_s": time.monotonic() - started}


def main() -> None:
    logging.getLogger("rasa").setLevel(logging.ERROR)  # parse-level debug lines would drown the progress bar
    OUT.mkdir(parents=True, exist_ok=True)
    install_spacy()
    sys.path.insert(0, str(SITE))
    examples = load_test_set()
    results: Dict[str, dict] = {}
    for name, with_spacy in (("plain", False), ("spacy-lemmas", True)):
        trained = train(name, variant_config(with_spacy))
        parsed, _ = asyncio.run(parse_all(examples, trained["model"]))
        results[name] = {"train_s": trained["train_s"], "languages": intent_scores(examples, parsed)}
    (OUT / "spacy.json").write_text(json.dumps(results, indent=2))
    markdown = render(results)
    (OUT / "spacy.md").write_text(markdown)
    print(markdown)


def render(results: Dict[str, dict]) -> str:
    plain, spacy = results["plain"]["languages"], results["spacy-lemmas"]["languages"]
    lines = ["| language | intent accuracy: plain / + spaCy lemmas | macro-F1: plain / + spaCy | "
             "entity F1: plain / + spaCy |", "|---|---|---|---|"]
    for language in plain:
        p, s = plain[language], spacy[language]
        lines.append(f"| {language} | {p['intent_accuracy']:.3f} / {s['intent_accuracy']:.3f} | "
                     f"{p['intent_macro_f1']:.3f} / {s['intent_macro_f1']:.3f} | "
                     f"{p['entities']['f1']:.3f} / {s['entities']['f1']:.3f} |")
    lines += ["", f"Training (NLU only): plain {results['plain']['train_s']:.0f}s, "
                  f"+ spaCy lemmas {results['spacy-lemmas']['train_s']:.0f}s", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
