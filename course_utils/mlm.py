"""Masked language modelling (chapter 03): masking, batches, the MLM loss and fill-mask.

* ``mask_tokens``: BERT's corruption. Select 15 % of the maskable tokens (never [CLS],
  [SEP] or padding); of those, 80 % become [MASK], 10 % a random token, 10 % stay as they
  are. Labels hold the original id at selected positions and -100 everywhere else (the
  ``ignore_index`` of ``cross_entropy``). With ``word_ids`` it masks whole words.
* ``masking_stats``: the measured rates of one corruption, to compare with 15/80/10/10.
* ``pad_batch`` / ``MLMBatches``: dynamic padding and re-drawn masks at every step
  (RoBERTa's *dynamic masking*), as a ``step -> batch`` function for ``train``.
* ``mlm_loss``: cross-entropy on the selected positions only; the head runs there only.
* ``unigram_baseline``, ``fill_mask``: the baseline to beat and the top-k demo.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import check_float, check_int, check_ndim, check_type

__all__ = ["IGNORE_INDEX", "MaskedBatch", "mask_tokens", "masking_stats", "word_ids_tensor",
           "pad_batch", "MLMBatches", "mlm_loss", "accuracy_by_replacement", "unigram_baseline",
           "top_k_candidates", "fill_mask"]

IGNORE_INDEX = -100  # label of a position that is not predicted (cross_entropy ignores it)


@dataclass
class MaskedBatch:
    """Inputs after corruption and the labels (original ids at selected positions, else -100)."""

    input_ids: torch.Tensor  # (B, T) corrupted ids
    labels: torch.Tensor  # (B, T) original id where selected, IGNORE_INDEX elsewhere


def _random_ids(shape: torch.Size, vocab_size: int, special_ids: Sequence[int],
                generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Uniform ids from the vocabulary minus the special tokens."""
    allowed = torch.ones(vocab_size, dtype=torch.bool)
    allowed[list(special_ids)] = False
    pool = allowed.nonzero().squeeze(1)
    if pool.numel() == 0:
        raise ValueError("every id is a special token: nothing to draw random tokens from")
    picks = torch.randint(len(pool), shape, generator=generator)
    return pool[picks].to(device)


