"""Chapter 09 -- Optimizers & LR schedules: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


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


CHAPTER = ChapterSpec(
    number="09",
    stem="09_optimizers_schedules",
    title="Optimizers & LR schedules",
    sizes=dict(
        quick=Ch09Sizes(landscape_steps=150, parity_steps=100, toy_steps=300, mlp_depth=20,
                        mlp_width=64, lm_chars=400_000, lm_context=32,
                        lm_batch=16, lm_width=64, lm_layers=4, lm_steps=120, lm_warmup=40,
                        lm_peak_lr=1.5e-2, seeds=(0, 1), finder_steps=100, widget_steps=300),
        full=Ch09Sizes(landscape_steps=300, parity_steps=100, toy_steps=1000, mlp_depth=24,
                       mlp_width=128, lm_chars=3_000_000, lm_context=64,
                       lm_batch=32, lm_width=64, lm_layers=4, lm_steps=600, lm_warmup=150,
                       lm_peak_lr=1.5e-2, seeds=(0, 1, 2, 3), finder_steps=300,
                       widget_steps=600),
    ),
    targets=(
        Target("optimizer_parity_max_abs_diff", "<=", 1e-6, "our optimizers == torch.optim"),
        Target("schedule_parity_max_abs_diff", "<=", 1e-9, "our schedules == torch/transformers"),
        Target("grad_accum_max_param_diff", "<=", 1e-5, "accumulation == the big batch"),
        Target("warmup_gain_nats", ">=", 0.1, "warmup makes a measurable difference"),
    ),
    checkers="course_utils.exercises.ch09",
    smoke=dict(landscape_steps=20, toy_steps=50, mlp_depth=6, mlp_width=32, lm_chars=50_000,
               lm_context=32, lm_batch=8, lm_width=32, lm_layers=2, lm_steps=20, lm_warmup=5,
               seeds=(0,), finder_steps=20, widget_steps=50),
)
