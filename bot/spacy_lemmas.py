"""spaCy lookup lemmas for the word-level features, in the message's own language.

An ablation candidate, not part of `config.yml`: `make ablate-spacy` trains the
pipeline with and without this step and scores both on the held-out set
(README, "spaCy"). One Rasa model serves six languages, so a single spaCy
pipeline cannot lemmatise for all of them; this step picks spaCy's lookup table
(spacy-lookups-data, a PyPI package) by the language of each message: the
training example's `metadata.language`, or what `LanguageIdentifier` found.
Languages without a table (Finnish) keep the surface form.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language_id import LANGUAGE_KEY, example_language
from bot.language_model import LANGUAGES

TOKENS = TOKENS_NAMES[TEXT]


def load_tables() -> Dict[str, Any]:
    """spaCy's lemma lookup table per language, where spacy-lookups-data has one."""
    from spacy.lookups import load_lookups

    tables = {}
    for language in LANGUAGES:
        lookups = load_lookups(language, ["lemma_lookup"], strict=False)
        if lookups.has_table("lemma_lookup"):
            tables[language] = lookups.get_table("lemma_lookup")  # keys are hashed: use .get(text)
    return tables


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SpacyLookupLemmatizer(GraphComponent):
    """Sets each token's lemma from spaCy's table for the message's language."""

    def __init__(self, tables: Dict[str, Any]) -> None:
        self._tables = tables

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SpacyLookupLemmatizer":
        return cls(load_tables())

    def _lemmatise(self, message: Message, language: Optional[str]) -> None:
        table = self._tables.get(language or "")
        tokens: List[Token] = message.get(TOKENS) or []
        if not table:
            return
        for token in tokens:
            # Table keys are lowercase in some languages and cased in others.
            token.lemma = table.get(token.text) or table.get(token.text.lower()) or token.text.lower()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._lemmatise(message, example_language(message))
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT):
                self._lemmatise(message, (message.get(LANGUAGE_KEY) or {}).get("name"))
        return messages
