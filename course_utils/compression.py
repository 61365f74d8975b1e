"""Model compression, measured (chapter 10): distillation, pruning, quantization.

* Distillation: ``soft_targets`` (softmax at temperature T), ``kd_loss``
  (α·T²·KL(teacher_T ‖ student_T) + (1−α)·CE), ``ResidualMLP`` (the digits teacher and
  students: pre-LN residual feed-forward blocks, a Transformer without attention) and
  ``init_from_teacher`` (DistilBERT-style: copy every other block).
* Pruning: ``sparsity``, ``magnitude_prune`` (global L1 with ``torch.nn.utils.prune``),
  ``make_permanent``, ``select_channels`` (the neurons ``prune.ln_structured`` keeps),
  ``shrink_ffn`` / ``rebuild_pruned_ffns`` (physically smaller layers), and for Hugging
  Face BERT ``prune_bert_heads`` / ``drop_bert_layers`` (transformers 5 removed
  ``PreTrainedModel.prune_heads``; this does what it did, with ``prune_linear_layer``).
* Quantization: ``affine_qparams``, ``quantize``, ``dequantize``, ``fake_quantize``
  (the affine map by hand, equal to ``torch.quantize_per_tensor`` and ``MinMaxObserver``).
* Measuring: ``count_nonzero``, ``state_dict_bytes`` (size of the saved weights),
  ``measure_latency`` (interleaved medians, so a busy machine slows every model alike).
"""

from __future__ import annotations

import copy
import io
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from course_utils.validation import check_float, check_int, check_type

__all__ = ["soft_targets", "kd_loss", "MLPConfig", "ResidualBlock", "ResidualMLP",
           "init_from_teacher", "sparsity", "magnitude_prune", "make_permanent",
           "effective_state_dict", "select_channels", "shrink_ffn", "rebuild_pruned_ffns",
           "prune_bert_heads", "drop_bert_layers", "affine_qparams", "quantize", "dequantize",
           "fake_quantize", "count_nonzero", "state_dict_bytes", "measure_latency"]


# --- distillation ----------------------------------------------------------------------
def _check_logits(name: str, logits: torch.Tensor) -> None:
    check_type(name, logits, torch.Tensor)
    if logits.ndim < 1 or not logits.is_floating_point():
        raise ValueError(f"{name} must be a float tensor (..., n_classes), got "
                         f"shape {tuple(logits.shape)} dtype {logits.dtype}")


def soft_targets(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """softmax(logits / T) over the last dimension: T > 1 flattens, T < 1 sharpens."""
    _check_logits("logits", logits)
    check_float("temperature", temperature, min_value=0.0, min_inclusive=False)
    return torch.softmax(logits / temperature, dim=-1)


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
            labels: torch.Tensor | None = None, temperature: float = 2.0,
            alpha: float = 0.5) -> torch.Tensor:
    """Hinton et al.'s distillation loss, averaged over the batch.

    ``alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · CE(s, labels)``.
    The KL is the teacher-weighted one (``F.kl_div(log q_student, p_teacher)``); T²
    keeps its gradient on the scale of the CE term when T changes. ``labels=None``
    requires ``alpha == 1`` (pure distillation, e.g. on unlabelled data).
    """
    _check_logits("student_logits", student_logits)
    _check_logits("teacher_logits", teacher_logits)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student and teacher logits must have the same shape, got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    check_float("temperature", temperature, min_value=0.0, min_inclusive=False)
    check_float("alpha", alpha, min_value=0.0, max_value=1.0)
    t = temperature
    log_q = F.log_softmax(student_logits.flatten(0, -2) / t, dim=-1)   # (N, C) student
    log_p = F.log_softmax(teacher_logits.flatten(0, -2).detach() / t, dim=-1)  # (N, C) teacher
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()  # KL(p_teacher || q_student) per row
    loss = alpha * t * t * kl
    if alpha < 1.0:
        if labels is None:
            raise ValueError("labels are needed when alpha < 1 (the cross-entropy term)")
        loss = loss + (1.0 - alpha) * F.cross_entropy(student_logits.flatten(0, -2),
                                                      labels.flatten())
    return loss


