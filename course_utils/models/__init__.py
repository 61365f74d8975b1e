"""Reusable model parts, written first in a chapter notebook and imported by later ones.

One responsibility per module: ``attention`` (scaled dot-product and multi-head attention,
masks), ``positional`` (sinusoidal and learned position encodings), ``blocks`` (the
Transformer block shared by the GPT, BERT and ViT chapters), ``seq2seq`` (the GRU and
Transformer encoder-decoders of chapter 01), ``gpt`` (the GPT-2-style decoder-only LM of
chapter 02, with weight conversion from/to ``transformers``). Names follow GPT-2/Hugging Face
(``ln_1, attn, ln_2, mlp, c_fc, c_proj``; ``q_proj, k_proj, v_proj, out_proj``).

Configs: every family has ``XConfig.from_preset(name, **overrides)`` over a ``PRESETS``
table and (where a formula is taught) ``XConfig.num_parameters()``; a built model is
counted with ``count_parameters(model)``. Field names follow each family's Hugging Face
config (GPT-2: ``n_embd, n_layer, n_head``; BERT: ``hidden_size, num_hidden_layers,
num_attention_heads``), because chapters 02 and 03 convert weights and configs to and
from ``transformers`` and a learner reads both side by side. The ViT config, whose
chapter builds images into tokens rather than loading a tokenizer, uses the generic
``d_model, n_layers, n_heads, d_ff`` of chapter 01's blocks, with the HF names in comments.
"""

from __future__ import annotations

from torch import nn

__all__ = ["count_parameters"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (shared/tied tensors counted once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)

