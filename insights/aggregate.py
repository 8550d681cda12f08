"""The figures: one pass over the conversations, one JSON-able dict at the end.

A *turn* is a visitor's message and everything the assistant did before the
next one. Its language is the `language` slot once the turn is over (the
language policy sets it before the first reply); a conversation counts under
the language of its first turn in the date range. State (language, active
form) is followed from the conversation's first event, so a conversation
that began before the range is still read right.

What counts as what, read from domain/, config.yml and data/rules/:
- a *fallback* turn: the NLU fell back (`nlu_fallback`, below 0.5; the
  two-stage fallback then asks "did you mean …?" or to rephrase) or the
  dialogue did (`action_default_fallback`); its message is *unanswered*;
- an *escalation*: the turn that opened `support_form` (CPS Priority
  Support); its *topic* is the last thing the visitor asked before it;
- a *language switch*: a turn answered in another language than the one before;
- a message the two-stage fallback re-posts after a clarification (same
  message id) continues its turn, it is no new message;
- the funnel: the furthest step of the guide the conversation reached
  (`STEP_EVIDENCE`); reaching a step counts for every step before it.
"""
from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from bot.folding import fold
from bot.language_model import LANGUAGES
from bot.message_guard import EMPTY_PAYLOAD, SENSITIVE_PAYLOAD, TOO_LONG_PAYLOAD
from bot.token_cipher import SEALED_METADATA_KEY
from insights.guarded import shown_text
from insights.source import Row

DEFAULT_LANGUAGE = "en"  # the slot's initial value in domain/domain.yml
FALLBACK_INTENT = "nlu_fallback"
CORE_FALLBACK_ACTION = "action_default_fallback"
DID_YOU_MEAN = "utter_ask_affirmation"
SUPPORT_FORM = "support_form"
TICKET_OPENED = "utter_ticket_opened"
REQUEST_HUMAN = "request_human"
GUARD_INTENTS = frozenset(p.lstrip("/") for p in (EMPTY_PAYLOAD, TOO_LONG_PAYLOAD, SENSITIVE_PAYLOAD))
# Messages that steer the conversation rather than ask about CPS: no topic, no answer to judge.
CHATTER = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "help", "inform",
                     "request_human", "switch_language", FALLBACK_INTENT}) | GUARD_INTENTS

# The guide's four steps and the end (actions/signup.py, actions/membership.py, data/rules/forms.yml).
# A turn is evidence of a step when the assistant ran one of these actions or sent one of these responses.
STEPS = ("sign_in", "products", "points", "level_payment", "finished")
STEP_LABELS = ("1 sign in", "2 register or migrate products", "3 collect points", "4 choose a level and pay",
               "finished: membership bought")
STEP_EVIDENCE: Dict[str, frozenset] = {
    "sign_in": frozenset({"action_guide_signup", "utter_signup_step_sign_in", "utter_login",
                          "utter_password_reset", "utter_activation_email_missing"}),
    # also: any message that came signed in (the website sent the visitor's CPS token)
    "products": frozenset({"utter_signup_step_register", "utter_signup_step_migrate", "migration_form"}),
    "points": frozenset({"utter_signup_step_points_pending", "utter_signup_step_more_points",
                         "utter_migration_done"}),
    "level_payment": frozenset({"utter_signup_step_choose_level", "utter_signup_step_pay",
                                "utter_ask_purchase_confirmed"}),
    "finished": frozenset({"utter_purchase_done"}),
}

NO_TOPIC = "(no question before)"
NOT_UNDERSTOOD = "(not understood)"
REPHRASE_SIMILARITY = 0.8  # the next message says the same again, once folded
GROUP_SIMILARITY = 0.8  # unanswered messages in one group
MAX_DISTINCT_UNANSWERED = 20_000  # per language; beyond it only counted (bounded memory)
GROUP_CANDIDATES = 1_000  # the most frequent distinct messages that are grouped
TOP_INTENTS, TOP_ANSWERS, TOP_GROUPS = 10, 15, 15


