"""Scaled dot-product attention, multi-head attention and the masks they use.

Mask convention used throughout the course: a **boolean mask is True where a query may
attend to a key** (the convention of ``torch.nn.functional.scaled_dot_product_attention``).
Float masks are *added* to the scores (0 = keep, a large negative number = block).
``nn.MultiheadAttention``'s ``key_padding_mask`` uses the opposite convention (True =
ignore): pass ``~mask`` there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import check_choice, check_float, check_int, check_ndim, check_type

__all__ = ["scaled_dot_product_attention", "causal_mask", "padding_mask", "lengths_to_mask",
           "combine_masks", "KVCache", "MultiHeadAttention", "AdditiveAttention", "LuongAttention"]


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               mask: torch.Tensor | None) -> None:
    """Validate the inputs of ``scaled_dot_product_attention`` (shapes and the mask)."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_type(name, t, torch.Tensor)
        if t.ndim < 2:
            raise ValueError(f"{name} must have shape (..., T, d), got {tuple(t.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share the last dimension d_k, got q {tuple(q.shape)} "
                         f"and k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys T_k, got k "
                         f"{tuple(k.shape)} and v {tuple(v.shape)}")
    if mask is not None:
        check_type("mask", mask, torch.Tensor)
        scores_shape = (*torch.broadcast_shapes(q.shape[:-2], k.shape[:-2]),
                        q.shape[-2], k.shape[-2])
        try:
            torch.broadcast_shapes(mask.shape, scores_shape)
        except RuntimeError:
            raise ValueError(f"mask of shape {tuple(mask.shape)} cannot be broadcast to the "
                             f"scores' shape {tuple(scores_shape)} (..., T_q, T_k)") from None


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
    *, dropout_p: float = 0.0, training: bool = False, scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ · scale + mask) v with scale = 1/√d_k; returns ``(out, attn_weights)``.

    Shapes: q (..., T_q, d_k), k (..., T_k, d_k), v (..., T_k, d_v) -> out (..., T_q, d_v),
    attn_weights (..., T_q, T_k). A query whose keys are all masked gets uniform weights
    instead of NaN (masked scores are set to the dtype's minimum, not -inf).
    """
    _check_qkv(q, k, v, mask)
    check_float("dropout_p", dropout_p, min_value=0.0, max_value=1.0)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale  # (..., T_q, T_k)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + mask.to(scores.dtype)
    attn_weights = torch.softmax(scores, dim=-1)
    if dropout_p > 0.0 and training:
        attn_weights = F.dropout(attn_weights, p=dropout_p)
    return torch.matmul(attn_weights, v), attn_weights  # (..., T_q, d_v)


def causal_mask(t_q: int, t_k: int | None = None, *, device: torch.device | str | None = None
                ) -> torch.Tensor:
    """Boolean (t_q, t_k) mask, True where query i may attend to key j (j <= i + t_k - t_q).

    With ``t_k > t_q`` (new queries after ``t_k - t_q`` cached keys) the diagonal is aligned
    to the bottom-right, so the last query sees every key.
    """
    check_int("t_q", t_q, min_value=1)
    t_k = t_q if t_k is None else check_int("t_k", t_k, min_value=t_q)
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(diagonal=t_k - t_q)


def padding_mask(token_ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Boolean (B, T) mask, True at real tokens and False at padding."""
    check_type("token_ids", token_ids, torch.Tensor)
    check_ndim("token_ids", token_ids, 2)
    check_int("pad_id", pad_id)
    return token_ids != pad_id


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean (B, max_len) mask, True at positions < length of each row."""
    check_type("lengths", lengths, torch.Tensor)
    check_ndim("lengths", lengths, 1)
    if lengths.numel() and int(lengths.min()) < 0:
        raise ValueError(f"lengths must be >= 0, got min {int(lengths.min())}")
    longest = int(lengths.max()) if lengths.numel() else 0
    max_len = longest if max_len is None else check_int("max_len", max_len, min_value=longest)
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def combine_masks(key_padding: torch.Tensor | None = None, causal: bool = False,
                  t_q: int | None = None) -> torch.Tensor | None:
    """One boolean attention mask of shape (B, 1, t_q, T_k) (or (t_q, T_k) with no padding).

    ``key_padding`` is (B, T_k), True at real keys; ``causal`` adds the lower-triangular
    mask; ``t_q`` defaults to T_k. The head axis is 1 so it broadcasts over heads.
    """
    if key_padding is None and not causal:
        return None
    if key_padding is not None:
        check_type("key_padding", key_padding, torch.Tensor)
        check_ndim("key_padding", key_padding, 2)
        if key_padding.dtype != torch.bool:
            raise TypeError(f"key_padding must be a bool tensor (True = real token), got "
                            f"{key_padding.dtype}")
        t_k = key_padding.shape[1]
    elif t_q is None:
        raise ValueError("combine_masks needs t_q when there is no key_padding mask")
    else:
        t_k = t_q
    t_q = t_k if t_q is None else t_q
    mask = None
    if key_padding is not None:
        mask = key_padding[:, None, None, :]  # (B, 1, 1, T_k)
    if causal:
        tri = causal_mask(t_q, t_k, device=None if key_padding is None else key_padding.device)
        mask = tri if mask is None else mask & tri  # (B, 1, t_q, T_k)
    return mask


@dataclass
class KVCache:
    """Keys and values of the tokens seen so far (self-attention during generation)."""

    k: torch.Tensor | None = None  # (B, h, T_past, d_head)
    v: torch.Tensor | None = None

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new keys/values along time and return all of them."""
        if self.k is not None:
            k, v = torch.cat([self.k, k], dim=2), torch.cat([self.v, v], dim=2)
        self.k, self.v = k, v
        return k, v

    def __len__(self) -> int:
        return 0 if self.k is None else int(self.k.shape[2])


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate q/k/v projections; self- or cross-attention.

    ``forward(x)`` attends over ``x`` itself; ``forward(x, context)`` takes queries from
    ``x`` and keys/values from ``context`` (cross-attention, e.g. decoder -> encoder).
    Returns ``(out, attn_weights)``; ``attn_weights`` is (B, n_heads, T_q, T_k), or None
    with ``need_weights=False`` (then PyTorch's fused kernel is used).
    """

    def __init__(self, d_model: int, n_heads: int, *, kv_dim: int | None = None,
                 dropout: float = 0.0, bias: bool = True, is_causal: bool = False) -> None:
        super().__init__()
        check_int("d_model", d_model, min_value=1)
        check_int("n_heads", n_heads, min_value=1)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model} "
                             f"and n_heads={n_heads}")
        kv_dim = d_model if kv_dim is None else check_int("kv_dim", kv_dim, min_value=1)
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.dropout = check_float("dropout", dropout, min_value=0.0, max_value=1.0)
        self.is_causal = is_causal
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(kv_dim, d_model, bias=bias)
        self.v_proj = nn.Linear(kv_dim, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, n_heads, T, d_head)."""
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_head).transpose(1, 2)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_heads, T, d_head) -> (B, T, d_model)."""
        b, _, t, _ = x.shape
        return x.transpose(1, 2).contiguous().view(b, t, self.d_model)

    def _check_inputs(self, x: torch.Tensor, context: torch.Tensor | None,
                      kv_cache: KVCache | None) -> None:
        """Validate ``forward``'s tensors: (B, T, d_model) queries, (B, T, kv_dim) context."""
        check_type("x", x, torch.Tensor)
        check_ndim("x", x, 3)
        if x.shape[-1] != self.d_model:
            raise ValueError(f"x must have last dimension d_model={self.d_model}, got "
                             f"{tuple(x.shape)}")
        if context is not None and kv_cache is not None:
            raise ValueError("kv_cache is for self-attention; cross-attention keys come "
                             "from the fixed context")
        source = x if context is None else context
        check_type("context", source, torch.Tensor)
        check_ndim("context", source, 3)
        if source.shape[-1] != self.k_proj.in_features:
            raise ValueError(f"context must have last dimension {self.k_proj.in_features}, "
                             f"got {tuple(source.shape)}")

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, *,
                attn_mask: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None, need_weights: bool = True,
                kv_cache: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend from ``x`` (B, T_q, d_model) to ``context`` (B, T_k, kv_dim) or to ``x``.

        ``attn_mask``: bool (True = may attend) or additive float, broadcastable to
        (B, n_heads, T_q, T_k). ``key_padding_mask``: bool (B, T_k), True at real keys.
        The causal mask of ``is_causal`` is added here. ``kv_cache`` (self-attention only)
        appends this call's keys/values to the cache and attends over all of them.
        """
        source = x if context is None else context
        self._check_inputs(x, context, kv_cache)
        q = self.split_heads(self.q_proj(x))  # (B, h, T_q, d_head)
        k = self.split_heads(self.k_proj(source))  # (B, h, T_k, d_head)
        v = self.split_heads(self.v_proj(source))
        if kv_cache is not None:
            k, v = kv_cache.update(k, v)
        t_q, t_k = q.shape[2], k.shape[2]
        mask = attn_mask
        if key_padding_mask is not None:
            _check_key_padding(key_padding_mask, (x.shape[0], t_k))
            pad = key_padding_mask[:, None, None, :]  # (B, 1, 1, T_k)
            mask = pad if mask is None else _and_masks(mask, pad)
        if self.is_causal:
            tri = causal_mask(t_q, t_k, device=x.device)
            mask = tri if mask is None else _and_masks(mask, tri)
        drop = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=drop,
                                                        training=self.training)
        else:
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                          dropout_p=drop), None
        return self.out_proj(self.merge_heads(out)), weights  # (B, T_q, d_model)


def _check_key_padding(key_padding_mask: torch.Tensor, shape: tuple[int, int]) -> None:
    check_type("key_padding_mask", key_padding_mask, torch.Tensor)
    if key_padding_mask.dtype != torch.bool or tuple(key_padding_mask.shape) != shape:
        raise ValueError(f"key_padding_mask must be a bool tensor of shape (B, T_k) = {shape} "
                         f"(True = real key), got {key_padding_mask.dtype} "
                         f"{tuple(key_padding_mask.shape)}")


def _and_masks(mask: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Restrict ``mask`` (bool or additive float) to where the bool ``keep`` is True."""
    if mask.dtype == torch.bool:
        return mask & keep
    return mask.masked_fill(~keep, torch.finfo(mask.dtype).min)


