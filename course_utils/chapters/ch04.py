"""Chapter 04 -- Vision Transformer: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


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


CHAPTER = ChapterSpec(
    number="04",
    stem="04_vit",
    title="Vision Transformer",
    sizes=dict(
        quick=Ch04Sizes(dataset="digits", train_fraction=1.0, d_model=64, n_layers=3,
                        n_heads=4, d_ff=128, cnn_width=32, batch_size=128, train_steps=800,
                        lr=3e-3, weight_decay=0.05, warmup_steps=80, label_smoothing=0.0,
                        eval_every=100, data_fractions=(0.1,), sweep_steps=300, n_analysis=64,
                        max_shift=2, probe_model="google/vit-base-patch16-224",
                        probe_train=0, probe_test=0, probe_steps=0),
        full=Ch04Sizes(dataset="cifar10", train_fraction=1.0, d_model=192, n_layers=6,
                       n_heads=3, d_ff=384, cnn_width=64, batch_size=256, train_steps=12000,
                       lr=1e-3, weight_decay=0.05, warmup_steps=600, label_smoothing=0.1,
                       eval_every=500, data_fractions=(0.1, 0.3), sweep_steps=4000,
                       n_analysis=64, max_shift=4, probe_model="google/vit-base-patch16-224",
                       probe_train=10000, probe_test=2000, probe_steps=1500),
    ),
    targets=(
        Target("probe_test_acc", ">=", 0.0, "the pretrained ViT + CIFAR-10 branch ran",
               profiles=("smoke",)),
        Target("vit_test_acc", ">=", 0.95, "ViT on digits reaches 0.95 test accuracy"),
        Target("vit_train_seconds", "<=", 60.0, "within 60 s of training"),
        Target("hf_parity_max_abs_diff", "<=", 1e-4, "our ViT == HF ViTModel"),
        Target("position_arms_reproduction_max_diff", "<=", 0.01,
               "the notebook's ViT and shift-augmented ViT reproduce tools/ch04_position_arms.py "
               "(results/dev/ch04_position_arms.json) at the same seed", profiles=("quick",)),
        Target("position_arms_seeds", ">=", 3, "the position experiment is reported over 3 seeds",
               profiles=("quick",)),
    ),
    checkers="course_utils.exercises.ch04",
    smoke=dict(d_model=32, n_layers=1, n_heads=2, d_ff=64, cnn_width=8, batch_size=32,
               train_steps=10, warmup_steps=2, eval_every=5, data_fractions=(0.5,),
               sweep_steps=5, n_analysis=8, probe_train=64, probe_test=32, probe_steps=5),
)
