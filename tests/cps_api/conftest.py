from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from tests.stack import ROOT, free_port


class ApiServer:
    """The real reference server (`python -m cps_api`) on a free port with its own database."""

    def __init__(self, database: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "cps_api"], cwd=ROOT,
            env={"CPS_API_PORT": str(self.port), "CPS_API_DATABASE_URL": f"sqlite:///{database}",
                 "CPS_API_LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/health", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise TimeoutError("the CPS API did not start")

    def get(self, path: str, token: str = None, **kwargs) -> requests.Response:
        return requests.get(self.url + path, headers=auth(token), timeout=10, **kwargs)

    def send(self, method: str, path: str, token: str = None, headers: dict = None, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, headers={**auth(token), **(headers or {})}, timeout=10, **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def auth(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture()
def api(tmp_path) -> Iterator[ApiServer]:
    """A fresh server and database per test: demo accounts as the spec describes them."""
    server = ApiServer(tmp_path / "cps.sqlite3")
    yield server
    server.stop()
