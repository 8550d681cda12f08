"""Processes of `make run` killed for real (SIGKILL): supervisord (scripts/run.sh,
scripts/supervisord.conf.template) starts the dead one again, the others keep
serving meanwhile, the visitor is answered in their language, and SIGTERM to
run.sh stops everything. A stack of its own; the recovery times are printed
(`pytest -s` shows them).

While it asks, a test keeps the killed process down by holding supervisord
(tests/supervision.py, Held); a plain SIGKILL with supervisord running is timed as well."""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Callable, List

import pytest
import requests

from tests.languages import language_of
from tests.phrases import SIGNUP, YES
from tests.stack import Stack, level_name, new_sender, reset_demo_account, response_texts
from tests.supervision import Held, Supervised, answers, wait_until

POINTS_QUESTION = {"cs": "kolik mám bodů?", "lt": "kiek turiu taškų?"}
LOGIN_QUESTION = {"cs": "jak se přihlásím?", "lt": "kaip prisijungti?"}
LOGIN_URL = "https://businessid.canon-europe.com/b2bcustomers/s/login/?language=en_GB"


def texts(replies) -> List[str]:
    return [r["text"] for r in replies if r.get("text")]


def digits(replies) -> str:
    """The replies with the separators numbers are written with removed ("2 100", "2.100" -> "2100")."""
    return re.sub(r"[\s.,\u00a0\u202f]", "", " ".join(texts(replies)))


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    # No fault proxy: the actions call the reference CPS API itself, the process the test kills.
    stack = Stack(tmp_path_factory.mktemp("supervision"), fault_proxy=False).start()
    yield Supervised(stack)
    stack.stop()


def test_cps_api_killed_account_answers_say_so_faq_goes_on_and_it_comes_back(supervised):
    stack = supervised.stack
    sender = new_sender("api-killed")
    say = lambda text, **kw: stack.say(sender, text, language="cs", cps_token="demo-pro", **kw)  # noqa: E731
    assert "2100" in digits(say(POINTS_QUESTION["cs"]))
    others = {p: pid for p, pid in supervised.pids().items() if p != "cps-api"}

    held = Held(supervised, "cps-api")
    try:
        assert not answers(f"{stack.cps_api_url}/health")
        down = texts(say(POINTS_QUESTION["cs"], expect_failure=True))
        faq = texts(say(LOGIN_QUESTION["cs"]))
    finally:
        released_at = held.release()
    assert down and down[-1] in response_texts("utter_api_unavailable", "cs"), f"while the CPS API is down: {down}"
    assert "2100" not in digits([{"text": t} for t in down])
    assert any(LOGIN_URL in r for r in faq), f"FAQ while the CPS API is down: {faq}"

    wait_until("the CPS API restarted", lambda: answers(f"{stack.cps_api_url}/health"), 60)
    print(f"\nCPS API: /health answers {time.monotonic() - released_at:.1f}s after supervisord saw the SIGKILL")
    assert supervised.pid("cps-api") not in (0, held.pid)
    assert "2100" in digits(say(POINTS_QUESTION["cs"])), "the account's answer after the restart"
    assert "exited: cps-api (terminated by SIGKILL; not expected)" in supervised.log()
    assert {p: pid for p, pid in supervised.pids().items() if p != "cps-api"} == others, "another process restarted"
    plain = supervised.time_plain_restart("cps-api", f"{stack.cps_api_url}/health", 60)
    print(f"CPS API: SIGKILL -> /health answers again in {plain:.1f}s")


