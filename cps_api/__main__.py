"""`python -m cps_api`: serves the reference CPS API with uvicorn.

CPS_API_HOST (127.0.0.1), CPS_API_PORT (8000), CPS_API_DATABASE_URL
(sqlite:///.cps_api.sqlite3; a postgresql:// URL works as well).
"""
from __future__ import annotations

import os

import uvicorn

from cps_api.app import create_app

if __name__ == "__main__":
    uvicorn.run(
        create_app(),
        host=os.environ.get("CPS_API_HOST", "127.0.0.1"),
        port=int(os.environ.get("CPS_API_PORT", "8000")),
        log_level=os.environ.get("CPS_API_LOG_LEVEL", "info"),
        ws="none",  # no websockets here; Rasa pins a websockets older than uvicorn's default wants
    )
