"""A localised first stage of Rasa's two-stage fallback.

Rasa's own `action_default_ask_affirmation` builds an English sentence in
Python; this one asks "Did you mean …?" with the topic of the best intent,
the `utter_topic_<intent>` fragment, which the Rasa server writes in the
conversation's language. It is declared with `send_domain: true` so that it
knows which intents have a topic.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.values import fragment


class ActionDefaultAskAffirmation(Action):
    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        candidates = [r for r in ranking if r.get("name") != "nlu_fallback"]
        best = candidates[0]["name"] if candidates else None
        topic = f"utter_topic_{best}"
        if not best or topic not in (domain.get("responses") or {}):
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        entities = {
            e["entity"]: e.get("value")
            for e in tracker.latest_message.get("entities") or []
            if e.get("extractor") != "RegexMessageHandler"
        }
        payload = f"/{best}{json.dumps(entities, ensure_ascii=False) if entities else ''}"
        dispatcher.utter_message(response="utter_ask_affirmation", topic=fragment(topic), payload=payload)
        return []
