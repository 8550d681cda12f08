"""Faults injected for real: the CPS API down, slow, failing or rejecting the
token; the action server stopped; Rasa restarted. The user always gets a
localised answer, and nothing is lost."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.languages import language_of
from tests.stack import ROOT, Stack, free_port, new_sender, plain_numbers, reset_demo_account, response_texts

POINTS_QUESTION = {"en": "how many points do I have?", "cs": "kolik mám bodů?", "da": "hvor mange point har jeg?",
                   "hu": "hány pontom van?", "lt": "kiek turiu taškų?", "fi": "paljonko minulla on pisteitä?"}
LOGIN_QUESTION = {"en": "how do I log in?", "cs": "jak se přihlásím?", "da": "hvordan logger jeg på?",
                  "hu": "hogyan jelentkezem be?", "lt": "kaip prisijungti?", "fi": "miten kirjaudun sisään?"}
LOGIN_URL = "https://businessid.canon-europe.com/b2bcustomers/s/login/?language=en_GB"


def texts(replies):
    return [r["text"] for r in replies if r.get("text")]


def ask_points(stack, language, token="demo-incomplete"):
    sender = new_sender(f"fault-{language}")
    started = time.monotonic()
    replies = texts(stack.say(sender, POINTS_QUESTION[language], expect_failure=True, language=language,
                              cps_token=token))
    return sender, replies, time.monotonic() - started


# What the visitor must be told: the account cannot be reached (with the support offer), or, when
# the API answered nonsense, that something went wrong on our side.
FAULT_ANSWER = {"down": "utter_api_unavailable", "slow": "utter_api_unavailable", "error": "utter_api_unavailable",
                "malformed": "utter_service_unavailable"}


@pytest.fixture()
def proxy(stack):
    stack.proxy.mode = "pass"
    yield stack.proxy
    stack.proxy.mode = "pass"
    stack.proxy.start()


@pytest.mark.parametrize("mode", ["down", "slow", "error", "malformed"])
@pytest.mark.parametrize("language", ["cs", "fi"])
def test_cps_api_failure_gives_a_localised_message_and_support_offer(stack, proxy, mode, language):
    if mode == "down":
        proxy.stop()
    else:
        proxy.mode = mode
    sender, replies, elapsed = ask_points(stack, language)
    assert replies[-1] in response_texts(FAULT_ANSWER[mode], language), f"API {mode}: {replies}"
    assert all(language_of(r) == language for r in replies if len(r.split()) >= 5), replies
    assert "420" not in " ".join(replies)
    assert elapsed < 30, f"the answer took {elapsed:.1f}s"
    # Answers that need no API keep working meanwhile.
    login = texts(stack.say(sender, LOGIN_QUESTION[language], language=language, cps_token="demo-incomplete"))
    assert any(LOGIN_URL in r for r in login), login


def test_api_back_after_an_outage(stack, proxy):
    proxy.stop()
    ask_points(stack, "en")
    proxy.start()
    _, replies, _ = ask_points(stack, "en")
    assert "420" in " ".join(replies), replies


def test_token_rejected_mid_conversation_asks_to_sign_in_again(stack, proxy):
    sender = new_sender("expired")
    first = texts(stack.say(sender, "how many points do I have?", language="da", cps_token="demo-pro"))
    assert "2100" in plain_numbers(" ".join(first))
    proxy.mode = "unauthorized"
    replies = texts(stack.say(sender, "hvor mange point har jeg nu?", language="da", cps_token="demo-pro"))
    assert replies[-1] in response_texts("utter_session_expired", "da"), replies
    assert "2100" not in plain_numbers(" ".join(replies))


# --- processes stopped and restarted: a stack of its own, whose action server the test controls.

class ActionServer:
    def __init__(self, port: int, env: dict) -> None:
        self.port, self.env, self.process = port, env, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "actions.server", "--port", str(self.port)],
            cwd=ROOT, env={**self.env, "SANIC_HOST": "127.0.0.1"}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/health", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.5)
        raise TimeoutError("action server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    actions_port = free_port()
    # This stack also runs with RASA_AUTH_TOKEN set, as a production one should.
    # and with the website's credential for the REST webhook at the public entry point.
    stack = Stack(tmp_path_factory.mktemp("own"), env={"START_ACTIONS": "0", "ACTIONS_PORT": str(actions_port),
                                                      "RASA_AUTH_TOKEN": uuid.uuid4().hex,
                                                      "REST_WEBHOOK_TOKEN": uuid.uuid4().hex})
    stack.start()
    actions = ActionServer(actions_port, {**os.environ, "CPS_API_URL": stack.proxy.url, "PYTHONPATH": str(ROOT),
                                          "CPS_TOKEN_PRIVATE_KEY": stack.secret("cps-token-private.key"),
                                          "ACTION_SERVER_TOKEN": stack.secret("action-server.token")})
    actions.start()
    yield stack, actions
    actions.stop()
    stack.stop()


def test_action_server_down_gives_a_localised_message(own_stack):
    stack, actions = own_stack
    sender = new_sender("noactions")
    stack.say(sender, "Laba diena", language="lt")
    actions.stop()
    try:
        replies = texts(stack.say(sender, "kiek turiu taškų?", expect_failure=True, language="lt",
                                  cps_token="demo-pro"))
        assert replies == response_texts("utter_service_unavailable", "lt"), f"while the action server is down: {replies}"
    finally:
        actions.start()
    replies = texts(stack.say(sender, "kiek turiu taškų?", language="lt", cps_token="demo-pro"))
    assert "2100" in plain_numbers(" ".join(replies)), replies


def test_a_restart_in_the_middle_of_the_level_form_loses_nothing(own_stack):
    """A signed-in visitor has chosen Gold when the Rasa server restarts; the purchase goes on from the store."""
    stack, _ = own_stack
    reset_demo_account(stack, "demo-pro")
    sender = new_sender("restart-form")

    def say(text: str):
        return stack.say(sender, text, language="da", cps_token="demo-pro")

    say("Hvordan tilmelder jeg mig CPS?")
    asked = say('/choose_tier{"tier": "gold"}')
    assert [b["payload"] for r in asked for b in r.get("buttons") or []], f"no payment question: {asked}"
    stack.stop()
    stack.start()
    confirm = " ".join(texts(say('/choose_payment_method{"payment_method": "card"}')))
    assert "Gold" in confirm and "99,00" in confirm, confirm
    done = " ".join(texts(say("ja")))
    assert re.search(r"CPS-GOL-\d{6}", done), done
    membership = requests.get(f"{stack.cps_api_url}/v1/membership", headers={"Authorization": "Bearer demo-pro"},
                              timeout=10).json()
    assert membership["level"] == "gold" and membership["membership_number"] in done


def test_http_api_needs_the_token_and_rest_answers_only_the_page_origin(own_stack):
    stack, _ = own_stack
    sender = new_sender("access")
    stack.say(sender, "Hello", language="en")  # the channel itself stays public
    tracker_url = f"{stack.api_url}/conversations/{sender}/tracker"
    assert requests.get(tracker_url, timeout=10).status_code == 401
    assert requests.get(tracker_url, params={"token": "wrong"}, timeout=10).status_code == 401
    assert requests.post(f"{stack.rasa_url}/model/parse", json={"text": "hi"}, timeout=10).status_code == 401
    assert stack.tracker(sender)["sender_id"] == sender  # with the token

    def allowed_origin(origin: str):
        response = requests.options(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=10, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})
        return response.headers.get("Access-Control-Allow-Origin")

    assert allowed_origin(stack.web_url) == stack.web_url
    assert allowed_origin("http://evil.example") is None


def test_the_rest_webhook_through_the_entry_needs_the_websites_credential(own_stack):
    stack, _ = own_stack
    url = f"{stack.web_url}/webhooks/rest/webhook"
    body = {"sender": new_sender("backend"), "message": "how do I log in?", "metadata": {"language": "en"}}
    for headers in ({}, {"Authorization": "Bearer guess"}, {"Authorization": stack.env["REST_WEBHOOK_TOKEN"]}):
        assert requests.post(url, json=body, headers=headers, timeout=30).status_code == 401, headers
    answer = requests.post(url, json=body, headers={"Authorization": f"Bearer {stack.env['REST_WEBHOOK_TOKEN']}"},
                           timeout=60)
    assert answer.status_code == 200 and any(LOGIN_URL in r.get("text", "") for r in answer.json()), answer.text
    # The credential opens the webhook, nothing else.
    params = {"token": stack.env["RASA_AUTH_TOKEN"]}
    assert requests.get(f"{stack.web_url}/conversations/{body['sender']}/tracker", params=params,
                        headers={"Authorization": f"Bearer {stack.env['REST_WEBHOOK_TOKEN']}"},
                        timeout=10).status_code == 404
