"""Attacks on the public assistant, each written as the attacker would try it, against the running stack.

The threat model these belong to is in SECURITY.md; each test's name is the
attack, and its assertions are what the attacker must not get.
"""
from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import statistics
import time
from typing import List

import pytest
import requests

from tests.chat_client import ChatClient, conversation_key, flood_beside_a_calm_visitor
from tests.languages import CODES
from tests.stack import new_sender, plain_numbers, reset_demo_account, response_texts
from tests.test_message_guard import SENSITIVE_FORMS

RASA_API_PATHS = ["/conversations/anna/tracker", "/conversations/anna/tracker/events", "/conversations/anna/messages",
                  "/model", "/model/parse", "/model/train", "/status", "/version", "/domain", "/"]
POINTS = {"cs": "kolik mám bodů?", "hu": "hány pontom van?", "da": "hvor mange point har jeg?",
          "lt": "kiek turiu taškų?", "fi": "paljonko minulla on pisteitä?", "en": "how many points do I have?"}


def texts(replies) -> str:
    return plain_numbers(" ".join(r.get("text") or "" for r in replies))


# --- one public entry point ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_rasa_http_api_through_the_public_entry_is_not_there(stack, method):
    token = stack.api_token  # even an attacker who stole the token gets nothing here
    for path in RASA_API_PATHS[:-1]:
        response = requests.request(method, f"{stack.web_url}{path}", params=token, timeout=10, json={})
        assert response.status_code in (404, 405), f"{method} {path} through the entry: {response.status_code}"


def test_rasa_http_api_without_its_token_is_refused(stack):
    for method, path in [("GET", "/conversations/anna/tracker"), ("DELETE", "/model"), ("PUT", "/model"),
                         ("POST", "/model/train"), ("GET", "/status"), ("POST", "/conversations/anna/tracker/events")]:
        for params in ({}, {"token": "guess"}, {"token": ""}):
            response = requests.request(method, f"{stack.rasa_url}{path}", params=params, json={}, timeout=30)
            assert response.status_code == 401, f"{method} {path} {params}: {response.status_code}"
    assert requests.get(f"{stack.rasa_url}/status", params=stack.api_token, timeout=30).status_code == 200


def test_action_server_refuses_a_forged_tracker(stack):
    forged = {"next_action": "action_buy_membership", "sender_id": "victim", "version": "3.6.21",
              "tracker": {"sender_id": "victim", "slots": {"tier": "gold"}, "latest_message": {}, "events": []},
              "domain": {}}
    url = f"http://127.0.0.1:{stack.env['ACTIONS_PORT']}/webhook"
    assert requests.post(url, json=forged, timeout=10).status_code == 401
    assert requests.post(url, json=forged, headers={"Authorization": "Bearer guess"}, timeout=10).status_code == 401


def test_action_errors_do_not_echo_the_tracker(stack):
    canary = "canary-" + new_sender()
    broken = {"next_action": "action_answer_points", "sender_id": canary, "version": "3.6.21",
              "tracker": {"sender_id": canary, "latest_message": {"text": canary, "metadata": "not a dict"}},
              "domain": {}}
    url = f"http://127.0.0.1:{stack.env['ACTIONS_PORT']}/webhook"
    response = requests.post(url, json=broken, timeout=10,
                             headers={"Authorization": f"Bearer {stack.secret('action-server.token')}"})
    assert response.status_code == 500
    assert canary not in response.text, response.text
    logs = (stack.state_dir / "logs").glob("actions-*.log")
    assert not any(canary in log.read_text(errors="replace") for log in logs)


def test_rest_webhook_through_the_public_entry_needs_the_websites_credential(stack):
    body = {"sender": new_sender("entry"), "message": "hello"}
    assert requests.post(f"{stack.web_url}/webhooks/rest/webhook", json=body, timeout=10).status_code == 404


def test_the_page_forbids_framing_and_foreign_scripts(stack):
    headers = requests.get(stack.web_url, timeout=10).headers
    policy = headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "default-src 'self'"):
        assert directive in policy, policy
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"


# --- conversations belong to whoever the server gave them to ------------------------------------

def test_rest_message_without_a_sender_is_refused(stack):
    for body in ({"message": "hello"}, {"sender": "", "message": "hello"}, {"sender": None, "message": "hi"},
                 {"sender": {"$ne": 1}, "message": "hi"}, {"sender": "a" * 300, "message": "hi"}, ["hello"]):
        response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
        assert response.status_code == 400, (body, response.status_code)
        assert "sender" in response.json()["error"] or "JSON object" in response.json()["error"], response.text
    shared = [e for e in stack.tracker("default")["events"] if e["event"] == "user"]
    assert not shared, "a message landed in the shared 'default' conversation"


