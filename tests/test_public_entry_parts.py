"""The parts of the public entry point that need no running stack: conversation ids,
client addresses behind proxies, message budgets, and what metadata the tracker keeps."""
from __future__ import annotations

import pytest

from bot import conversation_ids
from bot.rate_limit import Budget, RateLimiter, client_address


@pytest.fixture()
def conversation_key(monkeypatch):
    monkeypatch.setenv(conversation_ids.KEY_ENV, "k" * 43)


def test_issued_ids_are_recognised_and_distinct(conversation_key):
    issued = {conversation_ids.issue() for _ in range(200)}
    assert len(issued) == 200
    for signed in issued:
        conversation = conversation_ids.conversation_of(signed)
        assert conversation and signed.startswith(conversation + ".")


@pytest.mark.parametrize("presented", [None, "", "anna", "default", "x" * 22, "a" * 22 + "." + "b" * 22, 42,
                                       {"session_id": "x"}])
def test_ids_the_server_did_not_issue_are_refused(conversation_key, presented):
    assert conversation_ids.conversation_of(presented) is None


def test_an_id_from_another_key_is_refused(conversation_key, monkeypatch):
    signed = conversation_ids.issue()
    monkeypatch.setenv(conversation_ids.KEY_ENV, "z" * 43)
    assert conversation_ids.conversation_of(signed) is None


def test_a_short_key_is_refused_with_advice(monkeypatch):
    monkeypatch.setenv(conversation_ids.KEY_ENV, "short")
    with pytest.raises(conversation_ids.ConversationKeyMissing, match="make run"):
        conversation_ids.issue()


@pytest.mark.parametrize("peer, forwarded, client", [
    ("203.0.113.7", None, "203.0.113.7"),                  # straight from the internet
    ("203.0.113.7", "127.0.0.9", "203.0.113.7"),           # a client's own header is not believed
    ("127.0.0.1", "198.51.100.2", "198.51.100.2"),         # through the page's server
    ("127.0.0.1", "6.6.6.6, 198.51.100.2", "198.51.100.2"),  # a forged hop before the real one is ignored
    ("127.0.0.1", "198.51.100.2, 127.0.0.1", "198.51.100.2"),  # page server -> nginx -> Rasa
    ("127.0.0.1", "127.0.0.2", "127.0.0.2"),               # a visitor on another loopback address
    ("127.0.0.1", None, None),                             # a local tool, not a visitor
    ("127.0.0.1", "not-an-address", "invalid"),
])
def test_client_address(peer, forwarded, client):
    assert client_address(peer, forwarded) == client


def test_trusted_proxies_may_be_networks(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, ::1")
    assert client_address("10.4.5.6", "198.51.100.2, 10.9.9.9") == "198.51.100.2"
    assert client_address("127.0.0.1", "198.51.100.2") == "127.0.0.1"  # loopback no longer trusted
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/33")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        client_address("10.4.5.6", None)


def test_a_budget_refuses_past_its_burst_and_refills():
    now = [0.0]
    limiter = RateLimiter(Budget(burst=3, per_second=0.5), clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b"), "one client's flood spent another's budget"
    now[0] += 2.0
    assert limiter.allow("a") and not limiter.allow("a")


def test_budgets_keep_bounded_memory():
    limiter = RateLimiter(Budget(burst=1, per_second=1), max_keys=100)
    for i in range(1000):
        limiter.allow(f"client-{i}")
    assert len(limiter._buckets) == 100


def test_a_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOME_BUDGET", "8/0.25")
    assert Budget.from_env("SOME_BUDGET", 1, 1) == Budget(8, 0.25)
    monkeypatch.setenv("SOME_BUDGET", "lots")
    with pytest.raises(ValueError, match="burst/per_second"):
        Budget.from_env("SOME_BUDGET", 1, 1)


def test_the_tracker_keeps_only_the_metadata_the_website_may_send(monkeypatch):
    from bot.channels import clean_metadata
    from bot.token_cipher import PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, new_key_pair, unseal

    private, public = new_key_pair()
    monkeypatch.setenv(PUBLIC_KEY_ENV, public)
    sent = {"language": "fi", "cps_token": "demo-pro", "cps_token_sealed": "v1.copied-from-a-log",
            "input_notice": "none", "padding": "x" * 100_000, "nested": {"cps_token": "demo-member"}}
    kept = clean_metadata(sent, "conv-a", notice=None)
    assert set(kept) == {"language", "cps_token_sealed"}
    assert kept["cps_token_sealed"] != sent["cps_token_sealed"] and "demo-pro" not in kept["cps_token_sealed"]
    monkeypatch.setenv(PRIVATE_KEY_ENV, private)
    assert unseal(kept["cps_token_sealed"], "conv-a") == "demo-pro"


@pytest.mark.parametrize("metadata", [
    {"cps_token": "demo-pro\r\nX-Evil: 1"}, {"cps_token": " demo-pro"}, {"cps_token": 42}, {"cps_token": "x" * 600},
    {"cps_token_sealed": "v1.anything"}, {"language": "de"}, {"language": ["cs"]}, "not a dict", None,
])
def test_metadata_that_cannot_be_real_is_dropped(metadata, monkeypatch):
    from bot.channels import clean_metadata
    from bot.token_cipher import PUBLIC_KEY_ENV, new_key_pair

    monkeypatch.setenv(PUBLIC_KEY_ENV, new_key_pair()[1])
    assert clean_metadata(metadata, "conv-a", notice="sensitive") == {"input_notice": "sensitive"}


def test_a_payload_counts_as_offered_whatever_its_spacing():
    from bot.channels import offer_matching

    offered = {'/choose_tier{"tier": "gold"}', "/affirm"}
    assert offer_matching('/choose_tier{"tier":"gold"}', offered) == {'/choose_tier{"tier":"gold"}'}
    assert offer_matching("/affirm", offered) == {"/affirm"}
    assert not offer_matching('/choose_tier{"tier": "corporate_plus"}', offered)
    assert not offer_matching("/restart", offered)
    assert not offer_matching("/affirm 4111 1111 1111 1111", offered)
