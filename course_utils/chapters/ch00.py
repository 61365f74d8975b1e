"""Chapter 00 -- Setup & the large-model landscape: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


@dataclass(frozen=True)
class Ch00Sizes:
    """Chapter 00: tiny MLPs trained on a fixed task to fit a scaling law."""

    widths: tuple[int, ...]  # hidden widths of the models in the scaling sweep
    depth: int  # hidden layers per model
    train_steps: int  # optimizer steps per model
    n_train: int  # training examples of the synthetic task
    n_test: int


CHAPTER = ChapterSpec(
    number="00",
    stem="00_setup_and_landscape",
    title="Setup & the large-model landscape",
    sizes=dict(
        quick=Ch00Sizes(widths=(2, 4, 8, 16, 32, 64), depth=2, train_steps=400,
                        n_train=4096, n_test=2048),
        full=Ch00Sizes(widths=(2, 4, 8, 16, 32, 64, 128, 256, 512), depth=3,
                       train_steps=3000, n_train=65536, n_test=16384),
    ),
    targets=(
        Target("gpt2_config_source", "==", "hub", "the Hub branch loaded gpt2's config",
               profiles=("smoke",)),
        Target("env_ok", "==", True, "the environment check passes"),
        Target("scaling_fit_r2", ">=", 0.9, "the power law fits the measured losses"),
    ),
    runtime_budget_s=30.0,
    checkers="course_utils.exercises.ch00",
    smoke=dict(widths=(2, 4, 8, 16), depth=2, train_steps=60, n_train=1024, n_test=512),
)
