"""Decides the conversation's language before the turn's first reply.

Rasa renders a custom action's utterances before it applies the action's
slot events, so the `language` slot must already be right when the first
action of a turn runs. `action_validate_slot_mappings` runs right after each
user message, before any other action: that is where the slot is set.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

LANGUAGES = ("cs", "hu", "da", "lt", "fi", "en")
DEFAULT_LANGUAGE = "en"
# Below this the message is treated as language-neutral ("ok", "CPS", "2100").
CONFIDENCE_THRESHOLD = 0.7


def requested_language(latest_message: Dict[Text, Any]) -> Optional[str]:
    """The language named in an explicit switch_language request, if any."""
    if (latest_message.get("intent") or {}).get("name") != "switch_language":
        return None
    for entity in latest_message.get("entities") or []:
        if entity.get("entity") == "language" and entity.get("value") in LANGUAGES:
            return entity["value"]
    return None


def page_language(latest_message: Dict[Text, Any]) -> Optional[str]:
    language = (latest_message.get("metadata") or {}).get("language")
    return language if language in LANGUAGES else None


def choose_language(
    latest_message: Dict[Text, Any],
    current: Optional[str],
    previous_page: Optional[str],
) -> str:
    """The language policy, in order: an explicit request; the message's own
    language when identified with confidence; the page's locale when it is new
    to this conversation (first message, or the visitor changed it); the
    conversation's language so far; English."""
    explicit = requested_language(latest_message)
    if explicit:
        return explicit
    guess = latest_message.get("language") or {}
    if guess.get("name") in LANGUAGES and guess.get("confidence", 0) >= CONFIDENCE_THRESHOLD:
        return guess["name"]
    page = page_language(latest_message)
    if page and (current not in LANGUAGES or page != previous_page):
        return page
    return current if current in LANGUAGES else DEFAULT_LANGUAGE


class ValidateSlotMappings(ValidationAction):
    """Fills the `language` and `page_language` slots (custom mappings)."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    def domain_slots(self, domain: DomainDict) -> List[Text]:
        # With `enable_selective_domain` this action gets no domain: it names its slots itself.
        return ["language", "page_language"]

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        language = choose_language(
            tracker.latest_message,
            tracker.get_slot("language"),
            tracker.get_slot("page_language"),
        )
        return {"language": language}

    async def extract_page_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        page = page_language(tracker.latest_message)
        return {"page_language": page} if page else {}
