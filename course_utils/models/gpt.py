"""A GPT-2-style decoder-only language model (chapter 02), weight-compatible with Hugging Face.

``GPT`` = token embedding ``wte`` + learned positions ``wpe`` -> dropout ``drop`` -> ``n_layer``
pre-LN causal ``TransformerBlock``s ``h`` -> final LayerNorm ``ln_f`` -> ``lm_head`` (its
weight *is* ``wte.weight``: tied embeddings). ``forward(idx, targets=None)`` returns
``(logits, loss)``. ``from_hf_gpt2`` / ``to_hf_gpt2`` copy weights from / to
``transformers.GPT2LMHeadModel``: GPT-2 stores its projections as ``Conv1D`` (weight shape
``(in, out)``, the transpose of ``nn.Linear``) and fuses q, k, v into one ``c_attn``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.models.attention import KVCache
from course_utils.models.blocks import BlockConfig, TransformerBlock
from course_utils.validation import check_float, check_int, check_ndim, check_type

__all__ = ["GPTConfig", "PRESETS", "GPT", "from_hf_gpt2", "to_hf_gpt2"]


@dataclass
class GPTConfig:
    """Sizes of a GPT-2-style model (field names follow ``transformers.GPT2Config``)."""

    vocab_size: int = 50257  # tokens in the vocabulary
    n_positions: int = 1024  # longest context (rows of wpe)
    n_embd: int = 768  # width d of the residual stream
    n_layer: int = 12  # Transformer blocks
    n_head: int = 12  # attention heads per block (n_embd must be divisible by it)
    n_inner: int | None = None  # MLP hidden width (default 4 * n_embd)
    dropout: float = 0.0  # dropout on embeddings and on each residual branch (GPT-2: 0.1)
    attn_dropout: float = 0.0  # dropout on the attention weights
    layer_norm_eps: float = 1e-5
    bias: bool = True  # biases in the linear layers and LayerNorms' shift
    tie_weights: bool = True  # lm_head.weight is wte.weight

    def __post_init__(self) -> None:
        check_int("vocab_size", self.vocab_size, min_value=1)
        check_int("n_positions", self.n_positions, min_value=1)
        check_int("n_embd", self.n_embd, min_value=1)
        check_int("n_layer", self.n_layer, min_value=1)
        check_int("n_head", self.n_head, min_value=1)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd must be divisible by n_head, got n_embd={self.n_embd} "
                             f"and n_head={self.n_head}")
        if self.n_inner is not None:
            check_int("n_inner", self.n_inner, min_value=1)
        check_float("dropout", self.dropout, min_value=0.0, max_value=1.0)
        check_float("attn_dropout", self.attn_dropout, min_value=0.0, max_value=1.0)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "GPTConfig":
        """A config from ``PRESETS[name]`` with fields replaced by ``overrides``."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return replace(PRESETS[name], **overrides)

    def block_config(self) -> BlockConfig:
        """The ``BlockConfig`` of one GPT-2 block: pre-LN, causal, tanh-GELU."""
        return BlockConfig(d_model=self.n_embd, n_heads=self.n_head, d_ff=self.n_inner,
                           dropout=self.dropout, attn_dropout=self.attn_dropout,
                           activation="gelu_tanh", norm_first=True, causal=True,
                           layer_norm_eps=self.layer_norm_eps, bias=self.bias)

    def num_parameters(self) -> int:
        """Parameter count, computed from the sizes alone (tied embeddings counted once)."""
        d, f = self.n_embd, self.n_inner or 4 * self.n_embd
        b = 1 if self.bias else 0
        attn = 4 * (d * d + b * d)  # q, k, v, out projections
        mlp = d * f + b * f + f * d + b * d
        norms = 2 * 2 * d  # ln_1 and ln_2, weight + bias
        head = 0 if self.tie_weights else self.vocab_size * d
        return (self.vocab_size * d + self.n_positions * d + self.n_layer * (attn + mlp + norms)
                + 2 * d + head)


#: Named sizes: the four published GPT-2 models and the course's small ones.
PRESETS: dict[str, GPTConfig] = {
    "gpt2": GPTConfig(n_embd=768, n_layer=12, n_head=12),  # 124M
    "gpt2-medium": GPTConfig(n_embd=1024, n_layer=24, n_head=16),  # 355M
    "gpt2-large": GPTConfig(n_embd=1280, n_layer=36, n_head=20),  # 774M
    "gpt2-xl": GPTConfig(n_embd=1600, n_layer=48, n_head=25),  # 1558M
    "course-nano": GPTConfig(vocab_size=512, n_positions=64, n_embd=64, n_layer=2, n_head=4),
    "course-micro": GPTConfig(vocab_size=512, n_positions=64, n_embd=128, n_layer=2, n_head=4),
    "course-mini": GPTConfig(vocab_size=1024, n_positions=128, n_embd=256, n_layer=4, n_head=8),
}


