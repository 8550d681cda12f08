"""DIET and TED loaded for prediction only predict exactly what they predicted after training
(bot/prediction_only.py), and build no optimizer."""
from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph

from bot.prediction_only import LeanDIETClassifier, LeanTEDPolicy, ModelFileMismatch, PredictionOnlyDIET
from tests.components import EXAMPLES, copies, featurized, ranking

QUICK = {"epochs": 3, "random_seed": 1}
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


def test_diet_predicts_the_same_after_a_prediction_only_load(storage, context):
    data = featurized(EXAMPLES, storage, context)
    config = {**LeanDIETClassifier.get_default_config(), **QUICK}
    trained = LeanDIETClassifier.create(config, storage, Resource("diet"), context)
    trained.train(data)
    loaded = LeanDIETClassifier.load(config, storage, Resource("diet"), context)

    assert isinstance(loaded.model, PredictionOnlyDIET)
    assert loaded.model.optimizer is None  # Rasa's load compiles an Adam optimizer
    before, after = copies(data), copies(data)
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
