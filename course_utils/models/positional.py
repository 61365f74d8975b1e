"""Position information for attention, which by itself ignores order.

``sinusoidal_table`` is the fixed encoding of Vaswani et al. (2017):
PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(pos / base^(2i/d)).
``LearnedPositionalEmbedding`` is a trained lookup table (GPT-2's ``wpe``, BERT, ViT).
Both are *added* to the token embeddings.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course_utils.validation import check_float, check_int, check_ndim, check_type

__all__ = ["sinusoidal_table", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding"]


def sinusoidal_table(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The (max_len, d_model) sinusoidal table; even columns sin, odd columns cos."""
    check_int("max_len", max_len, min_value=1)
    check_int("d_model", d_model, min_value=1)
    check_float("base", base, min_value=1.0, min_inclusive=False)
    position = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
    # div_term[i] = base^(-2i/d) = exp(-2i · ln(base) / d), one frequency per sin/cos pair
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                         * (-math.log(base) / d_model))  # (ceil(d/2),)
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * div_term)
    table[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
    return table


def _check_input(x: torch.Tensor, d_model: int, max_len: int, offset: int) -> None:
    check_type("x", x, torch.Tensor)
    check_ndim("x", x, 3)
    if x.shape[-1] != d_model:
        raise ValueError(f"x must have last dimension d_model={d_model}, got {tuple(x.shape)}")
    check_int("offset", offset, min_value=0)
    if offset + x.shape[1] > max_len:
        raise ValueError(f"positions {offset}..{offset + x.shape[1] - 1} exceed max_len="
                         f"{max_len}; build the module with a larger max_len")


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table to (B, T, d_model) embeddings (then dropout)."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0,
                 base: float = 10000.0) -> None:
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        # a buffer: saved with the model and moved by .to(), but not a trained parameter
        self.register_buffer("pe", sinusoidal_table(max_len, d_model, base), persistent=False)
        self.dropout = nn.Dropout(check_float("dropout", dropout, min_value=0.0, max_value=1.0))

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x + PE[offset : offset + T]."""
        _check_input(x, self.d_model, self.max_len, offset)
        return self.dropout(x + self.pe[offset: offset + x.shape[1]].to(x.dtype))


class LearnedPositionalEmbedding(nn.Module):
    """A trained (max_len, d_model) table added to (B, T, d_model) embeddings."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0) -> None:
        super().__init__()
        check_int("d_model", d_model, min_value=1)
        check_int("max_len", max_len, min_value=1)
        self.d_model, self.max_len = d_model, max_len
        self.wpe = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.wpe.weight, std=0.02)
        self.dropout = nn.Dropout(check_float("dropout", dropout, min_value=0.0, max_value=1.0))

    @property
    def pe(self) -> torch.Tensor:
        """The current (max_len, d_model) table (same name as the sinusoidal buffer)."""
        return self.wpe.weight

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x + wpe(offset ... offset + T - 1)."""
        _check_input(x, self.d_model, self.max_len, offset)
        positions = torch.arange(offset, offset + x.shape[1], device=x.device)
        return self.dropout(x + self.wpe(positions))