def test_action_server_killed_rasa_answers_in_the_users_language_and_it_comes_back(supervised):
    stack = supervised.stack
    sender = new_sender("actions-killed")
    say = lambda text, **kw: stack.say(sender, text, language="lt", cps_token="demo-pro", **kw)  # noqa: E731
    say("Laba diena")
    actions_url = f"http://127.0.0.1:{stack.env['ACTIONS_PORT']}/health"

    held = Held(supervised, "actions")
    try:
        assert not answers(actions_url)
        down = texts(say(POINTS_QUESTION["lt"], expect_failure=True))
        faq = texts(say(LOGIN_QUESTION["lt"], expect_failure=True))
    finally:
        released_at = held.release()
    assert down == response_texts("utter_service_unavailable", "lt"), f"while the action server is down: {down}"
    assert faq and all(language_of(r) == "lt" for r in faq if len(r.split()) >= 5), faq

    wait_until("the action server restarted", lambda: answers(actions_url), 90)
    print(f"\naction server: /health answers {time.monotonic() - released_at:.1f}s after supervisord saw the SIGKILL")
    assert supervised.pid("actions") not in (0, held.pid)
    assert "2100" in digits(say(POINTS_QUESTION["lt"])), "the account's answer after the restart"
    assert "exited: actions-" in supervised.log()
    plain = supervised.time_plain_restart("actions", actions_url, 90)
    print(f"action server: SIGKILL -> /health answers again in {plain:.1f}s")


GOLD = '/choose_tier{"tier": "gold"}'
CARD = '/choose_payment_method{"payment_method": "card"}'


def start_level_form(stack: Stack, sender: str, language: str) -> Callable[..., list]:
    """A signed-in visitor (demo-pro, 2,100 points) has chosen Gold and is asked how to pay."""
    reset_demo_account(stack, "demo-pro")
    say = lambda text, **kw: stack.say(sender, text, language=language, cps_token="demo-pro", **kw)  # noqa: E731
    say(SIGNUP[language])
    asked = say(GOLD)
    assert {b["payload"] for r in asked for b in r.get("buttons") or []} >= {CARD}, f"no payment question: {asked}"
    return say


def finish_purchase(stack: Stack, say: Callable[..., list], language: str) -> None:
    """The same button again: the form goes on from Gold, asks to confirm, and buys."""
    confirm = " ".join(texts(say(CARD)))
    gold = level_name("gold", language)  # as the language's guide writes it: hu "Arany"
    assert gold in confirm and "99" in confirm, f"no confirmation of {gold} by card: {confirm}"
    done = " ".join(texts(say(YES[language])))
    assert re.search(r"CPS-GOL-\d{6}", done), done
    membership = requests.get(f"{stack.cps_api_url}/v1/membership", headers={"Authorization": "Bearer demo-pro"},
                              timeout=10).json()
    assert membership["level"] == "gold" and membership["membership_number"] in done


def form_state(stack: Stack, sender: str) -> tuple:
    tracker = stack.tracker(sender)
    slots = tracker["slots"]
    return (tracker.get("active_loop", {}).get("name"), slots.get("tier"), slots.get("payment_method"),
            slots.get("purchase_confirmed"))


# (process killed, language, what the visitor is told, the form after the outage: active loop, level,
# payment method, purchase confirmed; ...: not checked)
FORM_OUTAGES = [
    # The API down: the form ends with the user told why, the choices kept for later.
    ("cps-api", "da", "utter_api_unavailable", (None, "gold", "card", None)),
    # The action server down: the form stays where it was (the payment method, set by Rasa
    # from the button, is validated when the form goes on).
    ("actions", "hu", "utter_service_unavailable", ("membership_form", "gold", ..., ...)),
]


@pytest.mark.parametrize("process, language, told, kept", FORM_OUTAGES, ids=[o[0] for o in FORM_OUTAGES])
def test_a_part_killed_in_the_level_form_the_form_goes_on_from_the_choices_when_it_is_back(
        supervised, process, language, told, kept):
    stack = supervised.stack
    sender = new_sender(f"{process}-killed-form")
    say = start_level_form(stack, sender, language)
    with Held(supervised, process):
        down = texts(say(CARD, expect_failure=True))
    assert down == response_texts(told, language), f"while {process} is down: {down}"
    state = form_state(stack, sender)
    assert [v if k is not ... else ... for v, k in zip(state, kept)] == list(kept), f"the form after the outage: {state}"

    health = {"cps-api": f"{stack.cps_api_url}/health", "actions": f"http://127.0.0.1:{stack.env['ACTIONS_PORT']}/health"}
    wait_until(f"{process} restarted", lambda: answers(health[process]), 90)
    finish_purchase(stack, say, language)