def test_a_client_chosen_or_guessed_conversation_id_is_not_honoured(stack):
    victim_id = new_sender("victim")
    stack.say(victim_id, "how many points do I have?", language="en", cps_token="demo-corporate")

    async def attack():
        async with ChatClient(stack.web_url) as honest:
            issued = await honest.request_session()
            await honest.say("Hello", {"language": "en"})
        forged_mac = conversation_key(issued) + "." + "A" * 22
        async with ChatClient(stack.web_url) as attacker:
            given = [await attacker.request_session(wanted) for wanted in (victim_id, forged_mac,
                                                                          conversation_key(issued))]
            replies = await attacker.say("how many points do I have?", {"language": "en"}, session_id=victim_id)
            history_events = [e for e in attacker.seen if e[0] == "session_history"]
        return issued, given, history_events, replies

    issued, given, history_events, replies = asyncio.run(attack())
    for wanted, got in zip((victim_id, "forged mac", "the bare id of another"), given):
        assert got not in (victim_id, issued) and conversation_key(got) != conversation_key(issued), wanted
    assert not history_events, "another conversation's history was sent to the attacker"
    assert "2750" not in texts(replies)
    victim = [e.get("text") for e in stack.tracker(victim_id)["events"] if e["event"] == "user"]
    assert victim == ["how many points do I have?"], victim
    other = [e.get("text") for e in stack.tracker(conversation_key(issued))["events"] if e["event"] == "user"]
    assert other == ["Hello"], other


def test_the_issued_conversation_resumes_with_its_guarded_history(stack):
    async def visit():
        async with ChatClient(stack.web_url) as tab:
            issued = await tab.request_session()
            first = await tab.say("Goddag", {"language": "da"})
            await tab.say("mit kort er 4111 1111 1111 1111", {"language": "da"})
        async with ChatClient(stack.web_url) as reloaded:
            again = await reloaded.request_session(issued)
            history = await reloaded.next_event("session_history")
        return issued, again, first, history

    issued, again, first, history = asyncio.run(visit())
    assert again == issued
    assert [e["from"] for e in history][:1] == ["user"] and history[0]["text"] == "Goddag"
    assert first[0]["text"] in [e["text"] for e in history if e["from"] == "bot"]
    assert "4111" not in str(history), "the card number came back from the server"
    assert any(e["text"] in response_texts("utter_sensitive_data_removed", "da") for e in history), history


def test_two_visitors_at_once_each_get_only_their_own_answers(stack):
    """Two chats on the single-instance stack, interleaved: languages, accounts and histories never mix."""
    async def visit(source: str, language: str, token: str, points: str):
        async with ChatClient(stack.web_url, source=source) as visitor:
            issued = await visitor.request_session()
            answers = []
            for _ in range(3):
                replies = await visitor.say(POINTS[language], {"language": language, "cps_token": token}, quiet=0.5)
                answers.append(texts(replies))
            return issued, answers

    async def both():
        return await asyncio.gather(visit("127.0.0.5", "cs", "demo-pro", "2100"),
                                    visit("127.0.0.6", "fi", "demo-corporate", "2750"))

    (cs_id, cs_answers), (fi_id, fi_answers) = asyncio.run(both())
    assert all("2100" in a and "2750" not in a for a in cs_answers), cs_answers
    assert all("2750" in a and "2100" not in a for a in fi_answers), fi_answers
    for signed, question in ((cs_id, POINTS["cs"]), (fi_id, POINTS["fi"])):
        events = stack.tracker(conversation_key(signed))["events"]
        assert [e.get("text") for e in events if e["event"] == "user"] == [question] * 3
    assert stack.tracker(conversation_key(cs_id))["slots"]["language"] == "cs"
    assert stack.tracker(conversation_key(fi_id))["slots"]["language"] == "fi"


# --- no replay of the visitor's token ------------------------------------------------------------

def sealed_tokens_in_tracker_store(stack) -> List[str]:
    with sqlite3.connect(stack.state_dir / "tracker.sqlite3") as db:
        dump = "\n".join(r[0] for r in db.execute("select data from events"))
    return sorted(set(re.findall(r"v1\.[A-Za-z0-9_=-]{60,}", dump)))


def test_a_stolen_sealed_token_works_in_no_other_conversation(stack):
    reset_demo_account(stack, "demo-corporate")
    victim = new_sender("victim")
    assert "2750" in texts(stack.say(victim, "how many points do I have?", language="en", cps_token="demo-corporate"))
    stolen = sealed_tokens_in_tracker_store(stack)
    assert stolen, "no sealed token in the tracker store: the attack would prove nothing"

    attacker = new_sender("attacker")
    for blob in stolen[-3:]:
        replies = stack.say(attacker, "how many points do I have?", language="en", cps_token_sealed=blob)
        assert "2750" not in texts(replies)
        assert texts(replies).endswith(response_texts("utter_sign_in_for_account", "en")[0]), texts(replies)
    # An attempt to buy on the victim's account with the copied value.
    stack.say(attacker, "How do I sign up for CPS?", language="en", cps_token_sealed=stolen[-1])
    stack.say(attacker, '/choose_tier{"tier": "corporate_gold"}', language="en", cps_token_sealed=stolen[-1])
    stack.say(attacker, '/choose_payment_method{"payment_method": "card"}', language="en", cps_token_sealed=stolen[-1])
    stack.say(attacker, "yes", language="en", cps_token_sealed=stolen[-1])
    membership = requests.get(f"{stack.cps_api_url}/v1/membership", headers={"Authorization": "Bearer demo-corporate"},
                              timeout=10).json()
    assert not membership.get("level"), f"the attacker bought a membership: {membership}"


