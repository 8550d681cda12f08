"""One report: the date range, the stream from the store, the figures."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Optional, Tuple

from insights.aggregate import TOP_GROUPS, Figures
from insights.source import Progress, conversations, open_read_only

DEFAULT_DAYS = 30


def day_range(since: Optional[str], until: Optional[str], everything: bool = False,
              today: Optional[date] = None) -> Tuple[Optional[float], Optional[float]]:
    """[since, until) as UTC timestamps from YYYY-MM-DD; by default the last 30 days (until: exclusive)."""
    def start_of(day: str) -> float:
        return datetime.combine(date.fromisoformat(day), datetime.min.time(), timezone.utc).timestamp()

    if everything:
        return None, None
    today = today or datetime.now(timezone.utc).date()
    begin = start_of(since) if since else start_of((today - timedelta(days=DEFAULT_DAYS)).isoformat())
    return begin, start_of(until) if until else None


def build(url: str, since: Optional[float], until: Optional[float], progress: Optional[Progress] = None,
          top_groups: int = TOP_GROUPS) -> Dict[str, Any]:
    """The figures of every conversation with a visitor's message in [since, until)."""
    figures = Figures(since, until)
    engine = open_read_only(url)
    try:
        for _, rows in conversations(engine, since, until, progress):
            figures.add(rows)
    finally:
        engine.dispose()
    return figures.result(top_groups=top_groups)
