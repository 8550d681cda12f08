"""Sealed CPS tokens open only with the private key, in their own conversation, within their lifetime."""
from __future__ import annotations

import pytest

from bot import token_cipher
from bot.token_cipher import PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, TokenKeyMissing, new_key_pair, seal, unseal


@pytest.fixture()
def keys(monkeypatch):
    private, public = new_key_pair()
    monkeypatch.setenv(PRIVATE_KEY_ENV, private)
    monkeypatch.setenv(PUBLIC_KEY_ENV, public)
    monkeypatch.delenv(token_cipher.TTL_ENV, raising=False)
    return private, public


def test_the_token_opens_in_its_own_conversation(keys):
    assert unseal(seal("demo-pro", "conv-a"), "conv-a") == "demo-pro"


def test_a_copy_opens_in_no_other_conversation(keys):
    sealed = seal("demo-pro", "conv-a")
    assert unseal(sealed, "conv-b") is None
    assert unseal(sealed, "conv-a ") is None


def test_a_copy_expires(keys):
    sealed = seal("demo-pro", "conv-a", now=1_000_000)
    assert unseal(sealed, "conv-a", now=1_000_000 + token_cipher.DEFAULT_TTL_SECONDS - 1) == "demo-pro"
    assert unseal(sealed, "conv-a", now=1_000_000 + token_cipher.DEFAULT_TTL_SECONDS + 1) is None


def test_the_lifetime_is_configurable(keys, monkeypatch):
    monkeypatch.setenv(token_cipher.TTL_ENV, "60")
    sealed = seal("demo-pro", "conv-a", now=1_000_000)
    assert unseal(sealed, "conv-a", now=1_000_061) is None


def test_the_rasa_server_can_seal_but_not_open(keys, monkeypatch):
    monkeypatch.delenv(PRIVATE_KEY_ENV)  # what the Rasa server's environment holds
    sealed = seal("demo-pro", "conv-a")
    with pytest.raises(TokenKeyMissing, match=PRIVATE_KEY_ENV):
        unseal(sealed, "conv-a")


def test_another_key_pair_cannot_open_it(keys, monkeypatch):
    sealed = seal("demo-pro", "conv-a")
    monkeypatch.setenv(PRIVATE_KEY_ENV, new_key_pair()[0])
    assert unseal(sealed, "conv-a") is None


@pytest.mark.parametrize("forged", [None, 1, "", "demo-pro", "v1.", "v1.AAAA", "v1." + "A" * 200, "v2.abc",
                                    {"token": "demo-pro"}, "v1.%%%"])
def test_anything_else_opens_to_nothing(keys, forged):
    assert unseal(forged, "conv-a") is None


def test_a_tampered_seal_opens_to_nothing(keys):
    sealed = seal("demo-pro", "conv-a")
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    assert unseal(flipped, "conv-a") is None
