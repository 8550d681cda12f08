"""How a message as people write it maps onto the intents: a greeting around the question, two questions at once.

"Dobrý den, kolik mám bodů?" is one question with a greeting in front; read
as a whole, the greeting's words outvote the question's and the visitor gets
"hello" back. "Kolik mám bodů a jak zaplatím členství?" is two questions; read
as a whole, one of them wins. Both are fixed by ranking parts of the message
with the same classifier that ranks the whole (bot/linear_intents.py): its
sentence features are sums of its words' features, so a span of words is
ranked exactly as if it had been sent alone, without parsing it again.

- A **social phrase** (a span the classifier reads as `greet`, `thank` or
  `goodbye`) at the start or the end, beside a span that it reads as something
  else, is set aside: the message gets the rest's intent and records the
  phrase's intent under `social`.
- **Questions** are the parts between sentence punctuation, commas and the
  words that join two questions ("a", "és", "og", "ir", "ja", "and"); when two
  or more parts are each confidently a different question or request, the
  parse lists them under `questions`, in order (bot/turns.py answers each as a
  turn of its own); the message's `intent` stays its reading as a whole. Parts that only add to a question ("I'd like to ask",
  "yes", a value) never make one, and a clause that only qualifies its
  neighbour ("…, if we pay by bank transfer?", "…, what now?") joins it.

The thresholds were chosen on a dev split of the training data (README,
"Greetings and several questions in one message"). Standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from bot.folding import plain

SOCIAL_INTENTS = frozenset({"greet", "thank", "goodbye"})
# Intents that add to a question rather than ask one of their own: never a separate turn, and not the
# question behind a greeting. The conversation intents of ../shared/spec/intents.md but the two requests
# (request_human, switch_language): "szia, itt vagy?" ("hi, are you there?") is a greeting, not bot_challenge.
NOT_A_QUESTION = SOCIAL_INTENTS | frozenset({"affirm", "deny", "inform", "out_of_scope", "help", "bot_challenge",
                                             "nlu_fallback"})
# Words that join two questions, diacritic-free ("és" -> "es"), per language: Czech "a" and "i"
# are English words too, so only the message's own language's are used.
JOINING_WORDS = {
    "cs": frozenset("a i taky take jeste plus".split()),
    "hu": frozenset("es meg valamint illetve plusz".split()),
    "da": frozenset("og samt ogsa plus".split()),
    "lt": frozenset("ir bei dar".split()),
    "fi": frozenset("ja seka lisaksi myos".split()),
    "en": frozenset("and also plus".split()),
}
# Words that open a clause which only qualifies its neighbour ("…, if we pay by bank transfer?"): such a
# clause is never a question of its own. Diacritic-free; words that also ask ("when", hu "hogy" = "how",
# fi "koska" = "when?") are left out.
SUBORDINATING_WORDS = {
    "cs": frozenset("kdyz pokud jestlize kdyby protoze aby ze prestoze".split()),
    "hu": frozenset("ha amikor mert mivel bar habar amennyiben".split()),
    "da": frozenset("hvis nar fordi selvom saafremt safremt".split()),
    "lt": frozenset("jei jeigu kai nes kad nors".split()),
    "fi": frozenset("jos kun jotta vaikka etta".split()),
    "en": frozenset("if because since unless although though whether".split()),
}
# "What now?" after a problem asks for that problem's answer, not a question of its own. As plain() writes
# them: "ø" and "æ" keep their letters.
FOLLOW_UPS = {
    "cs": frozenset(["co ted", "co mam delat", "co mam ted delat", "co ted delat", "co s tim", "co delat"]),
    "hu": frozenset(["mit tegyek", "most mit tegyek", "mit csinaljak", "mi a teendo", "mit tehetek", "most mi lesz"]),
    "da": frozenset(["hvad gør jeg", "hvad gør jeg nu", "hvad nu", "hvad skal jeg gøre", "hvad kan jeg gøre"]),
    "lt": frozenset(["ka daryti", "ka man daryti", "ka dabar daryti", "ka dabar", "ka galiu daryti"]),
    "fi": frozenset(["mita teen", "mita teen nyt", "mita nyt", "mita pitaa tehda", "mita voin tehda"]),
    "en": frozenset(["what now", "what do i do", "what do i do now", "what should i do", "what can i do"]),
}
SENTENCE_PUNCTUATION = ".?!;"
CLAUSE_PUNCTUATION = SENTENCE_PUNCTUATION + ",:"
MAX_SOCIAL_WORDS = 4


@dataclass(frozen=True)
class Reading:
    """The classifier's verdict on a span of words: its top intent, that intent's confidence, and
    whether any intent's SVM claims the span (a real reading rather than the least bad guess)."""

    intent: str
    confidence: float
    claimed: bool
    margin: float = 0.0  # the SVM's margin for `intent`: how far past its decision boundary


