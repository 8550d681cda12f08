"""DIET and TED that load for prediction only.

Rasa's `RasaModel.load` creates a network's weights by fitting it on one
example before it reads them from the model file. That builds the whole
training step too (optimizer slots, gradients, losses), which a server that
only predicts never uses. With our DIET's 28,600 sparse inputs that cost
580 MB of the server's memory and over 30 s of its start-up (README, "Load").

Here the model file is opened first, and one prediction creates exactly the
weights prediction reads; TensorFlow fills each from the file as it is
created, so label embeddings and the traced prediction step are built from
the trained weights only once. Predictions are identical to Rasa's load
(tests/test_prediction_only.py). Fine-tuning (`rasa train --finetune`) keeps
Rasa's load: it needs the optimizer.
"""
from __future__ import annotations

import warnings
from typing import Any, Optional, Text, Type

from rasa.core.policies.ted_policy import TED, TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


# Rasa's config validator looks for DIETClassifier by exact class, so with the
# subclass it would warn at every training that no entity extractor is configured.
warnings.filterwarnings("ignore", message=r"You have defined training data consisting of entity examples")


class ModelFileMismatch(RuntimeError):
    """The model file lacks weights the network predicts with."""


class PredictionOnlyLoad:
    """Mixin for a `RasaModel` subclass: `load` without building the training step."""

    @classmethod
    def load(
        cls,
        model_file_name: Text,
        model_data_example: RasaModelData,
        predict_data_example: Optional[RasaModelData] = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            return super().load(  # type: ignore[misc]
                model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        # The weights do not exist yet: TensorFlow fills each from the file as
        # the one prediction below creates it.
        restored = model.load_weights(model_file_name)
        model.run_inference(predict_data_example)
        try:
            restored.expect_partial().assert_existing_objects_matched()
        except AssertionError as error:
            raise ModelFileMismatch(
                f"{model_file_name} does not hold every weight {cls.__name__} predicts with; "
                f"retrain the model (`make train`). Detail: {error}"
            ) from error
        return model


class PredictionOnlyDIET(PredictionOnlyLoad, DIET):
    """DIET's network, loaded for prediction only."""


class PredictionOnlyTED(PredictionOnlyLoad, TED):
    """TED's network, loaded for prediction only."""


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class LeanDIETClassifier(DIETClassifier):
    """Rasa's DIETClassifier; only its load differs."""

    @staticmethod
    def model_class() -> Type[RasaModel]:
        return PredictionOnlyDIET


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class LeanTEDPolicy(TEDPolicy):
    """Rasa's TEDPolicy; only its load differs."""

    @staticmethod
    def model_class() -> Type[TED]:
        return PredictionOnlyTED
