"""Numbers, dates, amounts, plural forms and level names as each language writes them (CLDR via Babel),
through the generator the Rasa server uses (bot/nlg.py) and the catalogue's real texts."""
from __future__ import annotations

import re
from typing import Any, Dict

import pytest
from babel import Locale
from rasa.shared.core.domain import Domain

from actions import values
from bot import cldr
from bot.nlg import LocalisedNaturalLanguageGenerator
from tests.languages import CODES
from translations.catalogue import all_responses, language_of

RESPONSES = all_responses()
GENERATOR = LocalisedNaturalLanguageGenerator(domain=Domain.from_dict({"responses": RESPONSES}))
COUNTS = (0, 1, 2, 5, 22, 101, 2501)
# What the actions pass for each placeholder, one example each (actions/values.py builds the JSON).
SAMPLE: Dict[str, Any] = dict(
    points=650, total=2501, allocated=420, pending=600, missing=values.labels(["serial_number", "purchase_date"]),
    threshold=1000, products=3, count=2, level=values.level("gold"), price=values.money(99, "EUR"),
    amount=values.money(99, "EUR"), payment_method=values.label("card"), due_date=values.date("2026-01-20"),
    invoice="INV-2026-00417", number="CPS-GLD-204817", previous="CPS-OLD-1", ticket_id="T-1A2B3C4D",
    email="foto@example.com", product="EOS R3", topic=values.fragment("utter_topic_login"), payload="/login")


def say(name: str, language: str, **kwargs: Any) -> str:
    return GENERATOR.generate_from_slots(name, {"language": language}, "", **kwargs)["text"]


def test_every_plural_block_has_exactly_its_languages_cldr_categories():
    for name, variations in RESPONSES.items():
        for variation in variations:
            language = language_of(variation)
            expected = set(Locale.parse(cldr.LOCALES[language]).plural_form.tags) | {"other"}
            for count, keys in cldr.plural_blocks(variation["text"]):
                categories = {k for k in keys if not k.startswith("=")}
                assert categories == expected, f"{name} ({language}) {{{count}, plural}}: {sorted(categories)}"


def test_four_categories_in_czech_and_lithuanian_two_in_finnish_and_danish():
    assert cldr.plural_categories("cs") == ["few", "many", "one", "other"]
    assert cldr.plural_categories("lt") == ["few", "many", "one", "other"]
    assert cldr.plural_categories("fi") == cldr.plural_categories("da") == ["one", "other"]


@pytest.mark.parametrize("language,count,expected", [
    ("cs", 1, "Na svém účtu máte 1 bod."), ("cs", 3, "Na svém účtu máte 3 body."),
    ("cs", 650, "Na svém účtu máte 650 bodů."), ("cs", 2501, "Na svém účtu máte 2\u00a0501 bodů."),
    ("lt", 1, "Jūsų paskyroje yra 1 taškas."), ("lt", 22, "Jūsų paskyroje yra 22 taškai."),
    ("lt", 10, "Jūsų paskyroje yra 10 taškų."), ("lt", 101, "Jūsų paskyroje yra 101 taškas."),
    ("fi", 1, "Tililläsi on 1 piste."), ("fi", 5, "Tililläsi on 5 pistettä."),
    ("en", 1, "Your account has 1 point."), ("en", 2501, "Your account has 2,501 points."),
    ("da", 2501, "Din konto har 2.501 point."), ("hu", 2501, "A fiókodban 2\u00a0501 pont van."),
])
def test_points_agree_with_their_count(language, count, expected):
    assert say("utter_account_not_invited", language, points=count, missing=5).startswith(expected)


@pytest.mark.parametrize("missing,expected", [(1, "trūksta 1 taško."), (2, "trūksta 2 taškų."), (21, "trūksta 21 taško."),
                                              (10, "trūksta 10 taškų.")])
def test_lithuanian_missing_points_in_the_genitive(missing, expected):
    assert say("utter_account_not_invited", "lt", points=499, missing=missing).endswith(expected)


@pytest.mark.parametrize("language,one,many", [
    ("en", "Done: 1 product with 5 points has been migrated.", "Done: 3 products with 5 points have been migrated."),
    ("fi", "Valmista! 1 tuote ja 5 pistettä on siirretty.", "Valmista! 3 tuotetta ja 5 pistettä on siirretty."),
    ("da", "Så er det gjort: 1 produkt med 5 point er overført.", "Så er det gjort: 3 produkter med 5 point er overført."),
    ("cs", "Hotovo, přenos proběhl: 1 produkt v hodnotě 5 bodů.", "Hotovo, přenos proběhl: 3 produkty v hodnotě 5 bodů."),
])
def test_one_product_is_singular(language, one, many):
    assert say("utter_migration_done", language, products=1, points=5, total=5).startswith(one)
    assert say("utter_migration_done", language, products=3, points=5, total=5).startswith(many)


