"""Starts the real assistant (scripts/run.sh) on free ports for the tests."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from tests.fault_proxy import FaultProxy
from translations.catalogue import all_responses

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "cps-assistant.tar.gz"
RESPONSES = all_responses()
# The answer of a turn in which a part failed: no test gets it unless it says it expects it.
SOMETHING_WENT_WRONG = {v["text"] for v in RESPONSES["utter_service_unavailable"]}


def response_texts(name: str, language: str) -> List[str]:
    """The texts of one response in one language, as the catalogue (domain/responses/) has them (placeholders unfilled)."""
    return [v["text"] for v in RESPONSES[name]
            if any(c.get("name") == "language" and c.get("value") == language for c in v.get("condition") or [])]


def plain_numbers(text: str) -> str:
    """A reply with the thousands separators of every language taken out ("2 100", "2.100", "2,100" -> "2100"),
    so that a test can look for the account's figures in any language."""
    return re.sub(r"(?<=\d)[ \u00a0.,](?=\d{3}(?!\d))", "", text)


def level_name(code: str, language: str) -> str:
    """A membership level's name as the catalogue writes it in `language` (hu "Arany", lt "Aukso")."""
    return response_texts(f"utter_label_level_{code}", language)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortTaken(RuntimeError):
    """A port chosen as free was taken before the stack could bind it."""


@dataclass
class Stack:
    """A running stack: Rasa, actions, CPS API (and web page once it exists)."""

    state_dir: Path
    env: Dict[str, str] = field(default_factory=dict)
    process: Optional[subprocess.Popen] = None
    proxy: Optional[FaultProxy] = None
    # Tests put the fault proxy between the actions and the CPS API; the
    # benchmarks measure the assistant without it.
    fault_proxy: bool = True

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def api_url(self) -> str:
        """Rasa's HTTP API: the server itself, or nginx's API listener in the scaled set-up."""
        scaled = int(self.env.get("RASA_INSTANCES", "1")) > 1
        return f"http://127.0.0.1:{self.env['RASA_API_PORT' if scaled else 'RASA_PORT']}"

    def secret(self, name: str) -> str:
        """A secret run.sh created under the state directory (or the one the test gave it)."""
        variable = {"rasa-auth.token": "RASA_AUTH_TOKEN", "action-server.token": "ACTION_SERVER_TOKEN",
                    "cps-token-private.key": "CPS_TOKEN_PRIVATE_KEY"}.get(name)
        if variable and self.env.get(variable):  # run.sh takes the environment's value before its file
            return self.env[variable]
        return (self.state_dir / name).read_text().strip()

    @property
    def api_token(self) -> Dict[str, str]:
        """The query parameter Rasa's HTTP API needs."""
        return {"token": self.secret("rasa-auth.token")}

    @property
    def cps_api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['CPS_API_PORT']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.env['WEB_PORT']}"

    def start(self, timeout: float = 300, attempts: int = 3) -> "Stack":
        """Starts on free ports; a second start (after stop) reuses ports and state.

        A port found free can be taken by another process before run.sh binds
        it: a first start that fails that way is tried again on other ports.
        """
        given = None if "RASA_PORT" in self.env else dict(self.env)
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if given is None or attempt == attempts:
                    raise
                self.stop()
                self.env, self.proxy = dict(given), None
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> "Stack":
        if "RASA_PORT" not in self.env or (self.fault_proxy and not self.proxy):
            ports = {k: str(free_port()) for k in ("RASA_PORT", "RASA_API_PORT", "ACTIONS_PORT", "CPS_API_PORT",
                                                   "WEB_PORT")}
            api_url = f"http://127.0.0.1:{ports['CPS_API_PORT']}"
            if self.fault_proxy:
                # The actions reach the reference CPS API through a proxy that tests can make fail.
                self.proxy = FaultProxy(api_url, free_port())
                api_url = self.proxy.url
            self.env = {**os.environ, **ports, "CPS_API_URL": api_url, "STATE_DIR": str(self.state_dir),
                        "MODEL": str(MODEL), "CPS_API_ADMIN_TOKEN": uuid.uuid4().hex, **self.env}
        if self.proxy:
            self.proxy.start()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.state_dir / "run.out", "w")
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "run.sh")],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                logs = "".join(p.read_text(errors="replace") for p in (self.state_dir / "logs").glob("*.log"))
                error = PortTaken if "address already in use" in logs.lower() else RuntimeError
                raise error(f"stack exited: {(self.state_dir / 'run.out').read_text()}")
            if "is running" in (self.state_dir / "run.out").read_text():
                return self
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"stack not up after {timeout}s; see {self.state_dir}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        if getattr(self, "log", None):
            self.log.close()
        if self.proxy:
            self.proxy.stop()

    def say(self, sender: str, text: str, expect_failure: bool = False, *, timeout: float = 60,
            **metadata: Any) -> List[Dict[str, Any]]:
        """One REST turn; returns the bot's messages.

        A "sorry, something went wrong" answer fails the calling test, unless
        it passes `expect_failure=True`: a broken part must not pass as an answer.
        """
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=timeout,
        )
        response.raise_for_status()
        replies = response.json()
        if not expect_failure:
            failed = [r["text"] for r in replies if r.get("text") in SOMETHING_WENT_WRONG]
            assert not failed, f"{text!r} got 'something went wrong' (see {self.state_dir}/logs): {failed}"
        return replies

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.api_url}/conversations/{sender}/tracker", timeout=30,
                                params=self.api_token)
        response.raise_for_status()
        return response.json()


def new_sender(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def reset_demo_account(stack: "Stack", token: str) -> None:
    """Puts a demo account back as seeded, through the reference API's test-only route."""
    response = requests.post(f"{stack.cps_api_url}/admin/reset", json={"account": token},
                             headers={"X-Admin-Token": stack.env["CPS_API_ADMIN_TOKEN"]}, timeout=10)
    response.raise_for_status()
