"""Closed-class entity values become canonical or are dropped (bot/entity_values.py)."""
from __future__ import annotations

from unittest.mock import MagicMock

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.entity_values import ClosedEntityValues, canonical_value

FORMS = {"silver": "silver", "hopeaisen": "silver", "kultaisen": "gold", "kartyaval": "card",
         "finstine": "fi", "finsky": "fi", "platinum": "platinum"}


def test_compound_typo_and_case_forms_find_their_value():
    assert canonical_value("Silver-jäsenyyden", FORMS, 4) == "silver"
    assert canonical_value("Platinium-taso", FORMS, 4) == "platinum"
    assert canonical_value("Kártyával", FORMS, 4) == "card"
    assert canonical_value("gold", FORMS, 4) == "gold"


def test_short_or_unknown_values_are_dropped():
    assert canonical_value("Fin", FORMS, 4) is None
    assert canonical_value("megoldás", FORMS, 4) is None


def test_a_beginning_shared_by_two_values_is_dropped():
    assert canonical_value("kultahopea", {"kultaisen": "gold", "kultainen": "gold"}, 4) == "gold"
    assert canonical_value("kulta", {"kultaisen": "gold", "kultahopea": "silver"}, 4) is None


def component(forms=None):
    return ClosedEntityValues(ClosedEntityValues.get_default_config(), MagicMock(), MagicMock(),
                              {"tier": forms or {}, "payment_method": {"kortele": "card"}})


def test_process_maps_drops_and_merges_only_closed_classes():
    message = Message({"text": "...", "entities": [
        {"entity": "tier", "value": "Silver-jäsenyyden"},
        {"entity": "tier", "value": "megoldás"},
        {"entity": "payment_method", "value": "card"},
        {"entity": "payment_method", "value": "kortelės"},
        {"entity": "dealer", "value": "Foto Škoda"},
    ]})
    component({"silver": "silver"}).process([message])
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [
        ("tier", "silver"), ("payment_method", "card"), ("dealer", "Foto Škoda")]


def test_forms_are_learnt_from_annotations_and_synonyms(tmp_path):
    storage = MagicMock()
    storage.write_to.return_value.__enter__.return_value = tmp_path
    values = ClosedEntityValues(ClosedEntityValues.get_default_config(), storage, MagicMock())
    example = Message({"text": "vezmeme zlatou", "intent": "choose_tier",
                       "entities": [{"entity": "tier", "value": "gold", "start": 8, "end": 14}]})
    from_story = Message({"intent": "choose_tier", "entities": [{"entity": "tier", "value": "silver"}]})
    values.train(TrainingData([example, from_story], entity_synonyms={"zlaté": "gold"}))
    message = Message({"text": "zlatého", "entities": [{"entity": "tier", "value": "zlatého"}]})
    values.process([message])
    assert message.get("entities")[0]["value"] == "gold"