def mask_tokens(input_ids: torch.Tensor, *, mask_id: int, vocab_size: int,
                special_ids: Sequence[int], mlm_probability: float = 0.15,
                mask_replace_prob: float = 0.8, random_replace_prob: float = 0.1,
                word_ids: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> MaskedBatch:
    """BERT's 15 % / 80-10-10 corruption of ``input_ids`` (B, T); returns a ``MaskedBatch``.

    Tokens whose id is in ``special_ids`` ([PAD], [CLS], [SEP], ...) are never selected,
    and random replacements are drawn from the other ids. ``word_ids`` (B, T; -1 at special
    tokens) switches on whole-word masking: each word is selected with probability
    ``mlm_probability`` and all of its pieces are then masked together (each piece still
    gets its own 80/10/10 draw, as in BERT's released code). Same ``generator`` state ->
    same result.
    """
    check_type("input_ids", input_ids, torch.Tensor)
    check_ndim("input_ids", input_ids, 2)
    check_int("mask_id", mask_id, min_value=0, max_value=vocab_size - 1)
    check_float("mlm_probability", mlm_probability, min_value=0.0, max_value=1.0)
    check_float("mask_replace_prob", mask_replace_prob, min_value=0.0, max_value=1.0)
    check_float("random_replace_prob", random_replace_prob, min_value=0.0, max_value=1.0)
    if mask_replace_prob + random_replace_prob > 1.0 + 1e-9:
        raise ValueError(f"mask_replace_prob + random_replace_prob must be <= 1, got "
                         f"{mask_replace_prob} + {random_replace_prob}")
    device = input_ids.device
    specials = torch.tensor(sorted(set(special_ids)), dtype=input_ids.dtype, device=device)
    maskable = ~torch.isin(input_ids, specials)
    if word_ids is None:
        chosen = torch.rand(input_ids.shape, generator=generator).to(device) < mlm_probability
    else:
        if word_ids.shape != input_ids.shape:
            raise ValueError(f"word_ids must have the shape of input_ids "
                             f"{tuple(input_ids.shape)}, got {tuple(word_ids.shape)}")
        n_words = int(word_ids.max()) + 1 if word_ids.numel() else 0
        word_chosen = torch.rand(input_ids.shape[0], max(n_words, 1),
                                 generator=generator).to(device) < mlm_probability
        chosen = word_chosen.gather(1, word_ids.clamp(min=0)) & (word_ids >= 0)
    selected = chosen & maskable
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    u = torch.rand(input_ids.shape, generator=generator).to(device)
    to_mask = selected & (u < mask_replace_prob)
    to_random = selected & (u >= mask_replace_prob) & (u < mask_replace_prob + random_replace_prob)
    corrupted = input_ids.clone()
    corrupted[to_mask] = mask_id
    random_ids = _random_ids(input_ids.shape, vocab_size, special_ids, generator, device)
    corrupted[to_random] = random_ids[to_random]
    return MaskedBatch(corrupted, labels)


def masking_stats(original: torch.Tensor, corrupted: torch.Tensor, labels: torch.Tensor, *,
                  mask_id: int, special_ids: Sequence[int]) -> dict[str, float]:
    """Measured rates: share of maskable tokens selected, and the [MASK]/random/kept split.

    ``random`` counts selected tokens that changed into something other than [MASK]; a
    random draw that happens to equal the original (probability 1/vocab) counts as kept.
    """
    if not (original.shape == corrupted.shape == labels.shape):
        raise ValueError(f"original, corrupted and labels must have one shape, got "
                         f"{tuple(original.shape)}, {tuple(corrupted.shape)}, "
                         f"{tuple(labels.shape)}")
    specials = torch.tensor(sorted(set(special_ids)), dtype=original.dtype,
                            device=original.device)
    maskable = ~torch.isin(original, specials)
    selected = labels != IGNORE_INDEX
    n_sel = int(selected.sum())
    if n_sel == 0:
        raise ValueError("no token is selected (every label is -100): nothing to measure")
    as_mask = selected & (corrupted == mask_id)
    kept = selected & (corrupted == original)
    as_random = selected & ~as_mask & ~kept
    return {"tokens": float(maskable.sum()), "selected": n_sel / float(maskable.sum()),
            "mask": float(as_mask.sum()) / n_sel, "random": float(as_random.sum()) / n_sel,
            "unchanged": float(kept.sum()) / n_sel,
            "special_selected": float((selected & ~maskable).sum())}


def word_ids_tensor(word_ids: Sequence[Sequence[int | None]], length: int) -> torch.Tensor:
    """Per-row word indices from a fast tokenizer's ``word_ids()`` (None -> -1), padded with -1.

    Indices keep counting through a sentence pair (the tokenizer restarts at 0 for text B),
    so the words of A and B never share an index.
    """
    check_int("length", length, min_value=1)
    out = torch.full((len(word_ids), length), -1, dtype=torch.long)
    for row, ids in enumerate(word_ids):
        values, offset, last, gap = [], 0, -1, False
        for w in list(ids)[:length]:
            if w is None:  # [CLS]/[SEP]: after a word, the next text may restart at 0
                values.append(-1)
                gap = last >= 0
                continue
            if w + offset < last or (gap and w + offset <= last):
                offset = last + 1 - w  # the second text of a pair restarts at word 0
            gap = False
            last = w + offset
            values.append(last)
        out[row, :len(values)] = torch.tensor(values, dtype=torch.long)
    return out


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor,
                                                                       torch.Tensor]:
    """Right-pad lists of ids to the longest one: ``(input_ids, attention_mask)``, both (B, T)."""
    if not sequences:
        raise ValueError("sequences is empty: expected at least one list of token ids")
    longest = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), longest), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, :len(seq)] = torch.as_tensor(list(seq), dtype=torch.long)
        attention[row, :len(seq)] = 1
    return ids, attention


