"""A BERT encoder (chapter 03), weight-compatible with Hugging Face's ``BertModel``.

``Bert`` = ``BertEmbeddings`` (token + segment + position, then LayerNorm and dropout) ->
``num_hidden_layers`` post-LN ``TransformerBlock``s with exact (erf) GELU -> the final
hidden states ``(B, T, hidden_size)``. On top of it:

* ``MLMHead``: dense -> GELU -> LayerNorm -> a decoder whose weight *is* the word-embedding
  matrix (tied) plus a per-token bias, giving logits over the vocabulary;
* ``BertForMaskedLM``: ``Bert`` + ``MLMHead`` with the cross-entropy over masked positions
  (labels ``-100`` elsewhere are ignored);
* ``BertClassifier``: [CLS] or mean pooling -> dense + tanh (BERT's "pooler") -> dropout ->
  linear, for sequence classification.

``from_hf_bert`` / ``to_hf_bert`` copy weights from / to ``transformers`` (``BertModel``,
``BertForMaskedLM``). Field names of ``BertConfig`` follow ``transformers.BertConfig``.
``load_course_encoder`` loads the course's MLM-pretrained encoder (``data/pretrained/
course-bert-reviews``, written by ``tools/pretrain_course_bert.py``) like a Hub checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.models.blocks import BlockConfig, TransformerBlock
from course_utils.validation import check_choice, check_float, check_int, check_ndim, check_type

__all__ = ["BertConfig", "PRESETS", "BertEmbeddings", "Bert", "BertOutput", "MLMHead",
           "BertForMaskedLM", "BertClassifier", "POOLINGS", "mean_pool", "from_hf_bert",
           "to_hf_bert", "COURSE_ENCODER_DIR", "CourseEncoder", "load_course_encoder"]

POOLINGS = ("cls", "mean")


@dataclass
class BertConfig:
    """Sizes of a BERT encoder (field names follow ``transformers.BertConfig``)."""

    vocab_size: int = 30522  # WordPiece vocabulary (bert-base-uncased: 30,522)
    hidden_size: int = 768  # width H of the residual stream
    num_hidden_layers: int = 12  # encoder blocks L
    num_attention_heads: int = 12  # heads A (hidden_size must be divisible by it)
    intermediate_size: int | None = None  # MLP width (default 4 * hidden_size)
    max_position_embeddings: int = 512  # longest input (rows of the position table)
    type_vocab_size: int = 2  # segments: sentence A = 0, sentence B = 1
    hidden_dropout: float = 0.1  # dropout on embeddings and on each residual branch
    attention_dropout: float = 0.1  # dropout on the attention weights
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0  # row of the word embeddings kept at zero at initialisation
    initializer_range: float = 0.02  # std of the normal initialisation

    def __post_init__(self) -> None:
        check_int("vocab_size", self.vocab_size, min_value=1)
        check_int("num_hidden_layers", self.num_hidden_layers, min_value=1)
        check_int("max_position_embeddings", self.max_position_embeddings, min_value=1)
        check_int("type_vocab_size", self.type_vocab_size, min_value=1)
        check_int("pad_token_id", self.pad_token_id, min_value=0, max_value=self.vocab_size - 1)
        check_float("initializer_range", self.initializer_range, min_value=0.0,
                    min_inclusive=False)
        self.block_config()  # validates hidden_size, heads, MLP width, dropouts, eps

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "BertConfig":
        """A config from ``PRESETS[name]`` with fields replaced by ``overrides``."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return replace(PRESETS[name], **overrides)

    def block_config(self) -> BlockConfig:
        """The ``BlockConfig`` of one BERT block: post-LN, bidirectional, exact GELU."""
        return BlockConfig(d_model=self.hidden_size, n_heads=self.num_attention_heads,
                           d_ff=self.intermediate_size, dropout=self.hidden_dropout,
                           attn_dropout=self.attention_dropout, activation="gelu",
                           norm_first=False, causal=False, layer_norm_eps=self.layer_norm_eps)

    def num_parameters(self, *, pooler: bool = True, mlm_head: bool = False) -> int:
        """Parameter count from the sizes alone (``pooler``: BERT's dense+tanh on [CLS])."""
        h, f = self.hidden_size, self.intermediate_size or 4 * self.hidden_size
        embeddings = (self.vocab_size + self.max_position_embeddings + self.type_vocab_size) * h
        embeddings += 2 * h  # LayerNorm
        attn = 4 * (h * h + h)
        mlp = h * f + f + f * h + h
        block = attn + mlp + 2 * 2 * h
        total = embeddings + self.num_hidden_layers * block
        if pooler:
            total += h * h + h
        if mlm_head:  # dense + LayerNorm + output bias; the decoder weight is tied
            total += h * h + h + 2 * h + self.vocab_size
        return total


