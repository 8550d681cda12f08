"""What bot/message_guard.py lets through to Rasa."""
from __future__ import annotations

from bot.message_guard import (
    EMPTY_PAYLOAD, MAX_MESSAGE_CHARS, SENSITIVE_PAYLOAD, TOO_LONG_PAYLOAD,
    contains_card_number, contains_password, guard,
)


def test_empty_and_whitespace_and_control_bytes_are_empty():
    for text in (None, "", "   ", "\n\t", "\x00\x01\x7f"):
        assert guard(text).text == EMPTY_PAYLOAD


def test_over_long_message_is_replaced():
    assert guard("a" * (MAX_MESSAGE_CHARS + 1)) .notice == "too_long"
    assert guard("a" * MAX_MESSAGE_CHARS).text == "a" * MAX_MESSAGE_CHARS


def test_card_numbers_are_caught_only_when_luhn_valid():
    assert contains_card_number("my card is 4111 1111 1111 1111")
    assert contains_card_number("4111-1111-1111-1111 please")
    assert not contains_card_number("serial number 123456789012")  # 12 digits
    assert not contains_card_number("4111 1111 1111 1112")  # fails Luhn
    assert guard("karta 4111111111111111").text == SENSITIVE_PAYLOAD


def test_passwords_are_caught_in_every_language_but_not_questions_about_them():
    for text in ("my password is Foto2024!", "heslo: tajne123", "a jelszavam: Kecske99",
                 "min adgangskode er hund#7", "slaptažodis yra Vilnius1", "salasana on Kuva2024"):
        assert contains_password(text), text
    for text in ("I forgot my password", "my password is not working", "zapomněl jsem heslo",
                 "how do I reset my password?"):
        assert not contains_password(text), text


def test_normal_text_and_payloads_pass_unchanged():
    assert guard("How do I log in?").text == "How do I log in?"
    assert guard('/choose_tier{"tier": "gold"}').notice is None


def test_html_tags_are_removed_and_their_text_kept():
    assert guard("<b>bold</b> question").text == "bold  question"
    assert guard("<script></script>").text == EMPTY_PAYLOAD
    assert guard("2 < 3 and 5 > 4").text == "2 < 3 and 5 > 4"
