"""The SQL tracker store keeps every event once, in order, and skips Rasa's count query (bot/tracker_store.py)."""
from __future__ import annotations

import asyncio
from typing import List

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import ReconnectingSQLTrackerStore

DOMAIN = Domain.from_yaml("intents: [greet]\nresponses:\n  utter_hi:\n  - text: hi\n")


def store(path) -> ReconnectingSQLTrackerStore:
    return ReconnectingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path / "tracker.sqlite3"))


def statements(engine: sa.engine.Engine) -> List[str]:
    seen: List[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2].lower()))
    return seen


def turn(text: str) -> list:
    return [UserUttered(text, {"name": "greet"}), ActionExecuted("utter_hi"), ActionExecuted("action_listen")]


def stored_texts(tracker_store: ReconnectingSQLTrackerStore, sender: str) -> List[str]:
    tracker = asyncio.run(tracker_store.retrieve(sender))
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_two_instances_taking_turns_store_each_event_once(tmp_path):
    first, second = store(tmp_path), store(tmp_path)
    tracker = DialogueStateTracker.from_events("anna", [ActionExecuted("action_session_start"), SessionStarted(),
                                                        ActionExecuted("action_listen")])
    asyncio.run(first.save(tracker))  # a tracker from elsewhere: Rasa's count query decides
    for n, instance in enumerate([first, second, first, second]):
        tracker = asyncio.run(instance.retrieve("anna"))
        tracker.update_with_events(turn(f"message {n}"), DOMAIN)
        asyncio.run(instance.save(tracker))
        tracker.update_with_events(turn(f"again {n}"), DOMAIN)  # a second save in the same turn
        asyncio.run(instance.save(tracker))
    assert stored_texts(second, "anna") == [f"{word} {n}" for n in range(4) for word in ("message", "again")]


def test_a_retrieved_tracker_is_saved_without_counting_its_events(tmp_path):
    tracker_store = store(tmp_path)
    asyncio.run(tracker_store.save(DialogueStateTracker.from_events("ben", turn("hello"))))
    tracker = asyncio.run(tracker_store.retrieve("ben"))
    seen = statements(tracker_store.engine)
    tracker.update_with_events(turn("bye"), DOMAIN)
    asyncio.run(tracker_store.save(tracker))
    assert any(s.startswith("insert") for s in seen)
    assert not any("count(" in s for s in seen)
    assert stored_texts(tracker_store, "ben") == ["hello", "bye"]


def test_sqlite_runs_in_write_ahead_mode(tmp_path):
    with store(tmp_path).engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