def similar(a: str, b: str, threshold: float, matcher: Optional[difflib.SequenceMatcher] = None) -> bool:
    """difflib's ratio >= threshold, trying the cheap upper bounds first; `matcher` may hold `b` already."""
    if not a or not b or 2 * min(len(a), len(b)) < threshold * (len(a) + len(b)):
        return a == b
    if matcher is None:
        matcher = difflib.SequenceMatcher(None, a, b)
    else:
        matcher.set_seq1(a)
    return matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold


@dataclass
class Turn:
    time: float
    intent: Optional[str]
    text: str
    loop_before: Optional[str]
    signed_in: bool
    guess: Optional[str] = None
    confidence: float = 0.0
    message_id: Optional[str] = None
    language: str = DEFAULT_LANGUAGE
    actions: List[str] = field(default_factory=list)
    responses: List[str] = field(default_factory=list)
    opened_loops: List[str] = field(default_factory=list)

    @property
    def fallback(self) -> bool:
        return self.intent == FALLBACK_INTENT or CORE_FALLBACK_ACTION in self.actions

    @property
    def typed(self) -> bool:
        return bool(self.text) and not self.text.startswith("/")

    def step(self) -> int:
        """The furthest step of the guide this turn is evidence of (-1: none)."""
        done = set(self.actions) | set(self.responses)
        reached = [i for i, step in enumerate(STEPS) if STEP_EVIDENCE[step] & done]
        return max(reached + ([STEPS.index("products")] if self.signed_in else []), default=-1)


def user_turn(intent: Optional[str], timestamp: Optional[float], data: Optional[str], loop: Optional[str]) -> Turn:
    """A turn from a `user` event: the text, and the best intent other than the fallback."""
    event = json.loads(data or "{}")
    parse = event.get("parse_data") or {}
    turn = Turn(time=timestamp or event.get("timestamp") or 0.0, text=event.get("text") or "", loop_before=loop,
                intent=intent or (parse.get("intent") or {}).get("name"),
                signed_in=SEALED_METADATA_KEY in (event.get("metadata") or {}), message_id=event.get("message_id"))
    ranked = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    best = ranked[0] if ranked else (parse.get("intent") or {})
    turn.guess, turn.confidence = best.get("name"), float(best.get("confidence") or 0.0)
    return turn


def turns_of(rows: Iterable[Row]) -> List[Turn]:
    """The conversation's turns, each with its language, actions, responses and the forms it opened."""
    turns: List[Turn] = []
    language, loop, turn = DEFAULT_LANGUAGE, None, None
    for _, type_name, intent, action, timestamp, data in rows:
        if type_name == "user":
            message = user_turn(intent, timestamp, data, loop)
            if turn and message.message_id and message.message_id == turn.message_id:
                continue  # the two-stage fallback's copy of the clarifying message: the same turn goes on
            if turn:
                turn.language = language
                turns.append(turn)
            turn = message
        elif type_name == "slot":
            value = json.loads(data or "{}").get("value")
            language = value if value in LANGUAGES else language
        elif type_name == "active_loop":
            if action and action != loop and turn:
                turn.opened_loops.append(action)
            loop = action or None
        elif turn is None:
            continue
        elif type_name == "action":
            turn.actions.append(action or "")
        elif type_name == "bot":
            response = (json.loads(data or "{}").get("metadata") or {}).get("utter_action")
            if response:
                turn.responses.append(response)
    if turn:
        turn.language = language
        turns.append(turn)
    return turns


class Unanswered:
    """One distinct (folded) unanswered message: how often, as shown, and what the model guessed."""

    __slots__ = ("count", "texts", "guesses", "confidence")

    def __init__(self) -> None:
        self.count, self.texts, self.guesses, self.confidence = 0, Counter(), Counter(), 0.0

    def add(self, text: str, guess: Optional[str], confidence: float) -> None:
        self.count += 1
        if text in self.texts or len(self.texts) < 5:
            self.texts[text] += 1
        self.guesses[guess or "-"] += 1
        self.confidence += confidence