#: Named sizes: the two published BERTs, the small ones of Turc et al. (2019), the course's.
PRESETS: dict[str, BertConfig] = {
    "bert-base": BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12),
    "bert-large": BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16),
    "bert-mini": BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4),
    "bert-tiny": BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2),
    "course-micro": BertConfig(vocab_size=2000, hidden_size=128, num_hidden_layers=2,
                               num_attention_heads=4, max_position_embeddings=128),
    "course-mini": BertConfig(vocab_size=4000, hidden_size=256, num_hidden_layers=4,
                              num_attention_heads=4, max_position_embeddings=128),
    # the committed pretrained encoder (tools/pretrain_course_bert.py, load_course_encoder)
    "course-encoder": BertConfig(vocab_size=4000, hidden_size=128, num_hidden_layers=4,
                                 num_attention_heads=4, max_position_embeddings=128),
}


class BertEmbeddings(nn.Module):
    """Token + segment + learned position embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        c = config
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size,
                                            padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout)
        self.config = c

    def forward(self, input_ids: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """``input_ids`` (B, T) [+ ``token_type_ids`` (B, T), default 0] -> (B, T, H)."""
        c = self.config
        check_type("input_ids", input_ids, torch.Tensor)
        check_ndim("input_ids", input_ids, 2)
        if input_ids.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"input_ids must hold integer token ids, got {input_ids.dtype}")
        t = input_ids.shape[1]
        if t > c.max_position_embeddings:
            raise ValueError(f"{t} tokens is longer than max_position_embeddings="
                             f"{c.max_position_embeddings}; truncate the input")
        if input_ids.numel() and (int(input_ids.min()) < 0
                                  or int(input_ids.max()) >= c.vocab_size):
            raise ValueError(f"token ids must be in 0..{c.vocab_size - 1}, got min "
                             f"{int(input_ids.min())}, max {int(input_ids.max())}")
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        elif token_type_ids.shape != input_ids.shape:
            raise ValueError(f"token_type_ids must have the shape of input_ids "
                             f"{tuple(input_ids.shape)}, got {tuple(token_type_ids.shape)}")
        positions = torch.arange(t, device=input_ids.device)  # (T,), broadcast over the batch
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
             + self.position_embeddings(positions))
        return self.dropout(self.norm(x))


class BertOutput(NamedTuple):
    """What ``Bert.forward`` returns."""

    last_hidden_state: torch.Tensor  # (B, T, H)
    attentions: list[torch.Tensor] | None  # per layer (B, heads, T, T), if requested


class Bert(nn.Module):
    """The BERT encoder: ``embeddings`` -> ``layers`` (post-LN blocks) -> hidden states."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        check_type("config", config, BertConfig)
        self.config = config
        self.embeddings = BertEmbeddings(config)
        block = config.block_config()
        self.layers = nn.ModuleList([TransformerBlock(block)
                                     for _ in range(config.num_hidden_layers)])
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        """BERT initialisation: N(0, initializer_range) weights, zero biases, LayerNorm = 1, 0."""
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, *,
                output_attentions: bool = False) -> BertOutput:
        """``input_ids`` (B, T) -> ``BertOutput(last_hidden_state (B, T, H), attentions)``.

        ``attention_mask`` (B, T): 1/True at real tokens, 0/False at padding (the Hugging
        Face convention); padded keys get no attention. ``output_attentions`` returns the
        attention weights of every layer (slower: the fused kernel is not used).
        """
        x = self.embeddings(input_ids, token_type_ids)
        keep = None
        if attention_mask is not None:
            if attention_mask.shape != input_ids.shape:
                raise ValueError(f"attention_mask must have the shape of input_ids "
                                 f"{tuple(input_ids.shape)}, got {tuple(attention_mask.shape)}")
            keep = attention_mask.bool()
        maps: list[torch.Tensor] | None = [] if output_attentions else None
        for layer in self.layers:
            x, weights, _ = layer(x, key_padding_mask=keep, need_weights=output_attentions)
            if maps is not None:
                maps.append(weights)
        return BertOutput(x, maps)


