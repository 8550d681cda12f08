"""Starts the action server (rasa-sdk) so that only the Rasa server can call it, and errors leak nothing.

`python -m actions.server --port 5055` is `python -m rasa_sdk --actions
actions`, with three differences:
- `/webhook` requires `Authorization: Bearer $ACTION_SERVER_TOKEN` (Rasa sends
  it, endpoints.yml); without the token anyone who reaches the port could post
  a forged tracker and act on an account;
- an action that raises is answered with its exception type only: rasa-sdk's
  own handler returns the whole tracker in the body, and Rasa logs that body;
- it binds to 127.0.0.1 unless `SANIC_HOST` says otherwise (rasa-sdk: 0.0.0.0).
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import traceback
from typing import Optional

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

TOKEN_ENV = "ACTION_SERVER_TOKEN"
logger = logging.getLogger(__name__)


class ActionServerTokenMissing(SystemExit):
    """The action server would accept calls from anyone."""


def build(token: str) -> Sanic:
    app = create_app("actions", cors_origins=None)

    @app.on_request
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path == "/health":
            return None
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return response.json({"error": "this action server answers only its Rasa server"}, status=401)
        return None

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        # The type and the frames, never the message: it may quote the tracker or a token.
        frames = "".join(traceback.format_tb(exception.__traceback__))
        logger.error("An action failed with %s:\n%s", type(exception).__name__, frames)
        return response.json({"error": f"the action failed ({type(exception).__name__})"}, status=500)

    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    if len(token) < 16:
        raise ActionServerTokenMissing(f"{TOKEN_ENV} must hold at least 16 characters; `make run` creates one")
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    build(token).run(os.environ.get("SANIC_HOST", "127.0.0.1"), args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