@pytest.mark.parametrize("language,date", [("cs", "20. 1. 2026"), ("hu", "2026. január 20."), ("da", "20. januar 2026"),
                                           ("lt", "2026-01-20"), ("fi", "20.1.2026"), ("en", "20 January 2026")])
def test_dates_as_each_language_writes_them(language, date):
    text = say("utter_invoice_card", language, invoice="INV-1", amount=values.money(99, "EUR"),
               due_date=values.date("2026-01-20"))
    assert date in text and "2026-01-20" not in text.replace(date, "")


@pytest.mark.parametrize("language,amount", [("cs", "99,00\u00a0€"), ("hu", "99,00\u00a0EUR"), ("da", "99,00\u00a0€"),
                                             ("lt", "99,00\u00a0€"), ("fi", "99,00\u00a0€"), ("en", "€99.00")])
def test_amounts_with_their_currency(language, amount):
    text = say("utter_account_invoice", language, invoice="INV-1", amount=values.money(99, "EUR"),
               payment_method=values.label("card"), due_date=values.date("2026-01-20"))
    assert amount in text and "EUR EUR" not in text


@pytest.mark.parametrize("language,gold,corporate", [("cs", "Gold", "Firemní"), ("hu", "Arany", "Vállalati"),
                                                     ("da", "Gold", "Corporate"), ("lt", "Aukso", "Įmonių"),
                                                     ("fi", "Gold", "Corporate"), ("en", "Gold", "Corporate")])
def test_level_names_from_the_guide_in_sentences_and_buttons(language, gold, corporate):
    assert gold in say("utter_account_membership", language, level=values.level("gold"), number="CPS-1")
    assert corporate in say("utter_account_level_locked", language, level=values.level("corporate"),
                            threshold=2501, missing=401)
    # The level buttons an action sends: Rasa appends the same list after the generator rendered it in place.
    buttons = [values.level_button({"code": "gold", "price": {"amount": 99, "currency": "EUR"}}, "/choose_tier")]
    GENERATOR.generate_from_slots("utter_ask_tier", {"language": language}, "", buttons=buttons)
    assert buttons[0]["title"].startswith(gold) and cldr.money(99, "EUR", language) in buttons[0]["title"]
    assert buttons[0]["payload"] == "/choose_tier"


def test_a_list_is_joined_and_counted_as_its_language_does():
    assert "chybí sériové číslo a\u00a0datum nákupu" in say(  # CLDR: no one-letter word at a line end
        "utter_account_product_incomplete", "cs", product="EOS R3", points=600,
        missing=values.labels(["serial_number", "purchase_date"]))
    one = say("utter_account_product_incomplete", "en", product="EOS R3", points=1, missing=values.labels(["dealer"]))
    assert one.startswith("EOS R3 (1 point): missing dealer.") and "the missing detail;" in one


@pytest.mark.parametrize("language", CODES)
@pytest.mark.parametrize("count", COUNTS)
def test_every_response_renders_completely_for_every_count(language, count):
    for name in RESPONSES:
        sample = {k: (count if isinstance(v, int) else v) for k, v in SAMPLE.items()}
        text = say(name, language, **sample)
        assert "{" not in text and "}" not in text and "#" not in text, f"{name} ({language}, {count}): {text}"
        # A value that ends with its own full stop (the Hungarian long date: "2026. január 20.") must not
        # end a sentence, and a value never leaves a space before punctuation.
        assert ".." not in text.replace("...", "").replace("…", ""), f"{name} ({language}, {count}): {text}"
        assert not re.search(r"\s[.,:;!?](\s|$)", text), f"{name} ({language}, {count}): {text}"


def test_a_broken_plural_block_is_refused_with_where():
    with pytest.raises(cldr.TemplateError, match="other"):
        cldr.parse("{n, plural, one {# bod}}")
    with pytest.raises(cldr.TemplateError, match="unclosed"):
        cldr.parse("{n, plural, one {# bod} other {# bodů}")


@pytest.mark.parametrize("language", CODES)
def test_the_length_limit_said_is_the_guards(language):
    from bot.message_guard import MAX_MESSAGE_CHARS
    from tests.stack import plain_numbers
    assert str(MAX_MESSAGE_CHARS) in plain_numbers(say("utter_message_too_long", language))
