"""After conversations that carry tokens, card numbers and passwords, none of
them is in clear in any log or in the tracker database."""
from __future__ import annotations

import sqlite3

from tests.stack import new_sender

SECRETS = {
    "token": "demo-corporate",
    "card": "4111111111111111",
    "card spaced": "4111 1111 1111 1111",
    "password": "Foto2024!",
}


def test_no_secret_in_logs_or_tracker_store(stack):
    sender = new_sender("scan")
    stack.say(sender, "how many points do I have?", language="en", cps_token=SECRETS["token"])
    stack.say(sender, "which levels can I choose?", cps_token=SECRETS["token"])
    stack.say(sender, f"my card is {SECRETS['card spaced']}", cps_token=SECRETS["token"])
    stack.say(sender, f"pay with {SECRETS['card']}", cps_token=SECRETS["token"])
    stack.say(sender, f"my password is {SECRETS['password']}", cps_token=SECRETS["token"])
    assert stack.tracker(sender)["events"], "nothing was stored: the scan would prove nothing"

    logs = stack.state_dir / "logs"
    assert any(logs.iterdir())
    for log in logs.iterdir():
        text = log.read_text(errors="replace")
        for kind, secret in SECRETS.items():
            assert secret not in text, f"{kind} in clear in {log.name}"

    with sqlite3.connect(stack.state_dir / "tracker.sqlite3") as db:
        rows = [r[0] for r in db.execute("select data from events")]
    assert rows
    dump = "\n".join(rows)
    for kind, secret in SECRETS.items():
        assert secret not in dump, f"{kind} in clear in the tracker store"
