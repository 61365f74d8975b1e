"""Text generation from a causal language model, and the numbers used to judge it (chapter 02).

Decoding turns next-token logits into text, one token at a time:

* logits processors, in the order Hugging Face ``generate`` applies them:
  ``apply_repetition_penalty`` -> ``apply_temperature`` -> ``top_k_filter`` -> ``top_p_filter``
  (``process_logits`` chains them); filtered tokens get ``-inf``;
* searches: ``greedy_search``, ``sample`` (with the processors), ``beam_search`` (cumulative
  log-probabilities, length penalty, the stopping rules of ``transformers``) and the
  dispatcher ``generate(...)`` with HF-like arguments;
* every search can reuse keys/values with a KV cache (``use_cache=True``) for models that
  provide ``new_kv_cache()`` (``course_utils.models.gpt.GPT``); other models (e.g. a
  ``transformers`` model) are re-run on the whole prefix. By default (``use_cache=None``) the
  cache is used while the sequence fits in ``n_positions``; past that the model re-reads its
  last ``n_positions`` tokens at every step (a sliding window cannot be cached);
* evaluation: ``perplexity`` (a token stream, non-overlapping windows),
  ``perplexity_from_logits``, ``sequence_log_prob(s)``, ``distinct_n``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import check_float, check_int, check_ndim, check_type

__all__ = ["decoding_stages", "apply_temperature", "top_k_filter", "top_p_filter",
           "apply_repetition_penalty",
           "process_logits", "greedy_search", "sample", "beam_search", "beam_search_step",
           "BeamSearchOutput", "generate", "next_token_logits", "perplexity",
           "perplexity_from_logits", "sequence_log_prob", "sequence_log_probs", "distinct_n"]


# ---------------------------------------------------------------------------------------
# Logits processors: (..., V) -> (..., V)
# ---------------------------------------------------------------------------------------
def _check_logits(logits: torch.Tensor) -> None:
    check_type("logits", logits, torch.Tensor)
    if logits.ndim < 1 or not logits.is_floating_point():
        raise ValueError(f"logits must be a float tensor of shape (..., vocab), got "
                         f"{logits.dtype} {tuple(logits.shape)}")
    nan = torch.isnan(logits)
    if bool(nan.any()):
        raise ValueError(f"logits contain NaN ({int(nan.sum())} of {logits.numel()} values): the "
                         "model produced them -- check its weights (a diverged training run?) "
                         "and its inputs")


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``logits / temperature``: T < 1 sharpens the distribution, T > 1 flattens it."""
    _check_logits(logits)
    check_float("temperature", temperature, min_value=0.0, min_inclusive=False)
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row (ties with the k-th kept), the rest -> -inf.

    ``k=None`` or ``0`` keeps everything (as ``generate(top_k=0)``).
    """
    _check_logits(logits)
    if k is None or k == 0:
        return logits
    check_int("k", k, min_value=1)
    k = min(k, logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float | None) -> torch.Tensor:
    """Nucleus filter: keep the smallest set of most likely tokens whose probability >= ``p``.

    A token survives if the probability of the tokens ranked above it is still < p, so the
    most likely token always survives. ``p=None`` or ``1.0`` keeps everything.
    """
    _check_logits(logits)
    if p is None:
        return logits
    check_float("p", p, min_value=0.0, max_value=1.0, min_inclusive=False)
    if p == 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs  # (..., V): probability ranked above each token
    remove_sorted = mass_before >= p
    remove_sorted[..., 0] = False
    remove = remove_sorted.scatter(-1, order, remove_sorted)  # back to vocabulary order
    return logits.masked_fill(remove, float("-inf"))


def apply_repetition_penalty(logits: torch.Tensor, input_ids: torch.Tensor,
                             penalty: float) -> torch.Tensor:
    """CTRL's repetition penalty: every token already in ``input_ids`` becomes less likely.

    A positive logit is divided by ``penalty``, a negative one multiplied by it (Keskar et
    al., 2019; the rule of ``transformers``' ``RepetitionPenaltyLogitsProcessor``).
    ``logits`` (B, V), ``input_ids`` (B, T); ``penalty=1`` changes nothing.
    """
    _check_logits(logits)
    check_float("penalty", penalty, min_value=0.0, min_inclusive=False)
    check_type("input_ids", input_ids, torch.Tensor)
    if penalty == 1.0 or input_ids.numel() == 0:
        return logits
    if logits.ndim != 2 or input_ids.ndim != 2 or input_ids.shape[0] != logits.shape[0]:
        raise ValueError(f"expected logits (B, V) and input_ids (B, T) with the same B, got "
                         f"{tuple(logits.shape)} and {tuple(input_ids.shape)}")
    seen = torch.gather(logits, 1, input_ids)  # (B, T)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return logits.scatter(1, input_ids, seen)


def process_logits(logits: torch.Tensor, input_ids: torch.Tensor | None = None, *,
                   temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None, repetition_penalty: float = 1.0
                   ) -> torch.Tensor:
    """Repetition penalty -> temperature -> top-k -> top-p (the order of HF ``generate``)."""
    if repetition_penalty != 1.0:
        if input_ids is None:
            raise ValueError("repetition_penalty needs input_ids (the tokens seen so far)")
        logits = apply_repetition_penalty(logits, input_ids, repetition_penalty)
    if temperature != 1.0:
        logits = apply_temperature(logits, temperature)
    return top_p_filter(top_k_filter(logits, top_k), top_p)


# ---------------------------------------------------------------------------------------
# Running the model one step at a time
# ---------------------------------------------------------------------------------------
def _as_batch(input_ids: Any) -> torch.Tensor:
    if isinstance(input_ids, (list, tuple)):
        input_ids = torch.tensor(input_ids, dtype=torch.long)
    check_type("input_ids", input_ids, torch.Tensor)
    if input_ids.ndim == 1:
        input_ids = input_ids[None, :]
    check_ndim("input_ids", input_ids, 2)
    if input_ids.shape[1] == 0:
        raise ValueError("input_ids must hold at least one token (a prompt or a BOS token)")
    return input_ids.long()


def _logits_of(output: Any) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)):
        return output[0]
    if hasattr(output, "logits"):
        return output.logits
    raise TypeError(f"cannot find logits in the model's output of type {type(output).__name__}")


def _supports_cache(model: nn.Module) -> bool:
    return hasattr(model, "new_kv_cache")


def _context_limit(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    return getattr(config, "n_positions", None)


class _Stepper:
    """Feeds a growing sequence to the model, with or without a KV cache."""

    def __init__(self, model: nn.Module, use_cache: bool | None, total_length: int) -> None:
        self.model = model
        self.limit = _context_limit(model)
        fits = self.limit is None or total_length <= self.limit
        if use_cache and not _supports_cache(model):
            raise ValueError(f"use_cache=True needs a model with new_kv_cache() (our GPT); "
                             f"{type(model).__name__} is re-run on the whole prefix -- pass "
                             f"use_cache=False")
        if use_cache and not fits:
            raise ValueError(f"prompt + new tokens = {total_length} do not fit in the KV cache "
                             f"({self.limit} positions); use use_cache=False (the context is "
                             f"then cropped to the last {self.limit} tokens)")
        # None: the cache while the sequence fits in the context window; past it, the model
        # re-reads its last n_positions tokens (a window that slides cannot be cached)
        self.use_cache = _supports_cache(model) if use_cache is None else use_cache
        self.cache = None

    def _fits(self, ids: torch.Tensor) -> bool:
        return self.limit is None or ids.shape[1] <= self.limit

    def first(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits of the last position after reading the whole prompt."""
        if self.use_cache and not self._fits(ids):
            self.use_cache = False
        if self.use_cache:
            self.cache = self.model.new_kv_cache()
            return _logits_of(self.model(ids, kv_cache=self.cache))[:, -1, :]
        return self._full(ids)

    def next(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits of the last position after appending ``ids[:, -1]``."""
        if self.use_cache and not self._fits(ids):
            self.use_cache, self.cache = False, None  # from now on: the cropped context
        if self.use_cache:
            return _logits_of(self.model(ids[:, -1:], kv_cache=self.cache))[:, -1, :]
        return self._full(ids)

    def _full(self, ids: torch.Tensor) -> torch.Tensor:
        if self.limit is not None:
            ids = ids[:, -self.limit:]  # the model only sees its last n_positions tokens
        return _logits_of(self.model(ids))[:, -1, :]

    def reorder(self, index: torch.Tensor) -> None:
        """Keep cache rows ``index`` (beam search: follow the surviving beams)."""
        if self.use_cache:
            for layer in self.cache:
                layer.k, layer.v = layer.k.index_select(0, index), layer.v.index_select(0, index)


@torch.no_grad()
def next_token_logits(model: nn.Module, input_ids: Any) -> torch.Tensor:
    """Logits (B, V) of the token after ``input_ids`` (B, T) or (T,)."""
    ids = _as_batch(input_ids)
    return _Stepper(model, use_cache=False, total_length=ids.shape[1]).first(ids)


def _check_new_tokens(max_new_tokens: int) -> None:
    check_int("max_new_tokens", max_new_tokens, min_value=1)


def _decode_loop(model: nn.Module, input_ids: Any, max_new_tokens: int, choose: Any, *,
                 eos_token_id: int | None, pad_token_id: int | None,
                 use_cache: bool | None) -> torch.Tensor:
    """Shared loop of greedy search and sampling; ``choose(logits, ids) -> (B,) tokens``."""
    _check_new_tokens(max_new_tokens)
    ids = _as_batch(input_ids)
    pad = pad_token_id if pad_token_id is not None else eos_token_id
    was_training = model.training
    model.eval()
    try:
        stepper = _Stepper(model, use_cache, ids.shape[1] + max_new_tokens - 1)
        logits = stepper.first(ids)
        finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
        for step in range(max_new_tokens):
            token = choose(logits.float(), ids)  # (B,)
            if eos_token_id is not None:
                token = torch.where(finished, torch.full_like(token, pad), token)
                finished |= token == eos_token_id
            ids = torch.cat([ids, token[:, None]], dim=1)
            if bool(finished.all()) or step == max_new_tokens - 1:
                break
            logits = stepper.next(ids)
    finally:
        model.train(was_training)
    return ids


@torch.no_grad()
def greedy_search(model: nn.Module, input_ids: Any, max_new_tokens: int, *,
                  eos_token_id: int | None = None, pad_token_id: int | None = None,
                  repetition_penalty: float = 1.0, use_cache: bool | None = None
                  ) -> torch.Tensor:
    """Append the most likely next token, ``max_new_tokens`` times (or until EOS).

    Returns the prompt + continuation, (B, T + new). Rows that emitted EOS are padded with
    ``pad_token_id`` (default: the EOS id), like ``transformers``.
    """
    def choose(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        logits = process_logits(logits, ids, repetition_penalty=repetition_penalty)
        return logits.argmax(dim=-1)

    return _decode_loop(model, input_ids, max_new_tokens, choose, eos_token_id=eos_token_id,
                        pad_token_id=pad_token_id, use_cache=use_cache)


@torch.no_grad()
def sample(model: nn.Module, input_ids: Any, max_new_tokens: int, *, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None,
           repetition_penalty: float = 1.0, eos_token_id: int | None = None,
           pad_token_id: int | None = None, generator: torch.Generator | None = None,
           use_cache: bool | None = None) -> torch.Tensor:
    """Draw each next token from the processed distribution (ancestral sampling).

    ``generator`` makes the draws reproducible; without it the global RNG is used (then
    ``torch.manual_seed(s)`` before ``sample`` and before HF ``generate`` gives the same
    draws when the distributions agree).
    """
    check_float("temperature", temperature, min_value=0.0, min_inclusive=False)

    def choose(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        logits = process_logits(logits, ids, temperature=temperature, top_k=top_k, top_p=top_p,
                                repetition_penalty=repetition_penalty)
        probs = logits.softmax(dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]

    return _decode_loop(model, input_ids, max_new_tokens, choose, eos_token_id=eos_token_id,
                        pad_token_id=pad_token_id, use_cache=use_cache)


# ---------------------------------------------------------------------------------------
# Beam search
# ---------------------------------------------------------------------------------------
def beam_search_step(log_probs: torch.Tensor, beam_scores: torch.Tensor, num_candidates: int
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One expansion: the best ``num_candidates`` (beam, token) pairs by cumulative log-prob.

    ``log_probs`` (beams, V): log p(token | beam); ``beam_scores`` (beams,): the beams'
    cumulative log-probabilities. Returns ``(scores, beam_index, token_id)``, each
    (num_candidates,), best first: scores = beam_scores[beam] + log_probs[beam, token].
    """
    check_type("log_probs", log_probs, torch.Tensor)
    check_ndim("log_probs", log_probs, 2)
    check_type("beam_scores", beam_scores, torch.Tensor)
    if beam_scores.shape != log_probs.shape[:1]:
        raise ValueError(f"beam_scores must have shape (beams,) = ({log_probs.shape[0]},), got "
                         f"{tuple(beam_scores.shape)}")
    check_int("num_candidates", num_candidates, min_value=1,
              max_value=log_probs.shape[0] * log_probs.shape[1])
    vocab = log_probs.shape[1]
    total = (beam_scores[:, None] + log_probs).reshape(-1)  # (beams * V,)
    scores, flat = torch.topk(total, num_candidates)
    return scores, flat // vocab, flat % vocab


@dataclass
class BeamSearchOutput:
    """Finished hypotheses, best first: token sequences (prompt included) and their scores.

    ``scores`` are length-penalised: sum of log-probs / (generated length ** length_penalty);
    ``log_probs`` are the plain sums.
    """

    sequences: list[torch.Tensor]
    scores: list[float]
    log_probs: list[float]

    @property
    def best(self) -> torch.Tensor:
        """The highest-scoring sequence (1-D)."""
        return self.sequences[0]


@torch.no_grad()
def beam_search(model: nn.Module, input_ids: Any, max_new_tokens: int, *, num_beams: int = 4,
                length_penalty: float = 1.0, eos_token_id: int | None = None,
                early_stopping: bool | str = False, num_return_sequences: int = 1,
                use_cache: bool | None = None) -> BeamSearchOutput:
    """Keep the ``num_beams`` best partial sequences by cumulative log-probability.

    One prompt at a time ((T,) or (1, T)). Each step expands every beam by every token
    (``beam_search_step`` keeps the top 2 * num_beams candidates); a candidate ending in EOS
    -- or reaching ``max_new_tokens`` -- is *finished* and scored
    ``sum log p / (generated length ** length_penalty)`` (length_penalty > 0 favours longer
    texts, 0 = no normalisation); the others continue. Stopping follows ``transformers``:
    ``early_stopping=True`` stops when ``num_beams`` hypotheses are finished; ``False``
    stops when no running beam can still beat the worst finished one (a heuristic);
    ``"never"`` uses the best possible length. ``num_beams=1`` is exactly greedy search
    (except with ``early_stopping="never"`` and ``length_penalty > 0``, which keeps looking
    for a longer hypothesis after the first EOS).
    """
    _check_new_tokens(max_new_tokens)
    check_int("num_beams", num_beams, min_value=1)
    check_int("num_return_sequences", num_return_sequences, min_value=1, max_value=num_beams)
    check_float("length_penalty", length_penalty)
    if early_stopping not in (True, False, "never"):
        raise ValueError(f"early_stopping must be True, False or 'never', got {early_stopping!r}")
    ids = _as_batch(input_ids)
    if ids.shape[0] != 1:
        raise ValueError(f"beam_search decodes one prompt at a time; got a batch of "
                         f"{ids.shape[0]} -- loop over the prompts")
    was_training = model.training
    model.eval()
    try:
        stepper = _Stepper(model, use_cache, ids.shape[1] + max_new_tokens - 1)
        logits = stepper.first(ids)
        running = ids.repeat(num_beams, 1)  # (num_beams, T)
        running_scores = torch.full((num_beams,), -1e9)
        running_scores[0] = 0.0  # all beams start identical: expand only the first
        if stepper.use_cache:
            stepper.reorder(torch.zeros(num_beams, dtype=torch.long))
        logits = logits.repeat(num_beams, 1)
        finished: list[tuple[float, float, torch.Tensor]] = []  # (score, log_prob, sequence)
        for step in range(max_new_tokens):
            gen_len = step + 1
            log_probs = F.log_softmax(logits.float(), dim=-1)
            cand_scores, cand_beams, cand_tokens = beam_search_step(
                log_probs, running_scores, 2 * num_beams)
            last_step = step == max_new_tokens - 1
            full = len(finished) >= num_beams
            next_beams: list[tuple[float, int, int]] = []
            for rank in range(2 * num_beams):
                score, beam, token = (float(cand_scores[rank]), int(cand_beams[rank]),
                                      int(cand_tokens[rank]))
                if score <= -1e8:
                    break
                ends = last_step or (eos_token_id is not None and token == eos_token_id)
                if ends:
                    can_add = rank < num_beams and not (full and early_stopping is True)
                    if can_add:
                        seq = torch.cat([running[beam], torch.tensor([token])])
                        finished.append((score / gen_len ** length_penalty, score, seq))
                elif len(next_beams) < num_beams:
                    next_beams.append((score, beam, token))
            finished.sort(key=lambda item: -item[0])
            del finished[num_beams:]
            if last_step or not next_beams:
                break
            beam_idx = torch.tensor([b for _, b, _ in next_beams])
            tokens = torch.tensor([t for _, _, t in next_beams])
            running = torch.cat([running[beam_idx], tokens[:, None]], dim=1)
            running_scores = torch.tensor([s for s, _, _ in next_beams])
            if len(finished) >= num_beams:
                if early_stopping is True:
                    break
                best_len = gen_len
                if early_stopping == "never" and length_penalty > 0:
                    best_len = max_new_tokens
                best_possible = float(running_scores[0]) / best_len ** length_penalty
                if best_possible <= finished[-1][0]:
                    break
            stepper.reorder(beam_idx)
            logits = stepper.next(running)
    finally:
        model.train(was_training)
    finished = finished[:num_return_sequences]
    return BeamSearchOutput([s for _, _, s in finished], [sc for sc, _, _ in finished],
                            [lp for _, lp, _ in finished])


@torch.no_grad()
def generate(model: nn.Module, input_ids: Any, max_new_tokens: int, *, do_sample: bool = False,
             num_beams: int = 1, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, repetition_penalty: float = 1.0,
             length_penalty: float = 1.0, early_stopping: bool | str = False,
             eos_token_id: int | None = None, pad_token_id: int | None = None,
             generator: torch.Generator | None = None, use_cache: bool | None = None
             ) -> torch.Tensor:
    """One entry point with HF-like arguments: greedy, sampling or beam search.

    Unlike ``transformers`` (whose default is ``top_k=50``) nothing is filtered unless asked.
    Beam search returns the best sequence as a (1, T + new) tensor.
    """
    if num_beams > 1:
        if do_sample:
            raise ValueError("beam sampling is not implemented; use do_sample=False with beams")
        out = beam_search(model, input_ids, max_new_tokens, num_beams=num_beams,
                          length_penalty=length_penalty, eos_token_id=eos_token_id,
                          early_stopping=early_stopping, use_cache=use_cache)
        return out.best[None, :]
    if do_sample:
        return sample(model, input_ids, max_new_tokens, temperature=temperature, top_k=top_k,
                      top_p=top_p, repetition_penalty=repetition_penalty,
                      eos_token_id=eos_token_id, pad_token_id=pad_token_id,
                      generator=generator, use_cache=use_cache)
    return greedy_search(model, input_ids, max_new_tokens, eos_token_id=eos_token_id,
                         pad_token_id=pad_token_id, repetition_penalty=repetition_penalty,
                         use_cache=use_cache)


# ---------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------
def perplexity_from_logits(logits: torch.Tensor, targets: torch.Tensor,
                           ignore_index: int = -100) -> float:
    """exp(mean cross-entropy) of ``logits`` (..., V) against ``targets`` (...)."""
    _check_logits(logits)
    check_type("targets", targets, torch.Tensor)
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits (..., V) and targets (...) must agree, got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                          ignore_index=ignore_index)  # flatten to (N, V) and (N,)
    return math.exp(float(nll))


@torch.no_grad()
def perplexity(model: nn.Module, ids: torch.Tensor, *, context: int, batch_size: int = 64,
               return_nll: bool = False) -> float | tuple[float, float, int]:
    """Perplexity of a 1-D token stream: every token after the first is predicted once.

    The stream is cut into non-overlapping windows of ``context`` + 1 tokens that share
    one token at the borders; inside a window a token sees the earlier tokens of its
    window only (a fair but slightly pessimistic estimate). ``return_nll`` also returns
    the total negative log-likelihood (nats) and the number of predicted tokens.
    """
    check_type("ids", ids, torch.Tensor)
    check_ndim("ids", ids, 1)
    check_int("context", context, min_value=1)
    check_int("batch_size", batch_size, min_value=1)
    if ids.numel() < 2:
        raise ValueError(f"need at least 2 tokens to predict one, got {ids.numel()}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    n_full = (ids.numel() - 1) // context
    total, count = 0.0, 0
    try:
        windows = [(ids[:n_full * context].view(n_full, context),
                    ids[1:n_full * context + 1].view(n_full, context))]  # (n, context) each
        tail = ids.numel() - 1 - n_full * context
        if tail:
            windows.append((ids[n_full * context:-1][None], ids[n_full * context + 1:][None]))
        for x_all, y_all in windows:
            for start in range(0, x_all.shape[0], batch_size):
                x = x_all[start:start + batch_size].to(device)
                y = y_all[start:start + batch_size].to(device)
                logits = _logits_of(model(x))
                total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                               y.reshape(-1), reduction="sum"))
                count += y.numel()
    finally:
        model.train(was_training)
    ppl = math.exp(total / count)
    return (ppl, total, count) if return_nll else ppl


