"""One visitor message, several turns: each question of "How many points do I have, and how do I pay?"
is answered in order, and a message in a language the assistant does not speak gets told which it speaks.

Rasa's processor handles one intent per message. The NLU lists two or more
questions under `questions` (bot/clauses.py); this processor then handles each
as a message of its own, with its own text, parse and `UserUttered` event, one
after another through the same policies, so rules, forms and the language
policy treat every question as if it had been sent alone. It all happens
inside one `handle_message`, which Rasa's agent runs under the conversation's
lock (`Agent.handle_message`), so another message of the same conversation
(another tab, another instance behind the lock store) waits until every
question is answered and the tracker saved. Each part is saved when it is
answered: the tracker always ends in a consistent state.

A message in another language (bot/language_id.py: a `language.name` outside
the six) first gets `utter_other_language` in the conversation's language
(the page's locale on a first message, else English), naming the six; then
the turn runs as usual, so a question it still understood is answered too.

`install()` (called by bot/server.py, the launcher of `make run`, the
containers and `make test-stories`) makes Rasa's agent use this processor.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from bot.clauses import question_parses
from bot.language_model import LANGUAGES
from bot.language_policy import language_events

logger = logging.getLogger(__name__)

OTHER_LANGUAGE_RESPONSE = "utter_other_language"


def in_other_language(parse: Dict[Text, Any]) -> bool:
    """Whether the NLU found the message written in a language the assistant does not speak."""
    name = (parse.get("language") or {}).get("name")
    return bool(name) and name not in LANGUAGES


class QuestionTurnsProcessor(MessageProcessor):
    """Rasa's processor, answering each question of a message in turn (see the module's docstring)."""

    async def handle_message(self, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
        if message.parse_data is None and message.text is not None:
            message.parse_data = await self.parse_message(message)
        parses = question_parses(message.parse_data or {})
        if len(parses) < 2:
            return await self._one_turn(message)
        logger.debug("message %s holds %d questions", message.message_id, len(parses))
        for number, parse in enumerate(parses):
            part = UserMessage(text=parse["text"], output_channel=message.output_channel,
                               sender_id=message.sender_id, parse_data=parse,
                               input_channel=message.input_channel,
                               message_id=f"{message.message_id}.{number}" if message.message_id else None,
                               metadata=message.metadata)
            await self._one_turn(part)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    async def _one_turn(self, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
        """Rasa's own handling of one message, with the other-language note before the answer."""
        if not in_other_language(message.parse_data or {}):
            return await super().handle_message(message)
        tracker = await self.log_message(message, should_save_tracker=False)
        await self._tell_the_languages(tracker, message)
        tracker = await self.run_action_extract_slots(message.output_channel, tracker)
        await self._run_prediction_loop(message.output_channel, tracker)
        await self.run_anonymization_pipeline(tracker)
        await self.save_tracker(tracker)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    async def _tell_the_languages(self, tracker: DialogueStateTracker, message: UserMessage) -> None:
        # The language policy's own events (idempotent: it adds none later in this turn), so the note
        # is in the language the answer will be in.
        tracker.update_with_events(language_events(tracker), self.domain)
        generated = await self.nlg.generate(OTHER_LANGUAGE_RESPONSE, tracker, message.output_channel.name())
        if generated is None:
            logger.error("%s is missing from the domain; the note on languages is not sent", OTHER_LANGUAGE_RESPONSE)
            return
        utterance = create_bot_utterance(generated)
        tracker.update(utterance, self.domain)
        await self._send_bot_messages([utterance], tracker, message.output_channel)


def install() -> None:
    """Makes Rasa's agent build this processor instead of its own (before a model is loaded)."""
    import rasa.core.agent

    rasa.core.agent.MessageProcessor = QuestionTurnsProcessor  # type: ignore[misc]
