"""A bag of word n-grams (fastText-style, Joulin et al. 2017): chapter 06's few-label model.

``NgramFeaturizer`` maps a word list to ids of its words and its adjacent word pairs
(bigrams), from vocabularies built on *unlabelled* text; ``NgramBag`` averages their
embeddings (``nn.EmbeddingBag``) into a sentence vector and classifies it with a linear
layer. Bigrams let it see "not bad" as one feature; it has no other notion of word order.
It trains in a fraction of a second on a few hundred reviews on one CPU core, which is
what an experiment over many augmentations x label budgets x seeds needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from course_utils.validation import check_float, check_int

__all__ = ["NgramFeaturizer", "NgramBagConfig", "NgramBag", "pack_bags"]


class NgramFeaturizer:
    """Ids of unigrams and bigrams; 0 = unknown unigram, unknown bigrams are dropped."""

    def __init__(self, unigrams: Sequence[str], bigrams: Sequence[tuple[str, str]]) -> None:
        self.unigrams = {w: i + 1 for i, w in enumerate(unigrams)}
        offset, width = len(self.unigrams) + 1, len(self.unigrams) + 1
        self.bigrams = {b: offset + i for i, b in enumerate(bigrams)}
        # bigram lookup by the pair of unigram ids (an int key is cheaper than a tuple)
        self._pair_ids = {self.unigrams[a] * width + self.unigrams[b]: i
                          for (a, b), i in self.bigrams.items()
                          if a in self.unigrams and b in self.unigrams}
        self._width = width

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_unigram: int = 2,
              min_bigram: int = 5) -> NgramFeaturizer:
        """Vocabularies of the n-grams seen at least ``min_*`` times (frequent first)."""
        uni, bi = Counter(), Counter()
        for words in token_lists:
            uni.update(words)
            bi.update(zip(words, words[1:]))
        order = lambda c, m: sorted((k for k, v in c.items() if v >= m), key=lambda k: (-c[k], k))
        return cls(order(uni, min_unigram), order(bi, min_bigram))

    def __len__(self) -> int:
        return 1 + len(self.unigrams) + len(self.bigrams)

    def __call__(self, words: Sequence[str]) -> list[int]:
        """Unigram ids (0 = unknown), then the ids of the known bigrams."""
        ids = [self.unigrams.get(w, 0) for w in words]
        pairs, width = self._pair_ids, self._width
        keys = [a * width + b for a, b in zip(ids, ids[1:]) if a and b]
        return ids + [pairs[k] for k in keys if k in pairs] or [0]


def pack_bags(bags: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(flat ids, offsets)`` for ``nn.EmbeddingBag`` from a list of id lists."""
    lengths = torch.tensor([len(b) for b in bags])
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]])
    return torch.tensor([i for b in bags for i in b], dtype=torch.long), offsets


@dataclass(frozen=True)
class NgramBagConfig:
    """Sizes of an ``NgramBag``."""

    n_features: int  # len(featurizer)
    d_embed: int = 16
    dropout: float = 0.0  # on the sentence vector
    n_classes: int = 2

    def __post_init__(self) -> None:
        check_int("n_features", self.n_features, min_value=1)
        check_int("d_embed", self.d_embed, min_value=1)
        check_float("dropout", self.dropout, min_value=0.0, max_value=0.99)


class NgramBag(nn.Module):
    """Mean of n-gram embeddings -> dropout -> linear."""

    def __init__(self, config: NgramBagConfig) -> None:
        super().__init__()
        self.config = c = config
        self.embed = nn.EmbeddingBag(c.n_features, c.d_embed, mode="mean")
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.d_embed, c.n_classes)

    def sentence_vectors(self, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """(B, d_embed) mean n-gram embedding of each text."""
        return self.embed(flat, offsets)

    def classify(self, vectors: torch.Tensor) -> torch.Tensor:
        """Logits from sentence vectors (the entry point for mixup)."""
        return self.head(self.drop(vectors))

    def forward(self, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_classes) for packed bags (see ``pack_bags``)."""
        return self.classify(self.sentence_vectors(flat, offsets))
