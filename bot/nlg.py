"""Rasa's response generator with CLDR: the response is chosen as Rasa chooses it, then filled for its language.

Configured in endpoints.yml (`nlg: type: bot.nlg.LocalisedNaturalLanguageGenerator`);
it runs inside the Rasa server, which has the domain, so the actions pass
values and codes and never a word: numbers, dates and amounts are written as
the conversation's language writes them, plural blocks pick the branch of the
count's CLDR category (bot/cldr.py), and `{"response": "utter_label_gold"}`
becomes that fragment in the same language. Button titles an action sends
(the level buttons) are rendered the same way.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import cldr

logger = logging.getLogger(__name__)
DEFAULT_LANGUAGE = "en"
# What Rasa passes along with an action's values; not placeholders.
NOT_VALUES = {"buttons", "text", "image", "custom", "attachment", "elements", "quick_replies", "json_message"}


class LocalisedNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        return self.generate_from_slots(utter_action, tracker.current_slot_values(), output_channel, **kwargs)

    def generate_from_slots(
        self, utter_action: Text, filled_slots: Dict[Text, Any], output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        response = copy.deepcopy(self._random_response_for(utter_action, output_channel, filled_slots))
        if response is None:
            return None
        language = filled_slots.get("language") or DEFAULT_LANGUAGE
        values = {k: v for k, v in kwargs.items() if k not in NOT_VALUES}
        fill = self._filler(language, filled_slots, output_channel)
        if "text" in response:
            response["text"] = fill(response["text"], values)
        for button in response.get("buttons") or []:
            button["title"] = fill(button["title"], values)
            # A payload is for the machine: raw values, and its JSON braces are no placeholders.
            for name, value in values.items():
                if isinstance(value, str):
                    button["payload"] = button["payload"].replace(f"{{{name}}}", value)
        # The action's own buttons are appended by Rasa after this returns (RemoteAction._utter_responses):
        # their titles are rendered in place, in the list Rasa then appends.
        for button in kwargs.get("buttons") or []:
            if isinstance(button.get("title"), dict):
                title = dict(button["title"])
                button["title"] = self.fragment(title.pop("response"), title, language, filled_slots, output_channel)
        return response

    def _filler(self, language: str, filled_slots: Dict[Text, Any], output_channel: Text):
        def resolve(name: str, values: Dict[str, Any]) -> str:
            return self.fragment(name, values, language, filled_slots, output_channel)

        def fill(text: str, values: Dict[str, Any]) -> str:
            try:
                return cldr.render(text, values, language, resolve)
            except cldr.TemplateError:
                logger.exception("response text cannot be rendered; sent as written")
                return text
        return fill

    def fragment(self, name: str, values: Dict[str, Any], language: str,
                 filled_slots: Dict[Text, Any], output_channel: Text) -> str:
        """The text of a fragment response (a label, a topic) in the conversation's language."""
        response = self._random_response_for(name, output_channel, {**filled_slots, "language": language})
        if response is None:
            logger.error("no response %s for language %s", name, language)
            return ""
        return self._filler(language, filled_slots, output_channel)(response.get("text", ""), values)


def render(responses: Dict[str, List[Dict[str, Any]]], name: str, language: str, **values: Any) -> Optional[Dict[str, Any]]:
    """One response rendered outside a conversation (tests, `make transcripts`)."""
    generator = LocalisedNaturalLanguageGenerator(domain=Domain.from_dict({"responses": responses}))
    return generator.generate_from_slots(name, {"language": language}, "", **values)