def test_the_tracker_keeps_no_client_metadata_beyond_language_and_the_sealed_token(stack):
    sender = new_sender("meta")
    stack.say(sender, "hello", language="en", cps_token="demo-pro", cps_token_sealed="v1.forged", role="admin",
              padding="x" * 5000)
    users = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    client_keys = set(users[-1]["metadata"]) - {"model_id", "assistant_id"}  # those two Rasa adds itself
    assert client_keys == {"language", "cps_token_sealed"}
    assert users[-1]["metadata"]["cps_token_sealed"] != "v1.forged"


# --- sensitive data never kept ----------------------------------------------------------------------

def secret_parts(form: str) -> List[str]:
    """What must not be found in storage: words with digits (6+ characters) and the card's digits."""
    words = [w.strip(".,;:!?()\"'") for w in form.split()]
    parts = [w for w in words if len(w) >= 6 and re.search(r"\d", w)]
    for run in re.findall(r"\d[\d \u00a0\u202f.\-–/]{11,}\d", form):
        digits = re.sub(r"\D", "", run)
        if len(digits) >= 13:
            parts.append(digits)
    return parts


@pytest.mark.parametrize("language", CODES)
def test_card_iban_and_password_forms_are_removed_and_the_user_told_why(stack, language):
    sender = new_sender(f"secrets-{language}")
    expected = response_texts("utter_sensitive_data_removed", language)
    forms = SENSITIVE_FORMS[language] + ["/" + SENSITIVE_FORMS[language][0], "/ " + SENSITIVE_FORMS[language][-1]]
    assert len(forms) >= 12
    for form in forms:
        replies = stack.say(sender, form, language=language, cps_token="demo-pro")
        assert [r.get("text") for r in replies] == expected, f"{form!r} -> {texts(replies)}"

    with sqlite3.connect(stack.state_dir / "tracker.sqlite3") as db:
        dump = "\n".join(r[0] for r in db.execute("select data from events where sender_id = ?", (sender,)))
    assert dump.count("sensitive_data") >= len(forms)
    logs = "\n".join(p.read_text(errors="replace") for p in (stack.state_dir / "logs").iterdir())
    for form in forms:
        for part in secret_parts(form):
            assert part not in dump, f"{part!r} of {form!r} is in the tracker store"
            assert part not in logs, f"{part!r} of {form!r} is in a log"


CANCELLED = "A REST turn was cancelled"


def test_a_client_that_goes_away_mid_turn_leaves_no_text_in_the_logs(stack):
    def logs() -> str:
        return "\n".join(p.read_text(errors="replace") for p in (stack.state_dir / "logs").iterdir())

    canary = "kanarek" + new_sender("x")[-8:]
    body = json.dumps({"sender": new_sender("gone"), "message": f"how many points do I have {canary}",
                       "metadata": {"cps_token": "demo-pro"}}).encode()
    port = int(stack.env["RASA_PORT"])
    before = logs().count(CANCELLED)
    for _ in range(3):  # send, then hang up before the answer: Rasa's own channel logged the text then
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    deadline = time.monotonic() + 10  # until the server has dealt with the hang-ups (a turn may win the race)
    while logs().count(CANCELLED) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert logs().count(CANCELLED) > before, "the error path never ran: the test would prove nothing"
    assert canary not in logs()


# --- limits ---------------------------------------------------------------------------------------

def test_bodies_over_the_limit_are_refused(stack):
    big = {"sender": new_sender("big"), "message": "x" * 100_000}
    assert requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=big, timeout=30).status_code == 413
    assert requests.post(f"{stack.web_url}/socket.io/?EIO=4&transport=polling", data="x" * 40_000,
                         timeout=30).status_code == 413


def test_a_flooding_client_is_told_to_slow_down_and_others_keep_their_answers(stack):
    """One visitor (127.0.0.2) floods the entry point while another (127.0.0.4) converses."""
    slow_down = response_texts("utter_slow_down", "en")[0]
    calm, during, flood_answers = asyncio.run(flood_beside_a_calm_visitor(stack.web_url))
    assert all(slow_down not in answer for _, answer in during), "a calm visitor was told to slow down"
    assert all(answer.strip() for _, answer in during)
    refused = flood_answers.count(slow_down)
    # The entry point passes about 60 + 10/s of the flood's frames; the channel answers
    # 6 + 0.5/s of those, and tells the visitor to slow down for the rest.
    assert refused >= 50, f"only {refused} of the flood's messages were refused: {flood_answers[:20]}"
    answered = len([a for a in flood_answers if a != slow_down])
    assert answered <= 30, f"the flood got {answered} answers, far more than its budget"
    # SECURITY.md documents the bound: every answer within 3 s, and the median at most 1 s slower than calm.
    latencies = [latency for latency, _ in during]
    assert max(latencies) < 3.0, latencies
    assert statistics.median(latencies) < statistics.median(calm) + 1.0, (calm, latencies)
