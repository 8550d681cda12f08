"""`.venv/bin/python -m bench.ablate_other_languages`: how sure must lingua be before a message counts as another language?

Scored on dev lines only: the dev eighth of data/nlu/ (bench/ablate_word_forms.py),
as written and without diacritics, must stay in its language (a false "other"
costs a visitor of the six languages their answer), and bench/other_languages_dev.yml
(lines in the neighbouring languages, not the held-out set) must be recognised.
Our identifier's confidence comes from the dev split's model (`bench.ablate_social`
trains it). Writes reports/ablation/other_languages.md.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ablate_social import MODEL_NAME  # noqa: E402
from bench.ablate_spacy import OUT, log  # noqa: E402
from bench.ablate_word_forms import SPLIT  # noqa: E402
from bench.eval_nlu import load_test_set  # noqa: E402
from bot.folding import plain  # noqa: E402
from bot.other_languages import OtherLanguageRule, other_language  # noqa: E402

RULES = [OtherLanguageRule(c, w, o) for c in (0.5, 0.6, 0.7, 0.8, 0.9) for w in (1, 2, 3) for o in (0.9, 1.01)]


async def our_confidences(texts: List[str]) -> List[float]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(OUT / "models" / f"{MODEL_NAME}.tar.gz"))
    return [(await agent.parse_message(text))["language"]["confidence"] for text in texts]


def main() -> None:
    logging.getLogger("rasa").setLevel(logging.ERROR)
    ours = [(text, language) for text, language, _, _ in load_test_set(SPLIT / "dev")]
    ours += [(plain(text), language) for text, language in ours if plain(text) != text.lower()]
    others: List[Tuple[str, str]] = [(text, language) for language, lines in
                                     yaml.safe_load((ROOT / "bench" / "other_languages_dev.yml").read_text()).items()
                                     for text in lines]
    confidences = asyncio.run(our_confidences([t for t, _ in ours + others]))
    lines = ["| lingua at least | words at least | ours below | six languages kept | others recognised |",
             "|---|---|---|---|---|"]
    for rule in RULES:
        kept = sum(other_language(t, c, rule) is None for (t, _), c in zip(ours, confidences))
        found = sum((other_language(t, c, rule) or ('',))[0] == lang for (t, lang), c in zip(others, confidences[len(ours):]))
        lines.append(f"| {rule.confidence} | {rule.min_words} | {rule.ours_below} | {kept / len(ours):.4f} "
                     f"({len(ours) - kept} of {len(ours)} lost) | {found / len(others):.3f} ({found} of {len(others)}) |")
    markdown = "\n".join(lines) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "other_languages.md").write_text(markdown)
    log("done")
    print(markdown)


if __name__ == "__main__":
    main()
