"""Diacritic-free, lower-case word forms for the word-level and char n-gram features.

A third of what customers type has no diacritics: "kártyával" and
"kartyaval", "přihlášení" and "prihlaseni" are one word to a reader but two to
a bag of words, and their char n-grams share little. This step sets each
token's lemma to its lower-case, diacritic-free form; featurizers with
`use_lemma: true` (Rasa's default) then count that form. Token text and
offsets are untouched, so entities keep the customer's words.

`prefix_length` cuts the form to its first characters (a truncation stem for
inflected words). On a dev split of the training data whole words did as well
as 5- or 6-character stems and better than 8 (README, "Word forms"), so the
pipeline uses whole words (0).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.folding import plain

TOKENS = TOKENS_NAMES[TEXT]


def plain_form(word: str, prefix_length: int = 0) -> str:
    """`word` lower-cased, without diacritics, cut to `prefix_length` characters (0: whole word)."""
    flat = plain(word)
    return flat[:prefix_length] if prefix_length else flat


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class PlainWords(GraphComponent):
    """Sets each token's lemma to its diacritic-free, lower-case form."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"prefix_length": 0}

    def __init__(self, prefix_length: int = 0) -> None:
        self._prefix_length = prefix_length

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "PlainWords":
        return cls(int(config["prefix_length"]))

    def _set_lemmas(self, message: Message) -> None:
        for token in message.get(TOKENS) or []:
            token.lemma = plain_form(token.text, self._prefix_length)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._set_lemmas(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT):
                self._set_lemmas(message)
        return messages