class GPT(nn.Module):
    """Decoder-only Transformer LM: ``wte, wpe, drop, h, ln_f, lm_head`` (tied to ``wte``)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        check_type("config", config, GPTConfig)
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.n_positions, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.h = nn.ModuleList([TransformerBlock(c.block_config()) for _ in range(c.n_layer)])
        self.ln_f = nn.LayerNorm(c.n_embd, eps=c.layer_norm_eps)
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.reset_parameters()
        if c.tie_weights:
            self.lm_head.weight = self.wte.weight

    def reset_parameters(self) -> None:
        """GPT-2 initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer)."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.ndim == 1:  # LayerNorm weights
                nn.init.ones_(p)
            elif name.endswith(("attn.out_proj.weight", "mlp.c_proj.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.config.n_layer))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def new_kv_cache(self) -> list[KVCache]:
        """An empty key/value cache, one ``KVCache`` per block (pass it to ``forward``)."""
        return [KVCache() for _ in self.h]

    def _embed(self, idx: torch.Tensor, past: int) -> torch.Tensor:
        check_type("idx", idx, torch.Tensor)
        check_ndim("idx", idx, 2)
        if idx.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"idx must hold integer token ids (int64), got {idx.dtype}")
        t = idx.shape[1]
        if past + t > self.config.n_positions:
            raise ValueError(f"sequence of {past + t} tokens ({past} cached + {t} new) is longer "
                             f"than n_positions={self.config.n_positions}; crop the context")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.config.vocab_size):
            raise ValueError(f"token ids must be in 0..{self.config.vocab_size - 1}, got "
                             f"min {int(idx.min())}, max {int(idx.max())}")
        pos = torch.arange(past, past + t, device=idx.device)  # (T,)
        return self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, n_embd)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, *,
                kv_cache: list[KVCache] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``idx`` (B, T) -> ``(logits (B, T, vocab), loss or None)``.

        ``targets`` (B, T): the next token at every position (-100 = ignore); the loss is the
        mean cross-entropy. ``kv_cache`` (from ``new_kv_cache``): ``idx`` holds only the new
        tokens; their keys/values are appended and positions continue after the cache.
        """
        if kv_cache is not None and len(kv_cache) != len(self.h):
            raise ValueError(f"kv_cache must hold one KVCache per block ({len(self.h)}), got "
                             f"{len(kv_cache)}")
        past = len(kv_cache[0]) if kv_cache is not None else 0
        x = self._embed(idx, past)
        for i, block in enumerate(self.h):
            x, _, _ = block(x, kv_cache=None if kv_cache is None else kv_cache[i])
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab)
        loss = None
        if targets is not None:
            check_type("targets", targets, torch.Tensor)
            if targets.shape != idx.shape:
                raise ValueError(f"targets must have the shape of idx {tuple(idx.shape)}, got "
                                 f"{tuple(targets.shape)}")
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),  # (B*T, vocab)
                                   targets.reshape(-1), ignore_index=-100)
        return logits, loss

    @torch.no_grad()
    def attention_weights(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Causal self-attention weights of every block: a list of (B, n_head, T, T)."""
        x = self._embed(idx, 0)
        maps = []
        for block in self.h:
            x, weights, _ = block(x, need_weights=True)
            maps.append(weights)
        return maps


# ---------------------------------------------------------------------------------------
# Hugging Face GPT-2 <-> ours
# ---------------------------------------------------------------------------------------
_HF_ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh"}


def _config_from_hf(hf_config: Any) -> GPTConfig:
    act = getattr(hf_config, "activation_function", "gelu_new")
    if act not in _HF_ACTIVATIONS:
        raise ValueError(f"only GPT-2's tanh-GELU is supported (activation_function "
                         f"'gelu_new'), got {act!r}")
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"):
        if getattr(hf_config, flag, False):
            raise ValueError(f"GPT2Config.{flag}=True is not supported by this GPT")
    if not getattr(hf_config, "scale_attn_weights", True):
        raise ValueError("GPT2Config.scale_attn_weights=False is not supported (we scale by "
                         "1/sqrt(d_head))")
    return GPTConfig(vocab_size=hf_config.vocab_size, n_positions=hf_config.n_positions,
                     n_embd=hf_config.n_embd, n_layer=hf_config.n_layer,
                     n_head=hf_config.n_head, n_inner=hf_config.n_inner,
                     dropout=0.0, attn_dropout=0.0,
                     layer_norm_eps=hf_config.layer_norm_epsilon)


