"""The custom actions in-process: hand-built trackers, a CollectingDispatcher,
and the real reference CPS API (cps_api) served by uvicorn in a thread on a
free loopback port, with its own SQLite database.

No Rasa server and no action server: each test calls an action's `run` and
asserts on the response names and values it dispatched, the events it
returned, and, for writes, on what the API holds afterwards.
"""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import requests
import uvicorn
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import sessionmaker

from actions import answers, common, membership, migration, signup, support
from actions.answers import ActionAnswerLevels, ActionAnswerMigration, ActionAnswerPoints, ActionAnswerProductDetails
from actions.fallback import ActionDefaultAskAffirmation
from actions.cps_client import AsyncCPSClient, CPSClient
from actions.membership import INTENT_CLAIMED, ActionAskTier, ActionBuyMembership, ValidateMembershipForm
from actions.migration import ActionMigrateProducts, ValidateMigrationForm
from actions.support import ActionOpenTicket
from bot import linear_intents
from bot.token_cipher import (PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, SEALED_METADATA_KEY, TOKEN_METADATA_KEY,
                              new_key_pair, seal)
from cps_api.app import create_app
from cps_api.models import make_sessionmaker
from cps_api.seed import demo_accounts, reset_account
from tests.stack import ROOT, free_port
from translations.catalogue import all_responses, core

DOMAIN = {**core(), "responses": all_responses()}
MODULES_USING_THE_CLIENT = (common, answers, membership, migration, signup, support)
DEMO_TOKENS = [account.token for account in demo_accounts()]


# --- the real API, with a switch for faults ----------------------------------------------------

class Faults:
    """The reference app behind a switch that can break its answers on /v1/ paths.

    `answer = (status, body)` replaces every answer; `lose_answer_to = (method, path)`
    lets the API do the next such request, then answers 504 instead of its result
    (a gateway that timed out after the API acted). `seen` records
    (method, path, Idempotency-Key) of every /v1/ request.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.reset()

    def reset(self) -> None:
        self.answer: Optional[Tuple[int, bytes]] = None
        self.lose_answer_to: Optional[Tuple[str, str]] = None
        self.seen: List[Tuple[str, str, Optional[str]]] = []

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        self.seen.append((scope["method"], scope["path"], key.decode() if key else None))
        if self.answer:
            return await self._reply(send, *self.answer)
        if self.lose_answer_to == (scope["method"], scope["path"]):
            self.lose_answer_to = None

            async def swallow(message: Dict[str, Any]) -> None:
                pass

            await self.app(scope, receive, swallow)
            return await self._reply(send, 504, b'{"title": "Gateway Timeout", "status": 504}')
        await self.app(scope, receive, send)

    @staticmethod
    async def _reply(send: Any, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class Api:
    """The running reference server, and plain HTTP access to check what it holds."""

    def __init__(self, url: str, faults: Faults) -> None:
        self.url, self.faults = url, faults

    def get(self, path: str, token: Optional[str] = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=10)

    def post(self, path: str, token: str, body: Dict[str, Any], key: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        return requests.post(self.url + path, json=body, headers=headers, timeout=10)

    def writes(self, path: str) -> List[Tuple[str, str, Optional[str]]]:
        return [seen for seen in self.faults.seen if seen[0] != "GET" and seen[1] == path]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('cps-api') / 'cps.sqlite3'}"


@pytest.fixture(scope="module")
def make_session(database: str) -> Iterator[sessionmaker]:
    """Direct access to the API's database, to put the demo accounts back between tests."""
    maker = make_sessionmaker(database)
    yield maker
    maker.kw["bind"].dispose()