class MLMBatches:
    """``step -> batch`` for ``train``: random examples, padded, freshly masked every step.

    The rows and the mask of step ``s`` depend only on ``(seed, s)``, so a resumed run sees
    exactly the batches an uninterrupted one would (dynamic masking, as in RoBERTa).
    A batch is a dict with ``input_ids, attention_mask, labels`` (and ``word_ids`` with
    whole-word masking).
    """

    def __init__(self, encoded: Sequence[Sequence[int]], batch_size: int, *, mask_id: int,
                 pad_id: int, vocab_size: int, special_ids: Sequence[int], seed: int = 0,
                 mlm_probability: float = 0.15,
                 word_ids: Sequence[Sequence[int | None]] | None = None) -> None:
        check_int("batch_size", batch_size, min_value=1)
        if not encoded:
            raise ValueError("encoded is empty: expected tokenized examples")
        if word_ids is not None and len(word_ids) != len(encoded):
            raise ValueError(f"word_ids has {len(word_ids)} rows for {len(encoded)} examples")
        self.encoded, self.word_ids = list(encoded), word_ids
        self.batch_size, self.seed = batch_size, seed
        self.mask_kw = dict(mask_id=mask_id, vocab_size=vocab_size, special_ids=special_ids,
                            mlm_probability=mlm_probability)
        self.pad_id = pad_id

    def __call__(self, step: int) -> dict[str, torch.Tensor]:
        """The batch of optimizer step ``step``."""
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        rows = torch.randint(len(self.encoded), (self.batch_size,), generator=gen).tolist()
        ids, attention = pad_batch([self.encoded[r] for r in rows], self.pad_id)
        words = None
        if self.word_ids is not None:
            words = word_ids_tensor([self.word_ids[r] for r in rows], ids.shape[1])
        masked = mask_tokens(ids, word_ids=words, generator=gen, **self.mask_kw)
        return {"input_ids": masked.input_ids, "attention_mask": attention,
                "labels": masked.labels}


def _selected_logits(model: nn.Module, batch: dict[str, torch.Tensor]
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits, targets, where) at the positions whose label is not -100; the head runs there only."""
    where = batch["labels"] != IGNORE_INDEX
    if not bool(where.any()):
        raise ValueError("no position is selected in this batch (all labels are -100)")
    hidden = model.bert(batch["input_ids"], batch.get("token_type_ids"),
                        batch["attention_mask"]).last_hidden_state
    return model.head(hidden[where]), batch["labels"][where], where  # (n_selected, vocab)


def mlm_loss(model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy and top-1 accuracy over the selected positions (a ``train`` loss_fn).

    Only the selected ~15 % of positions go through the MLM head: the vocabulary-sized
    output is the most expensive layer, and the other positions have label -100 anyway.
    """
    logits, targets, _ = _selected_logits(model, batch)
    loss = F.cross_entropy(logits, targets)
    accuracy = (logits.argmax(-1) == targets).float().mean().item()
    return loss, {"accuracy": accuracy}


