"""Rasa's Redis lock store, with its ticket updates made atomic.

`RedisLockStore` issues, expires and removes tickets by reading the whole
lock, changing it and writing it back. Two Rasa instances doing that for the
same conversation at the same moment can overwrite each other's ticket; both
then process a message at once and one of the two messages' events is lost
(seen in tests/test_scaled.py with six messages sent at once). Each
read-modify-write here runs under a short Redis mutex per conversation.

When Redis cannot be reached, the turn fails before its ticket is issued (so
before anything of it is stored) with one of `UNAVAILABLE_ERRORS`;
bot/channels.py answers those in the visitor's language. redis-py opens a new
connection on the next command, so nothing here has to reconnect.
"""
from __future__ import annotations

from typing import Any, Text, Tuple, Type

import redis
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

MUTEX_SECONDS = 5
# What a turn meets when the lock store cannot serve it: Redis down or slow (redis-py's
# ConnectionError, TimeoutError, its mutex's LockError) or Rasa's LockError (no ticket, lock expired).
UNAVAILABLE_ERRORS: Tuple[Type[Exception], ...] = (LockError, redis.exceptions.RedisError)


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings = endpoint_config.kwargs
        super().__init__(
            host=endpoint_config.url or "localhost",
            port=int(settings.get("port", 6379)),
            db=int(settings.get("db", 1)),
            password=settings.get("password"),
            use_ssl=bool(settings.get("use_ssl", False)),
            key_prefix=settings.get("key_prefix"),
        )

    def _mutex(self, conversation_id: Text) -> Any:
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)