@dataclass(frozen=True)
class Thresholds:
    """How sure the classifier must be of each part. Chosen on the dev split (README)."""

    social: float = 0.5     # the greeting or thanks set aside
    rest: float = 0.5       # what is left of the message once it is set aside
    question: float = 0.5   # each of two or more questions
    rest_asks: bool = True  # the rest must ask or request something (not yes, no, a value, help)
    rest_beats_whole: bool = True  # the rest's reading must be surer (SVM margin) than the whole message's


@dataclass
class Span:
    """Words [start, end) of the message's tokens, with their characters [char_start, char_end)."""

    start: int
    end: int
    char_start: int
    char_end: int


@dataclass
class Analysis:
    """What the message holds besides its reading as a whole."""

    core: Optional[Span] = None                 # the message without its social phrases, if it had any
    core_reading: Optional[Reading] = None
    social: List[str] = field(default_factory=list)
    questions: List[Tuple[Span, Reading]] = field(default_factory=list)


Rank = Callable[[int, int], Reading]  # the classifier's reading of tokens [start, end)


def boundaries(text: str, token_spans: Sequence[Tuple[int, int]], marks: str) -> List[bool]:
    """For each gap between two tokens: whether punctuation from `marks` stands in it."""
    return [any(ch in marks for ch in text[token_spans[i][1]:token_spans[i + 1][0]])
            for i in range(len(token_spans) - 1)]


def _span(token_spans: Sequence[Tuple[int, int]], start: int, end: int) -> Span:
    return Span(start, end, token_spans[start][0], token_spans[end - 1][1])


def _is_social(reading: Reading, thresholds: Thresholds) -> bool:
    return reading.intent in SOCIAL_INTENTS and reading.claimed and reading.confidence >= thresholds.social


def _is_rest(reading: Reading, thresholds: Thresholds) -> bool:
    excluded = NOT_A_QUESTION if thresholds.rest_asks else SOCIAL_INTENTS
    return reading.intent not in excluded and reading.claimed and reading.confidence >= thresholds.rest


def _best_social_cut(rank: Rank, start: int, end: int, gaps: List[bool], thresholds: Thresholds,
                     at_start: bool, whole: Reading) -> Optional[Tuple[int, Reading, Reading]]:
    """The cut that sets a social phrase apart at the start (or end) of tokens [start, end):
    (cut, phrase reading, rest reading), the pair the classifier is surest of, or None."""
    best, best_score = None, 0.0
    for words in range(1, min(MAX_SOCIAL_WORDS, end - start - 1) + 1):
        cut = start + words if at_start else end - words
        phrase = rank(start, cut) if at_start else rank(cut, end)
        if not _is_social(phrase, thresholds):
            continue
        rest = rank(cut, end) if at_start else rank(start, cut)
        if not _is_rest(rest, thresholds) or (thresholds.rest_beats_whole and rest.margin < whole.margin):
            continue
        # A cut at punctuation ("Hi, …") is how people write it; else the surest social phrase
        # (the rest's confidence would favour phrases that eat the question's first word).
        score = phrase.confidence + (1.0 if gaps[cut - 1] else 0.0)
        if score > best_score:
            best, best_score = (cut, phrase, rest), score
    return best


def _parts(text: str, token_spans: Sequence[Tuple[int, int]], start: int, end: int,
           joining: FrozenSet[str]) -> List[Tuple[int, int]]:
    """Tokens [start, end) cut at clause punctuation and joining words (which belong to no part)."""
    gaps = boundaries(text, token_spans, CLAUSE_PUNCTUATION)
    parts, part_start = [], start
    for i in range(start, end):
        if plain(text[token_spans[i][0]:token_spans[i][1]]) in joining:
            if i > part_start:
                parts.append((part_start, i))
            part_start = i + 1
        elif i < end - 1 and gaps[i]:
            parts.append((part_start, i + 1))
            part_start = i + 1
    if part_start < end:
        parts.append((part_start, end))
    return parts


def _attached(text: str, token_spans: Sequence[Tuple[int, int]], parts: List[Tuple[int, int]],
              language: Optional[str]) -> List[Tuple[int, int]]:
    """The parts with each clause that only qualifies a neighbour (it opens with a subordinating word, or
    is a "what now?") joined to the part before it, or to the one after when it comes first."""
    subordinating = SUBORDINATING_WORDS.get(language or "", frozenset())
    follow_ups = FOLLOW_UPS.get(language or "", frozenset())

    def words(part: Tuple[int, int]) -> List[str]:
        return [plain(text[a:b]) for a, b in token_spans[part[0]:part[1]]]

    joined: List[Tuple[int, int]] = []
    pending: Optional[Tuple[int, int]] = None  # a leading qualifying clause, waiting for its main clause
    for part in parts:
        part_words = words(part)
        qualifies = part_words[0] in subordinating or " ".join(part_words) in follow_ups
        if pending is not None:
            part, pending = (pending[0], part[1]), None
        elif qualifies and joined:
            joined[-1] = (joined[-1][0], part[1])
            continue
        elif qualifies:
            pending = part
            continue
        joined.append(part)
    if pending is not None:
        joined.append(pending)
    return joined


