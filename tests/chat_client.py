"""A socket.io client that speaks the chat widget's protocol (Engine.IO 4 over a websocket).

Written out rather than taken from python-socketio so that a test can do
what an attacker's script would: choose the address it connects from
(anything in 127.0.0.0/8), send any `session_id` or event, and see every
event the server sends back.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, List, Optional, Tuple

import aiohttp


class ChatClient:
    def __init__(self, base_url: str, source: str = "127.0.0.1", origin: Optional[str] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.origin = origin or self.base_url
        self.events: "asyncio.Queue[Tuple[str, Any]]" = asyncio.Queue()
        self.session_id: Optional[str] = None
        self.seen: List[Tuple[str, Any]] = []  # every event, in order, whoever consumed it

    async def __aenter__(self) -> "ChatClient":
        connector = aiohttp.TCPConnector(local_addr=(self.source, 0))
        self._http = aiohttp.ClientSession(connector=connector)
        url = self.base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self._ws = await self._http.ws_connect(url, headers={"Origin": self.origin}, max_msg_size=0)
        opened = await self._ws.receive_str(timeout=10)
        assert opened.startswith("0"), opened
        await self._ws.send_str("40")
        connected = await self._ws.receive_str(timeout=10)
        assert connected.startswith("40"), connected
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._reader.cancel()
        await self._ws.close()
        await self._http.close()

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            if message.data == "2":  # Engine.IO ping
                await self._ws.send_str("3")
            elif message.data.startswith("42"):
                name, *args = json.loads(message.data[2:])
                self.seen.append((name, args[0] if args else None))
                await self.events.put(self.seen[-1])
        await self.events.put(("closed", None))

    async def emit(self, event: str, data: Any) -> None:
        await self._ws.send_str("42" + json.dumps([event, data]))

    async def next_event(self, name: str, timeout: float = 30) -> Any:
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout)
            if event == name:
                return data
            if event == "closed":
                raise ConnectionError("the server closed the socket")

    async def request_session(self, session_id: Optional[str] = None) -> str:
        await self.emit("session_request", {"session_id": session_id})
        self.session_id = await self.next_event("session_confirm")
        return self.session_id

    async def say(self, text: str, metadata: Optional[Dict[str, Any]] = None, quiet: float = 1.5,
                  timeout: float = 60, session_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """Sends one message and returns the bot's messages, collected until none came for `quiet` s."""
        await self.emit("user_uttered", {"message": text, "customData": metadata or {},
                                         "session_id": session_id or self.session_id})
        replies = [await self.next_event("bot_uttered", timeout)]
        while True:
            try:
                replies.append(await self.next_event("bot_uttered", quiet))
            except asyncio.TimeoutError:
                return replies


def conversation_key(signed_id: str) -> str:
    """The tracker store's key for a signed conversation id (bot/conversation_ids.py)."""
    return signed_id.split(".", 1)[0]


async def converse(base_url: str, source: str, questions: List[str], language: str = "en") -> List[Tuple[float, str]]:
    """One calm visitor's conversation: (seconds to the first answer, the answers' text) per question."""
    turns = []
    async with ChatClient(base_url, source=source) as visitor:
        await visitor.request_session()
        for text in questions:
            started = time.monotonic()
            await visitor.emit("user_uttered", {"message": text, "customData": {"language": language}})
            first = await visitor.next_event("bot_uttered", 60)
            latency = time.monotonic() - started
            rest = []
            while True:
                try:
                    rest.append(await visitor.next_event("bot_uttered", 0.3))
                except asyncio.TimeoutError:
                    break
            turns.append((latency, " ".join(m.get("text") or "" for m in [first, *rest])))
    return turns


async def flood(base_url: str, source: str, messages: int, seconds: float, language: str = "en") -> List[str]:
    """One client sending as fast as it can (bounded in count and time); the texts it got back."""
    async with ChatClient(base_url, source=source) as flooder:
        await flooder.request_session()
        deadline = time.monotonic() + seconds
        for i in range(messages):
            if time.monotonic() > deadline:
                break
            await flooder.emit("user_uttered", {"message": f"hello {i}", "customData": {"language": language}})
            await asyncio.sleep(0.01)
        answers = []
        try:
            while True:
                answers.append((await flooder.next_event("bot_uttered", 3)).get("text"))
        except asyncio.TimeoutError:
            return answers


CALM_QUESTIONS = ["Hello", "how do I log in?", "how can I pay?", "what is CPS?", "thanks"]


async def flood_beside_a_calm_visitor(base_url: str) -> Tuple[List[float], List[Tuple[float, str]], List[str]]:
    """A calm visitor alone (127.0.0.3), then another (127.0.0.4) while a third floods (127.0.0.2)."""
    calm = [latency for latency, _ in await converse(base_url, "127.0.0.3", CALM_QUESTIONS)]
    flooding = asyncio.ensure_future(flood(base_url, "127.0.0.2", messages=400, seconds=5))
    await asyncio.sleep(0.5)
    during = await converse(base_url, "127.0.0.4", CALM_QUESTIONS)
    return calm, during, await flooding
