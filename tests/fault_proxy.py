"""A real HTTP proxy in front of the reference CPS API that can be made to fail.

The whole stack talks to the CPS API through it, so a test can take the API
down (the port refuses connections), make it slow, answer 500 or send broken
JSON — for real, over TCP — and then bring it back.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import requests

MODES = ("pass", "slow", "error", "malformed", "unauthorized")


class FaultProxy:
    def __init__(self, upstream: str, port: int, slow_seconds: float = 8.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = port
        self.mode = "pass"
        self.slow_seconds = slow_seconds
        self.requests_seen = 0
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "FaultProxy":
        if self.running:
            return self
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                proxy.requests_seen += 1
                mode = proxy.mode
                if mode == "slow":
                    time.sleep(proxy.slow_seconds)
                if mode == "error":
                    return self._reply(500, b'{"title": "boom"}', "application/problem+json")
                if mode == "unauthorized":
                    return self._reply(401, b'{"title": "Unauthorized", "status": 401}', "application/problem+json")
                if mode == "malformed":
                    return self._reply(200, b'{"allocated": 4', "application/json")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                upstream = requests.request(self.command, proxy.upstream + self.path, headers=headers,
                                            data=body, timeout=30)
                self._reply(upstream.status_code, upstream.content,
                            upstream.headers.get("Content-Type", "application/json"))

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first: that is the point of "slow"

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Closes the port: connections are refused until start() again."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
