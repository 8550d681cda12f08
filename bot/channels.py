"""The website's two channels (REST and socket.io), with the message guard.

Both behave exactly like Rasa's own channels and keep their URLs
(`/webhooks/rest/webhook`, `/socket.io`), but every message passes through
`bot.message_guard` and the CPS token is sealed (`bot.token_cipher`) before
Rasa stores or logs anything. The socket.io server accepts only the origins
listed in `CORS_ORIGINS` (comma-separated; default the local support page).

Every turn of this assistant answers something. A turn that produced no
message at all means a part failed (the action server is down, say); the
visitor then gets `utter_service_unavailable` in their language rather than
silence.
"""
from __future__ import annotations

import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import logging

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, Sanic

from bot.message_guard import guard
from bot.token_cipher import SEALED_METADATA_KEY, TOKEN_METADATA_KEY, seal

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
SILENT_TURN_RESPONSE = "utter_service_unavailable"


class CountingOutput:
    """Passes everything to the real output channel, counting the messages sent."""

    def __init__(self, inner: OutputChannel) -> None:
        self._inner = inner
        self.sent = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await self._inner.send_response(recipient_id, message)


async def answer_silent_turn(message: UserMessage, output: CountingOutput) -> None:
    agent = Sanic.get_app().ctx.agent
    tracker = await agent.tracker_store.get_or_create_tracker(message.sender_id)
    response = await agent.nlg.generate(SILENT_TURN_RESPONSE, tracker, output.name())
    if response:
        await output.send_response(message.sender_id, response)


def allowed_origins() -> List[str]:
    raw = os.environ.get("CORS_ORIGINS", "http://127.0.0.1:8080,http://localhost:8080")
    return [o.strip() for o in raw.split(",") if o.strip()]


def guarded_metadata(metadata: Optional[Dict[Text, Any]], notice: Optional[str]) -> Dict[Text, Any]:
    """Metadata as the tracker may keep it: the token sealed, the guard's notice added."""
    clean = dict(metadata) if isinstance(metadata, dict) else {}
    token = clean.pop(TOKEN_METADATA_KEY, None)
    if isinstance(token, str) and token:
        clean[SEALED_METADATA_KEY] = seal(token)
    if notice:
        clean["input_notice"] = notice
    return clean


def guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handler(message: UserMessage) -> Any:
        checked = guard(message.text)
        message.text = checked.text
        message.metadata = guarded_metadata(message.metadata, checked.notice)
        output = CountingOutput(message.output_channel)
        message.output_channel = output
        result = await on_new_message(message)
        if output.sent == 0:
            logger.warning("A turn produced no answer; sending %s.", SILENT_TURN_RESPONSE)
            await answer_silent_turn(message, output)
        return result

    return handler


class GuardedRestInput(RestInput):
    """Rasa's REST channel behind the message guard."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(guarded(on_new_message))


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel behind the message guard, for the chat widget."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(guarded(on_new_message))
        if self.sio is not None:
            self.sio.eio.cors_allowed_origins = allowed_origins()
        return blueprint
