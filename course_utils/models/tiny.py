"""A small Transformer built from ``torch.nn.TransformerEncoderLayer`` (chapter 09's test bed).

One stack of PyTorch's reference encoder layers with token + learned position embeddings,
either pre-LN (``norm_first=True``, GPT-2 style, with a final ``ln_f``) or post-LN (the
original Transformer / BERT), causal or bidirectional, with a language-model head
(``n_classes=None``) or a mean-pooled classification head. It is deliberately *not* the
course's own block (``course_utils.models.blocks``): optimizer experiments should run on
the implementation the field uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from course_utils.validation import check_int, check_ndim

__all__ = ["TinyTransformerConfig", "TinyTransformer"]


@dataclass
class TinyTransformerConfig:
    """Sizes and variant of a ``TinyTransformer``."""

    vocab_size: int
    n_positions: int = 128  # longest sequence
    n_embd: int = 64  # model width d
    n_layer: int = 2
    n_head: int = 4
    n_inner: int | None = None  # MLP width (default 4 * n_embd)
    dropout: float = 0.0
    norm_first: bool = True  # True: pre-LN (GPT-2); False: post-LN (original Transformer, BERT)
    causal: bool = True  # causal self-attention (language model) or bidirectional
    n_classes: int | None = None  # None: LM head over the vocabulary; else a classifier
    pad_id: int | None = None  # padding id ignored by the classifier's mean pooling

    def __post_init__(self) -> None:
        check_int("vocab_size", self.vocab_size, min_value=1)
        check_int("n_positions", self.n_positions, min_value=1)
        check_int("n_layer", self.n_layer, min_value=1)
        check_int("n_head", self.n_head, min_value=1)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd must be divisible by n_head, got n_embd={self.n_embd}, "
                             f"n_head={self.n_head}")
        if self.n_classes is not None:
            check_int("n_classes", self.n_classes, min_value=2)


class TinyTransformer(nn.Module):
    """Embeddings -> ``n_layer`` x ``nn.TransformerEncoderLayer`` -> LM or classifier head."""

    def __init__(self, config: TinyTransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.n_positions, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.h = nn.ModuleList(
            nn.TransformerEncoderLayer(c.n_embd, c.n_head, c.n_inner or 4 * c.n_embd, c.dropout,
                                       activation="gelu", batch_first=True,
                                       norm_first=c.norm_first)
            for _ in range(c.n_layer))
        # pre-LN leaves the residual stream unnormalised, so it needs a final LayerNorm
        self.ln_f = nn.LayerNorm(c.n_embd) if c.norm_first else nn.Identity()
        out = c.vocab_size if c.n_classes is None else c.n_classes
        self.head = nn.Linear(c.n_embd, out)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Logits: (B, T, vocab) for the LM head, (B, n_classes) for the classifier."""
        check_ndim("input_ids", input_ids, 2)
        B, T = input_ids.shape
        if T > self.config.n_positions:
            raise ValueError(f"sequence length {T} exceeds n_positions={self.config.n_positions}")
        pos = torch.arange(T, device=input_ids.device)
        x = self.drop(self.wte(input_ids) + self.wpe(pos))  # (B, T, d)
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=input_ids.device) \
            if self.config.causal else None
        pad = input_ids == self.config.pad_id if self.config.pad_id is not None else None
        for block in self.h:
            x = block(x, src_mask=mask, is_causal=self.config.causal, src_key_padding_mask=pad)
        x = self.ln_f(x)
        if self.config.n_classes is None:
            return self.head(x)  # (B, T, vocab)
        keep = torch.ones_like(input_ids, dtype=x.dtype) if pad is None else (~pad).to(x.dtype)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1)  # (B, d)
        return self.head(pooled)
