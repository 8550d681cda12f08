"""Held-out lines that training already holds, once text is folded the way the pipeline folds it.

The features see words lower-cased and without diacritics (bot/plain_words.py)
and no punctuation, so "Jaký je můj stav bodů?" and "jaky je muj stav bodu"
are one example to the model. A held-out line at 0.90 similarity or more to a
training line (difflib's ratio on the folded texts) measures memory, not
understanding, and is not allowed in tests/nlu/.
"""
from __future__ import annotations

import difflib
from typing import List, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from bot.folding import fold

THRESHOLD = 0.90


def near_duplicates(held_out: Sequence[str], trained: Sequence[str],
                    threshold: float = THRESHOLD) -> List[Tuple[float, str, str]]:
    """(similarity, held-out line, closest training line) for every held-out line at `threshold` or more.

    Shared character trigrams pick the candidates (a sparse product), so only
    pairs that could reach the threshold are compared character by character.
    """
    held_folded, trained_folded = [fold(t) for t in held_out], [fold(t) for t in trained]
    trigrams = CountVectorizer(analyzer="char_wb", ngram_range=(3, 3), binary=True).fit(held_folded + trained_folded)
    held_matrix, trained_matrix = trigrams.transform(held_folded), trigrams.transform(trained_folded)
    shared = (held_matrix @ trained_matrix.T).tocsr()
    held_sizes = np.asarray(held_matrix.sum(1)).ravel()
    trained_sizes = np.asarray(trained_matrix.sum(1)).ravel()
    found = []
    for i in range(shared.shape[0]):
        row = shared.getrow(i)
        best, closest = 0.0, None
        for j, common in zip(row.indices, row.data):
            if common / (held_sizes[i] + trained_sizes[j] - common) < 0.5:  # cannot reach 0.90
                continue
            ratio = difflib.SequenceMatcher(None, held_folded[i], trained_folded[j]).ratio()
            if ratio > best:
                best, closest = ratio, j
        if best >= threshold:
            found.append((best, held_out[i], trained[closest]))
    return found
