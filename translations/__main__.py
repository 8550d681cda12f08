"""`python -m translations export LANG [OUT]` / `python -m translations import FILE` (see the Makefile)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from translations.catalogue import LANGUAGES, ROOT
from translations.po import TranslationError, export, import_po


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m translations")
    commands = parser.add_subparsers(dest="command", required=True)
    out = commands.add_parser("export", help="one language's texts as a PO file")
    out.add_argument("language", choices=LANGUAGES)
    out.add_argument("out", nargs="?", type=Path)
    into = commands.add_parser("import", help="a translated PO file back into domain/responses/")
    into.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.command == "export":
        path = args.out or ROOT / "reports" / "translations" / f"{args.language}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(export(args.language))
        print(f"{path}: the {args.language} texts with their English source")
        return 0
    try:
        language, changed = import_po(args.file.read_bytes())
    except TranslationError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    print(f"{args.file}: {changed} {language} texts changed in domain/responses/; retrain with `make train`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
