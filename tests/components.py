"""Small featurized training data for tests of single NLU components."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

EXAMPLES = {
    "greet": ["hello", "ahoj", "szia", "hej", "labas", "moi", "dobrý den"],
    "pay": ["pay by card", "zaplatím kartou", "kártyával fizetek", "betal med kort", "maksan kortilla"],
    "points": ["how many points", "kolik mám bodů", "hány pontom van", "hvor mange point", "kiek taškų"],
}


def featurized(texts: Dict[str, List[str]], storage: LocalModelStorage, context: ExecutionContext) -> TrainingData:
    """Tokenised training data with char n-gram counts, as the pipeline's featurizers leave it."""
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, ts in texts.items() for t in ts])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        storage, Resource("featurizer"), context,
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data


def copies(data: TrainingData) -> List[Message]:
    """The training examples as new messages with the same features, to predict on."""
    return [Message(data={**m.data}, features=m.features) for m in data.training_examples]


def ranking(message: Message) -> List[Any]:
    return [(r["name"], round(r["confidence"], 6)) for r in message.get("intent_ranking")]