def _questions(text: str, token_spans: Sequence[Tuple[int, int]], start: int, end: int, rank: Rank,
               thresholds: Thresholds, joining: FrozenSet[str], language: Optional[str] = None
               ) -> List[Tuple[Span, Reading]]:
    """Two or more questions in tokens [start, end), in order, or nothing."""
    found: List[Tuple[Span, Reading]] = []
    parts = _attached(text, token_spans, _parts(text, token_spans, start, end, joining), language)
    for part_start, part_end in parts:
        if part_end - part_start < 2:  # "Gold and Platinum?": a word alone asks nothing
            continue
        reading = rank(part_start, part_end)
        if reading.intent in NOT_A_QUESTION or not reading.claimed or reading.confidence < thresholds.question:
            continue
        if found and found[-1][1].intent == reading.intent:  # one question across a comma
            previous = found[-1][0]
            found[-1] = (_span(token_spans, previous.start, part_end), rank(previous.start, part_end))
            continue
        found.append((_span(token_spans, part_start, part_end), reading))
    return found if len(found) >= 2 else []


def candidate_spans(text: str, token_spans: Sequence[Tuple[int, int]], language: Optional[str] = None
                    ) -> List[Tuple[int, int]]:
    """Every span `analyse` may ask about, so that a classifier can rank them in one go: spans that
    start or end near the message's edges or at a clause boundary."""
    count = len(token_spans)
    if count < 2:
        return [(0, count)] if count else []
    joining = JOINING_WORDS.get(language or "", frozenset())
    cuts = {0, count} | set(range(1, min(MAX_SOCIAL_WORDS, count - 1) + 1)) \
        | set(range(max(1, count - MAX_SOCIAL_WORDS), count))
    gaps = boundaries(text, token_spans, CLAUSE_PUNCTUATION)
    for i in range(count):
        if plain(text[token_spans[i][0]:token_spans[i][1]]) in joining:
            cuts |= {i, i + 1}
        elif i < count - 1 and gaps[i]:
            cuts.add(i + 1)
    ordered = sorted(cuts)
    return [(a, b) for a in ordered for b in ordered if a < b]


def analyse(text: str, token_spans: Sequence[Tuple[int, int]], rank: Rank,
            thresholds: Thresholds = Thresholds(), language: Optional[str] = None) -> Analysis:
    """The message's social phrases and questions, read with `rank` (see the module's docstring);
    `language` picks the joining words (none for a language it does not speak: punctuation only)."""
    analysis = Analysis()
    count = len(token_spans)
    if count < 2:
        return analysis
    gaps = boundaries(text, token_spans, CLAUSE_PUNCTUATION)
    start, end = 0, count
    rest_reading: Optional[Reading] = None
    whole = rank(0, count)
    leading = _best_social_cut(rank, start, end, gaps, thresholds, at_start=True, whole=whole)
    if leading:
        start, phrase, rest_reading = leading
        analysis.social.append(phrase.intent)
    trailing = _best_social_cut(rank, start, end, gaps, thresholds, at_start=False, whole=whole)
    if trailing:
        end, phrase, rest_reading = trailing
        analysis.social.append(phrase.intent)
    if rest_reading is not None:
        analysis.core, analysis.core_reading = _span(token_spans, start, end), rest_reading
    joining = JOINING_WORDS.get(language or "", frozenset())
    analysis.questions = _questions(text, token_spans, start, end, rank, thresholds, joining, language)
    return analysis


def question_parses(parse: Dict[str, object]) -> List[Dict[str, object]]:
    """One parse per question listed under `questions` (bot/linear_intents.py), each as if its text had
    been sent alone: its own text, intent and ranking, the entities inside it with their offsets moved,
    and the whole message's language (more words, surer language)."""
    questions = parse.get("questions") or []
    entities = parse.get("entities") or []
    parses = []
    for question in questions:  # type: ignore[union-attr]
        start, end = question["start"], question["end"]
        inside = [{**e, "start": e["start"] - start, "end": e["end"] - start}
                  for e in entities if e.get("start", -1) >= start and e.get("end", end + 1) <= end]  # type: ignore[union-attr]
        parses.append({**parse, "text": str(parse["text"])[start:end], "intent": question["intent"],
                       "intent_ranking": question["intent_ranking"], "entities": inside, "questions": []})
    return parses
