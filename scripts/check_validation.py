"""Fails `rasa data validate` on every warning that is not explained.

Reads Rasa's output on stdin. A warning passes only when it is one of these:
- "The utterance 'X' is not used in any story or rule" where X is sent by
  code after all: named in actions/ or bot/, built there from a family
  (`utter_topic_<intent>`, `utter_label_<name>`), asked by a form
  (`utter_ask_<required slot>`), or Rasa's own default (`utter_default`);
- one of the exact messages in EXPECTED, each with its reason.
Everything else is printed and the exit status is 1.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, Set

import yaml

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("utter_topic_", "utter_label_")  # actions/fallback.py, actions/values.py build these names

EXPECTED: Dict[str, str] = {
    **{
        f"The intent '{intent}' is listed in the domain file, but is not found in the NLU training data.":
        "bot/message_guard.py sends it as a payload; no one types it"
        for intent in ("empty_message", "input_too_long", "sensitive_data")
    },
}
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")


def sent_by_code() -> Set[str]:
    code = "\n".join(p.read_text() for folder in ("actions", "bot") for p in (ROOT / folder).glob("*.py"))
    names = set(re.findall(r"utter_[a-z0-9_]+", code))
    domain = yaml.safe_load((ROOT / "domain" / "domain.yml").read_text("utf-8"))
    for form in (domain.get("forms") or {}).values():
        names |= {f"utter_ask_{slot}" for slot in form.get("required_slots") or []}
    return names | {"utter_default"}  # Rasa's action_default_fallback


def unexplained(output: str) -> Set[str]:
    warnings = {m.strip() for m in re.findall(r"UserWarning: (.*)", output)}
    sent = sent_by_code()
    left = set()
    for warning in warnings - set(EXPECTED):
        unused = UNUSED.fullmatch(warning)
        if unused and (unused.group(1) in sent or unused.group(1).startswith(FAMILIES)):
            continue
        left.add(warning)
    return left


if __name__ == "__main__":
    text = sys.stdin.read()
    left = unexplained(text)
    total = len(set(re.findall(r"UserWarning: (.*)", text)))
    print(f"rasa data validate: {total} warnings, {total - len(left)} explained")
    for warning in sorted(left):
        print(f"  unexplained: {warning}")
    sys.exit(1 if left else 0)
