"""`/insights` on the support page's server, for the people who own the content.

Mounted only when `INSIGHTS_TOKEN` is set (web/__main__.py); without it the
paths do not exist (404). Every request must carry the token, as a bearer
(`Authorization: Bearer …`) or as the password of HTTP basic auth (any user
name; browsers ask for it): a login of its own, separate from the visitors'
conversation ids and the website's REST credential. The page is built from
the tracker store read-only in a worker thread and kept for a minute, so
reloading it costs nothing; its plots are inline data: URLs and its one
style block is allowed by hash, so the page needs no other path and no
script.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import time
from datetime import date
from typing import Any, Dict, Optional, Tuple

from aiohttp import web

from insights.source import StoreMissing

PATH = "/insights"
TOKEN_ENV = "INSIGHTS_TOKEN"
MIN_TOKEN_CHARS = 16
CACHE_SECONDS = 60
REALM = 'Basic realm="CPS insights", charset="UTF-8"'


def authorised(header: str, token: str) -> bool:
    """Whether an Authorization header carries the insights token (bearer, or basic auth's password)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


class Insights:
    def __init__(self, token: str, database: Optional[str]) -> None:
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(f"{TOKEN_ENV} must have {MIN_TOKEN_CHARS} characters or more "
                             "(e.g. `openssl rand -hex 24`)")
        self.token, self.database = token, database
        self.cache: Dict[Tuple[Optional[str], Optional[str]], Tuple[float, Dict[str, Any], str]] = {}
        self.lock = asyncio.Lock()

    def check(self, request: web.Request) -> None:
        if not authorised(request.headers.get("Authorization", ""), self.token):
            raise web.HTTPUnauthorized(text="the insights need their own login", headers={"WWW-Authenticate": REALM})

    def build(self, since: Optional[str], until: Optional[str]) -> Tuple[Dict[str, Any], str]:
        from insights.render import data_url, html_page, png_images
        from insights.report import build, day_range
        from insights.source import database_url

        start, end = day_range(since, until)
        report = build(database_url(self.database), start, end)
        images = {name: data_url(png) for name, png in png_images(report).items()}
        return report, html_page(report, images.__getitem__, form_action=PATH)

    async def report(self, request: web.Request) -> Tuple[Dict[str, Any], str]:
        self.check(request)
        key = tuple(request.query.get(name) or None for name in ("since", "until"))
        try:
            for day in key:
                if day:
                    date.fromisoformat(day)
        except ValueError:
            raise web.HTTPBadRequest(text="since and until are dates: YYYY-MM-DD") from None
        async with self.lock:  # one build at a time; the others then find it cached
            cached = self.cache.get(key)
            if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
                try:
                    report, page = await asyncio.get_running_loop().run_in_executor(None, self.build, *key)
                except StoreMissing:
                    raise web.HTTPServiceUnavailable(text="no conversations stored yet") from None
                self.cache = {key: (time.monotonic(), report, page)}
                cached = self.cache[key]
        return cached[1], cached[2]

    async def page(self, request: web.Request) -> web.Response:
        from insights.render import STYLE_HASH

        _, page = await self.report(request)
        policy = (f"default-src 'none'; img-src data:; style-src '{STYLE_HASH}'; form-action 'self'; "
                  "frame-ancestors 'none'; base-uri 'none'")
        return web.Response(text=page, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": policy})

    async def json(self, request: web.Request) -> web.Response:
        report, _ = await self.report(request)
        return web.Response(text=json.dumps(report, ensure_ascii=False), content_type="application/json")


def add_routes(app: web.Application, token: str, database: Optional[str] = None) -> None:
    """GET /insights (the page) and /insights/report.json (its figures), both behind the token."""
    insights = Insights(token, database)
    app.router.add_get(PATH, insights.page)
    app.router.add_get(f"{PATH}/report.json", insights.json)
