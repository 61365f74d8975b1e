"""The Transformer block, configurable for every model of the course.

One class covers the original/BERT post-LN encoder block, the GPT-2 / ViT pre-LN block
and the encoder-decoder decoder block (with cross-attention):

* pre-LN (``norm_first=True``, GPT-2, ViT): x = x + attn(ln_1(x));
  [x = x + cross_attn(ln_cross(x), ctx)]; x = x + mlp(ln_2(x))
* post-LN (``norm_first=False``, Vaswani et al., BERT): x = ln_1(x + attn(x));
  [x = ln_cross(x + cross_attn(x, ctx))]; x = ln_2(x + mlp(x))

Names follow GPT-2 (``ln_1, attn, ln_2, mlp.c_fc, mlp.act, mlp.c_proj``) so weights of the
reference implementations can be copied in by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from course_utils.models.attention import KVCache, MultiHeadAttention
from course_utils.validation import check_choice, check_float, check_int

__all__ = ["BlockConfig", "MLP", "TransformerBlock", "make_activation", "ACTIVATIONS"]

ACTIVATIONS = ("gelu", "gelu_tanh", "relu")


@dataclass
class BlockConfig:
    """Sizes and switches of one Transformer block."""

    d_model: int  # width of the residual stream
    n_heads: int  # attention heads (d_model must be divisible by it)
    d_ff: int | None = None  # MLP hidden width (default 4 * d_model)
    dropout: float = 0.0  # dropout on each sub-layer's output (residual branch) and in the MLP
    attn_dropout: float = 0.0  # dropout on the attention weights
    activation: str = "gelu"  # gelu (BERT, ViT) | gelu_tanh (GPT-2 "gelu_new") | relu (original)
    norm_first: bool = True  # True: pre-LN (GPT-2, ViT); False: post-LN (original, BERT)
    causal: bool = False  # causal self-attention (decoders, GPT)
    cross_attention: bool = False  # add cross-attention to an encoder's output (enc-dec decoder)
    d_context: int | None = None  # width of the cross-attention context (default d_model)
    layer_norm_eps: float = 1e-5  # GPT-2 1e-5; BERT and ViT 1e-12
    bias: bool = True  # biases in the linear layers

    def __post_init__(self) -> None:
        check_int("d_model", self.d_model, min_value=1)
        check_int("n_heads", self.n_heads, min_value=1)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model="
                             f"{self.d_model} and n_heads={self.n_heads}")
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        check_int("d_ff", self.d_ff, min_value=1)
        check_float("dropout", self.dropout, min_value=0.0, max_value=1.0)
        check_float("attn_dropout", self.attn_dropout, min_value=0.0, max_value=1.0)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_float("layer_norm_eps", self.layer_norm_eps, min_value=0.0, min_inclusive=False)
        if self.d_context is not None:
            check_int("d_context", self.d_context, min_value=1)


def make_activation(name: str) -> nn.Module:
    """The activation module for ``"gelu"``, ``"gelu_tanh"`` or ``"relu"``."""
    check_choice("activation", name, ACTIVATIONS)
    if name == "gelu":
        return nn.GELU()
    if name == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    return nn.ReLU()


class MLP(nn.Module):
    """Position-wise feed-forward network: c_fc -> act -> c_proj -> dropout."""

    def __init__(self, d_model: int, d_ff: int, activation: str = "gelu", dropout: float = 0.0,
                 bias: bool = True) -> None:
        super().__init__()
        self.c_fc = nn.Linear(d_model, d_ff, bias=bias)
        self.act = make_activation(activation)
        self.c_proj = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., d_model) -> (..., d_model)."""
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class TransformerBlock(nn.Module):
    """Self-attention (+ optional cross-attention) + MLP, each with residual and LayerNorm."""

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        self.config = c = config
        self.ln_1 = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.attn = MultiHeadAttention(c.d_model, c.n_heads, dropout=c.attn_dropout,
                                       bias=c.bias, is_causal=c.causal)
        if c.cross_attention:
            self.ln_cross = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
            self.cross_attn = MultiHeadAttention(c.d_model, c.n_heads, kv_dim=c.d_context,
                                                 dropout=c.attn_dropout, bias=c.bias)
        self.ln_2 = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.mlp = MLP(c.d_model, c.d_ff, c.activation, c.dropout, c.bias)
        self.resid_dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, *, attn_mask: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None,
                context: torch.Tensor | None = None,
                context_padding_mask: torch.Tensor | None = None,
                need_weights: bool = False, kv_cache: KVCache | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(B, T, d_model) -> ``(x, self_attn_weights, cross_attn_weights)``.

        ``attn_mask`` / ``key_padding_mask`` go to self-attention (see
        ``MultiHeadAttention.forward``); ``context`` (B, S, d_context) with
        ``context_padding_mask`` (B, S) feeds cross-attention. Weights are None unless
        ``need_weights``.
        """
        c = self.config
        if c.cross_attention and context is None:
            raise ValueError("this block has cross-attention: pass context=encoder output")
        if not c.cross_attention and context is not None:
            raise ValueError("context given, but the block was built with "
                             "cross_attention=False")
        self_kw = {"attn_mask": attn_mask, "key_padding_mask": key_padding_mask,
                   "need_weights": need_weights, "kv_cache": kv_cache}
        cross_w = None
        if c.norm_first:
            h, self_w = self.attn(self.ln_1(x), **self_kw)
            x = x + self.resid_dropout(h)
            if c.cross_attention:
                h, cross_w = self.cross_attn(self.ln_cross(x), context,
                                             key_padding_mask=context_padding_mask,
                                             need_weights=need_weights)
                x = x + self.resid_dropout(h)
            x = x + self.mlp(self.ln_2(x))
        else:
            h, self_w = self.attn(x, **self_kw)
            x = self.ln_1(x + self.resid_dropout(h))
            if c.cross_attention:
                h, cross_w = self.cross_attn(x, context, key_padding_mask=context_padding_mask,
                                             need_weights=need_weights)
                x = self.ln_cross(x + self.resid_dropout(h))
            x = self.ln_2(x + self.mlp(x))
        return x, self_w, cross_w