@torch.no_grad()
def from_hf_gpt2(hf_model: nn.Module) -> GPT:
    """Our ``GPT`` with the weights of a ``transformers`` ``GPT2LMHeadModel`` (or ``GPT2Model``).

    Conv1D weights (in, out) are transposed into ``nn.Linear`` (out, in); the fused
    ``c_attn`` (in, 3*d) is split into ``q_proj, k_proj, v_proj``. Dropout is set to 0
    (evaluation); set ``model.config``/modules yourself to fine-tune with dropout.
    """
    base = getattr(hf_model, "transformer", hf_model)
    if not hasattr(base, "wte") or not hasattr(base, "h"):
        raise TypeError(f"expected a transformers GPT2LMHeadModel or GPT2Model, got "
                        f"{type(hf_model).__name__}")
    config = _config_from_hf(hf_model.config)
    model = GPT(config)
    d = config.n_embd
    model.wte.weight.copy_(base.wte.weight)
    model.wpe.weight.copy_(base.wpe.weight)
    for ours, theirs in zip(model.h, base.h):
        ours.ln_1.load_state_dict(theirs.ln_1.state_dict())
        ours.ln_2.load_state_dict(theirs.ln_2.state_dict())
        w, b = theirs.attn.c_attn.weight, theirs.attn.c_attn.bias  # (d, 3d), (3d,)
        for i, proj in enumerate((ours.attn.q_proj, ours.attn.k_proj, ours.attn.v_proj)):
            proj.weight.copy_(w[:, i * d:(i + 1) * d].t())  # Conv1D (in, out) -> Linear (out, in)
            proj.bias.copy_(b[i * d:(i + 1) * d])
        for src, dst in ((theirs.attn.c_proj, ours.attn.out_proj),
                         (theirs.mlp.c_fc, ours.mlp.c_fc), (theirs.mlp.c_proj, ours.mlp.c_proj)):
            dst.weight.copy_(src.weight.t())
            dst.bias.copy_(src.bias)
    model.ln_f.load_state_dict(base.ln_f.state_dict())
    head = getattr(hf_model, "lm_head", None)
    if head is not None and head.weight.data_ptr() != base.wte.weight.data_ptr() \
            and not torch.equal(head.weight, base.wte.weight):
        raise ValueError("the Hugging Face model's lm_head is not tied to wte; this GPT ties them")
    return model.eval()


@torch.no_grad()
def to_hf_gpt2(model: GPT) -> nn.Module:
    """A ``transformers.GPT2LMHeadModel`` holding ``model``'s weights (inverse of ``from_hf_gpt2``)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    c = getattr(model, "config", None)
    if not isinstance(c, GPTConfig) or not hasattr(model, "h"):
        raise TypeError(f"model must be a GPT (wte, wpe, h, ln_f with a GPTConfig), got "
                        f"{type(model).__name__}")
    if not (c.bias and c.tie_weights):
        raise ValueError("GPT-2 has biases and tied embeddings; this model's config differs")
    hf_config = GPT2Config(vocab_size=c.vocab_size, n_positions=c.n_positions, n_embd=c.n_embd,
                           n_layer=c.n_layer, n_head=c.n_head, n_inner=c.n_inner,
                           layer_norm_epsilon=c.layer_norm_eps, resid_pdrop=c.dropout,
                           embd_pdrop=c.dropout, attn_pdrop=c.attn_dropout,
                           bos_token_id=None, eos_token_id=None, pad_token_id=None)
    hf = GPT2LMHeadModel(hf_config)
    base, d = hf.transformer, c.n_embd
    base.wte.weight.copy_(model.wte.weight)
    base.wpe.weight.copy_(model.wpe.weight)
    for ours, theirs in zip(model.h, base.h):
        theirs.ln_1.load_state_dict(ours.ln_1.state_dict())
        theirs.ln_2.load_state_dict(ours.ln_2.state_dict())
        projections = (ours.attn.q_proj, ours.attn.k_proj, ours.attn.v_proj)
        theirs.attn.c_attn.weight.copy_(torch.cat([p.weight.t() for p in projections], dim=1))
        theirs.attn.c_attn.bias.copy_(torch.cat([p.bias for p in projections]))
        for src, dst in ((ours.attn.out_proj, theirs.attn.c_proj),
                         (ours.mlp.c_fc, theirs.mlp.c_fc), (ours.mlp.c_proj, theirs.mlp.c_proj)):
            dst.weight.copy_(src.weight.t())
            dst.bias.copy_(src.bias)
    base.ln_f.load_state_dict(model.ln_f.state_dict())
    hf.tie_weights()
    return hf.eval()

