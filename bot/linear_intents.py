"""The intent classifier: a linear SVM on the pipeline's word and char n-gram counts.

On a dev split of the training data (README, "Intent classifier"), DIET's
intent head ranked the right intent first for 0.876 of the messages; a linear
SVM on the very same sparse features, weighted by tf-idf, for 0.904. Short
support messages are mostly decided by a few telling words and word pieces,
which a linear model fits from 10,000 examples in seconds. Blending DIET's
ranking in gained nothing the ±0.01 noise could not explain, and DIET's
intent head cost a third of its training, so DIET only extracts entities.

The ranking is `softmax(svm margins / temperature)`, so the confidence the
FallbackClassifier reads is a probability.

The softmax always crowns someone, even when no one-vs-rest SVM claims the
message (every margin below its decision boundary, 0): "asdfgh jkl" comes out
`affirm` at 0.96, "???" at 0.98. Treating every unclaimed message as a
fallback cost 5 to 8 points of held-out intent accuracy (many right answers
are unclaimed too), so the parse only says so (`intent_claimed`), and the
purchase question, where a wrong yes costs money, asks again (actions/membership.py).

Parts of a message are ranked too (bot/clauses.py): a greeting or thanks
around a question is set aside (`social`), and two or more questions are
listed (`questions`). A span's sentence features are rebuilt from its words'
sequence features (counts add up; regex matches are any-of), so a span is
ranked as if it had been sent alone, without parsing it again.
"""
from __future__ import annotations

import contextlib
import logging
import zipfile
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.sparse
from scipy.special import softmax

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import RasaException
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.clauses import Reading, Thresholds, analyse, candidate_spans

logger = logging.getLogger(__name__)

_MODEL_FILE = "linear_intents.skops"
# Parse key: False when no intent's SVM claims the message (a guess among intents, not a reading).
INTENT_CLAIMED = "intent_claimed"
# Parse keys (bot/clauses.py): the intents of greetings or thanks set aside; two or more questions.
SOCIAL = "social"
QUESTIONS = "questions"


class LinearIntentsFileError(RasaException):
    """The stored classifier cannot be read; the model must be trained again."""


def sentence_counts(message: Message) -> Optional[scipy.sparse.spmatrix]:
    """The message's sparse sentence features (all featurizers), or None if it has none."""
    _, sentence = message.get_sparse_features(TEXT)
    return None if sentence is None else sentence.features


def span_counts(message: Message, start: int, end: int) -> Optional[scipy.sparse.spmatrix]:
    """The sentence features tokens [start, end) would have had if sent alone."""
    return spans_counts(message, [(start, end)])


