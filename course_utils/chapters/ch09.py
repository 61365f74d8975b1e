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
    demo_seeds: tuple[int, ...]  # seeds of the explorer-scenario measurement (>= 3)
    lb_small_batch: int  # batch of the small-batch reference run (LAMB section)
    lb_factor: int  # the large batch is lb_factor x lb_small_batch
    lb_epochs: int  # epochs of every run there (same examples; the large batch takes fewer steps)
    lb_base_lr: float  # LR of the small-batch reference; the large-batch grid scales it
    lb_lr_powers: tuple[float, ...]  # large-batch LRs: lb_base_lr * lb_factor ** power
    lb_width: int  # width of the 3-hidden-layer MLP (LayerNorm + GELU) on the digits
    lb_seeds: tuple[int, ...]  # seeds; the LR grid is swept on the first (validation accuracy)
    cap_vocab: int  # word vocabulary of the capstone classifier (incl. <pad>, <unk>)
    cap_len: int  # words per review it reads (the last cap_len)
    cap_width: int  # n_embd of its TinyTransformer
    cap_layers: int
    cap_micro_batch: int  # reviews per micro-batch
    cap_accum: int  # micro-batches per optimizer step (effective batch = product)
    cap_steps: int  # optimizer steps
    cap_warmup: int  # warmup steps, then cosine decay to 0
    cap_lr: float  # AdamW peak LR
    cap_eval_every: int  # steps between validation evaluations (learning curves)
    cap_val: int  # validation reviews used for the curves (the test split is scored once)


CHAPTER = ChapterSpec(
    number="09",
    stem="09_optimizers_schedules",
    title="Optimizers & LR schedules",
    sizes=dict(
        quick=Ch09Sizes(landscape_steps=150, parity_steps=100, toy_steps=300, mlp_depth=20,
                        mlp_width=64, lm_chars=400_000, lm_context=32,
                        lm_batch=16, lm_width=64, lm_layers=4, lm_steps=120, lm_warmup=40,
                        lm_peak_lr=1.5e-2, seeds=(0, 1), finder_steps=100, widget_steps=300,
                        demo_seeds=(0, 1, 2), lb_small_batch=128, lb_factor=8, lb_epochs=20,
                        lb_base_lr=1e-3, lb_lr_powers=(0.0, 0.5, 1.0, 1.5, 2.0), lb_width=256,
                        lb_seeds=(0, 1, 2), cap_vocab=2000, cap_len=32, cap_width=32,
                        cap_layers=2, cap_micro_batch=32, cap_accum=4, cap_steps=150,
                        cap_warmup=15, cap_lr=3e-3, cap_eval_every=15, cap_val=1000),
        full=Ch09Sizes(landscape_steps=300, parity_steps=100, toy_steps=1000, mlp_depth=24,
                       mlp_width=128, lm_chars=3_000_000, lm_context=64,
                       lm_batch=32, lm_width=64, lm_layers=4, lm_steps=600, lm_warmup=150,
                       lm_peak_lr=1.5e-2, seeds=(0, 1, 2, 3), finder_steps=300,
                       widget_steps=600, demo_seeds=(0, 1, 2, 3, 4), lb_small_batch=128,
                       lb_factor=16, lb_epochs=40, lb_base_lr=1e-3,
                       lb_lr_powers=(0.0, 0.5, 1.0, 1.5, 2.0), lb_width=512, lb_seeds=(0, 1, 2),
                       cap_vocab=4000, cap_len=64, cap_width=64, cap_layers=4,
                       cap_micro_batch=32, cap_accum=4, cap_steps=1000, cap_warmup=100,
                       cap_lr=1e-3, cap_eval_every=50, cap_val=3000),
    ),
    targets=(
        Target("optimizer_parity_max_abs_diff", "<=", 1e-6, "our optimizers == torch.optim"),
        Target("schedule_parity_max_abs_diff", "<=", 1e-9, "our schedules == torch/transformers"),
        Target("grad_accum_max_param_diff", "<=", 1e-5, "accumulation == the big batch"),
        Target("warmup_gain_nats", ">=", 0.1, "warmup makes a measurable difference"),
        Target("capstone_test_acc", ">=", 0.70, "the full recipe trains the small Transformer "
               "classifier well above the majority class (0.5)"),
    ),
    checkers="course_utils.exercises.ch09",
    smoke=dict(landscape_steps=20, toy_steps=50, mlp_depth=6, mlp_width=32, lm_chars=50_000,
               lm_context=32, lm_batch=8, lm_width=32, lm_layers=2, lm_steps=20, lm_warmup=5,
               seeds=(0,), finder_steps=20, widget_steps=50, demo_seeds=(0,), lb_epochs=2,
               lb_factor=4, lb_width=32, lb_seeds=(0,), lb_lr_powers=(0.0, 1.0), cap_vocab=200,
               cap_len=16, cap_width=16, cap_layers=1, cap_steps=6, cap_warmup=2,
               cap_eval_every=3, cap_val=64),
)