@torch.no_grad()
def sequence_log_prob(model: nn.Module, sequence: Any, prompt_length: int) -> float:
    """Sum of log p(token | prefix) over the tokens after the first ``prompt_length``."""
    return sequence_log_probs(model, [sequence], [prompt_length])[0]


@torch.no_grad()
def sequence_log_probs(model: nn.Module, sequences: Sequence[Any], prompt_lengths: Sequence[int],
                       *, pad_token_id: int = 0, batch_size: int = 64) -> list[float]:
    """``sequence_log_prob`` of many sequences (of any lengths) in a few batched passes.

    The sequences are right-padded with ``pad_token_id`` into batches of ``batch_size``; a
    causal model's logits at a position never depend on later positions, so the padding
    changes nothing (up to the float rounding of batched matrix products).
    """
    seqs = [_as_batch(s)[0] for s in sequences]
    if len(seqs) != len(prompt_lengths):
        raise ValueError(f"got {len(seqs)} sequences but {len(prompt_lengths)} prompt lengths")
    for seq, n_prompt in zip(seqs, prompt_lengths):
        check_int("prompt_length", n_prompt, min_value=1, max_value=len(seq))
    check_int("batch_size", batch_size, min_value=1)
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(seqs), batch_size):
            chunk = seqs[start:start + batch_size]
            width = max(len(s) for s in chunk)
            ids = torch.full((len(chunk), width), pad_token_id, dtype=torch.long)
            for row, seq in enumerate(chunk):
                ids[row, :len(seq)] = seq
            log_probs = F.log_softmax(_logits_of(model(ids[:, :-1])).float(), dim=-1)
            picked = log_probs.gather(-1, ids[:, 1:, None])[..., 0]  # log p of each next token
            for row, seq in enumerate(chunk):
                n_prompt = prompt_lengths[start + row]
                out.append(float(picked[row, n_prompt - 1:len(seq) - 1].sum()))
    finally:
        model.train(was_training)
    return out


