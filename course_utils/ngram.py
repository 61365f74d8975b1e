"""Count-based n-gram language models: the baselines every neural LM must beat (chapter 02).

An n-gram model makes the Markov assumption P(w_i | w_1..w_{i-1}) ~ P(w_i | w_{i-n+1}..w_{i-1})
and estimates it by counting. Unseen n-grams would get probability 0 (infinite perplexity),
so ``NGramLM`` smooths: the unigram is add-k smoothed and every higher order is linearly
interpolated with the order below (Jelinek-Mercer):

    p_j(w | h) = lam * c(h, w) / c(h) + (1 - lam) * p_{j-1}(w | shorter h)   if c(h) > 0
    p_j(w | h) = p_{j-1}(w | shorter h)                                        otherwise

Tokens are integer ids in ``0..vocab_size-1`` (bytes, BPE ids, ...).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from course_utils.validation import check_float, check_int

__all__ = ["NGramLM", "interpolation_sweep", "tune_interpolation"]


def _as_list(ids: Sequence[int] | torch.Tensor | np.ndarray) -> list[int]:
    if isinstance(ids, torch.Tensor):
        if ids.ndim != 1:
            raise ValueError(f"ids must be a 1-D stream of token ids, got shape {tuple(ids.shape)}")
        return ids.tolist()
    if isinstance(ids, np.ndarray):
        return ids.ravel().tolist()
    return list(ids)


def _checked_ids(ids: Sequence[int] | torch.Tensor | np.ndarray, vocab_size: int) -> list[int]:
    ids = _as_list(ids)
    if ids and (min(ids) < 0 or max(ids) >= vocab_size):
        raise ValueError(f"token ids must be in 0..{vocab_size - 1}, got min {min(ids)}, "
                         f"max {max(ids)}")
    return ids


class NGramLM:
    """An interpolated n-gram LM (add-k unigram at the bottom); ``fit`` then score or sample."""

    def __init__(self, n: int, vocab_size: int, *, lam: float = 0.9, add_k: float = 1.0) -> None:
        self.n = check_int("n", n, min_value=1, max_value=8)
        self.vocab_size = check_int("vocab_size", vocab_size, min_value=1)
        self.lam = check_float("lam", lam, min_value=0.0, max_value=1.0)
        self.add_k = check_float("add_k", add_k, min_value=0.0, min_inclusive=False)
        self.unigram = np.zeros(vocab_size)
        # next_counts[j][context of length j] = Counter(next token -> count), j = 1..n-1
        self.next_counts: list[dict[tuple[int, ...], Counter]] = [
            defaultdict(Counter) for _ in range(n)]
        self.totals: list[dict[tuple[int, ...], int]] = [defaultdict(int) for _ in range(n)]
        self.n_tokens = 0

    def fit(self, ids: Sequence[int] | torch.Tensor | np.ndarray) -> "NGramLM":
        """Count every n-gram (orders 1..n) of one token stream; returns self."""
        ids = _checked_ids(ids, self.vocab_size)
        self.unigram += np.bincount(ids, minlength=self.vocab_size)
        self.n_tokens += len(ids)
        for j in range(1, self.n):
            counts, totals = self.next_counts[j], self.totals[j]
            grams = Counter(zip(*(ids[k:] for k in range(j + 1))))  # (j+1)-grams, counted in C
            for gram, c in grams.items():
                counts[gram[:-1]][gram[-1]] += c
                totals[gram[:-1]] += c
        return self

    def truncated(self, n: int) -> "NGramLM":
        """The order-``n`` model of the same counts, without counting again.

        It equals ``NGramLM(n, ...).fit(same ids)`` (the tables of orders below ``n`` are the
        same), and shares those tables with this model: fit this one, not the view.
        """
        check_int("n", n, min_value=1, max_value=self.n)
        lm = NGramLM(n, self.vocab_size, lam=self.lam, add_k=self.add_k)
        lm.unigram, lm.n_tokens = self.unigram, self.n_tokens
        lm.next_counts, lm.totals = self.next_counts[:n], self.totals[:n]
        return lm

    def _unigram_probs(self) -> np.ndarray:
        return (self.unigram + self.add_k) / (self.n_tokens + self.add_k * self.vocab_size)

    def next_distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(. | context): a (vocab_size,) probability vector (uses the last n-1 tokens)."""
        context = _as_list(context)
        probs = self._unigram_probs()
        for j in range(1, self.n):
            if len(context) < j:
                break
            ctx = tuple(context[len(context) - j:])
            total = self.totals[j].get(ctx, 0)
            if total:
                ml = np.zeros(self.vocab_size)
                for token, count in self.next_counts[j][ctx].items():
                    ml[token] = count / total
                probs = self.lam * ml + (1 - self.lam) * probs
        return probs

    def log_probs(self, ids: Sequence[int] | torch.Tensor | np.ndarray) -> np.ndarray:
        """ln P(w_i | previous tokens) for every position i >= 1 of a stream (len(ids) - 1 values)."""
        ids = _checked_ids(ids, self.vocab_size)
        uni = self._unigram_probs()
        out = np.empty(max(len(ids) - 1, 0))
        for i in range(1, len(ids)):
            w = ids[i]
            p = float(uni[w])
            for j in range(1, min(self.n - 1, i) + 1):
                ctx = tuple(ids[i - j:i])
                total = self.totals[j].get(ctx, 0)
                if total:
                    p = self.lam * self.next_counts[j][ctx].get(w, 0) / total + (1 - self.lam) * p
            out[i - 1] = math.log(p)
        return out

    def perplexity(self, ids: Sequence[int] | torch.Tensor | np.ndarray) -> float:
        """exp(-mean ln P) over the stream's tokens after the first."""
        lp = self.log_probs(ids)
        if lp.size == 0:
            raise ValueError("need at least 2 tokens to compute a perplexity")
        return float(np.exp(-lp.mean()))

    def sample(self, context: Sequence[int], n_tokens: int, *, seed: int = 0,
               stop_token: int | None = None) -> list[int]:
        """Draw ``n_tokens`` continuation tokens (stops after ``stop_token`` if given)."""
        check_int("n_tokens", n_tokens, min_value=1)
        rng = np.random.default_rng(seed)
        context, out = _as_list(context), []
        for _ in range(n_tokens):
            token = int(rng.choice(self.vocab_size, p=self.next_distribution(context)))
            out.append(token)
            context.append(token)
            if token == stop_token:
                break
        return out