@torch.no_grad()
def accuracy_by_replacement(model: nn.Module, batches: Sequence[dict[str, torch.Tensor]], *,
                            mask_id: int, guess_id: int | None = None) -> dict[str, float]:
    """Masked-token top-1 accuracy split by what the model saw: [MASK], random or kept.

    The 10 % "kept" positions show the answer in the input, so the overall MLM accuracy
    is flattered by copying. With ``guess_id`` the same split is returned for the
    context-free baseline "copy the visible token, or guess ``guess_id`` at [MASK]"
    (keys prefixed ``baseline_``). Also returns the MLM ``loss`` over all selected tokens.
    """
    device = next(model.parameters()).device
    hits = {k: 0.0 for k in ("all", "mask", "random", "kept")}
    counts = dict.fromkeys(hits, 0)
    base = dict.fromkeys(hits, 0.0)
    loss_sum = 0.0
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        logits, target, where = _selected_logits(model, batch)
        seen = batch["input_ids"][where]
        loss = F.cross_entropy(logits, target, reduction="sum")
        correct = logits.argmax(-1) == target
        kinds = {"all": torch.ones_like(target, dtype=torch.bool), "mask": seen == mask_id,
                 "kept": seen == target}
        kinds["random"] = ~kinds["mask"] & ~kinds["kept"]
        guess = torch.where(seen == mask_id, torch.full_like(seen, guess_id or 0), seen)
        for kind, sel in kinds.items():
            hits[kind] += float(correct[sel].sum())
            counts[kind] += int(sel.sum())
            base[kind] += float((guess == target)[sel].sum())
        loss_sum += loss.item()
    out = {"loss": loss_sum / max(counts["all"], 1)}
    out.update({k: hits[k] / counts[k] for k in hits if counts[k]})
    out.update({f"n_{k}": float(counts[k]) for k in counts})
    if guess_id is not None:
        out.update({f"baseline_{k}": base[k] / counts[k] for k in base if counts[k]})
    return out


def unigram_baseline(train_ids: Sequence[Sequence[int]], labels: torch.Tensor,
                     special_ids: Sequence[int]) -> tuple[int, float]:
    """The most frequent non-special training token and its top-1 accuracy on ``labels``.

    This is the best a model can do that ignores the context: always guess the commonest
    token. ``labels`` are MLM labels (-100 = not scored).
    """
    counts = Counter(t for seq in train_ids for t in seq)
    for s in special_ids:
        counts.pop(s, None)
    if not counts:
        raise ValueError("train_ids holds no non-special token")
    top = counts.most_common(1)[0][0]
    scored = labels[labels != IGNORE_INDEX]
    if scored.numel() == 0:
        raise ValueError("labels has no scored position (all -100)")
    return top, float((scored == top).float().mean())


def top_k_candidates(logits: torch.Tensor, k: int,
                     exclude_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The k most probable ids at one position and their probabilities, ``exclude_ids`` never proposed.

    ``logits`` (vocab,); the softmax is renormalised over the allowed ids.
    """
    logits = logits.float().clone()
    logits[list(exclude_ids)] = float("-inf")
    top = logits.softmax(-1).topk(k)
    return top.values, top.indices


@torch.no_grad()
def fill_mask(model: nn.Module, tokenizer: Any, text: str, *, top_k: int = 5,
              device: torch.device | str = "cpu") -> list[list[tuple[str, float]]]:
    """Top-``k`` (token, probability) for every [MASK] in ``text`` (the Hub's fill-mask task).

    Special tokens are never proposed. ``model`` is a ``BertForMaskedLM`` (ours).
    """
    check_int("top_k", top_k, min_value=1)
    enc = tokenizer(text, return_tensors="pt")
    ids = enc["input_ids"].to(device)
    positions = (ids[0] == tokenizer.mask_token_id).nonzero().squeeze(1)
    if positions.numel() == 0:
        raise ValueError(f"text has no {tokenizer.mask_token} token: {text!r}")
    was_training = model.training
    model.eval()
    logits, _ = model(ids, enc.get("token_type_ids", torch.zeros_like(ids)).to(device),
                      enc["attention_mask"].to(device))
    model.train(was_training)
    result = []
    for row in logits[0, positions]:  # one (vocab,) row per [MASK]
        probs, ids = top_k_candidates(row, top_k, tokenizer.all_special_ids)
        result.append([(tokenizer.convert_ids_to_tokens(int(i)), float(p))
                       for p, i in zip(probs, ids)])
    return result
