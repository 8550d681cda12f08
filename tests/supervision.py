"""The processes of a running stack as supervisord knows them (scripts/run.sh), for the
tests and the soak benchmark that kill them for real."""
from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import time
from typing import Callable, Dict

import pytest
import redis
import requests

from tests.stack import ROOT, Stack

SUPERVISORCTL = ROOT / ".venv" / "bin" / "supervisorctl"


def wait_until(what: str, condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    """Polls until condition() holds; returns the seconds it took, fails the test after timeout."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)
    return time.monotonic() - started


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


# The stores of the scaled set-up: their ports (as run.sh printed them) and health.

def redis_port(stack: Stack) -> int:
    return int(re.search(r"Redis :(\d+)", (stack.state_dir / "run.out").read_text()).group(1))


def postgres_port(stack: Stack) -> int:
    return int(re.search(r"PostgreSQL :(\d+)", (stack.state_dir / "run.out").read_text()).group(1))


def accepts_queries(port: int) -> bool:
    """PostgreSQL on the port is up and out of its crash recovery."""
    pg_isready = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_isready"))[-1]
    return subprocess.run([pg_isready, "-q", "-h", "127.0.0.1", "-p", str(port)], timeout=10).returncode == 0


def answers_with_its_password(stack: Stack, port: int) -> bool:
    try:
        return redis.Redis(port=port, password=stack.secret("redis.password"), socket_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        return False


class Supervised:
    """A stack's programs: by name ("cps-api", "postgres", "rasa-5005") or by kind, the first
    of that kind ("rasa", "actions")."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.conf = stack.state_dir / "supervisord.conf"

    def _ctl(self, *args: str) -> str:
        return subprocess.run([str(SUPERVISORCTL), "-c", str(self.conf), *args], capture_output=True, text=True,
                              timeout=30).stdout

    def programs(self) -> Dict[str, str]:
        """Program name -> group:name, from the rendered configuration."""
        text = self.conf.read_text()
        groups = dict(re.findall(r"^\[group:([\w-]+)\]\nprograms=(.*)$", text, re.M))
        return {name: f"{group}:{name}" for group, names in groups.items() for name in names.split(",")}

    def name(self, process: str) -> str:
        programs = self.programs()
        if process in programs:
            return programs[process]
        kind = sorted(name for name in programs if name.startswith(f"{process}-"))
        assert kind, f"no program {process!r} in {sorted(programs)}"
        return programs[kind[0]]

    def pid(self, process: str) -> int:
        out = self._ctl("pid", self.name(process)).strip()
        return int(out) if out.isdigit() else 0

    def pids(self) -> Dict[str, int]:
        return {name: self.pid(name) for name in self.programs()}

    def log(self) -> str:
        return (self.stack.state_dir / "logs" / "supervisord.log").read_text()

    def kill(self, process: str) -> int:
        pid = self.pid(process)
        assert pid, f"{process} is not running"
        os.kill(pid, signal.SIGKILL)
        return pid

    def time_plain_restart(self, process: str, url: str, timeout: float) -> float:
        """SIGKILL with nothing held: the seconds until url answers again."""
        killed_at, pid = time.monotonic(), self.kill(process)
        wait_until(f"{process} restarted", lambda: self.pid(process) not in (0, pid) and answers(url), timeout)
        return time.monotonic() - killed_at


class Held:
    """A process killed (SIGKILL) with supervisord stopped (SIGSTOP), so that it stays down
    until release(); then supervisord sees the exit, logs it and starts the process again.

    The CPS API, the action server or Redis are back about a second after a plain SIGKILL,
    too soon for a test to be sure it asked while they were down."""

    def __init__(self, supervised: Supervised, process: str) -> None:
        self.supervisord = int((supervised.stack.state_dir / "supervisord.pid").read_text())
        self.pid = supervised.pid(process)  # asked before: a stopped supervisord answers no supervisorctl
        assert self.pid, f"{process} is not running"
        os.kill(self.supervisord, signal.SIGSTOP)
        os.kill(self.pid, signal.SIGKILL)

    def release(self) -> float:
        os.kill(self.supervisord, signal.SIGCONT)
        return time.monotonic()

    def __enter__(self) -> "Held":
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