def interpolation_sweep(model: NGramLM, ids: Sequence[int] | torch.Tensor | np.ndarray,
                        orders: Sequence[int], lams: Sequence[float]
                        ) -> dict[tuple[int, float], float]:
    """Perplexity on ``ids`` for every order ``n`` in ``orders`` and weight ``lam`` in ``lams``.

    ``{(n, lam): model.truncated(n)`` with ``lam`` ``.perplexity(ids)}`` -- the same numbers
    as fitting ``NGramLM(n, V, lam=lam)`` on the model's data for every pair, but the count
    look-ups (the slow, pure-Python part) are done once per order, not once per pair.
    """
    ids = _checked_ids(ids, model.vocab_size)
    if len(ids) < 2:
        raise ValueError("need at least 2 tokens to compute a perplexity")
    for n in orders:
        check_int("n", n, min_value=1, max_value=model.n)
    lams = [check_float("lam", lam, min_value=0.0, max_value=1.0) for lam in lams]
    targets = ids[1:]
    uni = model._unigram_probs()[targets]
    # counts[j][i] = c(context of length j before token i + 1, that token); totals = c(context)
    counts = np.zeros((model.n, len(targets)))
    totals = np.zeros((model.n, len(targets)))
    for j in range(1, max(orders) if orders else 1):
        table, next_counts = model.totals[j], model.next_counts[j]
        for i in range(j, len(ids)):
            ctx = tuple(ids[i - j:i])
            total = table.get(ctx, 0)
            if total:
                counts[j, i - 1], totals[j, i - 1] = next_counts[ctx].get(ids[i], 0), total
    out = {}
    for n in orders:
        for lam in lams:
            p = uni.copy()
            for j in range(1, n):
                seen = totals[j] > 0
                mixed = lam * counts[j] / np.where(seen, totals[j], 1.0) + (1 - lam) * p
                p = np.where(seen, mixed, p)  # unseen context: the order below, unchanged
            log_p = np.fromiter(map(math.log, p.tolist()), float, count=len(p))  # = log_probs
            out[(n, lam)] = float(np.exp(-log_p.mean()))
    return out


def tune_interpolation(n: int, vocab_size: int, train: Sequence[int] | torch.Tensor,
                       heldout: Sequence[int] | torch.Tensor,
                       grid: Sequence[float] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
                       ) -> tuple[float, dict[float, float]]:
    """Pick the interpolation weight on held-out data: ``(best lam, {lam: perplexity})``."""
    model = NGramLM(n, vocab_size).fit(train)
    table = {lam: ppl for (_, lam), ppl in interpolation_sweep(model, heldout, [n], grid).items()}
    return min(table, key=table.get), table
