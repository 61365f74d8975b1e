"""Parameter-efficient fine-tuning of a frozen BERT (chapter 05), written from scratch.

Every method keeps the pretrained weights frozen and trains a few new or selected
parameters plus the classification head:

* ``Adapter`` / ``add_adapters``: a bottleneck MLP with a residual connection after each
  block's feed-forward sublayer (Houlsby et al. 2019 put one after attention as well;
  Pfeiffer et al. 2021 found the one after the feed-forward enough);
* ``LoRALinear`` / ``inject_lora`` / ``merge_lora``: ``W x + (alpha/r) B A x`` with ``W``
  frozen, ``A`` (r, k) Kaiming-uniform, ``B`` (d, r) zero (Hu et al. 2021; the update
  ``Delta W = (alpha/r) B A`` is exactly zero at initialisation and can be merged into ``W``);
* ``LoRAEmbedding``: the same low-rank update on a frozen embedding table, ``E + (alpha/r)
  (B A)^T`` with ``A`` (r, V) zero and ``B`` (H, r) normal, as ``peft`` initialises embeddings;
* ``bitfit``: train the bias vectors only (Ben Zaken et al. 2022);
* ``SoftPrompt`` (prompt tuning, Lester et al. 2021) and ``PromptEncoder`` (P-tuning v1,
  Liu et al. 2021): virtual token embeddings prepended to the input embeddings, with the
  attention mask extended;
* ``Prefix`` (prefix tuning, Li & Liang 2021; P-tuning v2, Liu et al. 2022): trained keys
  and values prepended in every layer's self-attention.

``encode`` runs our ``Bert`` with optional prompts and prefixes, and ``PeftClassifier``
puts a pooler + classifier on top. Parameter layouts follow Hugging Face ``peft`` where
one exists (``lora_A`` (r, k), ``lora_B`` (d, r)), so weights copy across for parity tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.models.attention import KVCache
from course_utils.models.bert import POOLINGS, Bert, mean_pool
from course_utils.validation import check_choice, check_float, check_int, check_type

__all__ = ["freeze", "snapshot", "changed_parameters", "LoRALinear", "LoRAEmbedding",
           "inject_lora", "merge_lora", "lora_parameter_count", "Adapter", "WithAdapter",
           "add_adapters", "bitfit", "SoftPrompt", "PromptEncoder", "Prefix", "encode",
           "PeftClassifier", "extend_attention_mask", "lora_forward", "lora_embedding_forward",
           "merge_lora_weight",
           "BERT_LINEARS", "bert_lora_parameters", "verbalizer_scores", "numerical_rank",
           "cloze_inputs"]


# ---------------------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------------------
def freeze(module: nn.Module) -> nn.Module:
    """``requires_grad=False`` on every parameter of ``module``; returns it."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of every parameter and buffer (to prove later that frozen ones did not move)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed_parameters(module: nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    """Names of the entries of ``before`` that are no longer bitwise equal in ``module``."""
    now = module.state_dict()
    return [k for k, v in before.items() if k not in now or not torch.equal(now[k], v)]


# ---------------------------------------------------------------------------------------
# LoRA
# ---------------------------------------------------------------------------------------
class LoRALinear(nn.Module):
    """``y = W x + b + (alpha / r) * B (A (dropout(x)))`` around a frozen ``nn.Linear``.

    ``W`` is (d, k) = (out_features, in_features); ``A`` is (r, k), Kaiming-uniform as in
    ``nn.Linear`` and ``peft``; ``B`` is (d, r) and zero, so ``Delta W = (alpha/r) B A`` is 0
    at initialisation and training starts from the pretrained function.
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        check_type("base", base, nn.Linear)
        check_int("r", r, min_value=1)
        check_float("alpha", alpha, min_value=0.0, min_inclusive=False)
        self.base = freeze(base)
        d, k = base.out_features, base.in_features
        self.r, self.alpha, self.scaling = r, alpha, alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, k))
        self.lora_B = nn.Parameter(torch.zeros(d, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout)

    def delta_weight(self) -> torch.Tensor:
        """``(alpha/r) B A``, shaped like ``W`` (d, k)."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., k) -> (..., d); never forms the (d, k) update: two thin matmuls instead."""
        return self.base(x) + self.scaling * (self.dropout(x) @ self.lora_A.T @ self.lora_B.T)

    @torch.no_grad()
    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` with ``W + (alpha/r) B A``: same outputs, no extra latency."""
        out = nn.Linear(self.base.in_features, self.base.out_features,
                        bias=self.base.bias is not None)
        out.weight.copy_(self.base.weight + self.delta_weight())
        if self.base.bias is not None:
            out.bias.copy_(self.base.bias)
        return out.to(self.base.weight.device)

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, scaling={self.scaling:g}"


class LoRAEmbedding(nn.Module):
    """``E[x] + (alpha / r) * (A^T[x]) B^T`` around a frozen ``nn.Embedding`` (V rows of size H).

    Layout and initialisation follow ``peft``'s ``lora_embedding_A`` (r, V), zero, and
    ``lora_embedding_B`` (H, r), standard normal: ``Delta E = (alpha/r) (B A)^T`` is 0 at
    initialisation, and each token's row gets its own r-dimensional code in ``A``.
    """

    def __init__(self, base: nn.Embedding, r: int, alpha: float) -> None:
        super().__init__()
        check_type("base", base, nn.Embedding)
        check_int("r", r, min_value=1)
        check_float("alpha", alpha, min_value=0.0, min_inclusive=False)
        self.base = freeze(base)
        self.r, self.alpha, self.scaling = r, alpha, alpha / r
        self.lora_A = nn.Parameter(torch.zeros(r, base.num_embeddings))
        self.lora_B = nn.Parameter(torch.randn(base.embedding_dim, r))

    def delta_weight(self) -> torch.Tensor:
        """``(alpha/r) (B A)^T``, shaped like the table (V, H)."""
        return self.scaling * (self.lora_B @ self.lora_A).T

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(...) token ids -> (..., H); looks up r numbers per token, then one (r, H) matmul."""
        return lora_embedding_forward(input_ids, self.base.weight, self.lora_A, self.lora_B,
                                      self.alpha, padding_idx=self.base.padding_idx)

    @torch.no_grad()
    def merged(self) -> nn.Embedding:
        """A plain ``nn.Embedding`` holding ``E + Delta E``: same outputs.

        A masked-LM decoder tied to the old table keeps the old weights; re-tie it if needed.
        """
        out = nn.Embedding(self.base.num_embeddings, self.base.embedding_dim,
                           padding_idx=self.base.padding_idx)
        out.weight.copy_(self.base.weight + self.delta_weight())
        return out.to(self.base.weight.device)

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, scaling={self.scaling:g}"


def inject_lora(model: nn.Module, r: int, alpha: float, targets: Sequence[str] = ("q_proj",
                "v_proj"), dropout: float = 0.0) -> list[str]:
    """Replace every ``nn.Linear`` whose attribute name is in ``targets`` by a ``LoRALinear``.

    Returns the dotted names that were replaced (ValueError if none). Our BERT's names:
    ``q_proj k_proj v_proj out_proj`` (attention), ``c_fc c_proj`` (feed-forward).
    """
    replaced = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in targets and isinstance(child, nn.Linear):
                setattr(module, child_name, LoRALinear(child, r, alpha, dropout))
                replaced.append(f"{name}.{child_name}" if name else child_name)
    if not replaced:
        raise ValueError(f"no nn.Linear named one of {list(targets)} in the model")
    return replaced


def merge_lora(model: nn.Module) -> int:
    """Replace every ``LoRALinear`` / ``LoRAEmbedding`` by its merged layer; returns how many."""
    count = 0
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, (LoRALinear, LoRAEmbedding)):
                setattr(module, child_name, child.merged())
                count += 1
    return count


def lora_parameter_count(shapes: Sequence[tuple[int, int]], r: int) -> int:
    """Trainable LoRA parameters for adapted weights of shapes (d, k): sum of r (d + k)."""
    check_int("r", r, min_value=1)
    return sum(r * (d + k) for d, k in shapes)


# ---------------------------------------------------------------------------------------
# Adapters and BitFit
# ---------------------------------------------------------------------------------------
class Adapter(nn.Module):
    """Bottleneck with a residual: ``h + up(relu(down(h)))``; ``up`` starts at zero (identity)."""

    def __init__(self, d_model: int, bottleneck: int) -> None:
        super().__init__()
        check_int("d_model", d_model, min_value=1)
        check_int("bottleneck", bottleneck, min_value=1)
        self.down = nn.Linear(d_model, bottleneck)
        self.up = nn.Linear(bottleneck, d_model)
        nn.init.normal_(self.down.weight, std=0.02)
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(F.relu(self.down(h)))


class WithAdapter(nn.Module):
    """A sublayer followed by an adapter: ``adapter(sublayer(x))`` (before residual + LayerNorm)."""

    def __init__(self, sublayer: nn.Module, adapter: Adapter) -> None:
        super().__init__()
        self.sublayer, self.adapter = sublayer, adapter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.sublayer(x))


def add_adapters(bert: Bert, bottleneck: int) -> list[Adapter]:
    """Put an ``Adapter`` after the feed-forward sublayer of every block; returns them."""
    adapters = []
    for layer in bert.layers:
        adapter = Adapter(bert.config.hidden_size, bottleneck)
        layer.mlp = WithAdapter(layer.mlp, adapter)
        adapters.append(adapter)
    return adapters


def bitfit(module: nn.Module) -> int:
    """Make exactly the bias vectors of ``module`` trainable; returns their parameter count."""
    n = 0
    for name, p in module.named_parameters():
        p.requires_grad_(name.endswith("bias"))
        n += p.numel() if p.requires_grad else 0
    return n


# ---------------------------------------------------------------------------------------
# Prompts and prefixes
# ---------------------------------------------------------------------------------------
def extend_attention_mask(attention_mask: torch.Tensor, n_virtual: int) -> torch.Tensor:
    """(B, T) -> (B, n_virtual + T): ones in front for the virtual tokens (always attended)."""
    ones = torch.ones(attention_mask.shape[0], n_virtual, dtype=attention_mask.dtype,
                      device=attention_mask.device)
    return torch.cat([ones, attention_mask], dim=1)


class SoftPrompt(nn.Module):
    """Prompt tuning: ``n_tokens`` trainable input embeddings, shared by every example."""

    def __init__(self, n_tokens: int, hidden_size: int, init: torch.Tensor | None = None) -> None:
        super().__init__()
        check_int("n_tokens", n_tokens, min_value=1)
        if init is not None and tuple(init.shape) != (n_tokens, hidden_size):
            raise ValueError(f"init must have shape {(n_tokens, hidden_size)}, got "
                             f"{tuple(init.shape)}")
        self.n_tokens = n_tokens
        self.prompt = nn.Parameter(init.detach().clone() if init is not None
                                   else 0.02 * torch.randn(n_tokens, hidden_size))

    def forward(self, batch_size: int) -> torch.Tensor:
        """(batch_size, n_tokens, hidden_size): the same prompt for every row."""
        return self.prompt.unsqueeze(0).expand(batch_size, -1, -1)


class PromptEncoder(nn.Module):
    """P-tuning (v1): virtual tokens produced by an MLP from free embeddings (peft's MLP shape)."""

    def __init__(self, n_tokens: int, hidden_size: int, encoder_hidden: int) -> None:
        super().__init__()
        check_int("n_tokens", n_tokens, min_value=1)
        self.n_tokens = n_tokens
        self.embedding = nn.Embedding(n_tokens, hidden_size)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.mlp = nn.Sequential(nn.Linear(hidden_size, encoder_hidden), nn.ReLU(),
                                 nn.Linear(encoder_hidden, encoder_hidden), nn.ReLU(),
                                 nn.Linear(encoder_hidden, hidden_size))

    def forward(self, batch_size: int) -> torch.Tensor:
        return self.mlp(self.embedding.weight).unsqueeze(0).expand(batch_size, -1, -1)


class Prefix(nn.Module):
    """Prefix tuning / P-tuning v2: ``n_tokens`` trained keys and values in every layer.

    ``keys``/``values`` are (layers, heads, n_tokens, d_head). With ``projection_hidden``
    they come from an MLP over free embeddings (Li & Liang's reparameterisation, which
    they found necessary for stable training); without, they are trained directly
    (P-tuning v2).
    """

    def __init__(self, n_layers: int, n_heads: int, d_head: int, n_tokens: int, *,
                 projection_hidden: int | None = None, init_std: float = 0.5) -> None:
        super().__init__()
        for name, v in (("n_layers", n_layers), ("n_heads", n_heads), ("d_head", d_head),
                        ("n_tokens", n_tokens)):
            check_int(name, v, min_value=1)
        self.shape = (n_layers, n_heads, n_tokens, d_head)
        self.n_tokens = n_tokens
        width = n_heads * d_head
        if projection_hidden is None:
            self.kv = nn.Parameter(init_std * torch.randn(2, *self.shape))
            self.embedding = self.mlp = None
        else:
            self.kv = None
            self.embedding = nn.Embedding(n_tokens, width)
            self.mlp = nn.Sequential(nn.Linear(width, projection_hidden), nn.Tanh(),
                                     nn.Linear(projection_hidden, 2 * n_layers * width))

    def forward(self, batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer ``(k, v)``, each (batch_size, heads, n_tokens, d_head)."""
        if self.kv is not None:
            kv = self.kv
        else:
            n_layers, n_heads, n_tokens, d_head = self.shape
            flat = self.mlp(self.embedding.weight)  # (P, 2 L H)
            kv = flat.view(n_tokens, 2, n_layers, n_heads, d_head).permute(1, 2, 3, 0, 4)
        return [(kv[0, i].unsqueeze(0).expand(batch_size, -1, -1, -1),
                 kv[1, i].unsqueeze(0).expand(batch_size, -1, -1, -1))
                for i in range(self.shape[0])]


def encode(bert: Bert, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, *,
           prompt: torch.Tensor | None = None,
           prefix: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None) -> torch.Tensor:
    """Our ``Bert`` with soft prompts and/or per-layer prefixes: hidden states (B, P + T, H).

    ``prompt`` (B, P, H) is concatenated in front of the word embeddings *before* the
    position and segment embeddings are added (as ``inputs_embeds`` in Hugging Face: the
    virtual tokens take positions 0..P-1), and the attention mask gets P ones in front.
    ``prefix`` holds one ``(k, v)`` pair (B, heads, P', d_head) per layer, prepended to that
    layer's keys and values (attended by every token; they produce no output rows).
    Without both it equals ``bert(input_ids, None, attention_mask).last_hidden_state``.
    """
    emb = bert.embeddings
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    x = emb.word_embeddings(input_ids)
    if prompt is not None:
        x = torch.cat([prompt.to(x.dtype), x], dim=1)
        attention_mask = extend_attention_mask(attention_mask, prompt.shape[1])
    b, t = x.shape[:2]
    if t > bert.config.max_position_embeddings:
        raise ValueError(f"{t} positions (prompt + tokens) exceed max_position_embeddings="
                         f"{bert.config.max_position_embeddings}")
    positions = torch.arange(t, device=x.device)
    segments = torch.zeros(b, t, dtype=torch.long, device=x.device)
    x = emb.dropout(emb.norm(x + emb.token_type_embeddings(segments)
                             + emb.position_embeddings(positions)))
    keep = attention_mask.bool()
    if prefix is not None and len(prefix) != len(bert.layers):
        raise ValueError(f"prefix has {len(prefix)} (k, v) pairs for {len(bert.layers)} layers")
    for i, layer in enumerate(bert.layers):
        cache, mask = None, keep
        if prefix is not None:
            k, v = prefix[i]
            cache = KVCache(k, v)  # the layer appends this batch's keys/values after the prefix
            mask = extend_attention_mask(keep, k.shape[2])
        x, _, _ = layer(x, key_padding_mask=mask, kv_cache=cache)
    return x


class PeftClassifier(nn.Module):
    """Frozen-or-not ``Bert`` + optional ``prompt`` / ``prefix`` module + a linear classifier.

    Same interface as ``BertClassifier``: ``forward(input_ids, token_type_ids,
    attention_mask, labels) -> (logits, loss)``. Pooling ignores the virtual tokens:
    ``"cls"`` takes the real [CLS] state, ``"mean"`` averages the real tokens. There is no
    pooler (dense + tanh): our encoder has no pretrained one, and a linear head keeps the
    "head only" baseline a true linear probe.
    """

    def __init__(self, bert: Bert, num_labels: int = 2, *, pooling: str = "mean",
                 prompt: nn.Module | None = None, prefix: Prefix | None = None,
                 dropout: float = 0.1) -> None:
        super().__init__()
        check_type("bert", bert, Bert)
        check_int("num_labels", num_labels, min_value=2)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        h = bert.config.hidden_size
        self.bert, self.prompt, self.prefix = bert, prompt, prefix
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(h, num_labels)
        bert._init_weights(self.classifier)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        b = input_ids.shape[0]
        prompt = self.prompt(b) if self.prompt is not None else None
        prefix = self.prefix(b) if self.prefix is not None else None
        hidden = encode(self.bert, input_ids, attention_mask, prompt=prompt, prefix=prefix)
        if prompt is not None:
            hidden = hidden[:, prompt.shape[1]:]  # the real tokens' states
        pooled = hidden[:, 0] if self.pooling == "cls" else mean_pool(hidden, attention_mask)
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return logits, loss


# ---------------------------------------------------------------------------------------
# Functional forms (the exercises' references)
# ---------------------------------------------------------------------------------------
def lora_forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 lora_A: torch.Tensor, lora_B: torch.Tensor, alpha: float) -> torch.Tensor:
    """``x W^T + b + (alpha/r) x A^T B^T`` with W (d, k), A (r, k), B (d, r); x (..., k)."""
    r = lora_A.shape[0]
    y = x @ weight.T + (alpha / r) * (x @ lora_A.T @ lora_B.T)
    return y if bias is None else y + bias


def lora_embedding_forward(input_ids: torch.Tensor, weight: torch.Tensor, lora_A: torch.Tensor,
                           lora_B: torch.Tensor, alpha: float,
                           padding_idx: int | None = None) -> torch.Tensor:
    """``E[x] + (alpha/r) A^T[x] B^T`` with E (V, H), A (r, V), B (H, r); ids (...) -> (..., H)."""
    codes = F.embedding(input_ids, lora_A.T, padding_idx=padding_idx)  # each token's column of A
    rows = F.embedding(input_ids, weight, padding_idx=padding_idx)
    return rows + (alpha / lora_A.shape[0]) * (codes @ lora_B.T)


def merge_lora_weight(weight: torch.Tensor, lora_A: torch.Tensor, lora_B: torch.Tensor,
                      alpha: float) -> torch.Tensor:
    """The merged weight ``W + (alpha/r) B A`` (d, k)."""
    return weight + (alpha / lora_A.shape[0]) * (lora_B @ lora_A)


#: Our BERT's linear layers per block, by LoRA target name: (d_out, d_in) as a function of
#: (hidden H, feed-forward width F).
BERT_LINEARS = {"q_proj": lambda h, f: (h, h), "k_proj": lambda h, f: (h, h),
                "v_proj": lambda h, f: (h, h), "out_proj": lambda h, f: (h, h),
                "c_fc": lambda h, f: (f, h), "c_proj": lambda h, f: (h, f)}


def bert_lora_parameters(hidden: int, intermediate: int, layers: int, r: int,
                         targets: Sequence[str] = ("q_proj", "v_proj")) -> int:
    """Trainable LoRA parameters when ``targets`` of every block of a BERT get rank ``r``."""
    unknown = [t for t in targets if t not in BERT_LINEARS]
    if unknown:
        raise ValueError(f"unknown targets {unknown}; choose from {list(BERT_LINEARS)}")
    shapes = [BERT_LINEARS[t](hidden, intermediate) for t in targets]
    return layers * lora_parameter_count(shapes, r)


def verbalizer_scores(mask_logits: torch.Tensor,
                      label_words: Sequence[Sequence[int]]) -> torch.Tensor:
    """(B, V) MLM logits at [MASK] -> (B, C): ``log sum_{w in words of class c} p(w)``.

    ``p`` is the MLM's softmax over the whole vocabulary, so a class's score is the
    log-probability that the blank is filled by one of its words.
    """
    log_p = mask_logits.log_softmax(-1)
    return torch.stack([log_p[:, list(ids)].logsumexp(-1) for ids in label_words], dim=-1)


def numerical_rank(matrix: torch.Tensor, rtol: float = 1e-4) -> int:
    """Singular values above ``rtol`` x the largest: the rank a float matrix really has."""
    s = torch.linalg.svdvals(matrix.double())
    return int((s > rtol * s.max()).sum()) if s.numel() and s.max() > 0 else 0


def cloze_inputs(tokenizer, texts: Sequence[str], template: str, max_len: int
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fill ``template`` (with ``{text}`` and ``[MASK]``) for each text; the text is cut from
    the left so the template always fits in ``max_len`` tokens.

    Returns ``(input_ids, attention_mask, mask_positions)``, padded on the right.
    """
    if template.count("{text}") != 1 or template.count(tokenizer.mask_token) != 1:
        raise ValueError(f"template needs one {{text}} and one {tokenizer.mask_token}: "
                         f"{template!r}")
    before, after = template.split("{text}")
    def pieces(part: str) -> list[int]:
        return tokenizer(part, add_special_tokens=False)["input_ids"] if part.strip() else []

    pre, post = pieces(before), pieces(after)
    budget = max_len - 2 - len(pre) - len(post)
    if budget < 1:
        raise ValueError(f"template is too long for max_len={max_len}")
    rows = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        rows.append([tokenizer.cls_token_id, *pre, *ids[-budget:], *post, tokenizer.sep_token_id])
    from course_utils.mlm import pad_batch

    input_ids, attention = pad_batch(rows, tokenizer.pad_token_id)
    positions = (input_ids == tokenizer.mask_token_id).float().argmax(1)
    return input_ids, attention, positions
