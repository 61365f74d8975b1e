"""Word embeddings by skip-gram with negative sampling (Mikolov et al. 2013), chapter 06.

* ``keep_probabilities``: sub-sampling of frequent words, keep w with min(1, sqrt(t / f(w)))
  (the paper's discard probability 1 - sqrt(t / f(w))).
* ``skipgram_pairs``: (centre, context) pairs with a *dynamic* window (a radius drawn
  uniformly from 1..window per centre word, so near words are sampled more often).
* ``noise_distribution``: unigram counts to the power 3/4, the negatives' distribution.
* ``SkipGramNS``: two embedding tables; loss -log s(u_o.v_c) - sum_k log s(-u_k.v_c).
* ``train_skipgram``: the loop; ``nearest`` and ``text_vector`` / ``semantic_drift`` use it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import check_float, check_int

__all__ = ["build_vocab", "keep_probabilities", "subsample", "skipgram_pairs",
           "noise_distribution", "SkipGramNS", "train_skipgram", "nearest", "text_vector",
           "semantic_drift"]


def build_vocab(token_lists: Sequence[Sequence[str]], min_count: int = 5
                ) -> tuple[list[str], torch.Tensor]:
    """Words seen at least ``min_count`` times (frequent first) and their counts."""
    counts = Counter(w for words in token_lists for w in words)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return words, torch.tensor([counts[w] for w in words], dtype=torch.float)


def keep_probabilities(counts: torch.Tensor, t: float = 1e-4) -> torch.Tensor:
    """min(1, sqrt(t / f(w))) with f(w) = count / total: P(keep) of each word."""
    check_float("t", t, min_value=0.0, min_inclusive=False)
    freq = counts / counts.sum()
    return torch.clamp(torch.sqrt(t / freq), max=1.0)


def subsample(ids: Sequence[int], keep: torch.Tensor, rng: random.Random) -> list[int]:
    """Drop each occurrence of word i with probability 1 - keep[i]."""
    return [i for i in ids if rng.random() < keep[i]]


def skipgram_pairs(ids: Sequence[int], window: int, rng: random.Random
                   ) -> list[tuple[int, int]]:
    """(centre, context) pairs; each centre uses a radius drawn from 1..window."""
    check_int("window", window, min_value=1)
    pairs = []
    for i, centre in enumerate(ids):
        radius = rng.randint(1, window)
        for j in range(max(0, i - radius), min(len(ids), i + radius + 1)):
            if j != i:
                pairs.append((centre, ids[j]))
    return pairs


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """P_n(w) proportional to count(w)^power (3/4 in word2vec)."""
    weights = counts ** power
    return weights / weights.sum()


class SkipGramNS(nn.Module):
    """Input vectors v (the embeddings) and output vectors u (context side)."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.v = nn.Embedding(vocab_size, dim)  # centre words: the vectors we keep
        self.u = nn.Embedding(vocab_size, dim)  # context words
        nn.init.uniform_(self.v.weight, -0.5 / dim, 0.5 / dim)  # word2vec's init
        nn.init.zeros_(self.u.weight)

    def forward(self, centre: torch.Tensor, context: torch.Tensor,
                negatives: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of -log s(u_o.v_c) - sum_k log s(-u_k.v_c)."""
        v_c = self.v(centre)  # (B, d)
        pos = (self.u(context) * v_c).sum(-1)  # (B,)
        neg = torch.bmm(self.u(negatives), v_c.unsqueeze(-1)).squeeze(-1)  # (B, K)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()


def train_skipgram(id_lists: Sequence[Sequence[int]], counts: torch.Tensor, *, dim: int = 50,
                   window: int = 3, negatives: int = 5, epochs: int = 3,
                   batch_size: int = 2048, lr: float = 0.02, t: float = 1e-4,
                   seed: int = 0) -> tuple[SkipGramNS, list[float]]:
    """Train SGNS with Adam on sub-sampled, shuffled pairs; returns (model, loss per step)."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    keep, noise = keep_probabilities(counts, t), noise_distribution(counts)
    model = SkipGramNS(len(counts), dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # no weight decay
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        pairs = [p for ids in id_lists for p in skipgram_pairs(subsample(ids, keep, rng),
                                                               window, rng)]
        rng.shuffle(pairs)
        data = torch.tensor(pairs, dtype=torch.long)
        for start in range(0, len(data), batch_size):
            batch = data[start:start + batch_size]
            neg = torch.multinomial(noise, len(batch) * negatives, replacement=True,
                                    generator=generator).view(len(batch), negatives)
            loss = model(batch[:, 0], batch[:, 1], neg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return model, losses


def nearest(vectors: torch.Tensor, words: Sequence[str], query: str, k: int = 5
            ) -> list[tuple[str, float]]:
    """The ``k`` words with the highest cosine similarity to ``query`` (itself excluded)."""
    index = {w: i for i, w in enumerate(words)}
    if query not in index:
        raise KeyError(f"{query!r} is not in the vocabulary")
    unit = F.normalize(vectors, dim=-1)
    sims = unit @ unit[index[query]]
    sims[index[query]] = -math.inf
    top = sims.topk(k)
    return [(words[i], s) for i, s in zip(top.indices.tolist(), top.values.tolist())]


def text_vector(vectors: torch.Tensor, index: dict[str, int], words: Sequence[str]
                ) -> torch.Tensor:
    """Mean vector of the known words of a text (zeros if none is known)."""
    ids = [index[w] for w in words if w in index]
    return vectors[ids].mean(0) if ids else torch.zeros(vectors.shape[1])


def semantic_drift(vectors: torch.Tensor, index: dict[str, int], original: Sequence[str],
                   augmented: Sequence[str]) -> float:
    """1 - cosine similarity of the two texts' mean word vectors (0 = no drift)."""
    a, b = text_vector(vectors, index, original), text_vector(vectors, index, augmented)
    return 1.0 - F.cosine_similarity(a, b, dim=0).item()
