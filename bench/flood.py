"""`make bench-flood`: what one flooding client costs the other visitors (loopback only, bounded).

Starts the stack, then ROUNDS times: a calm visitor's five questions alone,
and again while another client sends 400 messages in 5 s through the public
entry point. Prints the time to the first answer of each question (median,
p95, max), how many of the flood's messages were refused with "please slow
down", and writes reports/bench/flood.{json,md}. The bound that SECURITY.md
documents (and tests/test_attacks.py asserts) is max < 3 s and a median at
most 1 s above the calm one.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chat_client import flood_beside_a_calm_visitor  # noqa: E402
from tests.stack import Stack, response_texts  # noqa: E402

OUT = ROOT / "reports" / "bench"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SLOW_DOWN = response_texts("utter_slow_down", "en")[0]


def summary(values: list) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{statistics.median(values) * 1000:.0f} / {p95 * 1000:.0f} / {max(values) * 1000:.0f}"


def main() -> None:
    stack = Stack(Path(tempfile.mkdtemp(prefix="cps-flood-")), fault_proxy=False).start()
    rows = []
    try:
        for round_ in range(1, ROUNDS + 1):
            print(f"round {round_}/{ROUNDS}: a calm visitor, then the same beside a flood", flush=True)
            calm, during, answers = asyncio.run(flood_beside_a_calm_visitor(stack.web_url))
            refused = answers.count(SLOW_DOWN)
            rows.append({"calm": calm, "during": [latency for latency, _ in during],
                         "flood_answers": len(answers), "flood_refused": refused})
    finally:
        stack.stop()
    table = ["| round | calm visitor alone, ms (median / p95 / max) | beside the flood | flood: answers / refused |",
             "|---|---|---|---|"]
    for i, row in enumerate(rows, 1):
        table.append(f"| {i} | {summary(row['calm'])} | {summary(row['during'])} | "
                     f"{row['flood_answers']} / {row['flood_refused']} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "flood.json").write_text(json.dumps(rows, indent=2))
    (OUT / "flood.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
