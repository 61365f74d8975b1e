"""Encoder-decoder models of chapter 01: a GRU seq2seq (no / Bahdanau / Luong attention)
and a small Transformer encoder-decoder, with batched teacher forcing and greedy decoding.

Inputs are padded id tensors ``src`` (B, S) with ``src_lengths`` (B,) and decoder inputs
``tgt_in`` (B, T) that start with <bos> (teacher forcing: the gold previous token is fed
at every step). Both models return ``(logits (B, T, V), attn_weights)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_utils.models.attention import AdditiveAttention, LuongAttention, lengths_to_mask
from course_utils.models.blocks import BlockConfig, TransformerBlock
from course_utils.models.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from course_utils.validation import check_choice, check_float, check_int, check_ndim, check_type

__all__ = ["GRUSeq2SeqConfig", "GRUSeq2Seq",
           "TransformerSeq2SeqConfig", "TransformerSeq2Seq"]

ATTENTION_KINDS = (None, "bahdanau", "luong")


@dataclass
class GRUSeq2SeqConfig:
    """Sizes of the GRU encoder-decoder."""

    src_vocab: int  # source vocabulary size (ids 0..src_vocab-1, 0 = <pad>)
    tgt_vocab: int  # target vocabulary size
    d_emb: int = 32  # character embedding width (encoder and decoder)
    d_hidden: int = 64  # decoder state width; the encoder outputs this width too
    attention: str | None = None  # None | "bahdanau" (additive) | "luong" (general score)
    bidirectional: bool = True  # encoder reads both directions (d_hidden/2 each)
    d_attn: int | None = None  # hidden width of additive attention (default d_hidden)
    dropout: float = 0.0  # dropout on embeddings and on the decoder output

    def __post_init__(self) -> None:
        check_int("src_vocab", self.src_vocab, min_value=4)
        check_int("tgt_vocab", self.tgt_vocab, min_value=4)
        check_int("d_emb", self.d_emb, min_value=1)
        check_int("d_hidden", self.d_hidden, min_value=2)
        check_choice("attention", self.attention, ATTENTION_KINDS)
        if self.bidirectional and self.d_hidden % 2:
            raise ValueError(f"a bidirectional encoder needs an even d_hidden, got "
                             f"{self.d_hidden}")
        if self.d_attn is None:
            self.d_attn = self.d_hidden
        check_int("d_attn", self.d_attn, min_value=1)
        check_float("dropout", self.dropout, min_value=0.0, max_value=1.0)


def _check_src(src: torch.Tensor, src_lengths: torch.Tensor) -> None:
    check_type("src", src, torch.Tensor)
    check_ndim("src", src, 2)
    check_type("src_lengths", src_lengths, torch.Tensor)
    if src_lengths.shape != (src.shape[0],):
        raise ValueError(f"src_lengths must have shape (B,) = ({src.shape[0]},), got "
                         f"{tuple(src_lengths.shape)}")
    if src_lengths.numel():
        lo, hi = int(src_lengths.min()), int(src_lengths.max())
        if lo < 1 or hi > src.shape[1]:
            raise ValueError(f"src_lengths must lie in 1..{src.shape[1]} (the padded length), "
                             f"got {lo}..{hi}")


class _Memory(NamedTuple):
    """What the GRU decoder reads: encoder states, source mask, projected keys, s_0."""

    enc: torch.Tensor  # (B, S, d_hidden)
    mask: torch.Tensor  # (B, S) True at real source characters
    proj: torch.Tensor | None  # keys after the attention's key projection
    s0: torch.Tensor  # (1, B, d_hidden) initial decoder state / summary vector


class GRUSeq2Seq(nn.Module):
    """Bidirectional GRU encoder + GRU decoder, with optional Bahdanau or Luong attention.

    * no attention: the decoder starts from a summary s_0 of the encoder (its final
      states), which is also fed at every step (Cho et al., 2014); it never sees the
      individual encoder states -- the whole input must fit in one vector;
    * ``"bahdanau"``: before each step, the previous decoder state scores every encoder
      state (additive score); the weighted sum (context) is fed into the GRU with the
      previous token, and the output layer reads [s_t; c_t];
    * ``"luong"``: after each step, the new state scores the encoder states (general score)
      and the output layer reads tanh(W_c [c_t; s_t]).
    """

    def __init__(self, config: GRUSeq2SeqConfig) -> None:
        super().__init__()
        self.config = c = config
        d_enc = c.d_hidden // 2 if c.bidirectional else c.d_hidden
        self.src_emb = nn.Embedding(c.src_vocab, c.d_emb, padding_idx=0)
        self.tgt_emb = nn.Embedding(c.tgt_vocab, c.d_emb, padding_idx=0)
        self.encoder = nn.GRU(c.d_emb, d_enc, batch_first=True, bidirectional=c.bidirectional)
        self.bridge = nn.Linear(c.d_hidden, c.d_hidden)  # final encoder states -> s_0
        self.dropout = nn.Dropout(c.dropout)
        # Bahdanau feeds the context c_t at every step; without attention the fixed summary
        # s_0 is fed at every step (Cho et al., 2014), so the decoder never "forgets" it
        dec_in = c.d_emb + (c.d_hidden if c.attention in ("bahdanau", None) else 0)
        self.decoder = nn.GRU(dec_in, c.d_hidden, batch_first=True)
        if c.attention == "bahdanau":
            self.attn = AdditiveAttention(c.d_hidden, c.d_hidden, c.d_attn)
            self.out = nn.Linear(2 * c.d_hidden, c.tgt_vocab)  # reads [s_t; c_t]
        elif c.attention == "luong":
            self.attn = LuongAttention(c.d_hidden, c.d_hidden, "general")
            self.combine = nn.Linear(2 * c.d_hidden, c.d_hidden)  # W_c [c_t; s_t]
            self.out = nn.Linear(c.d_hidden, c.tgt_vocab)
        else:
            self.attn = None
            self.out = nn.Linear(c.d_hidden, c.tgt_vocab)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> encoder states (B, S, d_hidden), source mask (B, S), s_0 (1, B, d_hidden)."""
        _check_src(src, src_lengths)
        emb = self.dropout(self.src_emb(src))  # (B, S, d_emb)
        packed = pack_padded_sequence(emb, src_lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, h_n = self.encoder(packed)  # h_n: (directions, B, d_enc)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        final = torch.cat(list(h_n), dim=-1)  # (B, d_hidden): last forward + first backward
        s0 = torch.tanh(self.bridge(final))[None]  # (1, B, d_hidden)
        return out, lengths_to_mask(src_lengths.to(src.device), src.shape[1]), s0

    def _inputs(self, emb: torch.Tensor, s0: torch.Tensor) -> torch.Tensor:
        """Decoder GRU inputs (B, T, ·): the token embeddings [; s_0 without attention]."""
        emb = self.dropout(emb)
        if self.config.attention is None:  # the fixed summary is fed at every step
            return torch.cat([emb, s0[0][:, None].expand(-1, emb.shape[1], -1)], dim=-1)
        return emb

    def _readout(self, s: torch.Tensor, memory: _Memory
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decoder states (B, T, H) -> logits (B, T, V) [and Luong weights (B, T, S)]."""
        if self.config.attention == "luong":
            context, weights = self.attn(s, memory.enc, memory.mask, memory.proj)
            h_tilde = torch.tanh(self.combine(torch.cat([context, s], dim=-1)))
            return self.out(self.dropout(h_tilde)), weights
        return self.out(self.dropout(s)), None

    def _step(self, y_prev: torch.Tensor, state: torch.Tensor, memory: _Memory
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One decoder step for previous tokens (B,) -> logits (B, V), state, weights (B, S)."""
        emb = self.tgt_emb(y_prev)[:, None]  # (B, 1, d_emb)
        if self.config.attention == "bahdanau":
            # score the encoder states with the previous state s_{t-1}, then feed [y; c_t]
            context, weights = self.attn(state[0], memory.enc, memory.mask, memory.proj)
            s, state = self.decoder(torch.cat([self.dropout(emb), context[:, None]], dim=-1),
                                    state)
            logits = self.out(self.dropout(torch.cat([s[:, 0], context], dim=-1)))
            return logits, state, weights
        s, state = self.decoder(self._inputs(emb, memory.s0), state)  # s: (B, 1, H)
        logits, weights = self._readout(s, memory)
        return logits[:, 0], state, None if weights is None else weights[:, 0]

    def _memory(self, src: torch.Tensor, src_lengths: torch.Tensor) -> _Memory:
        enc, mask, s0 = self.encode(src, src_lengths)
        proj = None if self.attn is None else self.attn.project_keys(enc)
        return _Memory(enc, mask, proj, s0)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                teacher_forcing_ratio: float = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for decoder inputs ``tgt_in`` (B, T) and weights (B, T, S) or None.

        With ``teacher_forcing_ratio < 1`` each step feeds, with that probability per
        sentence, the gold previous token, else the model's own previous prediction.
        """
        check_float("teacher_forcing_ratio", teacher_forcing_ratio, min_value=0.0, max_value=1.0)
        check_type("tgt_in", tgt_in, torch.Tensor)
        check_ndim("tgt_in", tgt_in, 2)
        memory = self._memory(src, src_lengths)
        state = memory.s0
        if teacher_forcing_ratio == 1.0 and self.config.attention != "bahdanau":
            # the whole target in one GRU call: every input token is known in advance
            s, _ = self.decoder(self._inputs(self.tgt_emb(tgt_in), memory.s0), state)
            return self._readout(s, memory)  # s: (B, T, H)
        logits, weights = [], []
        y_prev = tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            step_logits, state, w = self._step(y_prev, state, memory)
            logits.append(step_logits)
            weights.append(w)
            if t + 1 < tgt_in.shape[1]:
                y_prev = tgt_in[:, t + 1]
                if teacher_forcing_ratio < 1.0:
                    use_gold = torch.rand(y_prev.shape[0], device=y_prev.device) \
                        < teacher_forcing_ratio
                    y_prev = torch.where(use_gold, y_prev, step_logits.argmax(-1))
        stacked = None if weights[0] is None else torch.stack(weights, dim=1)
        return torch.stack(logits, dim=1), stacked

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int,
                      bos_id: int = 1) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Greedy output ids (B, max_len) and attention weights (B, max_len, S) or None."""
        check_int("max_len", max_len, min_value=1)
        memory = self._memory(src, src_lengths)
        state = memory.s0
        y = torch.full((src.shape[0],), bos_id, dtype=torch.long, device=src.device)
        ids, weights = [], []
        for _ in range(max_len):
            logits, state, w = self._step(y, state, memory)
            y = logits.argmax(-1)
            ids.append(y)
            weights.append(w)
        stacked = None if weights[0] is None else torch.stack(weights, dim=1)
        return torch.stack(ids, dim=1), stacked


@dataclass
class TransformerSeq2SeqConfig:
    """Sizes of the small Transformer encoder-decoder."""

    src_vocab: int  # source vocabulary size (0 = <pad>)
    tgt_vocab: int  # target vocabulary size
    d_model: int = 64  # residual-stream width
    n_heads: int = 4  # attention heads
    n_enc_layers: int = 2  # encoder blocks
    n_dec_layers: int = 2  # decoder blocks (causal self-attention + cross-attention)
    d_ff: int | None = None  # MLP width (default 4 * d_model)
    dropout: float = 0.0  # dropout in blocks and after the embeddings
    max_len: int = 128  # longest source/target sequence (size of the position table)
    norm_first: bool = True  # pre-LN blocks (train more easily than post-LN) + final LayerNorms
    activation: str = "relu"  # MLP activation (relu as in Vaswani et al.)
    positional: str = "sinusoidal"  # "sinusoidal" | "learned"

    def __post_init__(self) -> None:
        check_int("src_vocab", self.src_vocab, min_value=4)
        check_int("tgt_vocab", self.tgt_vocab, min_value=4)
        check_int("n_enc_layers", self.n_enc_layers, min_value=1)
        check_int("n_dec_layers", self.n_dec_layers, min_value=1)
        check_int("max_len", self.max_len, min_value=1)
        check_choice("positional", self.positional, ("sinusoidal", "learned"))
        BlockConfig(self.d_model, self.n_heads, self.d_ff, self.dropout,
                    activation=self.activation)  # validates the shared fields


class TransformerSeq2Seq(nn.Module):
    """Embeddings + positions -> encoder blocks; decoder blocks with causal self-attention
    and cross-attention to the encoder output -> ``lm_head`` over the target vocabulary."""

    def __init__(self, config: TransformerSeq2SeqConfig) -> None:
        super().__init__()
        self.config = c = config
        self.src_emb = nn.Embedding(c.src_vocab, c.d_model, padding_idx=0)
        self.tgt_emb = nn.Embedding(c.tgt_vocab, c.d_model, padding_idx=0)
        pos_cls = SinusoidalPositionalEncoding if c.positional == "sinusoidal" \
            else LearnedPositionalEmbedding
        self.src_pos = pos_cls(c.d_model, c.max_len, c.dropout)
        self.tgt_pos = pos_cls(c.d_model, c.max_len, c.dropout)

        def block(decoder: bool) -> TransformerBlock:
            return TransformerBlock(BlockConfig(
                c.d_model, c.n_heads, c.d_ff, c.dropout, c.dropout, c.activation, c.norm_first,
                causal=decoder, cross_attention=decoder))

        self.encoder = nn.ModuleList([block(False) for _ in range(c.n_enc_layers)])
        self.decoder = nn.ModuleList([block(True) for _ in range(c.n_dec_layers)])
        # pre-LN stacks end with a LayerNorm (post-LN blocks already end normalised)
        self.ln_enc = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.ln_f = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.lm_head = nn.Linear(c.d_model, c.tgt_vocab)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor, need_weights: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor | None]]:
        """-> memory (B, S, d_model), source mask (B, S), encoder self-attention weights."""
        _check_src(src, src_lengths)
        mask = lengths_to_mask(src_lengths.to(src.device), src.shape[1])
        x = self.src_pos(self.src_emb(src))
        weights = []
        for blk in self.encoder:
            x, w, _ = blk(x, key_padding_mask=mask, need_weights=need_weights)
            weights.append(w)
        return self.ln_enc(x), mask, weights

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor,
               need_weights: bool = False
               ) -> tuple[torch.Tensor, list[torch.Tensor | None], list[torch.Tensor | None]]:
        """-> logits (B, T, V), per-layer self- and cross-attention weights (or Nones)."""
        check_ndim("tgt_in", tgt_in, 2)
        x = self.tgt_pos(self.tgt_emb(tgt_in))
        self_ws, cross_ws = [], []
        for blk in self.decoder:
            x, sw, cw = blk(x, context=memory, context_padding_mask=src_mask,
                            need_weights=need_weights)
            self_ws.append(sw)
            cross_ws.append(cw)
        return self.lm_head(self.ln_f(x)), self_ws, cross_ws

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) and cross-attention weights (B, layers, heads, T, S) or None."""
        memory, mask, _ = self.encode(src, src_lengths)
        logits, _, cross = self.decode(tgt_in, memory, mask, need_weights)
        return logits, torch.stack(cross, dim=1) if need_weights else None

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int,
                      bos_id: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy ids (B, max_len) and cross-attention weights (B, layers, heads, max_len, S).

        Re-runs the decoder on the growing prefix each step (no cache: targets are short).
        Causal masking makes the final pass's weights equal to those of each step.
        """
        check_int("max_len", max_len, min_value=1)
        memory, mask, _ = self.encode(src, src_lengths)
        ys = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        for _ in range(max_len):
            logits, _, _ = self.decode(ys, memory, mask)
            ys = torch.cat([ys, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        _, _, cross = self.decode(ys[:, :-1], memory, mask, need_weights=True)
        return ys[:, 1:], torch.stack(cross, dim=1)
