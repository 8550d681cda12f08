"""Rasa NLU component: gives closed-class entities (tier, payment method,
language) a canonical value, or drops them.

DIET marks the right words but sometimes in a form no synonym lists: a
compound ("Silver-jäsenyyden"), a case ending ("tšekin") or a typo
("Platinium-taso"). The dialogue can only use canonical values, so each
value is matched against the forms annotated in the training data by the
longest shared beginning (after case and diacritics are removed). A value
that matches no form well enough ("Fin", "megoldás") is dropped, since an
entity the dialogue cannot use is only noise to it.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.folding import plain

logger = logging.getLogger(__name__)

_MODEL_FILE = "entity_forms.json"


def shared_prefix_length(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


def canonical_value(value: str, forms: Dict[str, str], min_prefix: int) -> Optional[str]:
    """The canonical value of the known form sharing the longest beginning with
    `value`, or None when that is shorter than `min_prefix` or ambiguous."""
    if value in forms.values():
        return value
    key = plain(value)
    if key in forms:
        return forms[key]
    best, candidates = 0, set()
    for form, canonical in forms.items():
        length = shared_prefix_length(key, form)
        if length > best:
            best, candidates = length, {canonical}
        elif length == best:
            candidates.add(canonical)
    if best >= min_prefix and len(candidates) == 1:
        return candidates.pop()
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class ClosedEntityValues(GraphComponent):
    """Maps tier, payment_method and language values to their canonical values."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": ["tier", "payment_method", "language"], "min_prefix": 4}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        forms: Optional[Dict[str, Dict[str, str]]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        # entity -> {plain form: canonical value}
        self._forms = forms or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ClosedEntityValues":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        entities = set(self._config["entities"])
        forms: Dict[str, Dict[str, str]] = {name: {} for name in entities}
        for message in training_data.training_examples:
            text = message.get(TEXT) or ""
            for entity in message.get(ENTITIES) or []:
                if entity["entity"] in entities:
                    canonical = str(entity["value"])
                    forms[entity["entity"]][plain(canonical)] = canonical
                    if "start" in entity:  # entities from stories have no position
                        span = text[entity["start"]:entity["end"]]
                        forms[entity["entity"]][plain(span)] = canonical
        for form, canonical in training_data.entity_synonyms.items():
            for name in entities:
                if canonical in forms[name].values():
                    forms[name][plain(form)] = canonical
        self._forms = forms
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _MODEL_FILE).write_text(json.dumps(forms), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ClosedEntityValues":
        try:
            with model_storage.read_from(resource) as directory:
                forms = json.loads((directory / _MODEL_FILE).read_text(encoding="utf-8"))
            return cls(config, model_storage, resource, forms)
        except (ValueError, FileNotFoundError):
            logger.warning("Entity forms not found; closed-class values pass unchanged.")
            return cls(config, model_storage, resource)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            kept, seen = [], set()
            for entity in message.get(ENTITIES) or []:
                forms = self._forms.get(entity["entity"])
                if forms:
                    value = canonical_value(str(entity["value"]), forms, self._config["min_prefix"])
                    if value is None or (entity["entity"], value) in seen:
                        continue
                    seen.add((entity["entity"], value))
                    if value != entity["value"]:
                        processors = entity.get("processors", []) + [self.__class__.__name__]
                        entity = {**entity, "value": value, "processors": processors}
                kept.append(entity)
            message.set(ENTITIES, kept, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