# --- attention of the RNN encoder-decoders (chapter 01): Bahdanau and Luong ----------------
def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis, ignoring positions where the bool ``mask`` is False."""
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=-1)


class AdditiveAttention(nn.Module):
    """Bahdanau et al. (2015): score(s, h) = vᵀ tanh(W_q s + W_k h)."""

    def __init__(self, d_query: int, d_key: int, d_attn: int) -> None:
        super().__init__()
        self.W_q = nn.Linear(d_query, d_attn, bias=False)
        self.W_k = nn.Linear(d_key, d_attn, bias=True)
        self.v = nn.Linear(d_attn, 1, bias=False)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """W_k h for all keys (B, S, d_key) -> (B, S, d_attn); computed once per sentence."""
        return self.W_k(keys)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None = None,
                projected_keys: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, d_query) or (B, T, d_query), keys (B, S, d_key) -> (context, weights)."""
        single = query.ndim == 2
        q = query[:, None] if single else query  # (B, T, d_query)
        pk = self.project_keys(keys) if projected_keys is None else projected_keys
        # (B, T, 1, d_attn) + (B, 1, S, d_attn) -> (B, T, S, d_attn) -> scores (B, T, S)
        scores = self.v(torch.tanh(self.W_q(q)[:, :, None] + pk[:, None])).squeeze(-1)
        weights = _masked_softmax(scores, None if mask is None else mask[:, None, :])
        context = weights @ keys  # (B, T, d_key)
        return (context[:, 0], weights[:, 0]) if single else (context, weights)


class LuongAttention(nn.Module):
    """Luong et al. (2015): score(s, h) = sᵀh ("dot") or sᵀ W h ("general")."""

    def __init__(self, d_query: int, d_key: int, score: str = "general") -> None:
        super().__init__()
        self.score = check_choice("score", score, ("dot", "general"))
        if score == "dot" and d_query != d_key:
            raise ValueError(f"dot scores need d_query == d_key, got {d_query} and {d_key}")
        self.W = nn.Linear(d_key, d_query, bias=False) if score == "general" else None

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """W h for all keys (or h itself for "dot")."""
        return keys if self.W is None else self.W(keys)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None = None,
                projected_keys: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, d_query) or (B, T, d_query), keys (B, S, d_key) -> (context, weights)."""
        single = query.ndim == 2
        q = query[:, None] if single else query  # (B, T, d_query)
        pk = self.project_keys(keys) if projected_keys is None else projected_keys
        scores = q @ pk.transpose(1, 2)  # (B, T, S)
        weights = _masked_softmax(scores, None if mask is None else mask[:, None, :])
        context = weights @ keys  # (B, T, d_key)
        return (context[:, 0], weights[:, 0]) if single else (context, weights)