@dataclass(frozen=True)
class MLPConfig:
    """Sizes of a ``ResidualMLP``."""

    n_inputs: int = 64  # flattened input features (8x8 digits)
    d_model: int = 128  # width of the residual stream
    d_hidden: int = 256  # width inside each feed-forward block (what structured pruning cuts)
    n_blocks: int = 4  # residual blocks (what layer dropping / every-other-layer init cuts)
    n_classes: int = 10
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("n_inputs", "d_model", "d_hidden", "n_classes"):
            check_int(name, getattr(self, name), min_value=1)
        check_int("n_blocks", self.n_blocks, min_value=0)
        check_float("dropout", self.dropout, min_value=0.0, max_value=1.0)


class ResidualBlock(nn.Module):
    """x + fc2(dropout(relu(fc1(LN(x))))): a Transformer block's feed-forward half."""

    def __init__(self, d_model: int, d_hidden: int, dropout: float = 0.0):
        super().__init__()
        self.ln = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, d_hidden)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(d_hidden, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.drop(self.act(self.fc1(self.ln(x)))))


class ResidualMLP(nn.Module):
    """Flatten -> Linear -> n residual feed-forward blocks -> LN -> head.

    Introduced in: notebooks/10_distillation_pruning.ipynb (teacher and students).
    """

    def __init__(self, config: MLPConfig):
        super().__init__()
        check_type("config", config, MLPConfig)
        c = self.config = config
        self.inp = nn.Linear(c.n_inputs, c.d_model)
        self.blocks = nn.Sequential(*[ResidualBlock(c.d_model, c.d_hidden, c.dropout)
                                      for _ in range(c.n_blocks)])
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) -> (B, n_inputs); no Python-level shape checks here, so that FX can
        # trace the model for static quantization (nn.Linear reports a wrong input size)
        return self.head(self.ln_f(self.blocks(self.inp(x.flatten(1)))))


def init_from_teacher(student: ResidualMLP, teacher: ResidualMLP,
                      blocks: Sequence[int] | None = None) -> ResidualMLP:
    """Copy the teacher's input layer, chosen blocks (default every other), LN and head.

    DistilBERT's initialisation: the student has the teacher's width and half its depth,
    and starts from layers 0, 2, 4, ... of the teacher. Returns ``student`` (modified).
    """
    check_type("student", student, ResidualMLP)
    check_type("teacher", teacher, ResidualMLP)
    s, t = student.config, teacher.config
    if (s.d_model, s.d_hidden, s.n_inputs, s.n_classes) != (t.d_model, t.d_hidden, t.n_inputs,
                                                            t.n_classes):
        raise ValueError(f"student and teacher must have the same widths to copy layers, got "
                         f"student {s} and teacher {t}")
    blocks = list(range(0, t.n_blocks, 2))[: s.n_blocks] if blocks is None else list(blocks)
    if len(blocks) != s.n_blocks or any(not 0 <= b < t.n_blocks for b in blocks):
        raise ValueError(f"need {s.n_blocks} teacher block indices in [0, {t.n_blocks}), "
                         f"got {blocks}")
    with torch.no_grad():
        student.inp.load_state_dict(teacher.inp.state_dict())
        for mine, theirs in zip(student.blocks, blocks):
            mine.load_state_dict(teacher.blocks[theirs].state_dict())
        student.ln_f.load_state_dict(teacher.ln_f.state_dict())
        student.head.load_state_dict(teacher.head.state_dict())
    return student


# --- pruning ---------------------------------------------------------------------------
def _linears(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]


def sparsity(model: nn.Module) -> float:
    """Fraction of exactly-zero entries among the weights of all ``nn.Linear`` layers.

    Reads ``module.weight`` -- the *masked* weight while ``torch.nn.utils.prune`` hooks are
    attached (``model.parameters()`` would show the dense ``weight_orig``). Biases excluded.
    """
    layers = _linears(model)
    if not layers:
        raise ValueError("model has no nn.Linear layers")
    zeros = sum(int((m.weight == 0).sum()) for _, m in layers)
    total = sum(m.weight.numel() for _, m in layers)
    return zeros / total


def magnitude_prune(model: nn.Module, amount: float, skip: Sequence[str] = ()) -> nn.Module:
    """Global unstructured L1 pruning of the Linear weights (not in ``skip``), in place.

    Uses ``prune.global_unstructured``: one threshold over all layers, so layers whose
    weights are small lose more. The masks stay attached (``weight_orig`` + ``weight_mask``)
    until ``make_permanent``. Returns ``model``.
    """
    check_float("amount", amount, min_value=0.0, max_value=1.0)
    targets = [(m, "weight") for name, m in _linears(model) if name not in skip]
    if not targets:
        raise ValueError("no Linear layers to prune")
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=amount)
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """``prune.remove`` on every pruned parameter: bake the mask into a plain dense weight."""
    for module in model.modules():
        for name in [k[:-len("_mask")] for k, _ in module.named_buffers(recurse=False)
                     if k.endswith("_mask")]:
            prune.remove(module, name)
    return model


