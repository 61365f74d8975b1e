"""Chapter 05 -- Parameter-efficient fine-tuning and prompt learning: catalog row, sizes, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


@dataclass(frozen=True)
class Ch05Sizes:
    """Chapter 05: PEFT methods on a frozen pretrained BERT, compared on reviews sentiment."""

    max_len: int  # tokens per review for classification (the end is kept: the verdict)
    train_labels: int  # labelled training reviews (the PEFT comparison's training set)
    val_reviews: int  # validation reviews (every choice: learning rates, pooling)
    test_reviews: int  # test reviews (each final model scored once)
    batch: int  # reviews per optimizer step
    train_steps: int  # optimizer steps of every method (the same budget for all)
    seeds: tuple[int, ...]  # seeds of the headline pair (full fine-tuning vs LoRA + embedding LoRA;
    # quick: two, for its time budget -- a third run of the pair costs about 18 s on a slow 2-core CPU)
    other_seeds: tuple[int, ...]  # seeds of every other method (quick: one, for the time budget)
    lr: tuple[tuple[str, float], ...]  # peak LR per method, chosen on validation (see below)
    lr_factors: tuple[float, ...]  # multiples of `lr` tried per method on validation (() = none)
    lora_rank: int  # rank of the headline LoRA (query + value)
    lora_ranks: tuple[int, ...]  # rank sweep (one seed each; none in quick, for its time budget)
    lora_alpha_over_r: float  # alpha = this x r (the scale alpha/r stays fixed across ranks)
    adapter_bottleneck: int  # adapter width m
    n_prompt: int  # virtual tokens of prompt tuning / P-tuning
    n_prefix: int  # prefix length per layer (prefix tuning / P-tuning v2)
    ptuning_hidden: int  # hidden width of the P-tuning prompt encoder
    cloze_reviews: int  # validation/test reviews scored zero-shot with cloze templates
    hub_model: str  # base of the online section (LoRA through peft)
    hub_dataset: str  # its dataset
    hub_train: int  # training reviews of the online run (0 = skip)
    hub_steps: int


# Peak LRs of the quick profile: the winners on validation (400 reviews, seed 0) of the
# notebook's own sweep run at the quick sizes with lr_factors=(1/3, 1, 3) around the starting
# values full 3e-4, head/BitFit/adapters/LoRA 3e-3, prompt 3e-2, prefix 1e-2 (validation
# accuracy: full .56/.63/.74, head .54/.57/.55, BitFit .54/.54/.52, adapters .51/.56/.54,
# LoRA .52/.55/.57, prompt .55/.56/.51, prefix .56/.53/.54). Full fine-tuning and LoRA won
# at the top of their grids. The full profile runs the sweep itself.
# "lora+emb" (LoRA on query/value and on the word-embedding table) and "emb" (the embedding
# LoRA alone) reuse LoRA's rate, untuned.
_LR = (("full", 9e-4), ("head", 3e-3), ("bitfit", 1e-3), ("adapter", 3e-3), ("lora", 9e-3),
       ("lora+emb", 9e-3), ("emb", 9e-3), ("prompt", 3e-2), ("prefix", 1e-2 / 3))

CHAPTER = ChapterSpec(
    number="05",
    stem="05_peft",
    title="Parameter-efficient fine-tuning and prompt learning",
    sizes=dict(
        quick=Ch05Sizes(max_len=40, train_labels=2000, val_reviews=400, test_reviews=600,
                        batch=16, train_steps=100, seeds=(0, 1), other_seeds=(0,), lr=_LR,
                        lr_factors=(),
                        lora_rank=4, lora_ranks=(), lora_alpha_over_r=2.0,
                        adapter_bottleneck=16, n_prompt=8, n_prefix=8, ptuning_hidden=64,
                        cloze_reviews=1000, hub_model="google-bert/bert-base-uncased",
                        hub_dataset="stanfordnlp/imdb", hub_train=0, hub_steps=0),
        full=Ch05Sizes(max_len=64, train_labels=18000, val_reviews=3000, test_reviews=3000,
                       batch=32, train_steps=2000, seeds=(0, 1, 2), other_seeds=(0, 1, 2), lr=_LR,
                       lr_factors=(0.1, 0.3, 1.0, 3.0), lora_rank=8,
                       lora_ranks=(1, 2, 4, 16, 64), lora_alpha_over_r=2.0,
                       adapter_bottleneck=32, n_prompt=20, n_prefix=16, ptuning_hidden=128,
                       cloze_reviews=3000, hub_model="google-bert/bert-base-uncased",
                       hub_dataset="stanfordnlp/imdb", hub_train=25000, hub_steps=1500),
    ),
    targets=(
        Target("hub_lora_imdb_test_acc", ">=", 0.0, "the LoRA-through-peft branch on the Hub "
               "model and IMDB ran", profiles=("smoke",)),
        Target("frozen_base_unchanged", "==", 1.0, "frozen base weights bitwise unchanged"),
        Target("lora_init_delta_max_abs", "<=", 0.0, "LoRA Delta W = 0 at initialisation"),
        Target("lora_merge_max_abs_diff", "<=", 1e-5, "merged == unmerged LoRA outputs"),
        Target("peft_lora_parity_max_abs_diff", "<=", 1e-5, "our LoRA == peft (outputs, grads)"),
        Target("peft_prompt_parity_max_abs_diff", "<=", 1e-5, "our prompt tuning == peft"),
        Target("lora_emb_minus_full_pp", ">=", -2.0, "LoRA (query/value + embedding table) within "
               "2 points of full fine-tuning, mean test accuracy over the seeds",
               profiles=("quick", "full")),
        Target("lora_emb_trainable_pct", "<=", 2.0,
               "... with at most 2 % of the parameters trainable",
               profiles=("quick", "full")),
    ),
    runtime_budget_s=120,
    checkers="course_utils.exercises.ch05",
    smoke=dict(max_len=32, train_labels=64, val_reviews=32, test_reviews=64, batch=8, train_steps=12,
               seeds=(0,), other_seeds=(0,), lr_factors=(1.0,), lora_ranks=(1,), n_prompt=4, n_prefix=4,
               ptuning_hidden=16, cloze_reviews=32, hub_train=32, hub_steps=2),
)
