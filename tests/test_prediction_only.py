"""DIET and TED loaded for prediction only predict exactly what they predicted after training
(bot/prediction_only.py), and build no optimizer."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.prediction_only import LeanDIETClassifier, LeanTEDPolicy, ModelFileMismatch, PredictionOnlyDIET

QUICK = {"epochs": 3, "random_seed": 1}
EXAMPLES = {
    "greet": ["hello", "ahoj", "szia", "hej", "labas", "moi", "dobrý den"],
    "pay": ["pay by card", "zaplatím kartou", "kártyával fizetek", "betal med kort", "maksan kortilla"],
    "points": ["how many points", "kolik mám bodů", "hány pontom van", "hvor mange point", "kiek taškų"],
}
DOMAIN = Domain.from_yaml(
    """
intents: [greet, pay, points]
responses:
  utter_hello: [{text: hi}]
  utter_payment: [{text: card}]
  utter_points: [{text: points}]
"""
)
STORIES = """
stories:
- story: pay
  steps: [{intent: greet}, {action: utter_hello}, {intent: pay}, {action: utter_payment}]
- story: points
  steps: [{intent: greet}, {action: utter_hello}, {intent: points}, {action: utter_points}]
"""


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def featurized(texts: Dict[str, List[str]], storage: LocalModelStorage, context: ExecutionContext) -> TrainingData:
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, ts in texts.items() for t in ts])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        storage, Resource("featurizer"), context,
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data


def ranking(message: Message) -> List[Any]:
    return [(r["name"], round(r["confidence"], 6)) for r in message.get("intent_ranking")]


def test_diet_predicts_the_same_after_a_prediction_only_load(storage, context):
    data = featurized(EXAMPLES, storage, context)
    config = {**LeanDIETClassifier.get_default_config(), **QUICK}
    trained = LeanDIETClassifier.create(config, storage, Resource("diet"), context)
    trained.train(data)
    loaded = LeanDIETClassifier.load(config, storage, Resource("diet"), context)

    assert isinstance(loaded.model, PredictionOnlyDIET)
    assert loaded.model.optimizer is None  # Rasa's load compiles an Adam optimizer
    messages = [m for m in data.training_examples]
    before = [Message(data={**m.data}, features=m.features) for m in messages]
    after = [Message(data={**m.data}, features=m.features) for m in messages]
    trained.process(before)
    loaded.process(after)
    assert [ranking(m) for m in after] == [ranking(m) for m in before]
    assert len({r[0][0] for r in map(ranking, after)}) > 1  # the model tells intents apart


def test_ted_predicts_the_same_after_a_prediction_only_load(storage, context):
    steps = YAMLStoryReader(DOMAIN).read_from_string(STORIES)
    trackers = TrainingDataGenerator(StoryGraph(steps), DOMAIN, augmentation_factor=0).generate()
    config = {**LeanTEDPolicy.get_default_config(), **QUICK}
    trained = LeanTEDPolicy(config, storage, Resource("ted"), context)
    trained.train(trackers, DOMAIN)
    loaded = LeanTEDPolicy.load(config, storage, Resource("ted"), context)

    assert loaded.model.optimizer is None
    for tracker in trackers:
        expected = trained.predict_action_probabilities(tracker, DOMAIN).probabilities
        actual = loaded.predict_action_probabilities(tracker, DOMAIN).probabilities
        assert np.allclose(actual, expected, atol=1e-6)


def test_a_model_file_without_the_weights_is_refused_with_advice(storage, context, tmp_path):
    data = featurized(EXAMPLES, storage, context)
    config = {**LeanDIETClassifier.get_default_config(), **QUICK}
    trained = LeanDIETClassifier.create(config, storage, Resource("diet"), context)
    trained.train(data)
    # A network with one more transformer layer than was trained has weights the file lacks.
    other = {**config, "number_of_transformer_layers": config["number_of_transformer_layers"] + 1}
    with pytest.raises(ModelFileMismatch, match="make train"):
        LeanDIETClassifier.load(other, storage, Resource("diet"), context)
