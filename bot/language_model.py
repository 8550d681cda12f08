"""A small language identifier for the six languages the assistant speaks.

Generic detectors (langdetect, lingua, langid) are trained on long, well-formed
text in dozens of languages. Our users type two-word chat messages, often
without diacritics, in only six languages, so a naive-Bayes model over
character n-grams trained on the project's own NLU examples does better, and
it can tell when a message carries no language at all ("ok", "CPS", "2100",
an e-mail address): then the conversation keeps its language.

This module has no Rasa dependency so that evaluation scripts can use it too.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

LANGUAGES: Tuple[str, ...] = ("cs", "hu", "da", "lt", "fi", "en")

_URL_OR_EMAIL = re.compile(r"(https?://\S+|www\.\S+|\S+@\S+)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_LONGEST_WORD = 25
_SHOUTING_MIN_WORDS = 3  # "bbbbbbbb…" or base64 is no word of any language
# Evidence too weak to switch a conversation's language stays below the
# threshold actions/language.py uses (0.7).
_WEAK_EVIDENCE = 0.5

# Words every language writes the same way in this domain. Tokens that the
# training data shows in four or more languages are added to these at fit time.
_ALWAYS_NEUTRAL = frozenset(
    "ok okay oki okey cps canon eos rf ef mark ii iii iv speedlite xf c pro "
    "silver gold platinum corporate email e mail id pdf www com http https".split()
)


@dataclass(frozen=True)
class LanguageGuess:
    """The identified language and how sure the model is (0 means: no evidence); `scores` holds
    every language's probability, so that a conversation's language can weigh in on short replies."""

    name: str
    confidence: float
    scores: Optional[Mapping[str, float]] = None

    def as_dict(self) -> Dict[str, object]:
        found: Dict[str, object] = {"name": self.name, "confidence": round(self.confidence, 4)}
        if self.scores:
            found["scores"] = {lang: round(p, 4) for lang, p in self.scores.items()}
        return found


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def content_words(text: str, neutral: Iterable[str] = _ALWAYS_NEUTRAL) -> List[str]:
    """Letter-only words of a message, without URLs, e-mails and neutral words."""
    neutral_set = set(neutral)
    stripped = _URL_OR_EMAIL.sub(" ", unicodedata.normalize("NFC", text))
    words = _WORD.findall(stripped)
    # Words in capitals are names, codes or button labels ("DROP TABLE", "EOS"), no language;
    # unless the whole message of three words or more is in capitals ("KOLIK MAM BODU").
    shouting = len(words) >= _SHOUTING_MIN_WORDS and all(w.isupper() for w in words)
    return [
        w.lower()
        for w in words
        if (shouting or not w.isupper()) and w.lower() not in neutral_set and 1 < len(w) <= _LONGEST_WORD
    ]


def _features(words: Sequence[str], max_n: int) -> List[str]:
    feats: List[str] = []
    for word in words:
        feats.append("w:" + word)
        padded = f"^{word}$"
        for n in range(1, max_n + 1):
            feats.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


class LanguageModel:
    """Multinomial naive Bayes over words and character 1–4-grams."""

    def __init__(
        self,
        log_probs: Optional[Dict[str, Dict[str, float]]] = None,
        unseen: Optional[Dict[str, float]] = None,
        neutral: Iterable[str] = _ALWAYS_NEUTRAL,
        max_n: int = 4,
        temperature: float = 3.0,
        shared: Iterable[str] = (),
    ) -> None:
        self.log_probs = log_probs or {}
        self.unseen = unseen or {}
        self.neutral = frozenset(neutral)
        self.shared = frozenset(shared)  # words seen in two or three languages ("ne", "super")
        self.max_n = max_n
        self.temperature = temperature

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        alpha: float = 0.1,
        neutral_min_languages: int = 4,
        **kwargs: float,
    ) -> "LanguageModel":
        """Learns from labelled texts; words seen in many languages become neutral."""
        languages_of_word: Dict[str, set] = defaultdict(set)
        for text, label in zip(texts, labels):
            for word in content_words(text):
                languages_of_word[word].add(label)
        neutral = set(_ALWAYS_NEUTRAL) | {
            w for w, langs in languages_of_word.items() if len(langs) >= neutral_min_languages
        }
        shared = {w for w, langs in languages_of_word.items() if 1 < len(langs) < neutral_min_languages}
        model = cls(neutral=neutral, shared=shared, **kwargs)
        counts: Dict[str, Counter] = {lang: Counter() for lang in sorted(set(labels))}
        for text, label in zip(texts, labels):
            counts[label].update(_features(content_words(text, neutral), model.max_n))
        vocabulary = set().union(*counts.values()) if counts else set()
        for lang, counter in counts.items():
            denominator = sum(counter.values()) + alpha * (len(vocabulary) + 1)
            model.log_probs[lang] = {
                f: math.log((c + alpha) / denominator) for f, c in counter.items()
            }
            model.unseen[lang] = math.log(alpha / denominator)
        return model

    def identify(self, text: str) -> LanguageGuess:
        words = content_words(text or "", self.neutral)
        if not self.log_probs or sum(len(w) for w in words) < 2:
            return LanguageGuess(LANGUAGES[-1], 0.0)
        feats = [f for f in _features(words, self.max_n) if self._known(f)]
        if not feats:
            return LanguageGuess(LANGUAGES[-1], 0.0)
        scores = {
            lang: sum(table.get(f, self.unseen[lang]) for f in feats)
            for lang, table in self.log_probs.items()
        }
        probabilities = self._softmax(scores)
        name = max(probabilities, key=probabilities.get)
        confidence = probabilities[name]
        if self._weak(words, name):
            confidence = min(confidence, _WEAK_EVIDENCE)
        return LanguageGuess(name, confidence, probabilities)

    def _weak(self, words: List[str], best: str) -> bool:
        """Mostly words the winning language's examples never used (German,
        French or gibberish scored on a few shared n-grams), or only words
        several languages share ("ne", "super")."""
        known = [w for w in words if "w:" + w in self.log_probs[best]]
        if len(known) * 3 < len(words) or not known:
            return True
        return len(known) == len(words) and all(w in self.shared for w in known)

    def _known(self, feature: str) -> bool:
        return any(feature in table for table in self.log_probs.values())

    def _softmax(self, scores: Dict[str, float]) -> Dict[str, float]:
        # NB log-likelihoods are sums over many correlated n-grams and so far
        # too sure of themselves; a temperature makes the confidence usable as
        # a threshold for "this message really is in another language".
        top = max(scores.values())
        weights = {k: math.exp((v - top) / self.temperature) for k, v in scores.items()}
        total = sum(weights.values())
        return {k: w / total for k, w in weights.items()}

    def to_dict(self) -> Dict[str, object]:
        return {
            "log_probs": self.log_probs,
            "unseen": self.unseen,
            "neutral": sorted(self.neutral),
            "max_n": self.max_n,
            "temperature": self.temperature,
            "shared": sorted(self.shared),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, object]) -> "LanguageModel":
        return cls(**data)  # type: ignore[arg-type]