class LanguageFigures:
    """Counters for one language (or all of them)."""

    def __init__(self) -> None:
        self.conversations = self.messages = self.fallback_turns = self.did_you_mean = 0
        self.escalations = self.tickets = self.language_switches = 0
        self.unanswered_total = self.withheld = self.not_grouped = 0
        self.topics: Counter = Counter()
        self.intents: Counter = Counter()
        self.funnel = [0] * len(STEPS)
        self.answers: Dict[str, List[int]] = {}  # answer -> [shown, rephrased, human]
        self.unanswered: Dict[str, Unanswered] = {}

    def add_unanswered(self, turn: Turn) -> None:
        self.unanswered_total += 1
        text = shown_text(turn.text)
        if text is None:
            self.withheld += 1
            return
        key = fold(text)
        entry = self.unanswered.get(key)
        if entry is None:
            if len(self.unanswered) >= MAX_DISTINCT_UNANSWERED:
                self.not_grouped += 1
                return
            entry = self.unanswered[key] = Unanswered()
        entry.add(text, turn.guess, turn.confidence)

    def summary(self) -> Dict[str, Any]:
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "fallback_turns": self.fallback_turns,
            "did_you_mean": self.did_you_mean,
            "fallback_share": round(self.fallback_turns / self.messages, 4) if self.messages else 0.0,
            "escalations": self.escalations,
            "tickets_opened": self.tickets,
            "escalation_topics": dict(ranked(self.topics)),
            "language_switches": self.language_switches,
            "unanswered": self.unanswered_total,
            "unanswered_withheld": self.withheld,
            "unanswered_not_grouped": self.not_grouped,  # beyond MAX_DISTINCT_UNANSWERED distinct texts
            "funnel": dict(zip(STEPS, self.funnel)),
        }


