"""`make transcripts`: one sample conversation per flow and language, for people.

Starts the real stack on free ports, walks every flow of the assistant with the
demo accounts in all six languages (the phrases the conversation tests use) and
writes what was said to reports/transcripts/<language>.md. Reviewers read these
instead of the YAML; the tests assert on the same flows.

Each file starts with the texts that depend on a count or a date, rendered by the
generator the Rasa server uses (bot/nlg.py) for 0, 1, 2, 5, 22, 101 and 2,501
and an invoice due on 20 January 2026: the demo accounts cannot reach every
count. `--counts-only` writes just that part, without starting the stack.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.languages import CODES  # noqa: E402
from tests.stack import Stack, new_sender, reset_demo_account  # noqa: E402
from tests.test_account_conversations import HUMAN, NO, POINTS, SIGNUP, SUMMARY, YES  # noqa: E402
from tests.test_bad_input import GREETING  # noqa: E402
from tests.test_faults import LOGIN_QUESTION  # noqa: E402

OUT = ROOT / "reports" / "transcripts"
COUNTS = (0, 1, 2, 5, 22, 101, 2501)
# The responses whose words depend on a number, with the values an action would pass; {n} is the count.
COUNTED = (
    ("utter_account_not_invited", {"points": "n", "missing": "n"}),
    ("utter_account_points", {"allocated": "n"}),
    ("utter_account_points_pending", {"pending": "n"}),
    ("utter_account_products_summary", {"count": "n"}),
    ("utter_migration_done", {"products": "n", "points": "n", "total": "n"}),
    ("utter_tier_not_eligible", {"level": "gold", "threshold": "n", "points": "n", "missing": "n"}),
    ("utter_account_level_locked", {"level": "corporate", "threshold": "n", "missing": "n"}),
)

# (title, demo token, turns); a turn is a text per language or a payload for all.
Turn = Dict[str, str]
FLOWS: Sequence[Tuple[str, str, Sequence[Turn]]] = (
    ("Greeting and log-in (signed out)", "", (GREETING, LOGIN_QUESTION)),
    ("Guided sign-up: a newcomer without products", "demo-newcomer", (SIGNUP,)),
    ("Points: a product with missing details", "demo-incomplete", (POINTS, SIGNUP)),
    ("Guided sign-up: migration from the old CPS account", "demo-legacy", (SIGNUP, YES)),
    ("Level and payment form: Gold by bank transfer", "demo-pro",
     (SIGNUP, {c: '/choose_tier{"tier": "gold"}' for c in CODES}, POINTS,
      {c: '/choose_payment_method{"payment_method": "bank_transfer"}' for c in CODES}, YES)),
    ("Corporate levels are open", "demo-corporate", (SIGNUP,)),
    ("Escalation to CPS Priority Support (signed out)", "",
     (HUMAN, {c: "foto.studio@example.com" for c in CODES}, NO, SUMMARY)),
)


def converse(stack: Stack, language: str, token: str, turns: Sequence[Turn]) -> List[str]:
    sender = new_sender(f"transcript-{language}")
    metadata = {"language": language, **({"cps_token": token} if token else {})}
    lines: List[str] = []
    for turn in turns:
        text = turn[language]
        lines.append(f"> **user:** {text}")
        for reply in stack.say(sender, text, **metadata):
            buttons = " ".join(f"[{b['title']}]" for b in reply.get("buttons") or [])
            body = (reply.get("text") or "").replace("\n", " ")
            lines.append(f"> **assistant:** {body} {buttons}".rstrip())
        lines.append(">")
    return lines[:-1]


def counts_and_dates(language: str) -> List[str]:
    """The count- and date-dependent texts of one language, as the Rasa server renders them."""
    from actions import values
    from bot.nlg import render
    from translations.catalogue import all_responses

    responses = all_responses()
    lines = ["## Counts and dates (rendered by bot/nlg.py)", ""]
    for name, arguments in COUNTED:
        lines.append(f"`{name}`")
        lines.append("")
        for n in COUNTS:
            given = {k: n if v == "n" else values.level(v) for k, v in arguments.items()}
            lines.append(f"- {n}: {render(responses, name, language, **given)['text']}")
        lines.append("")
    invoice = dict(invoice="INV-2026-00417", amount=values.money(99, "EUR"), due_date=values.date("2026-01-20"))
    for name, extra in (("utter_invoice_card", {}), ("utter_invoice_bank_transfer", {}),
                        ("utter_account_invoice", {"payment_method": values.label("card")})):
        lines.append(f"- `{name}`: {render(responses, name, language, **invoice, **extra)['text']}")
    lines.append(f"- `utter_account_product_incomplete`: " + render(
        responses, "utter_account_product_incomplete", language, product="EOS R3", points=600,
        missing=values.labels(["serial_number", "purchase_date"]))["text"])
    return lines + [""]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if "--counts-only" in sys.argv:
        for language in CODES:
            (OUT / f"{language}.md").write_text("\n".join([f"# Counts and dates ({language})", ""] + counts_and_dates(language)))
        print(f"[transcripts] counts and dates written to {OUT}/<language>.md")
        return
    stack = Stack(OUT / "state").start()
    try:
        for language in CODES:
            document = [f"# Sample conversations ({language})", ""] + counts_and_dates(language)
            for title, token, turns in FLOWS:
                if token:
                    reset_demo_account(stack, token)
                print(f"[transcripts] {language}: {title}", flush=True)
                document += [f"## {title}" + (f" — `{token}`" if token else ""), ""]
                document += converse(stack, language, token, turns) + [""]
            (OUT / f"{language}.md").write_text("\n".join(document))
    finally:
        stack.stop()
    print(f"[transcripts] written to {OUT}/<language>.md")


if __name__ == "__main__":
    main()
