"""Starts the Rasa server with its HTTP API always behind a token that is never in argv.

`python -m bot.server run --enable-api ...` is `rasa run ...`, except that the
token comes from `RASA_AUTH_TOKEN` (so `ps` and `docker inspect` never show
it), the API refuses to start without one, and request bodies are capped
(`SANIC_REQUEST_MAX_SIZE`, default 64 KB: a message is at most 2,000
characters, so anything larger is an attack or a mistake). Rasa's agent
answers each question of a message in turn (bot/turns.py).
"""
from __future__ import annotations

import os
import sys

TOKEN_ENV = "RASA_AUTH_TOKEN"
DEFAULT_REQUEST_MAX_SIZE = 64 * 1024


class AuthTokenMissing(SystemExit):
    """Rasa's HTTP API was asked for without a token to protect it."""


def main() -> None:
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in sys.argv[1:]):
        raise AuthTokenMissing(f"pass the API token in {TOKEN_ENV}, not on the command line where `ps` shows it")
    if "--enable-api" in sys.argv[1:]:
        token = os.environ.get(TOKEN_ENV, "")
        if len(token) < 16:
            raise AuthTokenMissing(
                f"{TOKEN_ENV} must hold at least 16 characters when the HTTP API is enabled; "
                "`make run` creates one in .state/rasa-auth.token"
            )
        sys.argv.append(f"--auth-token={token}")  # "=" so that a token starting with "-" stays a value; this process's copy only; /proc/<pid>/cmdline keeps the original
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(DEFAULT_REQUEST_MAX_SIZE))
    from rasa.__main__ import main as rasa_main

    from bot.turns import install

    install()

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
