from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from collections import Counter, defaultdict
from typing import Dict, Iterator

import pytest
import yaml
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


def suite_counts(terminalreporter) -> str:
    """Passed / failed / skipped per test module, and the test stories `make test-stories` ran before."""
    counts: Dict[str, Counter] = defaultdict(Counter)
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") == "call" or outcome in ("error", "skipped"):
                counts[report.nodeid.split("::")[0]][outcome] += 1
    lines = [f"{'suite':<44}{'passed':>8}{'failed':>8}{'skipped':>9}"]
    stories = ROOT / "tests" / "stories"
    failed_stories = ROOT / "reports" / "stories" / "failed_test_stories.yml"
    if failed_stories.exists() and MODEL.exists() and failed_stories.stat().st_mtime >= MODEL.stat().st_mtime:
        # As rasa counts them: stories with the same steps (the keyboard-mash fallback in six files) are one.
        total = len({yaml.safe_dump(story["steps"]) for path in stories.glob("test_*.yml")
                     for story in yaml.safe_load(path.read_text("utf-8"))["stories"]})
        failed = failed_stories.read_text("utf-8").count("\n- story:")
        lines.append(f"{'tests/stories (rasa test core --e2e)':<44}{total - failed:>8}{failed:>8}{0:>9}")
    for suite, count in sorted(counts.items()):
        lines.append(f"{suite:<44}{count['passed']:>8}{count['failed'] + count['error']:>8}{count['skipped']:>9}")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """`make test` ends with the counts per suite and the NLU gate's table (tests/test_nlu_gate.py)."""
    from tests.test_nlu_gate import gate_table

    terminalreporter.write_sep("=", "counts per suite")
    terminalreporter.write_line(suite_counts(terminalreporter))
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
