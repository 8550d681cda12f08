"""The contract file cps_api/openapi.yaml, written from the reference server's own OpenAPI document.

`python -m cps_api.contract --write` (`make openapi`) rewrites the file;
`python -m cps_api.contract` exits 1 if it differs from what the server
serves at /openapi.json. tests/cps_api/test_contract.py checks the same.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

import yaml

CONTRACT_FILE = Path(__file__).resolve().parent / "openapi.yaml"
HEADER = ("# The CPS API contract, generated from the reference server (cps_api/app.py) by `make openapi`.\n"
          "# Change the server's routes and models (cps_api/schemas.py), then regenerate; do not edit by hand.\n"
          "# tests/cps_api/test_contract.py fails while this file and the served /openapi.json differ.\n")


def served_document() -> Dict[str, Any]:
    """What the reference server answers at /openapi.json (built on a throw-away database)."""
    from cps_api.app import create_app

    with tempfile.TemporaryDirectory() as directory:
        return create_app(f"sqlite:///{directory}/contract.sqlite3").openapi()


class _Dumper(yaml.SafeDumper):
    """Multi-line texts (the descriptions) as literal blocks, as they read in the source."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def as_yaml(document: Dict[str, Any]) -> str:
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite cps_api/openapi.yaml")
    text = as_yaml(served_document())
    if parser.parse_args().write:
        CONTRACT_FILE.write_text(text, "utf-8")
        print(f"wrote {CONTRACT_FILE}")
    elif CONTRACT_FILE.read_text("utf-8") != text:
        sys.exit(f"{CONTRACT_FILE} differs from the server's document: run `make openapi`")


if __name__ == "__main__":
    main()