def distinct_n(sequences: Iterable[Sequence[Any] | str], n: int) -> float:
    """Distinct-n (Li et al., 2016): unique n-grams / all n-grams, over all sequences.

    A sequence is a list of tokens (ids or strings) or a string (split on whitespace).
    1.0 = no n-gram repeats; low values = repetitive, generic text.
    """
    check_int("n", n, min_value=1)
    seen, total = set(), 0
    for seq in sequences:
        tokens = seq.split() if isinstance(seq, str) else list(seq)
        grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0


def decoding_stages(logits: Any, *, temperature: float = 1.0, top_k: int = 0,
                    top_p: float = 1.0) -> dict[str, Any]:
    """Next-token probabilities after each step of the sampling pipeline, as (V,) tensors.

    Keys: ``"model"`` (softmax of the raw logits), ``"temperature"``, ``"top-k"``, ``"top-p"``
    (the distribution actually sampled from). ``top_k=0`` and ``top_p=1`` switch a filter off.
    """
    logits = torch.as_tensor(logits, dtype=torch.float32)
    if logits.ndim != 1:
        raise ValueError(f"logits must be one (vocab,) vector, got shape {tuple(logits.shape)}")
    scaled = apply_temperature(logits, temperature)
    after_k = top_k_filter(scaled, top_k or None)
    after_p = top_p_filter(after_k, top_p)
    return {"model": logits.softmax(-1), "temperature": scaled.softmax(-1),
            "top-k": after_k.softmax(-1), "top-p": after_p.softmax(-1)}
