"""The website's two channels, REST and socket.io, written for a public entry point.

They keep Rasa's URLs (`/webhooks/rest/webhook`, `/socket.io`) and message
formats, but not Rasa's trust in the client. Rasa's own channels let a client
choose its conversation id (socket.io `session_id`, REST `sender` or the
shared "default"), store any metadata it sends, and log the unguarded text
when a turn fails. Here, before Rasa stores or logs anything, every message:

1. is answered with a localised "please slow down" when its client address
   or its conversation is over budget (`bot/rate_limit.py`); only traffic from
   the public entry point (or from outside) is counted, not local tools;
2. passes `bot/message_guard.py`; a `/payload` counts only if the assistant
   offered it as a button in this conversation;
3. keeps only the metadata the website may send: `language` (one of the six)
   and `cps_token`, sealed for this conversation (`bot/token_cipher.py`).
   A client's own `cps_token_sealed` or any other key is dropped.

socket.io conversations are issued by the server (`bot/conversation_ids.py`):
`session_request` with an id the server did not sign starts a new one, and a
socket can only write to the conversation it was confirmed for. A resumed
conversation's history (as stored, so as guarded) is sent back with
`session_history`, so the browser never needs to keep what was typed.

Every turn of this assistant answers something. A turn that produced no
message at all means a part failed (the action server is down, say); the
visitor then gets `utter_service_unavailable` in their language. So does a
turn the lock store (Redis, in the scaled set-up) cannot serve: Rasa lets the
lock store's error out of the turn, and socket.io would answer nothing. Such
a turn is refused before anything of it is stored, so the message sent again
later is stored once. A turn the tracker store (PostgreSQL) could not read or
save is not stored either (the save is one transaction); it too is answered
with "please try again", and over REST instead of the answers it would have
had: an answer the conversation does not remember would not be one.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Collection, Dict, List, Optional, Set, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import conversation_ids
from bot.language_model import LANGUAGES
from bot.language_policy import LANGUAGE_SLOT, PAGE_LANGUAGE_SLOT, choose_language
from bot import lock_store, tracker_store
from bot.message_guard import guard
from bot.rate_limit import Budget, RateLimiter, client_address
from bot.token_cipher import SEALED_METADATA_KEY, TOKEN_METADATA_KEY, could_be_token, seal

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
SILENT_TURN_RESPONSE = "utter_service_unavailable"
SLOW_DOWN_RESPONSE = "utter_slow_down"
LANGUAGE_METADATA_KEY = "language"
NOTICE_METADATA_KEY = "input_notice"

_SENDER = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
SOCKET_MAX_BYTES = 16_000  # one socket.io packet; a message is at most 2,000 characters
HISTORY_ENTRIES = 60

# Budgets (burst/per second), overridable in the environment, e.g. CHAT_RATE_PER_CLIENT=20/1.
PER_CLIENT = Budget.from_env("CHAT_RATE_PER_CLIENT", burst=20, per_second=1.0)
PER_CONVERSATION = Budget.from_env("CHAT_RATE_PER_CONVERSATION", burst=6, per_second=0.5)


def allowed_origins() -> List[str]:
    raw = os.environ.get("CORS_ORIGINS", "http://127.0.0.1:8080,http://localhost:8080")
    return [o.strip() for o in raw.split(",") if o.strip()]


class Limits:
    """The two budgets a message must fit in; local tools have none."""

    def __init__(self) -> None:
        self.clients = RateLimiter(PER_CLIENT)
        self.conversations = RateLimiter(PER_CONVERSATION)

    def allow(self, client: Optional[str], conversation: str) -> bool:
        if client is None:
            return True
        return self.clients.allow(client) and self.conversations.allow(conversation)


def _agent() -> Any:
    return Sanic.get_app().ctx.agent


def clean_metadata(metadata: Any, conversation_id: str, notice: Optional[str]) -> Dict[Text, Any]:
    """The metadata as the tracker may keep it: language, the token sealed for this conversation, the guard's notice."""
    metadata = metadata if isinstance(metadata, dict) else {}
    clean: Dict[Text, Any] = {}
    language = metadata.get(LANGUAGE_METADATA_KEY)
    if isinstance(language, str) and language in LANGUAGES:
        clean[LANGUAGE_METADATA_KEY] = language
    token = metadata.get(TOKEN_METADATA_KEY)
    if could_be_token(token):
        clean[SEALED_METADATA_KEY] = seal(token, conversation_id)
    elif token:
        logger.warning("Dropped a %s that cannot be a token (%s).", TOKEN_METADATA_KEY, type(token).__name__)
    if notice:
        clean[NOTICE_METADATA_KEY] = notice
    return clean