def effective_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with pruning masks applied: ``w_orig``/``w_mask`` -> ``w``.

    Loads into an unpruned copy of the architecture. (``copy.deepcopy`` of a model with
    pruning hooks fails: the masked ``weight`` is a non-leaf tensor.)
    """
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("_mask"):
            continue
        if key.endswith("_orig"):
            prefix, _, name = key[:-len("_orig")].rpartition(".")
            module = model.get_submodule(prefix) if prefix else model
            key, value = key[:-len("_orig")], getattr(module, name).detach()
        state[key] = value.clone()
    return state


def select_channels(weight: torch.Tensor, amount: float, n: float = 2) -> torch.Tensor:
    """Sorted indices of the rows (output channels) ``prune.ln_structured`` would keep.

    The ``round(amount · rows)`` rows with the smallest L-n norm are dropped, as in
    ``prune.ln_structured(module, "weight", amount, n=n, dim=0)``.
    """
    check_type("weight", weight, torch.Tensor)
    check_float("amount", amount, min_value=0.0, max_value=1.0)
    rows = weight.shape[0]
    n_keep = rows - round(amount * rows)
    norms = torch.linalg.vector_norm(weight.detach().flatten(1), ord=n, dim=1)  # (rows,)
    return torch.topk(norms, n_keep).indices.sort().values


def shrink_ffn(fc1: nn.Linear, fc2: nn.Linear, keep: torch.Tensor,
               fold_dropped: Callable[[torch.Tensor], torch.Tensor] | None = None
               ) -> tuple[nn.Linear, nn.Linear]:
    """New, smaller ``fc1`` (rows ``keep``) and ``fc2`` (columns ``keep``).

    ``fold_dropped``: the activation, when the dropped neurons' *weights* were masked but
    their biases kept (what ``prune.ln_structured`` does): each then outputs the constant
    act(bias), whose contribution ``fc2.weight[:, j] · act(b_j)`` is folded into fc2's
    bias, so the small layers compute exactly what the masked ones did. Without it the
    dropped neurons vanish entirely (weights and bias).
    """
    check_type("fc1", fc1, nn.Linear)
    check_type("fc2", fc2, nn.Linear)
    if fc1.out_features != fc2.in_features:
        raise ValueError(f"fc1 outputs {fc1.out_features} features but fc2 takes "
                         f"{fc2.in_features}")
    keep = torch.as_tensor(keep, dtype=torch.long)
    w1, w2 = fc1.weight.detach(), fc2.weight.detach()  # masked weights if hooks are attached
    new1 = nn.Linear(fc1.in_features, len(keep), bias=fc1.bias is not None)
    new2 = nn.Linear(len(keep), fc2.out_features, bias=fc2.bias is not None)
    with torch.no_grad():
        new1.weight.copy_(w1[keep])
        new2.weight.copy_(w2[:, keep])
        if fc1.bias is not None:
            new1.bias.copy_(fc1.bias.detach()[keep])
        if fc2.bias is not None:
            bias = fc2.bias.detach().clone()
            if fold_dropped is not None and fc1.bias is not None:
                dropped = torch.ones(fc1.out_features, dtype=torch.bool)
                dropped[keep] = False
                bias += w2[:, dropped] @ fold_dropped(fc1.bias.detach()[dropped])
            new2.bias.copy_(bias)
    return new1, new2


def rebuild_pruned_ffns(model: ResidualMLP) -> ResidualMLP:
    """A copy of a ``ResidualMLP`` whose ``ln_structured``-masked fc1 rows are removed.

    Each block keeps the fc1 rows whose mask is not all zero; the dropped neurons'
    constant ReLU(bias) output is folded into fc2's bias, so the rebuilt model equals the
    masked one (to float rounding) while its matrices are really smaller.
    """
    check_type("model", model, ResidualMLP)
    small = ResidualMLP(model.config)  # (a pruned model cannot be deep-copied: see below)
    small.load_state_dict(effective_state_dict(model))
    widths = []
    for block, source in zip(small.blocks, model.blocks):
        mask = getattr(source.fc1, "weight_mask", None)
        keep = (torch.arange(block.fc1.out_features) if mask is None
                else mask.flatten(1).any(1).nonzero().flatten())
        block.fc1, block.fc2 = shrink_ffn(block.fc1, block.fc2, keep, fold_dropped=F.relu)
        widths.append(len(keep))
    if len(set(widths)) == 1:
        small.config = MLPConfig(**{**small.config.__dict__, "d_hidden": widths[0]})
    return small


def prune_bert_heads(model: nn.Module, heads: Mapping[int, Sequence[int]]) -> nn.Module:
    """Remove attention heads from a Hugging Face BERT encoder, in place.

    ``heads`` maps a layer index to the heads to remove. Rows of the query/key/value
    projections and columns of the attention output projection are cut with
    ``transformers.pytorch_utils.prune_linear_layer`` (what ``prune_heads`` did before
    transformers 5 removed it). Accepts ``BertModel`` or a model with a ``.bert``.
    """
    from transformers.pytorch_utils import prune_linear_layer

    bert = getattr(model, "bert", model)
    layers = bert.encoder.layer
    for layer_index, remove in heads.items():
        check_int("layer", layer_index, min_value=0, max_value=len(layers) - 1)
        attention = layers[layer_index].attention
        self_attn = attention.self
        size = self_attn.attention_head_size
        n_heads = self_attn.num_attention_heads
        remove = sorted(set(int(h) for h in remove))
        if any(not 0 <= h < n_heads for h in remove):
            raise ValueError(f"layer {layer_index} has {n_heads} heads, cannot remove {remove}")
        if len(remove) == n_heads:
            raise ValueError(f"cannot remove all {n_heads} heads of layer {layer_index} "
                             f"(drop the layer instead)")
        if not remove:
            continue
        keep_heads = [h for h in range(n_heads) if h not in remove]
        index = torch.cat([torch.arange(h * size, (h + 1) * size) for h in keep_heads])
        self_attn.query = prune_linear_layer(self_attn.query, index)
        self_attn.key = prune_linear_layer(self_attn.key, index)
        self_attn.value = prune_linear_layer(self_attn.value, index)
        attention.output.dense = prune_linear_layer(attention.output.dense, index, dim=1)
        self_attn.num_attention_heads = len(keep_heads)
        self_attn.all_head_size = len(keep_heads) * size
    return model


def drop_bert_layers(model: nn.Module, keep: Sequence[int]) -> nn.Module:
    """A copy of a Hugging Face BERT model with only encoder layers ``keep`` (in order)."""
    small = copy.deepcopy(model)
    bert = getattr(small, "bert", small)
    layers = bert.encoder.layer
    keep = list(keep)
    if not keep or any(not 0 <= i < len(layers) for i in keep):
        raise ValueError(f"keep must list layer indices in [0, {len(layers)}), got {keep}")
    bert.encoder.layer = nn.ModuleList(layers[i] for i in keep)
    for new_index, layer in enumerate(bert.encoder.layer):  # cache bookkeeping (decoders)
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = new_index
    small.config.num_hidden_layers = len(keep)
    return small


# --- quantization ----------------------------------------------------------------------
def affine_qparams(x_min: float, x_max: float, bits: int = 8, symmetric: bool = False
                   ) -> tuple[float, int, int, int]:
    """(scale, zero_point, q_min, q_max) of the affine map for values in [x_min, x_max].

    Asymmetric (unsigned q in [0, 2^b − 1]): the range is widened to include 0, scale =
    (max − min) / (2^b − 1), zero_point = q_min − round(min / scale) -- as
    ``MinMaxObserver(dtype=torch.quint8)``. Symmetric (signed q in [−(2^(b−1) − 1),
    2^(b−1) − 1]): scale = max|x| / (2^(b−1) − 1), zero_point = 0.
    """
    check_int("bits", bits, min_value=1, max_value=16)
    # float32 arithmetic, as PyTorch's observers do, so the integers match torch's exactly
    x_min = min(float(torch.tensor(float(x_min), dtype=torch.float32)), 0.0)
    x_max = max(float(torch.tensor(float(x_max), dtype=torch.float32)), 0.0)
    if x_min > x_max:
        raise ValueError(f"x_min must be <= x_max, got {x_min} > {x_max}")
    f32 = torch.float32
    eps = torch.finfo(f32).eps
    if symmetric:
        q_max = max(2 ** (bits - 1) - 1, 1)
        q_min = -q_max if bits > 1 else -1
        scale = torch.tensor(max(-x_min, x_max), dtype=f32) / q_max
        return float(torch.clamp(scale, min=eps)), 0, q_min, q_max
    q_min, q_max = 0, 2 ** bits - 1
    scale = (torch.tensor(x_max, dtype=f32) - torch.tensor(x_min, dtype=f32)) / float(q_max - q_min)
    scale = torch.clamp(scale, min=eps)
    zero_point = q_min - int(torch.round(torch.tensor(x_min, dtype=f32) / scale))
    return float(scale), int(min(max(zero_point, q_min), q_max)), q_min, q_max


def quantize(x: torch.Tensor, scale: float, zero_point: int, q_min: int, q_max: int
             ) -> torch.Tensor:
    """q = clamp(round(x / scale) + zero_point, q_min, q_max) as int32 (round half to even).

    Computed as ``round(x * (1 / scale) + zero_point)`` in float32, the order PyTorch's
    kernels use, so that values on a rounding tie land on the same integer as
    ``torch.quantize_per_tensor`` (exactly, tested).
    """
    check_type("x", x, torch.Tensor)
    check_float("scale", scale, min_value=0.0, min_inclusive=False)
    inv_scale = torch.tensor(1.0, dtype=torch.float32) / torch.tensor(scale, dtype=torch.float32)
    q = torch.round(x.to(torch.float32) * inv_scale + zero_point)
    return torch.clamp(q, q_min, q_max).to(torch.int32)


def dequantize(q: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    """x̂ = scale · (q − zero_point)."""
    check_type("q", q, torch.Tensor)
    return scale * (q.to(torch.float32) - zero_point)


def fake_quantize(x: torch.Tensor, bits: int = 8, symmetric: bool = False) -> torch.Tensor:
    """Quantize then dequantize ``x`` with min/max calibration on ``x`` itself."""
    check_type("x", x, torch.Tensor)
    scale, zero_point, q_min, q_max = affine_qparams(float(x.min()), float(x.max()), bits,
                                                     symmetric)
    return dequantize(quantize(x, scale, zero_point, q_min, q_max), scale, zero_point)


# --- measuring -------------------------------------------------------------------------
def count_nonzero(model: nn.Module) -> int:
    """Number of non-zero parameter values, with pruning masks applied.

    With pruning hooks attached, the effective tensors (``weight``), not ``weight_orig``,
    are counted. (All values, zero or not: ``course_utils.models.count_parameters``.)
    """
    total = 0
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            value = getattr(module, name[:-len("_orig")]) if name.endswith("_orig") else param
            total += int((value != 0).sum())
    return total


def state_dict_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: the size of the checkpoint on disk."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


@torch.inference_mode()
def measure_latency(models: Mapping[str, Callable[[torch.Tensor], torch.Tensor]],
                    inputs: torch.Tensor, repeats: int = 50, warmup: int = 5,
                    clock: str = "cpu") -> dict[str, float]:
    """Median milliseconds per forward pass of each model on ``inputs``.

    ``clock="cpu"`` (default) times with ``time.thread_time``: the CPU time of this
    thread, which is the latency on an idle machine for single-threaded inference and is
    not inflated when other processes take the cores (on a busy 2-core machine wall-clock
    medians of one and the same model differed severalfold). ``clock="wall"`` uses
    ``time.perf_counter`` (what a user waits, including multi-threaded kernels).

    The models take turns inside every repeat (interleaved), so a burst of load from
    other processes slows them all instead of whichever happened to run then, and the
    order rotates from repeat to repeat, so no model is always the first of a round.
    """
    check_int("repeats", repeats, min_value=1)
    check_int("warmup", warmup, min_value=0)
    if clock not in ("cpu", "wall"):
        raise ValueError(f"clock must be 'cpu' or 'wall', got {clock!r}")
    timer = time.thread_time if clock == "cpu" else time.perf_counter
    if not models:
        raise ValueError("models must contain at least one model")
    for model in models.values():
        if isinstance(model, nn.Module):
            model.eval()
        for _ in range(warmup):
            model(inputs)
    times: dict[str, list[float]] = {name: [] for name in models}
    names = list(models)
    for r in range(repeats):
        # rotate the order every round, so that no model is always the first of a round
        # (the first one finds caches cold after other processes ran)
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = timer()
            models[name](inputs)
            times[name].append(timer() - start)
    return {name: 1000 * statistics.median(ts) for name, ts in times.items()}
