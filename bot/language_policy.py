"""Decides the conversation's language before the turn's first reply.

Responses are rendered in the language held by the `language` slot, so the
slot must be right before the first action of a turn runs. Rasa applies the
`events` of every policy's prediction to the tracker before it runs the
predicted action, whichever policy wins. This policy never predicts an action
(all its probabilities are 0); it only returns the slot events. That keeps
the decision inside the Rasa server, without a round trip to the action server
on every message.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.language_model import LANGUAGES

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
LANGUAGE_SLOT = "language"
PAGE_LANGUAGE_SLOT = "page_language"
# Below this the message is treated as language-neutral ("ok", "CPS", "2100").
CONFIDENCE_THRESHOLD = 0.7
# A reply of one or two words ("jo", "Ja", "super, dik") says little about its language, and the
# conversation's language so far is then the better guess: it gets this prior weight against the
# other five languages together before the reply's own probabilities are weighed in.
SHORT_REPLY_MAX_WORDS = 2
SHORT_REPLY_PRIOR = 0.9


def message_language(latest_message: Dict[Text, Any], current: Optional[str]) -> Optional[Tuple[str, float]]:
    """The message's own language and confidence, one or two words weighed with the conversation's language."""
    guess = latest_message.get("language") or {}
    name, confidence = guess.get("name"), float(guess.get("confidence", 0) or 0)
    if name not in LANGUAGES:
        return None
    scores = guess.get("scores") or {}
    words = len(str(latest_message.get("text") or "").split())
    if current in LANGUAGES and scores and words <= SHORT_REPLY_MAX_WORDS and current != name:
        others = (1 - SHORT_REPLY_PRIOR) / (len(LANGUAGES) - 1)
        weighted = {lang: p * (SHORT_REPLY_PRIOR if lang == current else others) for lang, p in scores.items()}
        total = sum(weighted.values()) or 1.0
        best = max(weighted, key=weighted.get)
        # The reply's own confidence caps the result: weak evidence stays weak.
        return best, min(confidence, weighted[best] / total) if best == name else weighted[best] / total
    return name, confidence


def requested_language(latest_message: Dict[Text, Any]) -> Optional[str]:
    """The language named in an explicit switch_language request, if any."""
    if (latest_message.get("intent") or {}).get("name") != "switch_language":
        return None
    for entity in latest_message.get("entities") or []:
        if entity.get("entity") == "language" and entity.get("value") in LANGUAGES:
            return entity["value"]
    return None


def page_language(latest_message: Dict[Text, Any]) -> Optional[str]:
    """The locale of the page the visitor writes from (`metadata.language`)."""
    language = (latest_message.get("metadata") or {}).get("language")
    return language if language in LANGUAGES else None


def choose_language(
    latest_message: Dict[Text, Any],
    current: Optional[str],
    previous_page: Optional[str],
) -> str:
    """The language policy, in order: an explicit request; the message's own
    language when identified with confidence (a reply of one or two words
    weighed with the conversation's language); the page's locale when it is new
    to this conversation (first message, or the visitor changed it); the
    conversation's language so far; English. A message in a language it does
    not speak counts as no evidence."""
    explicit = requested_language(latest_message)
    if explicit:
        return explicit
    own = message_language(latest_message, current)
    if own and own[1] >= CONFIDENCE_THRESHOLD:
        return own[0]
    page = page_language(latest_message)
    if page and (current not in LANGUAGES or page != previous_page):
        return page
    return current if current in LANGUAGES else DEFAULT_LANGUAGE


def language_events(tracker: DialogueStateTracker) -> List[SlotSet]:
    """The slot events that bring `language` and `page_language` up to date.

    Idempotent: once applied, the same tracker yields no events, so it is safe
    that Rasa asks on every prediction of the turn.
    """
    latest = tracker.latest_message
    message = {**latest.parse_data, "metadata": latest.metadata or {}} if latest else {}
    current = tracker.get_slot(LANGUAGE_SLOT)
    previous_page = tracker.get_slot(PAGE_LANGUAGE_SLOT)
    events = []
    language = choose_language(message, current, previous_page)
    if language != current:
        events.append(SlotSet(LANGUAGE_SLOT, language))
    page = page_language(message)
    if page and page != previous_page:
        events.append(SlotSet(PAGE_LANGUAGE_SLOT, page))
    return events


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class LanguagePolicy(Policy):
    """Sets the conversation's language; never chooses an action."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Below every stock policy: it predicts nothing, so it must never win a tie.
        return {"priority": 0}

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        # Nothing to learn, but Rasa loads every policy from a resource.
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        events = language_events(tracker)
        if events:
            logger.debug("Conversation language: %s", events)
        return self._prediction(self._default_predictions(domain), events=events)