_PAYLOAD = re.compile(r"/(\w+)(\{.*\})?", re.DOTALL)


def _canonical(payload: str) -> Optional[str]:
    """`/intent{"entity": "value"}` in one spelling, whatever the spacing and key order."""
    match = _PAYLOAD.fullmatch(payload.strip())
    if not match:
        return None
    try:
        entities = json.loads(match.group(2)) if match.group(2) else {}
    except ValueError:
        return None
    return match.group(1) + json.dumps(entities, sort_keys=True, ensure_ascii=False)


def offer_matching(text: str, offered: Collection[str]) -> Collection[str]:
    """`{text}` when it is one of the offered payloads (spelt any way), else nothing."""
    wanted = _canonical(text)
    return {text} if wanted and any(_canonical(p) == wanted for p in offered) else ()


async def offered_payloads(conversation_id: str) -> Set[str]:
    """The button payloads the assistant showed in this conversation's current session."""
    tracker = await _agent().tracker_store.retrieve(conversation_id)
    if tracker is None:
        return set()
    return {
        str(button.get("payload"))
        for event in tracker.events
        if isinstance(event, BotUttered)
        for button in (event.data or {}).get("buttons") or []
        if isinstance(button, dict) and button.get("payload")
    }


async def localised(response_name: str, language: Optional[str], channel: str) -> Optional[Dict[Text, Any]]:
    """A response in `language`, rendered without touching the conversation's tracker."""
    agent = _agent()
    tracker = DialogueStateTracker.from_events(
        "-", [SlotSet("language", language if language in LANGUAGES else "en")], slots=agent.domain.slots
    )
    return await agent.nlg.generate(response_name, tracker, channel)


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

    def withdraw(self) -> None:
        """Takes back what is not yet delivered: a REST turn's answers, collected until it ends."""
        if isinstance(self._inner, CollectingOutputChannel):
            self._inner.messages.clear()


async def answer_silent_turn(message: UserMessage, output: CountingOutput) -> None:
    agent = _agent()
    tracker = await agent.tracker_store.get_or_create_tracker(message.sender_id)
    rendered = await agent.nlg.generate(SILENT_TURN_RESPONSE, tracker, output.name())
    if rendered:
        await output.send_response(message.sender_id, rendered)


async def turn_language(message: UserMessage) -> Optional[str]:
    """The language this turn would be answered in (bot/language_policy.py), found without the lock.

    Only reads: the conversation from the tracker store and the message's parse.
    """
    agent = _agent()
    try:
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        parsed = await agent.parse_message(message.text) if message.text else {}
    except tracker_store.UNAVAILABLE_ERRORS as error:
        logger.warning("The tracker store failed (%s); answering in the page's language.", type(error).__name__)
        return _page_language(message.metadata)
    except Exception:
        logger.exception("Could not tell the language of a turn; using the page's.")
        return _page_language(message.metadata)
    slots = tracker.current_slot_values() if tracker else {}
    return choose_language({**parsed, "metadata": message.metadata or {}},
                           slots.get(LANGUAGE_SLOT), slots.get(PAGE_LANGUAGE_SLOT))


async def answer_unavailable(message: UserMessage, output: OutputChannel) -> None:
    """Asks the visitor, in their language, to send the message again in a moment."""
    rendered = await localised(SILENT_TURN_RESPONSE, await turn_language(message), output.name())
    if rendered:
        await output.send_response(message.sender_id, rendered)


