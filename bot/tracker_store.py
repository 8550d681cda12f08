"""Rasa's SQL tracker store, with connections checked before use.

Rasa 3.6 creates its SQLAlchemy engine without `pool_pre_ping`: after a
PostgreSQL restart every pooled connection is dead, and the first message on
each Rasa instance failed (HTTP 500, the user's message lost) before the pool
noticed. Checking a connection on checkout costs one round trip per
transaction and makes a database restart invisible to users.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class ReconnectingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose pool replaces connections the database dropped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
