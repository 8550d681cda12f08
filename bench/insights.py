"""`make bench-insights`: the insights report on a tracker store of 100,000 conversations.

Generates the conversations of tests/insights_seed.py (seven kinds, six
languages, known outcomes) with varied unanswered messages and start times
spread over 25 days, writes them into a SQLite tracker store in the rows
Rasa's SQLTrackerStore writes (its own table and index; events of nearby
conversations interleaved by time, as a live store has them), then runs
`python -m insights report --all` on it as a child process and prints the
wall time, its CPU time and its peak resident memory. The target (issue 24): under
two minutes on 2 cores and under 500 MB. Figures go to reports/insights/bench.json.

  INSIGHTS_BENCH_CONVERSATIONS=100000; INSIGHTS_BENCH_DB=path keeps the store there and reuses it
  (default: a temporary one, about 1.1 GB, removed at the end)
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.language_model import LANGUAGES  # noqa: E402
from tests.insights_seed import scenarios, store_rows  # noqa: E402

OUT = ROOT / "reports" / "insights"
CONVERSATIONS = int(os.environ.get("INSIGHTS_BENCH_CONVERSATIONS", "100000"))
CHUNK = 2_000  # conversations whose events are interleaved by time
WORDS = ("today", "urgent", "again", "for my studio", "quickly", "please", "tomorrow", "EOS R5", "RF 24-70",
         "for a wedding", "in Prague", "in Budapest", "in Aarhus", "in Vilnius", "in Oulu", "in Leeds", "now",
         "for the team", "for two cameras", "this week")


def rows(conversations: int, seed: int = 24) -> Iterator[Tuple[str, str, float, str, str, str]]:
    """(sender_id, type_name, timestamp, intent_name, action_name, data), in store order, chunk by chunk."""
    rng = random.Random(seed)
    made, block = 0, 0
    while made < conversations:
        chunk: List[Tuple] = []
        while len(chunk) < CHUNK and made < conversations:
            language = LANGUAGES[block % len(LANGUAGES)]
            start = time.time() - rng.uniform(1, 25) * 86400
            for sender_id, events in scenarios(language, start, tag=f"{block}-")[: conversations - made]:
                made += 1
                for event in events:
                    if getattr(event, "intent_name", None) == "nlu_fallback":  # varied, so there is grouping to do
                        event.text = f"{event.text} {rng.choice(WORDS)} {rng.randrange(40)}"
                        event.parse_data["text"] = event.text
                chunk += store_rows(sender_id, events)
            block += 1
        chunk.sort(key=lambda row: row[2])
        yield from chunk


def generate(path: Path, conversations: int) -> int:
    """The store at `path`: Rasa's schema (created by its SQLTrackerStore), then the rows in bulk."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore(None, dialect="sqlite", db=str(path)).engine.dispose()
    count = 0
    with sqlite3.connect(path) as db:
        batch = []
        for row in rows(conversations):
            batch.append(row)
            if len(batch) >= 50_000:
                db.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                               " VALUES (?, ?, ?, ?, ?, ?)", batch)
                count += len(batch)
                batch.clear()
                print(f"  {count:,} events written", end="\r", flush=True)
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                       " VALUES (?, ?, ?, ?, ?, ?)", batch)
        count += len(batch)
    return count


def stored_events(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM events").fetchone()[0]


def main() -> None:
    kept = os.environ.get("INSIGHTS_BENCH_DB")
    db = Path(kept) if kept else Path(tempfile.mkdtemp(prefix="insights-bench-")) / "tracker.sqlite3"
    try:
        measure(db)
    finally:
        if not kept:
            shutil.rmtree(db.parent, ignore_errors=True)


def measure(db: Path) -> None:
    if not db.exists():
        print(f"generating {CONVERSATIONS:,} conversations into {db} …", flush=True)
        started = time.monotonic()
        events = generate(db, CONVERSATIONS)
        print(f"generated {events:,} events ({db.stat().st_size / 1e6:,.0f} MB) in {time.monotonic() - started:.0f} s")
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "insights", "report", "--all", "--db", f"sqlite:///{db}", "--out", out],
                       cwd=ROOT, check=True)
        seconds = time.monotonic() - started
        child = resource.getrusage(resource.RUSAGE_CHILDREN)  # the report's process (the only child)
        peak_mb, cpu = child.ru_maxrss / 1024, child.ru_utime + child.ru_stime
        report = json.loads((Path(out) / "report.json").read_text())
    totals = report["totals"]
    figures = {"conversations": totals["conversations"], "messages": totals["messages"],
               "events_in_store": stored_events(db),
               "store_mb": round(db.stat().st_size / 1e6), "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
               "peak_rss_mb": round(peak_mb), "load_average": round(os.getloadavg()[0], 1),
               "cores": os.cpu_count(), "targets": {"seconds": 120, "peak_rss_mb": 500}}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench.json").write_text(json.dumps(figures, indent=2))
    print(f"insights report on {figures['conversations']:,} conversations ({figures['messages']:,} messages, "
          f"{figures['events_in_store']:,} events, {figures['store_mb']:,} MB of SQLite): "
          f"{seconds:.1f} s ({cpu:.1f} s of CPU), peak RSS {peak_mb:.0f} MB (targets: < 120 s, < 500 MB; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    if seconds >= 120 or peak_mb >= 500:
        sys.exit(1)


if __name__ == "__main__":
    main()
