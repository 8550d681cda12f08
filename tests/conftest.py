from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Iterator

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import MODEL, Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant, started once for the session by scripts/run.sh."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run the tests with `make test`")
    running = Stack(tmp_path_factory.mktemp("stack")).start()
    yield running
    running.stop()


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    """Model storage for one component test."""
    return LocalModelStorage(tmp_path)


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """`make test` ends with the NLU gate's table (tests/test_nlu_gate.py), when the gate ran."""
    from tests.test_nlu_gate import gate_table

    table = gate_table()
    if table:
        terminalreporter.write_sep("=", "NLU gate")
        terminalreporter.write_line(table)


TEST_TIMEOUT_SECONDS = int(os.environ.get("TEST_TIMEOUT_SECONDS", "300"))


class TestTimedOut(Exception):
    """A test ran longer than TEST_TIMEOUT_SECONDS (fixtures of wider scope not counted)."""


@pytest.fixture(autouse=True)
def per_test_timeout(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that hangs instead of letting it hold the whole run (SIGALRM: main thread, Unix)."""
    def expire(signum: int, frame: object) -> None:
        raise TestTimedOut(f"{request.node.nodeid} ran longer than {TEST_TIMEOUT_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIMEOUT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True, scope="module")
def demo_accounts_as_seeded(request: pytest.FixtureRequest) -> None:
    """Each test module that talks to the stack starts with every demo account as seeded."""
    in_module = [item for item in request.session.items if getattr(item, "module", None) is request.module]
    if not any("stack" in getattr(item, "fixturenames", ()) for item in in_module):
        return
    from cps_api.seed import demo_accounts
    from tests.stack import reset_demo_account

    stack = request.getfixturevalue("stack")
    for account in demo_accounts():
        reset_demo_account(stack, account.token)