def spans_counts(message: Message, spans: Sequence[Tuple[int, int]]) -> Optional[scipy.sparse.csr_matrix]:
    """One row per span of tokens [start, end): the sentence features it would have had if sent alone.

    Every featurizer's sentence row is rebuilt from its sequence rows of those
    tokens: word and char n-gram counts add up, regex matches are any-of. All
    spans at once (one sparse product per featurizer), since a message has
    dozens of candidate spans and small sparse operations are what costs.
    """
    sequences = {f.origin: f.features for f in message.features
                 if f.attribute == TEXT and f.is_sparse() and f.type == FEATURE_TYPE_SEQUENCE}
    sentence = [f for f in message.features
                if f.attribute == TEXT and f.is_sparse() and f.type == FEATURE_TYPE_SENTENCE]
    if not sentence or any(f.origin not in sequences for f in sentence):
        return None
    tokens = sequences[sentence[0].origin].shape[0]
    rows, columns = [], []
    for row, (start, end) in enumerate(spans):
        rows.extend([row] * (end - start))
        columns.extend(range(start, end))
    selector = scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(spans), tokens))
    blocks = []
    for feature in sentence:
        summed = selector @ scipy.sparse.csr_matrix(sequences[feature.origin])
        if "RegexFeaturizer" in str(feature.origin):
            summed = (summed > 0).astype(np.float64)
        blocks.append(summed)
    return scipy.sparse.hstack(blocks, format="csr")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Linear SVM over tf-idf weighted sparse sentence features."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 1.0, "temperature": 0.1, "social_threshold": 0.5, "rest_threshold": 0.5,
                "question_threshold": 0.5, "rest_asks": True, "rest_beats_whole": True}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 pipeline: Any = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._pipeline = pipeline

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "skops"]

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        rows, labels = [], []
        for message in training_data.intent_examples:
            counts = sentence_counts(message)
            if counts is not None:
                rows.append(counts)
                labels.append(message.get(INTENT))
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier needs two intents with examples; it will not classify.")
            return self._resource
        pipeline = make_pipeline(TfidfTransformer(sublinear_tf=True),
                                 LinearSVC(C=float(self._config["C"])))
        pipeline.fit(scipy.sparse.vstack(rows).tocsr(), labels)
        self._pipeline = pipeline
        self._persist()
        return self._resource

    def _persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self._pipeline, model_dir / _MODEL_FILE)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentClassifier":
        import skops.io as sio

        stack = contextlib.ExitStack()
        try:
            model_dir = stack.enter_context(model_storage.read_from(resource))
        except ValueError:
            # Rasa's storage raises ValueError when the component never persisted (too little data).
            return cls(config, model_storage, resource)
        with stack:
            model_file = model_dir / _MODEL_FILE
            if not model_file.exists():
                return cls(config, model_storage, resource)
            try:
                # Only sklearn, numpy and scipy types: the file is ours, but skops checks anyway.
                types = sio.get_untrusted_types(file=model_file)
                unexpected = [t for t in types if not t.startswith(("sklearn.", "numpy.", "scipy.sparse."))]
                if unexpected:
                    raise LinearIntentsFileError(
                        f"{model_file} holds unexpected types {unexpected}; retrain the model (`make train`).")
                pipeline = sio.load(model_file, trusted=types)
            except (zipfile.BadZipFile, KeyError, ValueError) as error:
                raise LinearIntentsFileError(
                    f"{model_file} cannot be read ({error}); retrain the model (`make train`).") from error
        return cls(config, model_storage, resource, pipeline)

    def ranking(self, counts: scipy.sparse.spmatrix) -> Tuple[List[Dict[str, Any]], bool]:
        """Every intent with its confidence, best first, and whether any intent's SVM claims the message."""
        return self._ranking_of(self._pipeline.decision_function(counts)[0])

    def _ranking_of(self, margins: np.ndarray) -> Tuple[List[Dict[str, Any]], bool]:
        # A lower temperature makes the probabilities from the SVM's margins more decided.
        confidences = softmax(margins / float(self._config["temperature"]))
        intents = self._pipeline.classes_
        ranked = [{"name": str(intents[i]), "confidence": float(confidences[i])} for i in np.argsort(-confidences)]
        return ranked, bool(margins.max() >= 0)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._pipeline is None:
            return messages
        for message in messages:
            counts = sentence_counts(message)
            if counts is None:
                continue
            ranking, claimed = self.ranking(counts)
            social: List[str] = []
            questions: List[Dict[str, Any]] = []
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            if len(tokens) > 1:
                margins, analysis = self._analyse(message, tokens)
                if analysis.core is not None:
                    ranking, claimed = self._ranking_of(margins[(analysis.core.start, analysis.core.end)])
                social = analysis.social
                for span, _ in analysis.questions:
                    ranked, _ = self._ranking_of(margins[(span.start, span.end)])
                    questions.append({"start": span.char_start, "end": span.char_end, "intent": ranked[0],
                                      INTENT_RANKING_KEY: ranked[:LABEL_RANKING_LENGTH]})
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:LABEL_RANKING_LENGTH], add_to_output=True)
            message.set(INTENT_CLAIMED, claimed, add_to_output=True)
            message.set(SOCIAL, social, add_to_output=True)
            message.set(QUESTIONS, questions, add_to_output=True)
        return messages

    def _analyse(self, message: Message, tokens: List[Any]) -> Tuple[Dict[Tuple[int, int], np.ndarray], Any]:
        """The message's social phrases and questions (bot/clauses.py), with every span's SVM margins."""
        text = message.get(TEXT)
        token_spans = [(t.start, t.end) for t in tokens]
        language = (message.get("language") or {}).get("name")
        margins = self._span_margins(message, candidate_spans(text, token_spans, language))
        intents = self._pipeline.classes_
        temperature = float(self._config["temperature"])

        def rank(start: int, end: int) -> Reading:
            if (start, end) not in margins:  # not foreseen by candidate_spans: ranked alone
                margins.update(self._span_margins(message, [(start, end)]))
            row = margins[(start, end)]
            if row is None:
                return Reading("nlu_fallback", 0.0, False)
            best = int(np.argmax(row))
            confidence = 1.0 / float(np.exp((row - row[best]) / temperature).sum())
            return Reading(str(intents[best]), confidence, bool(row[best] >= 0), float(row[best]))

        config = {**self.get_default_config(), **self._config}  # a model trained before the thresholds existed
        thresholds = Thresholds(float(config["social_threshold"]), float(config["rest_threshold"]),
                                float(config["question_threshold"]), bool(config["rest_asks"]),
                                bool(config["rest_beats_whole"]))
        return margins, analyse(text, token_spans, rank, thresholds, language)

    def _span_margins(self, message: Message, spans: Sequence[Tuple[int, int]]) -> Dict[Tuple[int, int], Any]:
        """Each span's SVM margins, all spans in one call (None when the message has no features)."""
        counts = spans_counts(message, spans)
        if counts is None:
            return {span: None for span in spans}
        return dict(zip(spans, self._pipeline.decision_function(counts)))
