"""The support page's server: the one public entry point of the assistant.

It serves the page and passes exactly two things on to the Rasa server:
`/socket.io/` (the chat widget, websocket or long-polling) and, only when
`REST_WEBHOOK_TOKEN` is set and the request carries it as a bearer,
`POST /webhooks/rest/webhook` (the website's backend). Rasa's HTTP API, the
action server and the CPS API are not reachable through it.

What it adds on the way:
- the visitor's address in `X-Forwarded-For`, replacing whatever the client
  sent, so the Rasa channels can budget each client (bot/rate_limit.py);
- a body limit (16 KB) and per-address limits on requests, open sockets and
  socket frames, as a backstop: the localised "please slow down" comes from
  the Rasa channel, whose budgets are lower;
- a Content-Security-Policy (scripts, styles and connections only from this
  origin), no framing by other sites, no referrer, no caching.

Nothing comes from a CDN: `npm ci` in web/ (scripts/setup_web.sh) installs
socket.io-client from the npm registry at set-up time.

Staff only: with `INSIGHTS_TOKEN` set, `/insights` serves the insights report
(insights/web.py) behind that token; without it the path does not exist.
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
from pathlib import Path
from typing import Dict, Optional

import aiohttp
from aiohttp import web

from bot.rate_limit import Budget, RateLimiter, client_address, is_trusted_proxy

HERE = Path(__file__).resolve().parent
FILES: Dict[str, Path] = {
    "/": HERE / "static" / "index.html",
    "/widget.js": HERE / "static" / "widget.js",
    "/page.js": HERE / "static" / "page.js",
    "/style.css": HERE / "static" / "style.css",
    "/i18n.json": HERE / "static" / "i18n.json",
    "/vendor/socket.io.min.js": HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
}
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_BODY_BYTES = 16 * 1024
MAX_SOCKETS_PER_CLIENT = 20
REQUESTS = Budget.from_env("ENTRY_RATE_REQUESTS", burst=60, per_second=20)  # every HTTP request
FRAMES = Budget.from_env("ENTRY_RATE_FRAMES", burst=60, per_second=10)  # websocket frames from clients
# Request headers the upstream needs; everything else (cookies, auth of the site) stays here.
PASSED_REQUEST_HEADERS = ("Origin", "Content-Type", "User-Agent", "Accept")
PASSED_RESPONSE_HEADERS = ("Content-Type", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials")
REST_PATH = "/webhooks/rest/webhook"
REST_TOKEN_ENV = "REST_WEBHOOK_TOKEN"

logger = logging.getLogger("web")


def visitor(request: web.Request) -> str:
    """Whom this request's budgets are charged to: the address behind trusted proxies, else the peer."""
    peer = request.remote or ""
    return client_address(peer, request.headers.get("X-Forwarded-For")) or peer


def forwarded_for(request: web.Request) -> str:
    """The X-Forwarded-For chain Rasa gets: the client's claim only if a trusted proxy passed it on."""
    peer = request.remote or ""
    claimed = request.headers.get("X-Forwarded-For", "")
    return f"{claimed}, {peer}" if claimed and is_trusted_proxy(peer) else peer