def test_rasa_killed_comes_back_and_the_conversation_goes_on_from_the_tracker(supervised):
    stack = supervised.stack
    sender = new_sender("rasa-killed")
    stack.say(sender, "Hyvää päivää", language="fi")
    stack.say(sender, "miten kirjaudun sisään?", language="fi")
    before = [(e["event"], e.get("text")) for e in stack.tracker(sender)["events"] if e["event"] in ("user", "bot")]
    assert before

    killed_at = time.monotonic()
    pid = supervised.kill("rasa")
    assert answers(stack.web_url), "the page went down with Rasa"

    def rasa_answers() -> bool:
        try:
            return requests.get(f"{stack.rasa_url}/status", params=stack.api_token, timeout=2).json().get("model_id")
        except (requests.RequestException, ValueError):
            return False

    wait_until("the Rasa server restarted with its model", rasa_answers, 180, interval=0.5)
    restart = time.monotonic() - killed_at
    print(f"\nRasa server: SIGKILL -> /status with the model loaded in {restart:.1f}s")
    assert supervised.pid("rasa") not in (0, pid)
    assert "exited: rasa-" in supervised.log()

    tracker = stack.tracker(sender)
    after = [(e["event"], e.get("text")) for e in tracker["events"] if e["event"] in ("user", "bot")]
    assert after == before, "events lost or changed by the restart"
    assert tracker["slots"]["language"] == "fi"
    replies = texts(stack.say(sender, "ok"))
    assert replies and all(language_of(r) == "fi" for r in replies if len(r.split()) >= 5), replies


def listening(port: str) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", int(port))) == 0


def processes_of(state_dir: Path) -> List[int]:
    """Every process whose environment names the state directory (run.sh gives it to all it starts)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if str(state_dir).encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def stored_turns(state_dir: Path, sender: str) -> List[tuple]:
    """The conversation's user and bot events as the tracker store (SQLite) holds them."""
    with sqlite3.connect(state_dir / "tracker.sqlite3") as db:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [(kind, json.loads(data).get("text")) for kind, data in rows if kind in ("user", "bot")]


def test_sigterm_to_run_sh_finishes_the_turn_in_flight_then_stops_every_process(supervised):
    """Last in this module: it stops the module's stack.

    A turn is in flight (its action server held with SIGSTOP) when run.sh gets SIGTERM: the page
    stops first, the Rasa server finishes the turn (answered and stored) once the action server goes
    on, then everything stops, the action server and the CPS API after Rasa."""
    stack = supervised.stack
    pids = supervised.pids()
    supervisord = int((stack.state_dir / "supervisord.pid").read_text())
    assert all(pids.values()), pids
    ports = [stack.env[k] for k in ("RASA_PORT", "ACTIONS_PORT", "CPS_API_PORT", "WEB_PORT")]
    sender = new_sender("in-flight")
    stack.say(sender, "Laba diena", language="lt")
    actions = supervised.pid("actions")

    os.kill(actions, signal.SIGSTOP)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(stack.say, sender, POINTS_QUESTION["lt"], language="lt", cps_token="demo-pro")
        time.sleep(1)  # the turn waits for the action server
        started = time.monotonic()
        stack.process.send_signal(signal.SIGTERM)
        time.sleep(4)  # the page has stopped and Rasa has had SIGTERM for a while; it still waits
        assert not in_flight.done(), "the turn ended before the action server went on"
        os.kill(actions, signal.SIGCONT)
        replies = in_flight.result(timeout=30)
    assert "2100" in digits(replies), f"the turn in flight at SIGTERM: {texts(replies)}"
    stack.process.wait(60)
    print(f"\nSIGTERM -> run.sh exited in {time.monotonic() - started:.1f}s (a turn in flight finished first)")
    stored = stored_turns(stack.state_dir, sender)
    assert ("user", POINTS_QUESTION["lt"]) in stored, stored
    answered = stored[stored.index(("user", POINTS_QUESTION["lt"])) + 1:]
    assert "2100" in digits([{"text": text} for kind, text in answered if kind == "bot"]), stored

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False

    assert not [p for p in [supervisord, *pids.values()] if alive(p)], "processes left after run.sh exited"
    assert processes_of(stack.state_dir) == []
    assert not [p for p in ports if listening(p)], "ports still listening"
    assert "==> stopped" in (stack.state_dir / "run.out").read_text()
