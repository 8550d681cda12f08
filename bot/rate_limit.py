"""Per-client and per-conversation message budgets for the public channels.

A token bucket per key: `burst` messages at once, then one every
`1 / per_second` seconds. Refusing costs a dict lookup, so a flooding client
cannot slow the conversations of others beyond the cost of its own refusals.
Buckets live in memory (an instance's own budget) and the oldest are dropped
beyond `max_keys`, so memory stays bounded whatever the number of clients.
"""
from __future__ import annotations

import ipaddress
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Tuple


@dataclass(frozen=True)
class Budget:
    burst: float
    per_second: float

    @classmethod
    def from_env(cls, name: str, burst: float, per_second: float) -> "Budget":
        """`NAME=burst/per_second` in the environment overrides the default, e.g. `8/0.5`."""
        raw = os.environ.get(name)
        if not raw:
            return cls(burst, per_second)
        try:
            b, r = raw.split("/")
            return cls(float(b), float(r))
        except ValueError:
            raise ValueError(f"{name}={raw!r}: expected 'burst/per_second', e.g. '8/0.5'") from None


class RateLimiter:
    def __init__(self, budget: Budget, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()

    def allow(self, key: str) -> bool:
        """Spends one message from `key`'s budget; False when none is left."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self.budget.burst, now))
        tokens = min(self.budget.burst, tokens + (now - last) * self.budget.per_second)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


def trusted_proxies() -> Tuple[ipaddress._BaseNetwork, ...]:
    """Who may write `X-Forwarded-For`: the support page's server and nginx, on loopback by default.

    `TRUSTED_PROXIES` is a comma-separated list of addresses or networks
    (`10.0.0.0/8` for an ingress inside a cluster).
    """
    raw = os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")
    try:
        return tuple(ipaddress.ip_network(a.strip(), strict=False) for a in raw.split(",") if a.strip())
    except ValueError as error:
        raise ValueError(f"TRUSTED_PROXIES={raw!r}: {error}") from None


def is_trusted_proxy(address: str) -> bool:
    return _trusted(address, trusted_proxies())


def _trusted(address: str, trusted: Tuple[ipaddress._BaseNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in trusted)


def client_address(peer: str, forwarded_for: Optional[str]) -> Optional[str]:
    """The visitor's address, or None for a local tool talking to this server directly.

    `X-Forwarded-For` is believed only as far as trusted proxies wrote it:
    the first address before the last trusted hop is the client's. Nothing
    but a trusted peer gives None, so no visitor escapes the budgets.
    """
    trusted = trusted_proxies()
    if not _trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in (forwarded_for or "").split(",") if h.strip()]):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return "invalid"
    return None
