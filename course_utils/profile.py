"""The single quick/full switch: every size a notebook uses comes from here.

``COURSE_PROFILE=quick|full|auto`` (default ``auto``: ``full`` when CUDA is available,
else ``quick``). ``quick`` finishes every chapter in <= 120 s on a 2-core CPU; ``full`` is
the real thing on one GPU. Notebooks read sizes only through the returned ``Profile`` --
general knobs as attributes, chapter-specific ones via ``P.sizes("NN")``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from course_utils.validation import check_choice

PROFILE_NAMES = ("quick", "full")


# ---------------------------------------------------------------------------------------
# Chapter sizes: one frozen dataclass per chapter, with a quick and a full instance.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ch00Sizes:
    """Chapter 00: tiny MLPs trained on a fixed task to fit a scaling law."""

    widths: tuple[int, ...]  # hidden widths of the models in the scaling sweep
    depth: int  # hidden layers per model
    train_steps: int  # optimizer steps per model
    n_train: int  # training examples of the synthetic task
    n_test: int


@dataclass(frozen=True)
class Ch01Sizes:
    """Chapter 01: GRU and Transformer encoder-decoders on dates, plus a digit-reversal toy."""

    n_train: int  # training dates used (of the 40,000 in data/dates)
    n_test: int  # held-out test dates evaluated (of 2,000)
    gru_batch: int  # sentences per optimizer step of the GRU models
    gru_emb: int  # character-embedding width of the GRU models
    gru_hidden: int  # decoder state width (the bidirectional encoder: half per direction)
    gru_steps: int  # optimizer steps of each GRU model on dates
    gru_lr: float  # peak learning rate (one-cycle schedule) of the GRU models
    date_attention: tuple[str, ...]  # attention variants trained on dates ("luong", "bahdanau")
    tf_d_model: int  # width of the Transformer encoder-decoder
    tf_heads: int
    tf_enc_layers: int
    tf_dec_layers: int
    tf_d_ff: int  # MLP width inside each Transformer block
    tf_batch: int  # sentences per step (smaller than the GRUs': more updates, same compute)
    tf_steps: int
    tf_lr: float
    toy_max_len: int  # longest digit string of the reversal task (shortest: 3)
    toy_hidden: int  # GRU width of the toy models
    toy_steps: int
    toy_batch: int
    toy_n_test: int  # test strings per toy evaluation


@dataclass(frozen=True)
class Ch02Sizes:
    """Chapter 02: n-gram baselines, BPE, a small GPT trained on reviews, decoding experiments."""

    char_reviews: int  # training reviews of the character (byte) n-gram models
    char_orders: tuple[int, ...]  # n of the character n-gram models
    bpe_demo_reviews: int  # reviews the pure-Python byte-level BPE is trained on
    bpe_demo_merges: int  # merges it learns
    vocab_size: int  # byte-level BPE vocabulary of the GPT (HF tokenizers)
    tokenizer_reviews: int  # reviews the HF tokenizer is trained on
    train_reviews: int  # training reviews (GPT and n-gram baselines see the same ones)
    val_reviews: int  # validation reviews for perplexity
    preset: str  # GPTConfig preset (vocab_size and n_positions are set from the data)
    context: int  # tokens per training window = n_positions
    batch_size: int  # windows per optimizer step
    steps: int  # optimizer steps
    lr: float  # peak learning rate (AdamW, warmup + cosine)
    warmup: int  # warmup steps
    eval_every: int  # steps between perplexity checks on a validation slice
    eval_tokens: int  # validation tokens used for those checks (the final one uses all)
    new_tokens: int  # tokens generated per continuation
    temperatures: tuple[float, ...]  # temperature sweep of the diversity/quality plot
    samples: int  # continuations per temperature (and per decoding method)
    beam_widths: tuple[int, ...]  # beam widths compared
    kv_repeats: int  # timing repeats of the KV-cache benchmark (best of)


@dataclass(frozen=True)
class Ch03Sizes:
    """Chapter 03: WordPiece, masking statistics, a small BERT pretrained with MLM, fine-tuning."""

    vocab_size: int  # WordPiece vocabulary trained on the reviews
    max_len: int  # tokens per review ([CLS] ... [SEP]; longer reviews are truncated)
    stats_reviews: int  # training reviews whose tokens feed the masking statistics
    hidden_size: int  # encoder width H
    layers: int  # encoder blocks L
    heads: int  # attention heads A
    pretrain_batch: int  # reviews per MLM step
    pretrain_steps: int  # MLM optimizer steps
    pretrain_lr: float  # peak LR (AdamW, warmup + cosine)
    pretrain_warmup: int
    eval_every: int  # steps between masked-accuracy checks on validation reviews
    eval_reviews: int  # validation reviews of those checks
    finetune_labels: int  # labelled training reviews for fine-tuning (the scarce resource)
    finetune_batch: int
    finetune_steps: int  # optimizer steps of each fine-tuning run (four runs)
    finetune_lr: float
    identity_steps: int  # steps of the "no masking" demo (an encoder that learns to copy)
    hub_model: str  # pretrained checkpoint of the online section
    hub_finetune_steps: int  # fine-tuning steps of the Hub model (0 = fill-mask demo only)


@dataclass(frozen=True)
class Ch04Sizes:
    """Chapter 04: a small ViT and a CNN trained with the same budget; attention analysis."""

    dataset: str  # "digits" (scikit-learn, offline) | "cifar10" (Hub; digits when offline)
    train_fraction: float  # class-balanced share of the training split that is used
    d_model: int  # ViT width
    n_layers: int  # ViT blocks
    n_heads: int  # attention heads per block
    d_ff: int  # ViT MLP width
    cnn_width: int  # channels of the CNN's first stage (doubled at each downsampling)
    batch_size: int  # images per optimizer step (both models)
    train_steps: int  # optimizer steps (both models: the same budget)
    lr: float  # AdamW peak learning rate (both models; warmup + cosine)
    weight_decay: float
    warmup_steps: int
    label_smoothing: float
    eval_every: int  # steps between validation-accuracy checks (learning curves)
    data_fractions: tuple[float, ...]  # training-set shares of the data-size sweep (() = skip)
    sweep_steps: int  # optimizer steps per model and share in that sweep
    n_analysis: int  # test images whose attention is analysed and shown in the explorer
    max_shift: int  # largest pixel shift of the translation test
    probe_model: str  # pretrained ViT of the online section
    probe_train: int  # CIFAR-10 training images embedded for the linear probe (0 = skip)
    probe_test: int  # CIFAR-10 test images the probe is scored on
    probe_steps: int  # optimizer steps of the linear probe


@dataclass(frozen=True)
class Ch09Sizes:
    """Chapter 09: optimizer trajectories, toy fits, gradient health, the warmup experiment."""

    landscape_steps: int  # optimizer steps on the 2-D loss surfaces
    parity_steps: int  # steps before comparing our optimizers with torch.optim (target: 100)
    toy_steps: int  # steps of the small fits (Adam + L2 vs AdamW; accumulation uses 1/10)
    mlp_depth: int  # hidden layers of the deep MLP in the gradient-health demo
    mlp_width: int
    lm_chars: int  # characters of review text the character LM trains on
    lm_context: int  # characters per training window
    lm_batch: int  # windows per batch
    lm_width: int  # n_embd of the small Transformer
    lm_layers: int
    lm_steps: int  # optimizer steps per warmup-experiment run
    lm_warmup: int  # warmup steps of the "with warmup" runs
    lm_peak_lr: float  # peak LR: high enough that post-LN without warmup fails (measured)
    seeds: tuple[int, ...]  # seeds of the warmup experiment (>= 2)
    finder_steps: int  # steps of the LR range test
    widget_steps: int  # default total steps in the LR explorer (its demo run)


_CHAPTER_SIZES: dict[str, dict[str, Any]] = {
    "00": {
        "quick": Ch00Sizes(widths=(2, 4, 8, 16, 32, 64), depth=2, train_steps=400,
                           n_train=4096, n_test=2048),
        "full": Ch00Sizes(widths=(2, 4, 8, 16, 32, 64, 128, 256, 512), depth=3,
                          train_steps=3000, n_train=65536, n_test=16384),
    },
    # <chapter-sizes>: chapters add their entries below this line (keep numeric order).
    "01": {
        "quick": Ch01Sizes(n_train=40000, n_test=2000, gru_batch=64, gru_emb=32, gru_hidden=64,
                           gru_steps=500, gru_lr=1e-2, date_attention=("luong",), tf_d_model=64,
                           tf_heads=4, tf_enc_layers=1, tf_dec_layers=1, tf_d_ff=128,
                           tf_batch=32, tf_steps=1200, tf_lr=5e-3, toy_max_len=20,
                           toy_hidden=64, toy_steps=200, toy_batch=64, toy_n_test=1000),
        "full": Ch01Sizes(n_train=40000, n_test=2000, gru_batch=64, gru_emb=64, gru_hidden=128,
                          gru_steps=4000, gru_lr=5e-3, date_attention=("bahdanau", "luong"),
                          tf_d_model=128, tf_heads=4, tf_enc_layers=3, tf_dec_layers=3,
                          tf_d_ff=512, tf_batch=64, tf_steps=8000, tf_lr=1e-3, toy_max_len=40,
                          toy_hidden=128, toy_steps=3000, toy_batch=128, toy_n_test=4000),
    },
    "02": {
        "quick": Ch02Sizes(char_reviews=3000, char_orders=(1, 2, 3, 5), bpe_demo_reviews=1000,
                           bpe_demo_merges=150, vocab_size=512, tokenizer_reviews=3000,
                           train_reviews=6000, val_reviews=600, preset="course-micro",
                           context=64, batch_size=32, steps=400, lr=6e-3, warmup=30,
                           eval_every=50, eval_tokens=8192, new_tokens=40,
                           temperatures=(0.2, 0.5, 0.8, 1.0, 1.3, 1.7), samples=12,
                           beam_widths=(1, 2, 4, 8), kv_repeats=3),
        "full": Ch02Sizes(char_reviews=9000, char_orders=(1, 2, 3, 5, 6), bpe_demo_reviews=3000,
                          bpe_demo_merges=400, vocab_size=1024, tokenizer_reviews=18000,
                          train_reviews=18000, val_reviews=3000, preset="course-mini",
                          context=128, batch_size=64, steps=4000, lr=2e-3, warmup=200,
                          eval_every=500, eval_tokens=65536, new_tokens=80,
                          temperatures=(0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 1.8), samples=32,
                          beam_widths=(1, 2, 4, 8, 16), kv_repeats=5),
    },
    "03": {
        "quick": Ch03Sizes(vocab_size=2000, max_len=64, stats_reviews=8000, hidden_size=64,
                           layers=2, heads=4, pretrain_batch=64, pretrain_steps=750,
                           pretrain_lr=5e-3, pretrain_warmup=80, eval_every=100,
                           eval_reviews=400, finetune_labels=2000, finetune_batch=32,
                           finetune_steps=160, finetune_lr=1e-3, identity_steps=60,
                           hub_model="google-bert/bert-base-uncased", hub_finetune_steps=0),
        "full": Ch03Sizes(vocab_size=4000, max_len=128, stats_reviews=18000, hidden_size=256,
                          layers=4, heads=4, pretrain_batch=128, pretrain_steps=20000,
                          pretrain_lr=1e-3, pretrain_warmup=1000, eval_every=1000,
                          eval_reviews=3000, finetune_labels=18000, finetune_batch=64,
                          finetune_steps=2000, finetune_lr=2e-4, identity_steps=200,
                          hub_model="google-bert/bert-base-uncased", hub_finetune_steps=600),
    },
    "04": {
        "quick": Ch04Sizes(dataset="digits", train_fraction=1.0, d_model=64, n_layers=3,
                           n_heads=4, d_ff=128, cnn_width=32, batch_size=128, train_steps=800,
                           lr=3e-3, weight_decay=0.05, warmup_steps=80, label_smoothing=0.0,
                           eval_every=100, data_fractions=(0.1,), sweep_steps=300, n_analysis=64,
                           max_shift=2, probe_model="google/vit-base-patch16-224",
                           probe_train=0, probe_test=0, probe_steps=0),
        "full": Ch04Sizes(dataset="cifar10", train_fraction=1.0, d_model=192, n_layers=6,
                          n_heads=3, d_ff=384, cnn_width=64, batch_size=256, train_steps=12000,
                          lr=1e-3, weight_decay=0.05, warmup_steps=600, label_smoothing=0.1,
                          eval_every=500, data_fractions=(0.1, 0.3), sweep_steps=4000,
                          n_analysis=64, max_shift=4, probe_model="google/vit-base-patch16-224",
                          probe_train=10000, probe_test=2000, probe_steps=1500),
    },
    "09": {
        "quick": Ch09Sizes(landscape_steps=150, parity_steps=100, toy_steps=300, mlp_depth=20,
                           mlp_width=64, lm_chars=400_000, lm_context=32,
                           lm_batch=16, lm_width=64, lm_layers=4, lm_steps=120, lm_warmup=40,
                           lm_peak_lr=1.5e-2, seeds=(0, 1), finder_steps=100, widget_steps=300),
        "full": Ch09Sizes(landscape_steps=300, parity_steps=100, toy_steps=1000, mlp_depth=24,
                          mlp_width=128, lm_chars=3_000_000, lm_context=64,
                          lm_batch=32, lm_width=64, lm_layers=4, lm_steps=600, lm_warmup=150,
                          lm_peak_lr=1.5e-2, seeds=(0, 1, 2, 3), finder_steps=300,
                          widget_steps=600),
    },
}


@dataclass(frozen=True)
class Profile:
    """Sizes shared by every chapter plus per-chapter sizes; frozen so nothing drifts."""

    name: str  # "quick" | "full"
    reason: str  # why this profile was chosen (shown in the banner)
    data_fraction: float  # share of each dataset split used for training/eval
    batch_size: int  # default mini-batch size
    eval_batches: int  # batches per periodic evaluation
    max_train_seconds: float  # soft wall-clock budget for one training run
    use_hub_models: bool  # try pretrained Hub checkpoints (when the Hub is reachable)
    torch_threads: int | None  # CPU threads for torch (None = torch's default); see below
    chapters: MappingProxyType = field(repr=False, default_factory=lambda: MappingProxyType({}))

    def sizes(self, chapter: str) -> Any:
        """Return the frozen size dataclass of ``chapter`` (e.g. ``"01"``) for this profile."""
        if chapter not in self.chapters:
            raise KeyError(
                f"no sizes for chapter {chapter!r} in profile {self.name!r}; "
                f"known chapters: {sorted(self.chapters)}"
            )
        return self.chapters[chapter]

    def describe(self, chapter: str | None = None) -> str:
        """One line for the notebook banner (names the chapter's size class if given)."""
        line = f"profile: {self.name} ({self.reason})"
        if chapter is not None and chapter in self.chapters:
            line += f" · sizes: {type(self.chapters[chapter]).__name__} (course_utils/profile.py)"
        return line


_BASE = {
    # quick: one thread. The course's models are tiny; on a 2-core laptop (or CI runner
    # executing two notebooks at once) thread hand-offs cost more than they save, and
    # oversubscription made training 10-15x slower when measured.
    "quick": dict(data_fraction=0.25, batch_size=64, eval_batches=4, max_train_seconds=45.0,
                  use_hub_models=False, torch_threads=1),
    "full": dict(data_fraction=1.0, batch_size=128, eval_batches=50, max_train_seconds=1800.0,
                 use_hub_models=True, torch_threads=None),
}


def _chapters_for(name: str) -> MappingProxyType:
    return MappingProxyType({ch: by_name[name] for ch, by_name in _CHAPTER_SIZES.items()})


def get_profile(name: str, reason: str = "requested") -> Profile:
    """Build the named profile (``quick`` or ``full``)."""
    check_choice("profile name", name, PROFILE_NAMES)
    return Profile(name=name, reason=reason, chapters=_chapters_for(name), **_BASE[name])


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return torch.cuda.is_available()


def current_profile() -> Profile:
    """Read ``COURSE_PROFILE`` (quick|full|auto, default auto) and return the profile."""
    raw = os.environ.get("COURSE_PROFILE", "auto").strip().lower() or "auto"
    check_choice("COURSE_PROFILE", raw, (*PROFILE_NAMES, "auto"))
    if raw != "auto":
        return get_profile(raw, reason="COURSE_PROFILE")
    if _cuda_available():
        return get_profile("full", reason="auto: CUDA available")
    return get_profile("quick", reason="auto: no CUDA")


def profile_table() -> list[dict[str, Any]]:
    """Rows comparing quick and full (general knobs), for the README and chapter 00."""
    quick, full = get_profile("quick"), get_profile("full")
    skip = {"name", "reason", "chapters"}
    return [{"setting": f.name, "quick": getattr(quick, f.name), "full": getattr(full, f.name)}
            for f in fields(Profile) if f.name not in skip]
