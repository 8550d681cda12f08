"""The linear intent classifier learns, survives a save and load, and refuses a damaged file
(bot/linear_intents.py)."""
from __future__ import annotations

from typing import List

import pytest
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.linear_intents import LinearIntentClassifier, LinearIntentsFileError
from tests.components import EXAMPLES, copies, featurized, ranking


@pytest.fixture
def data(storage, context) -> TrainingData:
    return featurized(EXAMPLES, storage, context)


def trained(data: TrainingData, storage, context, **config) -> LinearIntentClassifier:
    classifier = LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("linear"), context)
    classifier.train(data)
    return classifier


def predicted(classifier: LinearIntentClassifier, data: TrainingData) -> List[Message]:
    return classifier.process(copies(data))


def test_it_learns_the_examples_and_predicts_the_same_after_loading(data, storage, context):
    classifier = trained(data, storage, context)
    loaded = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, Resource("linear"), context)
    before, after = predicted(classifier, data), predicted(loaded, data)

    assert [m.get("intent")["name"] for m in after] == [m.get("intent") for m in data.training_examples]
    assert [ranking(m) for m in after] == [ranking(m) for m in before]
    for message in after:
        confidences = [r["confidence"] for r in message.get("intent_ranking")]
        assert confidences == sorted(confidences, reverse=True)
        assert sum(confidences) == pytest.approx(1.0)
        assert message.get("intent") == message.get("intent_ranking")[0]


def test_a_lower_temperature_makes_the_same_ranking_more_decided(data, storage, context):
    sharp = predicted(trained(data, storage, context, temperature=0.05), data)
    soft = predicted(trained(data, storage, context, temperature=0.5), data)

    for decided, undecided in zip(sharp, soft):
        assert [name for name, _ in ranking(decided)] == [name for name, _ in ranking(undecided)]
        assert decided.get("intent")["confidence"] > undecided.get("intent")["confidence"]


def test_a_damaged_model_file_is_refused_with_advice(data, storage, context):
    trained(data, storage, context)
    with storage.write_to(Resource("linear")) as model_dir:
        (model_dir / "linear_intents.skops").write_bytes(b"not a zip archive")

    with pytest.raises(LinearIntentsFileError, match="make train"):
        LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, Resource("linear"), context)


def test_a_message_without_features_keeps_what_it_had(data, storage, context):
    classifier = trained(data, storage, context)
    message = Message(data={"text": "", "intent": {"name": "greet", "confidence": 1.0}})
    classifier.process([message])
    assert message.get("intent") == {"name": "greet", "confidence": 1.0}


def test_with_one_intent_it_stores_nothing_and_classifies_nothing(storage, context):
    data = featurized({"greet": EXAMPLES["greet"]}, storage, context)
    config = LinearIntentClassifier.get_default_config()
    LinearIntentClassifier.create(config, storage, Resource("linear"), context).train(data)
    loaded = LinearIntentClassifier.load(config, storage, Resource("linear"), context)
    messages = loaded.process(copies(data))
    assert all(m.get("intent") == "greet" for m in messages)