class Entry:
    def __init__(self, rasa_url: str, rest_token: str) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.rest_token = rest_token
        self.requests = RateLimiter(REQUESTS)
        self.frames = RateLimiter(FRAMES)
        self.open_sockets: Dict[str, int] = {}
        self.session: Optional[aiohttp.ClientSession] = None

    def upstream_headers(self, request: web.Request) -> Dict[str, str]:
        headers = {k: request.headers[k] for k in PASSED_REQUEST_HEADERS if k in request.headers}
        headers["X-Forwarded-For"] = forwarded_for(request)
        return headers

    async def page(self, request: web.Request) -> web.StreamResponse:
        file = FILES.get(request.path)
        if file is None or not file.is_file():
            raise web.HTTPNotFound(text="not found")
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        return web.Response(body=file.read_bytes(), content_type=content_type, charset="utf-8")

    async def socketio(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        return await self.forward(request)

    async def rest(self, request: web.Request) -> web.StreamResponse:
        if not self.rest_token:
            raise web.HTTPNotFound(text="not found")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.rest_token}".encode()):
            raise web.HTTPUnauthorized(text="the REST webhook needs the website's credential")
        return await self.forward(request)

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # at most MAX_BODY_BYTES (client_max_size)
        try:
            async with self.session.request(
                request.method, self.rasa_url + request.path_qs, data=body or None,
                headers=self.upstream_headers(request), allow_redirects=False,
            ) as upstream:
                payload = await upstream.read()
                headers = {k: upstream.headers[k] for k in PASSED_RESPONSE_HEADERS if k in upstream.headers}
                return web.Response(status=upstream.status, body=payload, headers=headers)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("Rasa did not answer %s %s: %s", request.method, request.path, type(error).__name__)
            raise web.HTTPBadGateway(text="the assistant is restarting; try again in a moment") from None

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        client = visitor(request)
        if self.open_sockets.get(client, 0) >= MAX_SOCKETS_PER_CLIENT:
            raise web.HTTPTooManyRequests(text="too many open chats from this address")
        try:
            upstream = await self.session.ws_connect(
                self.rasa_url + request.path_qs, headers=self.upstream_headers(request),
                max_msg_size=MAX_BODY_BYTES, autoping=True,
            )
        except aiohttp.WSServerHandshakeError as error:
            raise web.HTTPBadRequest(text="refused") if error.status == 400 else web.HTTPBadGateway() from None
        except (aiohttp.ClientError, asyncio.TimeoutError):
            raise web.HTTPBadGateway(text="the assistant is restarting; try again in a moment") from None
        page_socket = web.WebSocketResponse(max_msg_size=MAX_BODY_BYTES, autoping=True)
        await page_socket.prepare(request)
        self.open_sockets[client] = self.open_sockets.get(client, 0) + 1
        try:
            await self.relay(page_socket, upstream, client)
        finally:
            self.open_sockets[client] -= 1
            if not self.open_sockets[client]:
                del self.open_sockets[client]
            await upstream.close()
            await page_socket.close()
        return page_socket

    async def relay(self, page_socket: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse, client: str) -> None:
        async def from_page() -> None:
            async for message in page_socket:
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                if not self.frames.allow(client):
                    continue  # a flood: dropped here, before it costs the Rasa server anything
                await (upstream.send_str if message.type == aiohttp.WSMsgType.TEXT else upstream.send_bytes)(
                    message.data
                )

        async def from_upstream() -> None:
            async for message in upstream:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await page_socket.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await page_socket.send_bytes(message.data)
                else:
                    break

        tasks = [asyncio.ensure_future(from_page()), asyncio.ensure_future(from_upstream())]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()


@web.middleware
async def request_budget(request: web.Request, handler) -> web.StreamResponse:
    entry: Entry = request.app["entry"]
    if not entry.requests.allow(visitor(request)):
        raise web.HTTPTooManyRequests(text="too many requests; please slow down")
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def build(rasa_url: str, rest_token: str, insights_token: str = "",
          insights_db: Optional[str] = None) -> web.Application:
    entry = Entry(rasa_url, rest_token)
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[request_budget])
    app["entry"] = entry

    async def open_session(_: web.Application) -> None:
        entry.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90, connect=5), auto_decompress=False)

    async def close_session(_: web.Application) -> None:
        await entry.session.close()

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.on_response_prepare.append(security_headers)
    for path in FILES:
        app.router.add_get(path, entry.page)
    app.router.add_route("*", "/socket.io/", entry.socketio)
    app.router.add_post(REST_PATH, entry.rest)
    if insights_token:  # staff only, its own login; unset, the path does not exist
        from insights.web import add_routes

        add_routes(app, insights_token, insights_db)
    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005", help="where the Rasa server listens")
    args = parser.parse_args(argv)
    missing = [str(p) for p in FILES.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"missing {missing}: run scripts/setup_web.sh (npm ci in web/)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"support page on http://{args.host}:{args.port}", flush=True)
    app = build(args.rasa_url, os.environ.get(REST_TOKEN_ENV, ""), os.environ.get("INSIGHTS_TOKEN", ""))
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