def _reraise(error: Exception) -> None:
    raise error


def strict_tracker_store() -> None:
    """Makes the agent's tracker store let database errors out of the turn.

    Rasa wraps every tracker store in `FailSafeTrackerStore`, which on an error
    reads an empty conversation and saves the turn into memory: with PostgreSQL
    down, a visitor would be answered as a stranger (language, form and sign-in
    forgotten) and the turn lost. Its error callback, a constructor argument the
    agent does not pass, is set here to re-raise, so that `guarded` asks the
    visitor to try again instead.
    """
    store = _agent().tracker_store
    if isinstance(store, FailSafeTrackerStore) and store._on_tracker_store_error is None:
        store._on_tracker_store_error = _reraise


def guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    """Rasa's message handler behind the guard, the metadata filter, the silent-turn and lock-store answers."""

    async def handler(message: UserMessage) -> Any:
        text = message.text if isinstance(message.text, str) else None
        offered: Collection[str] = ()
        if text is not None and text.lstrip().startswith("/") and len(text) <= 2000:
            offered = offer_matching(text, await offered_payloads(message.sender_id))
        checked = guard(text, offered)
        message.text = checked.text
        message.metadata = clean_metadata(message.metadata, message.sender_id, checked.notice)
        output = CountingOutput(message.output_channel)
        message.output_channel = output
        strict_tracker_store()
        try:
            result = await on_new_message(message)
        except lock_store.UNAVAILABLE_ERRORS as error:
            # Redis refused the ticket (nothing of the turn is stored) or failed at the release
            # (the turn is stored and answered): only an unanswered visitor is asked to resend.
            logger.error("The lock store failed (%s: %s).", type(error).__name__, error)
            if output.sent == 0:
                await answer_unavailable(message, output)
            return None
        except tracker_store.UNAVAILABLE_ERRORS as error:
            # Nothing of the turn is stored: whatever it answered is taken back where it still can be.
            logger.error("The tracker store failed; the turn is not stored (%s).", type(error).__name__)
            output.withdraw()
            await answer_unavailable(message, output)
            return None
        if output.sent == 0:
            logger.warning("A turn produced no answer; sending %s.", SILENT_TURN_RESPONSE)
            await answer_silent_turn(message, output)
        return result

    return handler


def _page_language(metadata: Any) -> Optional[str]:
    return metadata.get(LANGUAGE_METADATA_KEY) if isinstance(metadata, dict) else None