class Figures:
    """Feed it conversations (`add`), then read `result()`."""

    def __init__(self, since: Optional[float] = None, until: Optional[float] = None) -> None:
        self.since, self.until = since, until
        self.languages = {language: LanguageFigures() for language in LANGUAGES}
        self.switches: Counter = Counter()

    def in_range(self, turn: Turn) -> bool:
        return (self.since is None or turn.time >= self.since) and (self.until is None or turn.time < self.until)

    def add(self, rows: Sequence[Row]) -> None:
        """Count one conversation (its rows in store order)."""
        turns = turns_of(rows)
        first = next((turn for turn in turns if self.in_range(turn)), None)
        if first is None:
            return
        conversation = self.languages[first.language]
        conversation.conversations += 1
        furthest, topic, previous = -1, NO_TOPIC, None
        for i, turn in enumerate(turns):
            if self.in_range(turn):
                furthest = max(furthest, turn.step())
                self.count_turn(turn, turns[i + 1] if i + 1 < len(turns) else None, topic, previous)
                previous = turn.language
            if turn.intent not in CHATTER or turn.fallback:
                topic = NOT_UNDERSTOOD if turn.fallback else turn.intent or NO_TOPIC
        for step in range(furthest + 1):
            conversation.funnel[step] += 1

    def count_turn(self, turn: Turn, following: Optional[Turn], topic: str, previous: Optional[str]) -> None:
        figures = self.languages[turn.language]
        figures.messages += 1
        if turn.intent and turn.intent not in GUARD_INTENTS and turn.intent != FALLBACK_INTENT:
            figures.intents[turn.intent] += 1
        if previous and previous != turn.language:
            self.languages[previous].language_switches += 1
            self.switches[f"{previous}>{turn.language}"] += 1
        if turn.fallback:
            figures.fallback_turns += 1
            figures.did_you_mean += DID_YOU_MEAN in turn.responses
            if turn.typed:
                figures.add_unanswered(turn)
        if SUPPORT_FORM in turn.opened_loops and turn.loop_before != SUPPORT_FORM:
            figures.escalations += 1
            figures.topics[topic] += 1
        figures.tickets += TICKET_OPENED in turn.responses
        if turn.intent not in CHATTER and turn.loop_before is None and turn.actions and not turn.fallback:
            counts = figures.answers.setdefault(turn.actions[0], [0, 0, 0])
            counts[0] += 1
            if following is not None and following.intent == REQUEST_HUMAN:
                counts[2] += 1
            elif following is not None and rephrased(turn, following):
                counts[1] += 1

    def result(self, top_groups: int = TOP_GROUPS, generated: Optional[datetime] = None) -> Dict[str, Any]:
        """The figures as plain data: what the JSON, the plots, the page and the CSV show."""
        total = merged(self.languages.values())
        when = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat() if t is not None else None  # noqa: E731
        return {
            "generated": (generated or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
            "range": {"since": when(self.since), "until": when(self.until)},
            "languages": list(LANGUAGES),
            "steps": dict(zip(STEPS, STEP_LABELS)),
            "totals": total.summary(),
            "by_language": {lang: figures.summary() for lang, figures in self.languages.items()},
            "language_switch_pairs": dict(ranked(self.switches)),
            "top_intents": {lang: [list(kv) for kv in ranked(f.intents)[:TOP_INTENTS]]
                            for lang, f in self.languages.items()},
            "answers_not_helping": {"all": answers_table(total.answers),
                                    **{lang: answers_table(f.answers) for lang, f in self.languages.items()}},
            "unanswered": {lang: groups(f.unanswered, top_groups) for lang, f in self.languages.items()},
        }


def ranked(counts: Counter) -> List[Tuple[str, int]]:
    """Most frequent first, ties by name: the same report from the same data."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def rephrased(turn: Turn, following: Turn) -> bool:
    """Whether the next message asks the same again: the same question, or nearly the same words."""
    if following.intent == turn.intent and following.loop_before is None:
        return True
    return turn.typed and following.typed and similar(fold(turn.text), fold(following.text), REPHRASE_SIMILARITY)


def merged(parts: Iterable[LanguageFigures]) -> LanguageFigures:
    """All languages in one (the unanswered texts stay per language)."""
    total = LanguageFigures()
    for part in parts:
        for name in ("conversations", "messages", "fallback_turns", "did_you_mean", "escalations", "tickets",
                     "language_switches", "unanswered_total", "withheld", "not_grouped"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.topics.update(part.topics)
        total.intents.update(part.intents)
        total.funnel = [a + b for a, b in zip(total.funnel, part.funnel)]
        for answer, counts in part.answers.items():
            mine = total.answers.setdefault(answer, [0, 0, 0])
            mine[:] = [a + b for a, b in zip(mine, counts)]
    return total


def answers_table(answers: Dict[str, List[int]], top: int = TOP_ANSWERS) -> List[Dict[str, Any]]:
    """Answers by the share of times the visitor rephrased or asked for a person next; the worst first."""
    rows = [{"answer": name, "shown": shown, "rephrased": again, "human": human,
             "share": round((again + human) / shown, 4)}
            for name, (shown, again, human) in answers.items() if again + human]
    return sorted(rows, key=lambda r: (-r["share"], -r["shown"], r["answer"]))[:top]


def groups(unanswered: Dict[str, Unanswered], top: int) -> List[Dict[str, Any]]:
    """Unanswered messages grouped by similarity (folded text), the most frequent groups first."""
    candidates = sorted(unanswered.items(), key=lambda kv: (-kv[1].count, kv[0]))[:GROUP_CANDIDATES]
    found: List[Tuple[str, List[Unanswered]]] = []
    for key, entry in candidates:
        matcher = difflib.SequenceMatcher(None, "", key)  # the candidate's index is built once
        home = next((members for head, members in found if similar(head, key, GROUP_SIMILARITY, matcher)), None)
        if home is None:
            found.append((key, [entry]))
        else:
            home.append(entry)
    result = []
    for _, members in found:
        texts, guesses = Counter(), Counter()
        for member in members:
            texts.update(member.texts)
            guesses.update(member.guesses)
        count = sum(m.count for m in members)
        result.append({
            "text": texts.most_common(1)[0][0],
            "count": count,
            "variants": [text for text, _ in texts.most_common(5)],
            "guess": guesses.most_common(1)[0][0],
            "confidence": round(sum(m.confidence for m in members) / count, 3),
        })
    result.sort(key=lambda g: (-g["count"], g["text"]))
    return result[:top]