@pytest.fixture(scope="module")
def api(database: str) -> Iterator[Api]:
    """One server for the module (started in well under a second), stopped at its end."""
    faults = Faults(create_app(database))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(faults, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off", ws="none",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="cps-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the reference CPS API did not start")
        time.sleep(0.01)
    yield Api(f"http://127.0.0.1:{port}", faults)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def key_pair() -> Tuple[str, str]:
    return new_key_pair()


@pytest.fixture(autouse=True)
def fresh_state(api: Api, make_session: sessionmaker, key_pair: Tuple[str, str],
                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test: demo accounts as seeded, no faults, the token keys set, the actions on this API."""
    with make_session() as session:
        for token in DEMO_TOKENS:
            reset_account(session, token)
    api.faults.reset()
    private, public = key_pair
    monkeypatch.setenv(PRIVATE_KEY_ENV, private)
    monkeypatch.setenv(PUBLIC_KEY_ENV, public)
    use_api(monkeypatch, api.url)


def use_api(monkeypatch: pytest.MonkeyPatch, url: str, client: Optional[AsyncCPSClient] = None) -> None:
    """Points every action module's `cps_client()` at `url` (they import it by name)."""
    client = client or AsyncCPSClient(CPSClient(url, connect_timeout=1.0, read_timeout=4.0))
    for module in MODULES_USING_THE_CLIENT:
        monkeypatch.setattr(module, "cps_client", lambda: client)


# --- trackers, running an action, reading what it said ----------------------------------------

def tracker(token: Optional[str] = None, *, intent: str = "check_points", slots: Optional[Dict[str, Any]] = None,
            events: Optional[List[Dict[str, Any]]] = None, sender_id: Optional[str] = None,
            metadata: Optional[Dict[str, Any]] = None) -> Tracker:
    """A conversation whose latest message carries `token` sealed for this conversation."""
    sender_id = sender_id or f"test-{uuid.uuid4().hex[:12]}"
    metadata = dict(metadata or {})
    if token:
        metadata[SEALED_METADATA_KEY] = seal(token, sender_id)
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": "", "metadata": metadata}
    return Tracker(sender_id, {"language": "en", **(slots or {})}, latest, list(events or []), False, None, {},
                   "action_listen")


def run(action: Any, conversation: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, conversation, DOMAIN))
    return dispatcher.messages, events


def names(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["response"] for m in messages]


def values(message: Dict[str, Any]) -> Dict[str, Any]:
    """What an action passed besides the response name (the template's variables, buttons)."""
    standard = {"text", "elements", "custom", "template", "response", "image", "attachment"}
    return {k: v for k, v in message.items() if k not in standard and not (k == "buttons" and not v)}


def button(tier: str, price: int) -> Dict[str, Any]:
    """A level button as the action sends it: the title is a catalogue fragment the Rasa server renders."""
    return {"title": {"response": "utter_label_level_button", "level": {"response": f"utter_label_level_{tier}"},
                      "price": {"amount": price, "currency": "EUR"}},
            "payload": '/choose_tier{"tier": "%s"}' % tier}


PRO_BUTTONS = [button("silver", 49), button("gold", 99), button("platinum", 249)]
FORM_RESET = [SlotSet("tier", None), SlotSet("payment_method", None), SlotSet("purchase_confirmed", None)]
GOLD_BY_TRANSFER = {"tier": "gold", "payment_method": "bank_transfer", "purchase_confirmed": True}


# --- points ------------------------------------------------------------------------------------

def test_points_of_an_account_with_an_incomplete_product():
    messages, events = run(ActionAnswerPoints(), tracker("demo-incomplete"))
    assert names(messages) == ["utter_account_points", "utter_account_points_pending",
                               "utter_account_product_incomplete"]
    assert values(messages[0]) == {"allocated": 420}
    assert values(messages[1]) == {"pending": 600}
    assert values(messages[2]) == {"product": "EOS R3", "points": 600, "missing": [
        {"response": "utter_label_serial_number"}, {"response": "utter_label_purchase_date"}]}
    assert events == []


def test_product_details_count_the_products_then_name_what_is_missing():
    messages, _ = run(ActionAnswerProductDetails(), tracker("demo-incomplete", intent="product_details_missing"))
    assert names(messages) == ["utter_account_products_summary", "utter_account_product_incomplete"]
    assert values(messages[0]) == {"count": 3}
    messages, _ = run(ActionAnswerProductDetails(), tracker("demo-newcomer", intent="product_details_missing"))
    assert names(messages) == ["utter_account_no_products"]


def test_did_you_mean_names_the_topic_only_when_the_catalogue_has_one():
    def asked(best: str) -> List[Dict[str, Any]]:
        conversation = tracker(None)
        conversation.latest_message["intent_ranking"] = [{"name": "nlu_fallback"}, {"name": best}]
        return run(ActionDefaultAskAffirmation(), conversation)[0]
    messages = asked("login")
    assert names(messages) == ["utter_ask_affirmation"]
    assert values(messages[0]) == {"topic": {"response": "utter_topic_login"}, "payload": "/login"}
    assert names(asked("greet")) == ["utter_ask_rephrase"]


def test_points_of_a_complete_account():
    messages, _ = run(ActionAnswerPoints(), tracker("demo-pro"))
    assert names(messages) == ["utter_account_points"]
    assert values(messages[0]) == {"allocated": 2100}


def test_points_signed_out_gives_the_general_answer_and_how_to_sign_in(api):
    messages, _ = run(ActionAnswerPoints(), tracker(None))
    assert names(messages) == ["utter_points_general", "utter_sign_in_for_account"]
    assert api.faults.seen == []


def test_token_sealed_for_another_conversation_counts_as_signed_out(api):
    """A sealed token copied from another conversation's tracker must not open this one."""
    stolen = seal("demo-pro", "someone-else")
    messages, _ = run(ActionAnswerPoints(), tracker(None, metadata={SEALED_METADATA_KEY: stolen}))
    assert names(messages) == ["utter_points_general", "utter_sign_in_for_account"]
    assert api.faults.seen == []


def test_expired_sealed_token_counts_as_signed_out():
    sender = "test-expired"
    old = seal("demo-pro", sender, now=time.time() - 3600)
    messages, _ = run(ActionAnswerPoints(), tracker(None, sender_id=sender, metadata={SEALED_METADATA_KEY: old}))
    assert names(messages) == ["utter_points_general", "utter_sign_in_for_account"]


def test_a_plain_token_in_the_metadata_is_not_accepted(api):
    """Only the sealed value counts: a client that posts `cps_token` straight to the action gets nothing."""
    messages, _ = run(ActionAnswerPoints(), tracker(None, metadata={TOKEN_METADATA_KEY: "demo-pro"}))
    assert names(messages) == ["utter_points_general", "utter_sign_in_for_account"]
    assert api.faults.seen == []


# --- levels ------------------------------------------------------------------------------------

def test_levels_for_an_account_below_corporate():
    messages, _ = run(ActionAnswerLevels(), tracker("demo-pro", intent="list_tiers"))
    assert names(messages) == ["utter_account_levels", "utter_account_level_locked"]
    assert values(messages[0]) == {"points": 2100, "buttons": PRO_BUTTONS}
    assert values(messages[1]) == {"level": {"response": "utter_label_level_corporate"}, "threshold": 2501, "missing": 401}


def test_levels_for_a_corporate_account():
    messages, _ = run(ActionAnswerLevels(), tracker("demo-corporate", intent="list_tiers"))
    assert names(messages) == ["utter_account_levels", "utter_account_corporate_open"]
    assert values(messages[0]) == {"points": 2750,
                                   "buttons": PRO_BUTTONS + [button("corporate", 499)]}


def test_corporate_question_gets_the_general_answer_before_the_accounts_levels():
    messages, _ = run(ActionAnswerLevels(), tracker("demo-pro", intent="corporate_tiers"))
    assert names(messages) == ["utter_corporate_tiers", "utter_account_levels", "utter_account_level_locked"]


def test_the_form_asks_for_a_level_with_the_accounts_buttons():
    messages, events = run(ActionAskTier(), tracker("demo-pro"))
    assert names(messages) == ["utter_ask_tier"]
    assert messages[0]["buttons"] == PRO_BUTTONS
    assert events == []


# --- the membership form and buying ------------------------------------------------------------

def validate_tier(token: str, tier: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """validate_membership_form right after the form extracted `tier`."""
    return run(ValidateMembershipForm(), tracker(token, slots={"tier": tier}, events=[SlotSet("tier", tier)]))


def test_form_accepts_a_level_the_account_may_choose():
    messages, events = validate_tier("demo-pro", "gold")
    assert messages == []
    assert events == [SlotSet("tier", "gold")]


def test_form_refuses_a_level_the_account_may_not_choose():
    messages, events = validate_tier("demo-pro", "corporate")
    assert names(messages) == ["utter_tier_not_eligible"]
    assert values(messages[0]) == {"level": {"response": "utter_label_level_corporate"}, "threshold": 2501, "points": 2100, "missing": 401}
    assert events == [SlotSet("tier", None)]


def test_form_asks_a_member_nothing_and_ends():
    messages, events = validate_tier("demo-member", "gold")
    assert messages == []
    assert events == [SlotSet("requested_slot", None)]


@pytest.mark.parametrize("claimed, kept", [(True, True), (False, None)])
def test_a_yes_no_intent_claimed_buys_nothing_and_is_asked_again(claimed, kept):
    """"???" or "asdfgh" come out `affirm` at 0.96+ from the softmax; at the purchase question that must not buy."""
    slots = {"tier": "gold", "payment_method": "card", "purchase_confirmed": True, "requested_slot": "purchase_confirmed"}
    conversation = tracker("demo-pro", intent="affirm", slots=slots, events=[SlotSet("purchase_confirmed", True)])
    conversation.latest_message[INTENT_CLAIMED] = claimed
    _, events = run(ValidateMembershipForm(), conversation)
    assert SlotSet("purchase_confirmed", kept) in events


def test_the_claimed_key_is_the_one_the_classifier_sets():
    assert INTENT_CLAIMED == linear_intents.INTENT_CLAIMED


def test_form_keeps_only_the_contracts_payment_methods():
    conversation = tracker("demo-pro", slots={"payment_method": "paypal"}, events=[SlotSet("payment_method", "paypal")])
    assert run(ValidateMembershipForm(), conversation) == ([], [SlotSet("payment_method", None)])


def test_buying_gold_by_bank_transfer(api):
    messages, events = run(ActionBuyMembership(), tracker("demo-pro", slots=GOLD_BY_TRANSFER))
    bought = api.get("/v1/membership", "demo-pro").json()
    assert bought["status"] == "active" and bought["level"] == "gold"
    assert bought["invoice"]["payment_method"] == "bank_transfer"
    assert names(messages) == ["utter_purchase_done", "utter_invoice_bank_transfer"]
    assert values(messages[0]) == {"level": {"response": "utter_label_level_gold"}, "number": bought["membership_number"]}
    invoice = bought["invoice"]
    assert values(messages[1]) == {"invoice": invoice["number"], "amount": {"amount": 99, "currency": "EUR"},
                                   "due_date": {"date": invoice["due_date"]}}
    assert events == FORM_RESET


def test_buying_survives_a_lost_answer_and_buys_once(api):
    """The API bought, but its 201 was lost on the way (504): the client retries with the
    same Idempotency-Key, gets the first result replayed, and nothing is bought twice."""
    conversation = tracker("demo-pro", slots=GOLD_BY_TRANSFER)
    api.faults.lose_answer_to = ("POST", "/v1/membership")
    messages, _ = run(ActionBuyMembership(), conversation)
    bought = api.get("/v1/membership", "demo-pro").json()
    key = f"membership-{conversation.sender_id}-gold-bank_transfer"
    assert api.writes("/v1/membership") == [("POST", "/v1/membership", key)] * 2
    assert names(messages) == ["utter_purchase_done", "utter_invoice_bank_transfer"]
    assert values(messages[0]) == {"level": {"response": "utter_label_level_gold"}, "number": bought["membership_number"]}
    assert values(messages[1])["invoice"] == bought["invoice"]["number"]


def test_buying_again_in_the_same_conversation_buys_once(api):
    """Rasa runs the action a second time (a retried turn): still one membership, the first."""
    conversation = tracker("demo-pro", slots=GOLD_BY_TRANSFER)
    run(ActionBuyMembership(), conversation)
    first = api.get("/v1/membership", "demo-pro").json()
    messages, events = run(ActionBuyMembership(), conversation)
    assert api.get("/v1/membership", "demo-pro").json() == first
    assert names(messages) == ["utter_already_member"]
    assert values(messages[0]) == {"level": {"response": "utter_label_level_gold"}, "number": first["membership_number"]}
    assert events == FORM_RESET


def test_a_member_buying_again_is_refused():
    messages, events = run(ActionBuyMembership(), tracker("demo-member", slots=GOLD_BY_TRANSFER))
    assert names(messages) == ["utter_already_member"]
    assert values(messages[0]) == {"level": {"response": "utter_label_level_gold"}, "number": "CPS-GLD-204817"}
    assert events == FORM_RESET


class AnotherTabBuysFirst(AsyncCPSClient):
    """The visitor buys Silver in another tab between the action's membership check and its order."""

    def __init__(self, api: Api) -> None:
        super().__init__(CPSClient(api.url))
        self.api = api
        self.key = f"other-tab-{uuid.uuid4().hex}"

    async def membership(self, token: str) -> Dict[str, Any]:
        answer = await asyncio.to_thread(self.sync.membership, token)
        # A key of its own: the API keeps keyed results across the demo accounts' resets.
        other = self.api.post("/v1/membership", token, {"level": "silver", "payment_method": "card"}, self.key)
        assert other.status_code == 201, other.text
        return answer


def test_second_purchase_refused_by_the_api_buys_nothing(api, monkeypatch):
    """The 409 path: the API refuses the order because the account became a member meanwhile."""
    use_api(monkeypatch, api.url, AnotherTabBuysFirst(api))
    messages, events = run(ActionBuyMembership(), tracker("demo-pro", slots=GOLD_BY_TRANSFER))
    assert api.get("/v1/membership", "demo-pro").json()["level"] == "silver"
    assert "utter_purchase_done" not in names(messages)
    assert events == FORM_RESET


def test_second_purchase_refused_by_the_api_says_already_a_member(api, monkeypatch):
    """The 409 path: another tab bought between the action's check and its order."""
    use_api(monkeypatch, api.url, AnotherTabBuysFirst(api))
    messages, _ = run(ActionBuyMembership(), tracker("demo-pro", slots=GOLD_BY_TRANSFER))
    assert names(messages) == ["utter_already_member"]


def test_order_for_a_level_the_api_refuses_buys_nothing(api):
    """The 422 path: a tier that got past the form (eligibility changed meanwhile) is refused by the
    API; the visitor is told why with the account's figures, as the form would have told them."""
    corporate = {**GOLD_BY_TRANSFER, "tier": "corporate"}
    messages, events = run(ActionBuyMembership(), tracker("demo-pro", slots=corporate))
    assert api.get("/v1/membership", "demo-pro").json()["status"] == "none"
    assert len(api.writes("/v1/membership")) == 1
    assert names(messages) == ["utter_tier_not_eligible"]
    assert values(messages[0]) == {"level": {"response": "utter_label_level_corporate"}, "threshold": 2501, "points": 2100, "missing": 401}
    assert events == FORM_RESET


def test_buying_signed_out_asks_to_sign_in(api):
    messages, events = run(ActionBuyMembership(), tracker(None, slots=GOLD_BY_TRANSFER))
    assert names(messages) == ["utter_tier_needs_sign_in"]
    assert events == FORM_RESET
    assert api.faults.seen == []


# --- migration ---------------------------------------------------------------------------------

def test_the_form_asks_to_confirm_only_when_there_is_something_to_migrate():
    form, dispatcher = ValidateMigrationForm(), CollectingDispatcher()
    asks = {token: asyncio.run(form.required_slots(["migration_confirmed"], dispatcher, tracker(token), DOMAIN))
            for token in ("demo-legacy", "demo-unlinked", "demo-pro")}
    assert asks == {"demo-legacy": ["migration_confirmed"], "demo-unlinked": [], "demo-pro": []}


def test_migrating_the_old_accounts_products(api):
    messages, events = run(ActionMigrateProducts(), tracker("demo-legacy", slots={"migration_confirmed": True}))
    assert names(messages) == ["utter_migration_done"]
    assert values(messages[0]) == {"products": 2, "points": 1150, "total": 1150}
    assert events == [SlotSet("migration_confirmed", None)]
    assert api.get("/v1/account", "demo-legacy").json()["migration"] == "done"
    assert api.get("/v1/points", "demo-legacy").json()["allocated"] == 1150


def test_migrating_twice_migrates_once(api):
    conversation = tracker("demo-legacy", slots={"migration_confirmed": True})
    run(ActionMigrateProducts(), conversation)
    messages, _ = run(ActionMigrateProducts(), conversation)
    assert names(messages) == ["utter_migration_already_done"]
    assert values(messages[0]) == {"total": 1150}
    assert len(api.writes("/v1/migrations")) == 1
    assert api.get("/v1/points", "demo-legacy").json()["total"] == 1150


def test_migration_survives_a_lost_answer(api):
    """The API migrated but its answer was lost (504): the retry with the same key replays the
    first result, so the visitor hears 2 products / 1,150 points, not 0."""
    conversation = tracker("demo-legacy", slots={"migration_confirmed": True})
    api.faults.lose_answer_to = ("POST", "/v1/migrations")
    messages, _ = run(ActionMigrateProducts(), conversation)
    assert api.writes("/v1/migrations") == [("POST", "/v1/migrations", f"migrate-{conversation.sender_id}")] * 2
    assert names(messages) == ["utter_migration_done"]
    assert values(messages[0]) == {"products": 2, "points": 1150, "total": 1150}


def test_migration_declined_migrates_nothing(api):
    messages, _ = run(ActionMigrateProducts(), tracker("demo-legacy", slots={"migration_confirmed": False}))
    assert names(messages) == ["utter_migration_cancelled"]
    assert api.writes("/v1/migrations") == []
    assert api.get("/v1/account", "demo-legacy").json()["migration"] == "available"


def test_unlinked_account_is_told_no_migration_is_possible():
    messages, _ = run(ActionAnswerMigration(), tracker("demo-unlinked", intent="migrate_button_missing"))
    assert names(messages) == ["utter_migration_not_available"]


def test_unlinked_account_confirming_anyway_migrates_nothing(api):
    messages, events = run(ActionMigrateProducts(), tracker("demo-unlinked", slots={"migration_confirmed": True}))
    assert names(messages) == ["utter_migration_not_available"]
    assert events == [SlotSet("migration_confirmed", None)]
    assert api.writes("/v1/migrations") == []


# --- support tickets ---------------------------------------------------------------------------

CONVERSATION = [
    {"event": "user", "text": "/request_support"},
    {"event": "bot", "text": "What is your e-mail address?"},
    {"event": "user", "text": "Můj EOS R5 se nezapne."},
    {"event": "bot", "text": "Ticket coming."},
]
EXCERPT = [{"sender": "bot", "text": "What is your e-mail address?"},
           {"sender": "user", "text": "Můj EOS R5 se nezapne."},
           {"sender": "bot", "text": "Ticket coming."}]
TICKET_SLOTS = {"contact_email": "jana@foto.example", "support_product": "EOS R5",
                "support_summary": "Camera does not power on", "language": "cs"}
TICKET_RESET = [SlotSet("contact_email", None), SlotSet("support_product", None), SlotSet("support_summary", None)]


def open_ticket(token: Optional[str], **slots: Any) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    return run(ActionOpenTicket(), tracker(token, slots={**TICKET_SLOTS, **slots}, events=CONVERSATION))


def test_ticket_signed_out(api):
    messages, events = open_ticket(None)
    assert names(messages) == ["utter_ticket_opened"]
    ticket_id = messages[0]["ticket_id"]
    assert values(messages[0]) == {"ticket_id": ticket_id, "email": "jana@foto.example"}
    ticket = api.get(f"/v1/support/tickets/{ticket_id}").json()
    assert ticket["language"] == "cs" and ticket["conversation_excerpt"] == EXCERPT
    assert (ticket["contact_email"], ticket["summary"], ticket["product"]) == (
        "jana@foto.example", "Camera does not power on", "EOS R5")
    assert events == TICKET_RESET


def test_ticket_signed_in_belongs_to_the_account(api):
    messages, _ = open_ticket("demo-pro", language="da", support_product="-")
    assert names(messages) == ["utter_ticket_opened"]
    path = f"/v1/support/tickets/{messages[0]['ticket_id']}"
    ticket = api.get(path, "demo-pro").json()
    assert ticket["language"] == "da" and ticket["conversation_excerpt"] == EXCERPT
    assert ticket["product"] is None  # "-": the visitor skipped the question
    assert api.get(path).status_code == 404  # not readable without the account's token


def test_ticket_with_a_rejected_token_is_still_opened(api):
    """An expired sign-in must not keep the visitor from reaching a person: the ticket goes in anonymously."""
    messages, _ = open_ticket("demo-expired-token")
    assert names(messages) == ["utter_ticket_opened"]
    assert api.get(f"/v1/support/tickets/{messages[0]['ticket_id']}").json()["language"] == "cs"


def test_ticket_with_the_api_down_says_it_failed(monkeypatch):
    use_api(monkeypatch, f"http://127.0.0.1:{free_port()}")
    messages, events = open_ticket(None)
    assert names(messages) == ["utter_ticket_failed"]
    assert events == TICKET_RESET


# --- faults ------------------------------------------------------------------------------------

FIGURES = {"allocated", "pending", "points", "total", "buttons"}


@pytest.mark.parametrize("fault, token, answer", [
    ("down", "demo-incomplete", "utter_api_unavailable"),
    ("unknown token", "demo-nobody", "utter_session_expired"),
    ("500", "demo-incomplete", "utter_api_unavailable"),
    ("invalid JSON", "demo-incomplete", "utter_service_unavailable"),
    ("400", "demo-incomplete", "utter_service_unavailable"),
])
@pytest.mark.parametrize("action", [ActionAnswerPoints, ActionAnswerLevels])
def test_api_failure_gives_its_answer_and_no_figures(api, monkeypatch, action, fault, token, answer):
    """The failure answers of report_api_failure; 5xx count as "can't reach your account" (as in
    tests/test_faults.py), an answer we cannot use as "something went wrong on my side"."""
    if fault == "down":
        use_api(monkeypatch, f"http://127.0.0.1:{free_port()}")  # nothing listens there: connection refused
    elif fault == "500":
        api.faults.answer = (500, b'{"title": "Internal Server Error", "status": 500}')
    elif fault == "invalid JSON":
        api.faults.answer = (200, b'{"allocated": 4')
    elif fault == "400":
        api.faults.answer = (400, b'{"title": "Bad Request", "status": 400}')
    messages, events = run(action(), tracker(token, intent="list_tiers"))
    assert names(messages) == [answer]
    assert not FIGURES & set(values(messages[0]))
    assert events == []


def test_form_stops_when_the_api_is_down(monkeypatch):
    use_api(monkeypatch, f"http://127.0.0.1:{free_port()}")
    messages, events = run(ActionAskTier(), tracker("demo-pro"))
    assert names(messages) == ["utter_api_unavailable"]
    assert messages[0]["buttons"] == []
    assert events == membership.STOP_FORM


def test_buying_with_the_api_failing_buys_nothing_and_keeps_the_choices(api):
    """The level and payment method stay for when the API is back; the purchase is confirmed again."""
    api.faults.answer = (500, b'{"title": "Internal Server Error", "status": 500}')
    messages, events = run(ActionBuyMembership(), tracker("demo-pro", slots=GOLD_BY_TRANSFER))
    assert names(messages) == ["utter_api_unavailable"]
    assert events == [SlotSet("purchase_confirmed", None)]
    api.faults.reset()
    assert api.get("/v1/membership", "demo-pro").json()["status"] == "none"
