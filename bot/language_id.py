"""Rasa NLU component that puts `language: {name, confidence}` on every message.

`name` is one of the six languages, or the code of a language the assistant
does not speak ("pl", "de", …: bot/other_languages.py), which the language
policy never adopts and bot/turns.py answers with the languages it speaks.

It trains from the NLU data itself: every intent block in `data/nlu/` carries
`metadata: {language: xx}`, so adding examples in a language also teaches this
component that language. Nothing is downloaded.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language_model import LANGUAGES, LanguageGuess, LanguageModel
from bot.other_languages import OtherLanguageRule, other_language

logger = logging.getLogger(__name__)

LANGUAGE_KEY = "language"
_MODEL_FILE = "language_model.json"


def example_language(message: Message) -> Optional[str]:
    """The language an NLU training example is labelled with, if any."""
    metadata = message.get("metadata") or {}
    language = (metadata.get("intent") or {}).get(LANGUAGE_KEY) or (
        metadata.get("example") or {}
    ).get(LANGUAGE_KEY)
    return language if language in LANGUAGES else None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LanguageIdentifier(GraphComponent):
    """Identifies which of the six languages a message is written in."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # other_languages: recognise languages it does not speak (bot/other_languages.py).
        return {"temperature": 3.0, "alpha": 0.1, "neutral_min_languages": 4, "other_languages": True}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LanguageModel] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model or LanguageModel()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageIdentifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        labelled = [
            (m.get(TEXT), example_language(m))
            for m in training_data.training_examples
            if example_language(m)
        ]
        if not labelled:
            logger.warning("No NLU example carries metadata.language; language ID is off.")
        texts = [t for t, _ in labelled]
        labels = [lang for _, lang in labelled]
        self._model = LanguageModel.fit(
            texts,
            labels,
            alpha=self._config["alpha"],
            neutral_min_languages=self._config["neutral_min_languages"],
            temperature=self._config["temperature"],
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _MODEL_FILE).write_text(
                json.dumps(self._model.to_dict()), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageIdentifier":
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / _MODEL_FILE).read_text(encoding="utf-8"))
            return cls(config, model_storage, resource, LanguageModel.from_dict(data))
        except (ValueError, FileNotFoundError):
            logger.warning("Language model not found; every message will look neutral.")
            return cls(config, model_storage, resource)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            # A button payload ("/affirm") says nothing about the user's language.
            guess = self._model.identify("" if text.startswith("/") else text)
            message.set(LANGUAGE_KEY, self._other_language(text, guess) or guess.as_dict(), add_to_output=True)
        return messages

    def _other_language(self, text: str, guess: LanguageGuess) -> Optional[Dict[str, Any]]:
        """`{name, confidence}` of a language it does not speak, when the message is in one."""
        if not self._config.get("other_languages", True) or text.startswith("/"):
            return None
        found = other_language(text, guess.confidence, OtherLanguageRule(), guess.name)
        if found is None:
            return None
        return {"name": found[0], "confidence": round(found[1], 4)}

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