class GuardedRestInput(InputChannel):
    """REST for the website's backend and local tools: `sender` is required, nothing unguarded is logged."""

    limits = Limits()

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)
        handle = guarded(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # Sanic's own error would echo the body
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object"}, status=400)
            sender = body.get("sender")
            if not isinstance(sender, str) or not _SENDER.fullmatch(sender):
                return response.json(
                    {"error": "'sender' is required: 1-128 letters, digits or _.:@- naming the conversation"},
                    status=400,
                )
            text = body.get("message")
            if text is not None and not isinstance(text, str):
                return response.json({"error": "'message' must be a string"}, status=400)
            client = client_address(request.ip, request.headers.get("x-forwarded-for"))
            if not self.limits.allow(client, sender):
                slow_down = await localised(SLOW_DOWN_RESPONSE, _page_language(body.get("metadata")), self.name())
                return response.json([{"recipient_id": sender, **(slow_down or {})}], status=429)
            collector = CollectingOutputChannel()
            try:
                await handle(UserMessage(text, collector, sender, input_channel=self.name(),
                                         metadata=body.get("metadata")))
            except asyncio.CancelledError:
                logger.error("A REST turn was cancelled (the client went away or timed out).")
            except Exception:
                logger.exception("A REST turn failed.")
                if not collector.messages:
                    failed = await localised(SILENT_TURN_RESPONSE, _page_language(body.get("metadata")), self.name())
                    collector.messages.append({"recipient_id": sender, **(failed or {})})
            return response.json(collector.messages)

        return webhook


@dataclass
class Socket:
    """What the server knows of one connected socket."""

    client: Optional[str]
    conversation: Optional[str] = None


class GuardedSocketIOInput(InputChannel):
    """socket.io for the chat widget, with conversations the server issues."""

    limits = Limits()

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("metadata_key", "customData"),
        )

    def __init__(self, user_message_evt: Text, bot_message_evt: Text, metadata_key: Text) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.metadata_key = metadata_key
        self.sio: Optional[AsyncServer] = None
        self.sockets: Dict[str, Socket] = {}

    def get_output_channel(self) -> Optional[OutputChannel]:
        return SocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=allowed_origins(), max_http_buffer_size=SOCKET_MAX_BYTES
        )
        self.sio = sio
        webhook = SocketBlueprint(sio, "/socket.io", "guarded_socketio_webhook", __name__)
        handle = guarded(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            request = environ.get("sanic.request")
            peer = request.ip if request is not None else ""
            self.sockets[sid] = Socket(client_address(peer, environ.get("HTTP_X_FORWARDED_FOR")))
            return True

        @sio.on("disconnect")
        async def disconnect(sid: Text) -> None:
            self.sockets.pop(sid, None)

        async def confirm(sid: Text, requested: Any) -> str:
            """Binds the socket to the conversation it may write to; a new one unless `requested` is ours."""
            socket = self.sockets.setdefault(sid, Socket(client=None))
            conversation = conversation_ids.conversation_of(requested)
            signed = requested if conversation else conversation_ids.issue()
            conversation = conversation or conversation_ids.conversation_of(signed)
            if socket.conversation and socket.conversation != conversation:
                sio.leave_room(sid, socket.conversation)
            socket.conversation = conversation
            sio.enter_room(sid, conversation)
            await sio.emit("session_confirm", signed, room=sid)
            if requested == signed:
                await sio.emit("session_history", await history(conversation), room=sid)
            return conversation

        @sio.on("session_request")
        async def session_request(sid: Text, data: Any = None) -> None:
            await confirm(sid, data.get("session_id") if isinstance(data, dict) else None)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            socket = self.sockets.get(sid)
            # A message before session_request, or naming another conversation, gets this socket's own.
            conversation = socket.conversation if socket and socket.conversation else await confirm(sid, None)
            socket = self.sockets[sid]
            output = SocketIOOutput(sio, self.bot_message_evt)
            metadata = data.get(self.metadata_key)
            if not self.limits.allow(socket.client, conversation):
                slow_down = await localised(SLOW_DOWN_RESPONSE, _page_language(metadata), self.name())
                if slow_down:
                    await sio.emit(self.bot_message_evt, slow_down, room=sid)
                return
            text = data.get("message")
            await handle(UserMessage(text if isinstance(text, str) else None, output, conversation,
                                     input_channel=self.name(), metadata=metadata))

        return webhook


async def history(conversation_id: str) -> List[Dict[str, Any]]:
    """The current session as the widget shows it: guarded user texts, button titles, the bot's answers."""
    tracker = await _agent().tracker_store.retrieve(conversation_id)
    if tracker is None:
        return []
    entries: List[Dict[str, Any]] = []
    titles: Dict[str, str] = {}
    for event in tracker.events:
        if isinstance(event, BotUttered):
            buttons = [
                {"title": b.get("title"), "payload": b.get("payload")}
                for b in (event.data or {}).get("buttons") or [] if isinstance(b, dict)
            ]
            titles.update({b["payload"]: b["title"] for b in buttons if b["payload"] and b["title"]})
            parts = (event.text or "").strip().split("\n\n")  # as SocketIOOutput sends them
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                if part or (last and buttons):
                    entries.append({"from": "bot", "text": part, "buttons": buttons if last else []})
        elif isinstance(event, UserUttered) and event.text:
            if not event.text.startswith("/"):
                entries.append({"from": "user", "text": event.text})
            elif event.text in titles:  # a button the visitor clicked
                entries.append({"from": "user", "text": titles[event.text]})
    return entries[-HISTORY_ENTRIES:]
