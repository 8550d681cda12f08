"""make insights / insights-export / insights-import: the command line.

  python -m insights report  [--since D] [--until D | --all] [--db URL] [--out DIR]
  python -m insights export  [same]            unanswered-<language>.csv for annotation
  python -m insights import  FILE               annotated lines into data/nlu/

Dates are YYYY-MM-DD (UTC), `until` exclusive; without them, the last 30 days.
The database is found as `make run` left it (insights/source.py); PostgreSQL
passwords belong in INSIGHTS_DB_URL, not on the command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from insights.source import ROOT, Progress, StoreMissing, database_url

OUT = ROOT / "reports" / "insights"
EXPORT_GROUPS = 1_000  # per language: everything worth annotating


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insights", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("report", "export"):
        command = commands.add_parser(name)
        command.add_argument("--since", help="first day, YYYY-MM-DD (default: 30 days ago)")
        command.add_argument("--until", help="day after the last, YYYY-MM-DD (default: now)")
        command.add_argument("--all", action="store_true", help="every conversation in the store")
        command.add_argument("--db", help="SQLAlchemy URL (default: the store `make run` uses)")
        command.add_argument("--out", type=Path, default=OUT)
        command.add_argument("--quiet", action="store_true", help="no progress on stderr")
    annotations = commands.add_parser("import")
    annotations.add_argument("file", type=Path)
    annotations.add_argument("--data", type=Path, default=ROOT / "data" / "nlu")
    annotations.add_argument("--held-out", type=Path, default=ROOT / "tests" / "nlu")
    args = parser.parse_args(argv)

    if args.command == "import":
        from insights.exchange import describe, import_annotations

        if not args.file.is_file():
            parser.error(f"no file {args.file} (make insights-import FILE=reports/insights/unanswered-cs.csv)")
        result = import_annotations(args.file, args.data, args.held_out)
        print("\n".join(describe(result)))
        return 2 if result.refused else 0

    from insights.aggregate import TOP_GROUPS
    from insights.report import build, day_range

    since, until = day_range(args.since, args.until, args.all)
    progress = None if args.quiet else Progress()
    try:
        report = build(database_url(args.db), since, until, progress,
                       top_groups=EXPORT_GROUPS if args.command == "export" else TOP_GROUPS)
    except StoreMissing as missing:
        print(f"insights: {missing}", file=sys.stderr)
        return 1
    if args.command == "export":
        from insights.exchange import export_csv

        for path in export_csv(report, args.out):
            print(path)
        return 0
    from insights.render import write_report

    page = write_report(report, args.out)
    totals = report["totals"]
    print(f"{page}: {totals['conversations']:,} conversations, {totals['messages']:,} messages, "
          f"{totals['fallback_share']:.1%} in the fallback, {totals['escalations']:,} escalations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
