"""Rasa's SQL tracker store, with three fixes that matter under load.

- Connections are checked before use (PostgreSQL). Rasa 3.6 creates its engine
  without `pool_pre_ping`: after a database restart every pooled connection is
  dead, and the first message on each Rasa instance failed (HTTP 500, the
  user's message lost) before the pool noticed.
- SQLite (the single-process default) keeps one open connection in write-ahead
  mode with `synchronous=NORMAL`. SQLAlchemy 1.4 opens a new SQLite connection
  per transaction and SQLite syncs the disk on every commit: together a tenth
  of the server's CPU per message. WAL with NORMAL still survives a crash of
  the process; only a power cut can lose the last commits.
- `save` knows how many of the tracker's events are already stored. Rasa
  counts them with a query on every save (a subquery over the conversation's
  session starts); a tracker this store retrieved or saved carries that count,
  so only trackers from elsewhere still pay for the query. The lock store
  keeps one message per conversation in flight, so the count cannot go stale
  between a retrieve and its save.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Optional, Text, Tuple, Type

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

# What a turn meets when the database cannot be reached (down, restarting, the connection cut):
# retrieve fails before anything happens, save in one transaction (all of the turn's events or none).
UNAVAILABLE_ERRORS: Tuple[Type[Exception], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError,
                                                   sa.exc.DisconnectionError)

# Set on the tracker objects this store returns or saves: events already in the database.
_STORED = "_cps_events_in_store"


def create_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """An engine for the tracker store: pooled, checked connections; SQLite in WAL mode."""
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
    # Rasa calls the store from its event-loop thread only; one connection is enough.
    engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=4,
                              connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _write_ahead(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class ReconnectingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with checked connections, SQLite in WAL mode and counted saves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = create_engine(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, _STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        setattr(tracker, _STORED, len(tracker.events))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = getattr(tracker, _STORED, None)
        if stored is None or tracker.events.maxlen is not None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, None)
