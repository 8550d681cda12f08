"""The tracker store, read-only, streamed one conversation at a time.

Rasa's SQL tracker store writes one row per event into `events` (id,
sender_id, type_name, timestamp, intent_name, action_name, data as JSON).
This module never writes: SQLite is opened with `mode=ro` and `query_only`,
PostgreSQL with read-only transactions. Rows come ordered by conversation
through a server-side cursor, so memory holds one conversation, never the
table. Only the rows the figures need are fetched: visitors' messages, the
assistant's messages and actions (without `action_listen`), forms, and the
`language` slot.
"""
from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path
from typing import Iterator, List, Mapping, Optional, TextIO, Tuple
from urllib.parse import quote

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BATCH_ROWS = 2000
# Row: (sender_id, type_name, intent_name, action_name, timestamp, data)
Row = Tuple[str, str, Optional[str], Optional[str], Optional[float], Optional[str]]

EVENTS = sa.table(
    "events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"), sa.column("timestamp"),
    sa.column("intent_name"), sa.column("action_name"), sa.column("data"),
)
# Bookkeeping actions that say nothing about the answer.
SKIPPED_ACTIONS = ("action_listen", "action_session_start")


class StoreMissing(RuntimeError):
    """There is no tracker store where it was looked for."""


def database_url(explicit: Optional[str] = None, env: Mapping[str, str] = os.environ) -> str:
    """Where the tracker store is, the way scripts/run.sh tells Rasa.

    `--db`/`INSIGHTS_DB_URL` first; then the scaled set-up's PostgreSQL
    (`TRACKER_DB_HOST`, …, password from `TRACKER_DB_PASSWORD` or
    `STATE_DIR/postgres.password`); then SQLite at `TRACKER_DB` or
    `STATE_DIR/tracker.sqlite3`.
    """
    if explicit or env.get("INSIGHTS_DB_URL"):
        return explicit or env["INSIGHTS_DB_URL"]
    state_dir = Path(env.get("STATE_DIR") or ROOT / ".state")
    if env.get("TRACKER_DB_HOST"):
        password = env.get("TRACKER_DB_PASSWORD")
        password_file = state_dir / "postgres.password"
        if not password and password_file.is_file():
            password = password_file.read_text().strip()
        user = quote(env.get("TRACKER_DB_USER", "rasa")) + (f":{quote(password, safe='')}" if password else "")
        return (f"postgresql://{user}@{env['TRACKER_DB_HOST']}:{env.get('TRACKER_DB_PORT', '5432')}"
                f"/{env.get('TRACKER_DB_NAME', 'rasa')}")
    return f"sqlite:///{Path(env.get('TRACKER_DB') or state_dir / 'tracker.sqlite3').resolve()}"


def open_read_only(url: str) -> sa.engine.Engine:
    """An engine that cannot write: a report must never change the conversations it reads."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            raise StoreMissing(f"no tracker store at {path}: start the assistant (make run), "
                               "or pass --db / INSIGHTS_DB_URL")
        engine = sa.create_engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")

        @sa.event.listens_for(engine, "connect")
        def _query_only(connection, _record) -> None:  # type: ignore[no-untyped-def]
            connection.execute("PRAGMA query_only = 1")

        return engine
    return sa.create_engine(parsed, connect_args={"options": "-c default_transaction_read_only=on"})


class Progress:
    """Counts on stderr every few seconds, so a long read shows that it moves."""

    def __init__(self, stream: Optional[TextIO] = sys.stderr, every: float = 5.0) -> None:
        self.stream, self.every = stream, every
        self.started = self.last = time.monotonic()
        self.rows = self.conversations = 0

    def tick(self, rows: int) -> None:
        self.rows += rows
        self.conversations += 1
        now = time.monotonic()
        if self.stream and now - self.last >= self.every:
            self.last = now
            self.report("reading")

    def report(self, what: str) -> None:
        if self.stream:
            print(f"insights: {what} {self.rows:,} events, {self.conversations:,} conversations "
                  f"({time.monotonic() - self.started:.0f} s)", file=self.stream, flush=True)


def query(since: Optional[float] = None, until: Optional[float] = None) -> sa.sql.Select:
    """The rows the figures need, ordered by conversation; only conversations with a message in the range."""
    e = EVENTS.c
    wanted = sa.or_(
        e.type_name.in_(("user", "bot", "active_loop")),
        sa.and_(e.type_name == "action", e.action_name.notin_(SKIPPED_ACTIONS)),
        sa.and_(e.type_name == "slot", e.action_name == "language"),
    )
    stmt = sa.select(e.sender_id, e.type_name, e.intent_name, e.action_name, e.timestamp, e.data).where(wanted)
    if since is not None or until is not None:
        in_range = [e.type_name == "user"]
        if since is not None:
            in_range.append(e.timestamp >= since)
        if until is not None:
            in_range.append(e.timestamp < until)
        stmt = stmt.where(e.sender_id.in_(sa.select(e.sender_id).where(*in_range)))
    return stmt.order_by(e.sender_id, e.id)


def conversations(engine: sa.engine.Engine, since: Optional[float] = None, until: Optional[float] = None,
                  progress: Optional[Progress] = None) -> Iterator[Tuple[str, List[Row]]]:
    """(sender_id, its rows in order) for every conversation with a visitor's message in [since, until)."""
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
            query(since, until))
        rows = (tuple(row) for row in result)
        for sender_id, group in itertools.groupby(rows, key=lambda row: row[0]):
            events: List[Row] = list(group)  # type: ignore[arg-type]
            if progress:
                progress.tick(len(events))
            yield sender_id, events
    if progress:
        progress.report("read")

