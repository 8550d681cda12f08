"""`.venv/bin/python -m bench.ablate_other_languages`: how sure must lingua be before a message counts as another language?

Scored on dev lines only: the dev eighth of data/nlu/ (bench/ablate_word_forms.py),
as written and without diacritics, must stay in its language (a false "other"
costs a visitor of the six languages their answer), and bench/other_languages_dev.yml
(lines in the neighbouring languages, not the held-out set) must be recognised.
Our identifier's confidence comes from the dev split's model (`bench.ablate_social`
trains it). Writes reports/ablation/other_languages.md.
"""
from __future__ import annotations

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

# (lingua's confidence, words, ours below, lingua gives ours at most; -1: never) and lingua alone (ours ignored).
RULES = [OtherLanguageRule(c, 2, 1.01, 1.0) for c in (0.7, 0.99)] + [
    OtherLanguageRule(c, w, 0.7, g) for c in (0.5, 0.7) for w in (2, 3) for g in (-1.0, 0.0001, 0.01, 0.05)]


def dev_language_model():
    """The language identifier of the dev split's model, read from its archive (no Rasa needed)."""
    import json
    import tarfile

    from bot.language_model import LanguageModel

    with tarfile.open(OUT / "models" / f"{MODEL_NAME}.tar.gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("LanguageIdentifier1/language_model.json"))
        return LanguageModel.from_dict(json.loads(archive.extractfile(member).read()))


def main() -> None:
    logging.getLogger("rasa").setLevel(logging.ERROR)
    ours = [(text, language) for text, language, _, _ in load_test_set(SPLIT / "dev")]
    ours += [(plain(text), language) for text, language in ours if plain(text) != text.lower()]
    others: List[Tuple[str, str]] = [(text, language) for language, lines in
                                     yaml.safe_load((ROOT / "bench" / "other_languages_dev.yml").read_text()).items()
                                     for text in lines]
    model = dev_language_model()
    guesses = [model.identify(t) for t, _ in ours + others]
    confidences = [(g.confidence, g.name) for g in guesses]
    lines = ["| lingua at least | words at least | ours below, or lingua gives ours at most | six languages kept | others recognised |",
             "|---|---|---|---|---|"]
    for rule in RULES:
        kept = sum(other_language(t, c, rule, g) is None for (t, _), (c, g) in zip(ours, confidences))
        found = sum((other_language(t, c, rule, g) or ('',))[0] == lang
                    for (t, lang), (c, g) in zip(others, confidences[len(ours):]))
        lines.append(f"| {rule.confidence} | {rule.min_words} | {rule.ours_below} / {rule.guess_at_most} | {kept / len(ours):.4f} "
                     f"({len(ours) - kept} of {len(ours)} lost) | {found / len(others):.3f} ({found} of {len(others)}) |")
    markdown = "\n".join(lines) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "other_languages.md").write_text(markdown)
    log("done")
    print(markdown)


if __name__ == "__main__":
    main()