class MLMHead(nn.Module):
    """dense -> GELU -> LayerNorm -> tied decoder + bias: hidden states to vocabulary logits."""

    def __init__(self, config: BertConfig, word_embeddings: nn.Embedding) -> None:
        super().__init__()
        h = config.hidden_size
        self.dense = nn.Linear(h, h)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(h, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(h, config.vocab_size, bias=False)
        self.decoder.weight = word_embeddings.weight  # tied: one matrix in and out
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., H) -> (..., vocab_size) logits."""
        return self.decoder(self.norm(self.act(self.dense(hidden)))) + self.bias


class BertForMaskedLM(nn.Module):
    """``bert`` + ``head`` (MLM); ``forward(..., labels)`` -> ``(logits, loss)``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = Bert(config)
        self.head = MLMHead(config, self.bert.embeddings.word_embeddings)
        self.head.apply(self.bert._init_weights)
        self.head.decoder.weight = self.bert.embeddings.word_embeddings.weight  # keep tied

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, vocab) and, with ``labels`` (B, T; -100 = not masked), the loss.

        The loss is the mean cross-entropy over the positions whose label is not -100.
        """
        hidden = self.bert(input_ids, token_type_ids, attention_mask).last_hidden_state
        logits = self.head(hidden)
        loss = None
        if labels is not None:
            check_type("labels", labels, torch.Tensor)
            if labels.shape != input_ids.shape:
                raise ValueError(f"labels must have the shape of input_ids "
                                 f"{tuple(input_ids.shape)}, got {tuple(labels.shape)}")
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                   ignore_index=-100)
        return logits, loss


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the hidden states over real tokens: (B, T, H), (B, T) -> (B, H)."""
    check_ndim("hidden", hidden, 3)
    if attention_mask.shape != hidden.shape[:2]:
        raise ValueError(f"attention_mask must have shape (B, T) = {tuple(hidden.shape[:2])}, "
                         f"got {tuple(attention_mask.shape)}")
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class BertClassifier(nn.Module):
    """A ``Bert`` with a classification head on the [CLS] state or on the mean of the tokens.

    pooled -> dense + tanh (BERT's pooler) -> dropout -> linear to ``num_labels``;
    ``forward(..., labels)`` returns ``(logits, loss)`` with the cross-entropy loss.
    """

    def __init__(self, bert: Bert, num_labels: int, *, pooling: str = "cls",
                 dropout: float | None = None) -> None:
        super().__init__()
        check_type("bert", bert, Bert)
        check_int("num_labels", num_labels, min_value=2)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        h = bert.config.hidden_size
        self.bert = bert
        self.pooler = nn.Linear(h, h)
        self.dropout = nn.Dropout(bert.config.hidden_dropout if dropout is None else dropout)
        self.classifier = nn.Linear(h, num_labels)
        for module in (self.pooler, self.classifier):
            bert._init_weights(module)

    def pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """(B, T, H) -> (B, H): the [CLS] (first) state, or the mean over real tokens."""
        if self.pooling == "cls":
            return hidden[:, 0]
        if attention_mask is None:
            attention_mask = torch.ones(hidden.shape[:2], device=hidden.device)
        return mean_pool(hidden, attention_mask)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Class logits (B, num_labels) and, with ``labels`` (B,), the cross-entropy loss."""
        hidden = self.bert(input_ids, token_type_ids, attention_mask).last_hidden_state
        pooled = torch.tanh(self.pooler(self.pool(hidden, attention_mask)))
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return logits, loss


# ---------------------------------------------------------------------------------------
# Hugging Face BERT <-> ours
# ---------------------------------------------------------------------------------------
def _hf_pairs(ours: Bert, hf_bert: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """(our module, their module) pairs with identical parameter layouts."""
    e, he = ours.embeddings, hf_bert.embeddings
    pairs = [(e.word_embeddings, he.word_embeddings), (e.position_embeddings,
             he.position_embeddings), (e.token_type_embeddings, he.token_type_embeddings),
             (e.norm, he.LayerNorm)]
    for layer, theirs in zip(ours.layers, hf_bert.encoder.layer):
        att = theirs.attention
        pairs += [(layer.attn.q_proj, att.self.query), (layer.attn.k_proj, att.self.key),
                  (layer.attn.v_proj, att.self.value), (layer.attn.out_proj, att.output.dense),
                  (layer.ln_1, att.output.LayerNorm), (layer.mlp.c_fc, theirs.intermediate.dense),
                  (layer.mlp.c_proj, theirs.output.dense), (layer.ln_2, theirs.output.LayerNorm)]
    return pairs


def _config_from_hf(hf_config: Any) -> BertConfig:
    act = getattr(hf_config, "hidden_act", "gelu")
    if act != "gelu":
        raise ValueError(f"only BERT's exact GELU is supported (hidden_act='gelu'), got {act!r}")
    kind = getattr(hf_config, "position_embedding_type", "absolute")
    if kind != "absolute":
        raise ValueError(f"only absolute position embeddings are supported, got {kind!r}")
    return BertConfig(vocab_size=hf_config.vocab_size, hidden_size=hf_config.hidden_size,
                      num_hidden_layers=hf_config.num_hidden_layers,
                      num_attention_heads=hf_config.num_attention_heads,
                      intermediate_size=hf_config.intermediate_size,
                      max_position_embeddings=hf_config.max_position_embeddings,
                      type_vocab_size=hf_config.type_vocab_size,
                      hidden_dropout=hf_config.hidden_dropout_prob,
                      attention_dropout=hf_config.attention_probs_dropout_prob,
                      layer_norm_eps=hf_config.layer_norm_eps,
                      pad_token_id=hf_config.pad_token_id or 0,
                      initializer_range=hf_config.initializer_range)


@torch.no_grad()
def from_hf_bert(hf_model: nn.Module) -> Bert | BertForMaskedLM:
    """Our model with the weights of a ``transformers`` ``BertForMaskedLM`` (or ``BertModel``).

    A ``BertForMaskedLM`` gives a ``BertForMaskedLM`` (MLM head included); a ``BertModel``
    gives a bare ``Bert`` (its pooler is not used by our encoder). Returned in eval mode.
    """
    base = getattr(hf_model, "bert", hf_model)
    if not (hasattr(base, "embeddings") and hasattr(base, "encoder")):
        raise TypeError(f"expected a transformers BertModel or BertForMaskedLM, got "
                        f"{type(hf_model).__name__}")
    config = _config_from_hf(hf_model.config)
    predictions = getattr(getattr(hf_model, "cls", None), "predictions", None)
    model: Bert | BertForMaskedLM = BertForMaskedLM(config) if predictions is not None \
        else Bert(config)
    bert = model.bert if isinstance(model, BertForMaskedLM) else model
    for ours, theirs in _hf_pairs(bert, base):
        ours.load_state_dict(theirs.state_dict())
    if isinstance(model, BertForMaskedLM):
        t = predictions.transform
        model.head.dense.load_state_dict(t.dense.state_dict())
        model.head.norm.load_state_dict(t.LayerNorm.state_dict())
        model.head.bias.copy_(predictions.bias)
        if not torch.equal(predictions.decoder.weight, base.embeddings.word_embeddings.weight):
            raise ValueError("the Hugging Face MLM decoder is not tied to the word embeddings; "
                             "this model ties them")
    return model.eval()


@torch.no_grad()
def to_hf_bert(model: Bert | BertForMaskedLM) -> nn.Module:
    """A ``transformers`` ``BertForMaskedLM`` (or ``BertModel`` for a bare ``Bert``) with our weights."""
    from transformers import BertConfig as HFBertConfig
    from transformers import BertForMaskedLM as HFBertForMaskedLM
    from transformers import BertModel as HFBertModel

    if not isinstance(model, (Bert, BertForMaskedLM)):
        raise TypeError(f"model must be a Bert or BertForMaskedLM, got {type(model).__name__}")
    c = model.config
    hf_config = HFBertConfig(vocab_size=c.vocab_size, hidden_size=c.hidden_size,
                             num_hidden_layers=c.num_hidden_layers,
                             num_attention_heads=c.num_attention_heads,
                             intermediate_size=c.intermediate_size or 4 * c.hidden_size,
                             max_position_embeddings=c.max_position_embeddings,
                             type_vocab_size=c.type_vocab_size, hidden_act="gelu",
                             hidden_dropout_prob=c.hidden_dropout,
                             attention_probs_dropout_prob=c.attention_dropout,
                             layer_norm_eps=c.layer_norm_eps, pad_token_id=c.pad_token_id,
                             initializer_range=c.initializer_range)
    if isinstance(model, BertForMaskedLM):
        hf = HFBertForMaskedLM(hf_config)
        base, bert = hf.bert, model.bert
    else:
        hf = HFBertModel(hf_config, add_pooling_layer=False)
        base, bert = hf, model
    for ours, theirs in _hf_pairs(bert, base):
        theirs.load_state_dict(ours.state_dict())
    if isinstance(model, BertForMaskedLM):
        p = hf.cls.predictions
        p.transform.dense.load_state_dict(model.head.dense.state_dict())
        p.transform.LayerNorm.load_state_dict(model.head.norm.state_dict())
        p.bias.copy_(model.head.bias)
        hf.tie_weights()
    return hf.eval()


# ---------------------------------------------------------------------------------------
# The course's pretrained encoder (offline stand-in for bert-base-uncased)
# ---------------------------------------------------------------------------------------
#: Folder written by ``tools/pretrain_course_bert.py`` (safetensors + tokenizer files).
COURSE_ENCODER_DIR = Path(__file__).resolve().parents[2] / "data" / "pretrained" / \
    "course-bert-reviews"


class CourseEncoder(NamedTuple):
    """What ``load_course_encoder`` returns."""

    model: nn.Module  # our BertForMaskedLM (``hf=False``) or transformers' (``hf=True``)
    tokenizer: Any  # PreTrainedTokenizerFast, truncation_side="left" (keeps the verdict)
    source: str  # "local" (the committed weights) or "fallback" (random init)


def load_course_encoder(path: str | Path | None = None, *, hf: bool = False) -> CourseEncoder:
    """The course's MLM-pretrained BERT on the reviews, through ``assets.load_pretrained``.

    Loaded exactly like a Hub checkpoint (``BertForMaskedLM.from_pretrained`` on a local
    folder; ``path`` may also be a Hub id such as ``"google-bert/bert-base-uncased"``).
    ``hf=False`` converts it to our ``BertForMaskedLM`` (``from_hf_bert``). If the folder is
    missing, a randomly initialised model of the same size is returned with a notice
    (``source == "fallback"``). Returned in eval mode.
    """
    from transformers import AutoTokenizer
    from transformers import BertForMaskedLM as HFBertForMaskedLM

    from course_utils.assets import load_pretrained
    from course_utils.tokenization import load_wordpiece

    name = COURSE_ENCODER_DIR if path is None else path
    config = PRESETS["course-encoder"]

    def fallback() -> nn.Module:
        return to_hf_bert(BertForMaskedLM(config))

    loaded = load_pretrained(name, HFBertForMaskedLM.from_pretrained, fallback=fallback,
                             fallback_note="a randomly initialised course-encoder "
                                           "(run tools/pretrain_course_bert.py)")
    if loaded.source == "fallback":
        from course_utils.data import data_dir

        vocab = data_dir() / "reviews" / f"wordpiece-{config.vocab_size}.txt"
        tokenizer = load_wordpiece(vocab, model_max_length=config.max_position_embeddings)
        tokenizer.truncation_side = "left"
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(name))
    model = loaded.value.eval() if hf else from_hf_bert(loaded.value)
    return CourseEncoder(model, tokenizer, loaded.source)
