"""What bot/message_guard.py lets through to Rasa."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from bot.message_guard import (
    EMPTY_PAYLOAD, MAX_MESSAGE_CHARS, SENSITIVE_PAYLOAD, TOO_LONG_PAYLOAD,
    contains_card_number, contains_iban, contains_password, contains_sensitive_data, guard,
)

ROOT = Path(__file__).resolve().parent.parent
NBSP, NARROW_NBSP, THIN = "\u00a0", "\u202f", "\u2009"

# What customers really type when they hand over a card, an account or a
# password, per language. Other tests import this (every form must be caught).
SENSITIVE_FORMS = {
    "cs": [
        "Číslo karty je 4111 1111 1111 1111, platnost 12/27.",
        "platim kartou 5500 0000 0000 0004 09/28 cvc 123",
        f"Moje karta: 4012{NBSP}8888{NBSP}8888{NBSP}1881",
        "zkuste strhnout platbu z karty 5555-5555-5555-4444 a dejte vědět",
        "Karta 4242–4242–4242–4242, platnost do 03/2029",
        "číslo karty 4111.1111.1111.1111 exp 11/26",
        "kartu mám 6011/1111/1111/1117, CVV 321",
        "Platím přes Amex 3782 822463 10005, platí do 07/28",
        "Dobrý den, posílám číslo karty 5105105105105100 a CVC 456",
        "Platbu pošlete na účet CZ65 0800 0000 1920 0014 5399, děkuji.",
        "IBAN: cz6508000000192000145399",
        "moje heslo zní Foto2024!",
        "heslo je tajne123, můžete se mi přihlásit do účtu?",
        "heslo jsem včera změnil na Objektiv55",
        "Přihlašovací heslo k účtu je Praha#2023",
        "Můj PIN je 4821",
        "zkoušel jsem heslo Kocour.2020 a nefunguje",
    ],
    "hu": [
        "A kártyaszámom 4111 1111 1111 1111, lejárat 12/27",
        f"kartyaszam: 5500{NARROW_NBSP}0000{NARROW_NBSP}0000{NARROW_NBSP}0004 09/28",
        "Ezzel a kártyával fizetnék: 4012-8888-8888-1881",
        "a bankkártyám száma 5555–5555–5555–4444, CVC 123",
        "kártya 4242 4242 4242 4242 érvényes 03/29-ig",
        "Itt a kártyám: 4111111111111111 123",
        "Kártyaszám 6011.1111.1111.1117, lejárat 11/26",
        "az American Express kártyám 3782 822463 10005",
        "Utalnék erről a számláról: HU42 1177 3016 1111 1018 0000 0000",
        "a számlaszámom IBAN formátumban hu42117730161111101800000000",
        "a jelszavam Foto2024!",
        "A jelszavam: Kecske99",
        "a fiókom jelszava Tavasz2024, belépnél helyettem?",
        "A PIN-kódom 4821",
        "a jelszo: Budapest#1",
    ],
    "da": [
        "mit kortnummer er 4111 1111 1111 1111, udløb 12/27",
        "Kortet er 5500-0000-0000-0004 09/28 og CVC 123",
        f"jeg betaler med 4012{NBSP}8888{NBSP}8888{NBSP}1881",
        "kortnr. 5555–5555–5555–4444",
        "Her er mit kort: 4242.4242.4242.4242",
        "kortnummer 4111/1111/1111/1111 udløber 03/29",
        "Betal med kortet 6011111111111117, kontrolcifre 321",
        f"mit kort {THIN}3782{THIN}822463{THIN}10005 udløber 08/27",
        "Overfør pengene til DK50 0040 0440 1162 43, tak",
        "mit IBAN er dk5000400440116243",
        "min adgangskode er Foto2024!",
        "min kode er 1234abcd",
        "Adgangskoden til kontoen er Hund#7",
        "min pinkode er 4821",
        "kodeord: Sommer2024",
    ],
    "lt": [
        "Mano kortelės numeris 4111 1111 1111 1111, galioja iki 12/27",
        "kortelė 5500 0000 0000 0004 09/28 CVC 123",
        "Mokėsiu kortele 4012-8888-8888-1881",
        "kortelės nr. 5555–5555–5555–4444",
        f"Štai kortelė: 4242{NBSP}4242{NBSP}4242{NBSP}4242",
        "kortele 4111.1111.1111.1111 galioja iki 11/26",
        "Kortelės numeris 6011/1111/1111/1117, CVV 321",
        "mokėsiu kortele 5105105105105100 123",
        "Pervesiu iš sąskaitos LT12 1000 0111 0100 1000",
        "mano IBAN lt121000011101001000",
        "mano slaptažodis yra Vilnius1",
        "slaptazodis: Kaunas2024!",
        "Mano PIN kodas 4821",
        "Slaptažodis paskyrai yra Ruduo#22",
        "mano slaptažodį pakeičiau į Klaipeda7",
    ],
    "fi": [
        "Korttini numero on 4111 1111 1111 1111, voimassa 12/27",
        "kortti 5500 0000 0000 0004 09/28 cvc 123",
        "maksan kortilla 4012-8888-8888-1881",
        "kortin numero 5555–5555–5555–4444",
        f"Tässä kortti: 4242{NBSP}4242{NBSP}4242{NBSP}4242",
        "kortti 4111.1111.1111.1111 vanhenee 11/26",
        "Kortin numero 6011/1111/1111/1117 ja CVV 321",
        "voitte veloittaa kortilta 5105105105105100",
        "maksan tililtä FI21 1234 5600 0007 85",
        "tilinumeroni fi2112345600000785",
        "salasanani on Kuva2024",
        "salasana: Kesä2024!",
        "PIN-koodi on 4821",
        "tilin salasana on nyt Helsinki#9",
        "vaihdoin eilen salasanaksi Lumi2023",
    ],
    "en": [
        "my card is 4111 1111 1111 1111 12/27",
        "card number 5500 0000 0000 0004 exp 09/28 cvc 123",
        "please charge 4012-8888-8888-1881",
        "Card: 5555–5555–5555–4444, expiry 03/29",
        f"use my card 4242{NBSP}4242{NBSP}4242{NBSP}4242 please",
        "4111111111111111 123",
        "my Amex is 3782 822463 10005",
        "card 6011.1111.1111.1117 valid thru 11/26",
        "IBAN DE89 3704 0044 0532 0130 00",
        "you can refund it to GB82 WEST 1234 5698 7654 32",
        "my password is Foto2024!",
        "password Foto2024!",
        "pw: Foto2024!",
        "passcode: 998877",
        "my pin is 1234",
        "the password for my account should be London#12",
        "I changed the password to Tripod2024 yesterday",
    ],
}

# Questions and statements about passwords, numbers that are no card: never flagged.
NOT_SENSITIVE = [
    "I forgot my password", "my password is not working", "my password is wrong!", "zapomněl jsem heslo",
    "elfelejtettem a jelszavamat", "jeg har glemt min adgangskode", "pamiršau slaptažodį", "unohdin salasanani",
    "how do I reset my password?", "kode til login virker ikke", "the PIN on my camera",
    "heslo je zablokované", "Heslo: nejde se přihlásit, co s tím?", "pošlete mi heslo e-mailem",
    "a jelszó-visszaállító link nem működik", "min adgangskode er gået i glemmebogen", "salasana on vanhentunut",
    "my password is now wrong", "I typed my password 3 times",
    "serial number 123456789012", "call me on +420 602 123 456", "koupeno 20. 1. 2026", "I have 2 100 points",
    "order T-1a2b3c4d", "valid 20.01.2026-31.12.2026", "SN 123045007891 15.6.2021", "RF 24-70mm F2.8 L IS USM",
    "4111 1111 1111 1112",
]


def _all_forms() -> List[Tuple[str, str]]:
    return [(lang, text) for lang, texts in SENSITIVE_FORMS.items() for text in texts]


def test_every_language_has_enough_sensitive_forms():
    assert set(SENSITIVE_FORMS) == {"cs", "hu", "da", "lt", "fi", "en"}
    assert all(len(texts) >= 10 for texts in SENSITIVE_FORMS.values())


@pytest.mark.parametrize("lang,text", _all_forms())
def test_sensitive_forms_are_replaced(lang, text):
    checked = guard(text)
    assert (checked.text, checked.notice) == (SENSITIVE_PAYLOAD, "sensitive"), f"{lang}: {text!r}"


@pytest.mark.parametrize("text", NOT_SENSITIVE)
def test_ordinary_text_is_not_sensitive(text):
    assert not contains_sensitive_data(text)
    assert guard(text).notice is None


def test_empty_and_whitespace_and_control_bytes_are_empty():
    for text in (None, "", "   ", "\n\t", "\x00\x01\x7f", "/", " // "):
        assert guard(text).text == EMPTY_PAYLOAD, repr(text)
        assert guard(text).notice == "empty"


def test_over_long_message_is_replaced():
    assert guard("a" * (MAX_MESSAGE_CHARS + 1)).notice == "too_long"
    assert guard("a" * MAX_MESSAGE_CHARS).text == "a" * MAX_MESSAGE_CHARS
    # The raw length counts: control bytes and markup are not stripped first.
    assert guard("\x00" * (MAX_MESSAGE_CHARS + 1)).text == TOO_LONG_PAYLOAD
    assert guard("<b>" * 700).text == TOO_LONG_PAYLOAD


def test_length_is_checked_before_any_other_work():
    for huge in ("a" * 5_000_000, "4111 1111 1111 1111 " * 250_000, "<b>heslo: x</b>" * 350_000):
        started = time.perf_counter()
        checked = guard(huge)
        elapsed = time.perf_counter() - started
        assert checked.text == TOO_LONG_PAYLOAD
        assert elapsed < 0.05, f"{len(huge)} characters took {elapsed:.3f} s"


def test_card_numbers_are_caught_only_when_luhn_valid():
    assert contains_card_number("my card is 4111 1111 1111 1111")
    assert contains_card_number("4111-1111-1111-1111 please")
    assert not contains_card_number("serial number 123456789012")  # 12 digits
    assert not contains_card_number("4111 1111 1111 1112")  # fails Luhn
    assert guard("karta 4111111111111111").text == SENSITIVE_PAYLOAD


@pytest.mark.parametrize("text", [
    "4111  1111   1111 1111",  # several spaces
    f"4111{NARROW_NBSP}1111{THIN}1111{NBSP}1111",
    "4111\u20121111\u20131111\u20141111",  # figure, en and em dash
    "4111\u22121111\u22121111\u22121111",  # minus sign
    "4111_1111_1111_1111",
    "4111 - 1111 - 1111 - 1111",
    "4111\u200b1111\u200b1111\u200b1111",  # zero-width spaces, pasted from a web page
    "４１１１ １１１１ １１１１ １１１１",  # fullwidth digits
    "4111 1111 1111 1111 12/27 123",
    "12/27 4111 1111 1111 1111",
    "41111111111111119999",  # followed by more digits, no separator
    "99994111111111111111",  # preceded by more digits
    "378282246310005",  # Amex, 15 digits
    "30569309025904",  # Diners, 14 digits
])
def test_card_formats(text):
    assert contains_card_number(text), text


@pytest.mark.parametrize("iban", [
    "CZ65 0800 0000 1920 0014 5399", "HU42 1177 3016 1111 1018 0000 0000", "DK50 0040 0440 1162 43",
    "LT12 1000 0111 0100 1000", "FI21 1234 5600 0007 85", "GB82 WEST 1234 5698 7654 32",
    "DE89 3704 0044 0532 0130 00", "SK31 1200 0000 1987 4263 7541", "PL61 1090 1014 0000 0712 1981 2874",
    "AT61 1904 3002 3457 3201", "NL91 ABNA 0417 1643 00", "FR14 2004 1010 0505 0001 3M02 606",
    "SE45 5000 0000 0583 9825 7466", "NO93 8601 1117 947", "EE38 2200 2210 2014 5685",
    "LV80 BANK 0000 4351 9500 1", "IE29 AIBK 9311 5212 3456 78", "ES91 2100 0418 4502 0005 1332",
    "IT60 X054 2811 1010 0000 0123 456", "BE68 5390 0754 7034",
])
def test_ibans_of_every_listed_country(iban):
    assert contains_iban(f"my account is {iban}, thanks")
    assert contains_iban(iban.replace(" ", "").lower())


def _with_check_digits(country: str, account: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in account + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{account}"


def test_iban_check_digits_and_country_length():
    assert not contains_iban("DE88 3704 0044 0532 0130 00")  # wrong check digits
    assert not contains_iban("CZ65 0800 0000 1920 0014 5398")  # one typo
    assert not contains_iban(_with_check_digits("CZ", "0800000019200014539"))  # mod-97 fine, one digit short for CZ
    assert contains_iban(_with_check_digits("XK", "1212012345678906"))  # a country not in the table: mod-97 decides
    assert not contains_iban("EOS R5 and RF24 70mm")


def test_passwords_are_caught_in_every_language_but_not_questions_about_them():
    for text in ("my password is Foto2024!", "heslo: tajne123", "a jelszavam: Kecske99",
                 "min adgangskode er hund#7", "slaptažodis yra Vilnius1", "salasana on Kuva2024",
                 "password Foto2024!", "moje heslo zní Foto2024!", "a jelszavam Foto2024!", "min kode er 1234abcd",
                 "passcode: 998877", "pw: Foto2024!", "my pin is 1234", "mano slaptažodis yra Vilnius1",
                 "salasanani on Kuva2024", "heslo je tajne123", "mein Passwort lautet Foto2024",
                 "my password is \"SunShine\"", "heslo: tajne", "pass code = abcd"):
        assert contains_password(text), text
    for text in ("I forgot my password", "my password is not working", "my password is wrong!",
                 "zapomněl jsem heslo", "elfelejtettem a jelszavamat", "jeg har glemt min adgangskode",
                 "pamiršau slaptažodį", "unohdin salasanani", "how do I reset my password?",
                 "kode til login virker ikke", "the PIN on my camera"):
        assert not contains_password(text), text


def test_slash_texts_count_as_payloads_only_when_offered():
    tier = '/choose_tier{"tier":"gold"}'
    assert guard("/4111 1111 1111 1111").text == SENSITIVE_PAYLOAD
    assert guard("/ heslo: Foto2024!").text == SENSITIVE_PAYLOAD
    assert guard(tier, {tier, "/deny"}) == guard(tier, [tier])
    assert guard(tier, {tier}).text == tier
    assert guard(tier, {tier}).notice is None
    assert guard(tier).text == 'choose_tier{"tier":"gold"}'
    assert guard(tier, {"/deny"}).text == 'choose_tier{"tier":"gold"}'
    assert guard("/restart").text == "restart"
    assert guard("//restart", {"/restart"}).text == "restart"
    assert guard("/choose", "/choose_tier").text == "choose"  # a single string is one payload, not its substrings
    card_payload = '/inform{"email":"4111111111111111"}'
    assert guard(card_payload, {card_payload}).text == SENSITIVE_PAYLOAD
    password_payload = '/inform{"password":"Foto2024!"}'
    assert guard(password_payload, {password_payload}).notice == "sensitive"


def test_normal_text_passes_unchanged():
    assert guard("How do I log in?").text == "How do I log in?"
    assert guard('/choose_tier{"tier": "gold"}').notice is None
    assert guard("Mám 2600 bodů, můžu mít firemní členství?").notice is None


def test_html_tags_are_removed_and_their_text_kept():
    assert guard("<b>bold</b> question").text == "bold  question"
    assert guard("<script></script>").text == EMPTY_PAYLOAD
    assert guard("2 < 3 and 5 > 4").text == "2 < 3 and 5 > 4"
    assert guard("<b>4111 1111</b> 1111 1111").text == SENSITIVE_PAYLOAD


_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def _nlu_examples() -> List[Tuple[str, str]]:
    examples = []
    for path in sorted([*ROOT.glob("data/nlu/*.yml"), *ROOT.glob("tests/nlu/*.yml")]):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append((f"{path.relative_to(ROOT)} ({item['intent']})", _ENTITY.sub(r"\1", line[2:])))
    return examples


def test_no_training_or_held_out_example_is_flagged_sensitive():
    examples = _nlu_examples()
    assert len(examples) > 1000, "the NLU files were not found or not parsed"
    flagged = [f"{where}: {text}" for where, text in examples if guard(text).notice == "sensitive"]
    assert not flagged, "flagged as sensitive:\n" + "\n".join(flagged)
