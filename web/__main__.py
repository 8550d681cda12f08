"""Serves the support page, the widget and socket.io-client from node_modules.

Nothing comes from a CDN: `npm ci` in web/ (run by scripts/setup_web.sh)
installs socket.io-client from the npm registry at set-up time.
"""
from __future__ import annotations

import argparse
import json
import mimetypes
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional

HERE = Path(__file__).resolve().parent
FILES: Dict[str, Path] = {
    "/": HERE / "static" / "index.html",
    "/widget.js": HERE / "static" / "widget.js",
    "/page.js": HERE / "static" / "page.js",
    "/style.css": HERE / "static" / "style.css",
    "/i18n.json": HERE / "static" / "i18n.json",
    "/vendor/socket.io.min.js": HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
}


class PageHandler(BaseHTTPRequestHandler):
    server_version = "cps-support-page"

    def __init__(self, *args, rasa_url: str, **kwargs) -> None:
        self.rasa_url = rasa_url
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            return self.send(json.dumps({"rasaUrl": self.rasa_url}).encode(), "application/json")
        file = FILES.get(path)
        if file is None or not file.is_file():
            return self.send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.send(file.read_bytes(), content_type)

    def send(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the page's own requests carry nothing worth a log line


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    args = parser.parse_args(argv)
    missing = [str(p) for p in FILES.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"missing {missing}: run scripts/setup_web.sh (npm ci in web/)")
    server = ThreadingHTTPServer((args.host, args.port), partial(PageHandler, rasa_url=args.rasa_url))
    print(f"support page on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
