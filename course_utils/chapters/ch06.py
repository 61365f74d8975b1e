"""Chapter 06 -- Data augmentation: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


@dataclass(frozen=True)
class Ch06Sizes:
    """Chapter 06: EDA, label-flip check, embeddings, a few-label experiment, dedup."""

    label_budgets: tuple[int, ...]  # labelled training reviews per run (class-balanced)
    n_seeds: int  # seeds per (augmentation, budget): label sample, init and data order
    batch_size: int  # reviews per optimizer step (few-label runs)
    d_embed: int  # n-gram embedding width of the few-label classifier
    lr_grid: tuple[float, ...]  # baseline learning rates tried on validation
    steps_grid: tuple[int, ...]  # baseline optimizer steps tried on validation
    dropout_grid: tuple[float, ...]  # baseline dropout on the sentence vector, tried on validation
    p_augment: float  # share of training reads that are augmented
    alpha: float  # EDA strength: share of words changed (n = max(1, alpha * length))
    noise_p: float  # typo / token-dropout probability per word
    mixup_alpha: float  # Beta(a, a) of the mixing weight
    judge_steps: int  # optimizer steps of the all-labels "judge" classifier
    judge_batch: int
    flip_reviews: int  # validation reviews per group in the label-flip check
    contextual_reviews: int  # reviews rewritten by the MLM (offline stand-in paraphraser)
    sgns_reviews: int  # training reviews the skip-gram model reads
    sgns_dim: int
    sgns_window: int
    sgns_epochs: int
    sgns_negatives: int
    sgns_t: float  # sub-sampling threshold t
    dedup_reviews: int  # reviews in the deduplication demo
    minhash_perm: int  # hash functions of the MinHash signatures
    lsh_bands: int  # LSH bands (x rows = minhash_perm)
    translation_models: tuple[str, str]  # full profile: en->de and de->en MarianMT
    backtranslate_reviews: int  # reviews round-tripped through them (0 = skip)


CHAPTER = ChapterSpec(
    number="06",
    stem="06_data_augmentation",
    title="Data augmentation",
    sizes=dict(
        quick=Ch06Sizes(label_budgets=(200, 1000), n_seeds=3, batch_size=64, d_embed=16,
                        lr_grid=(0.01, 0.03, 0.1), steps_grid=(80,),
                        dropout_grid=(0.0, 0.5), p_augment=0.5,
                        alpha=0.1, noise_p=0.1, mixup_alpha=0.4, judge_steps=300,
                        judge_batch=128, flip_reviews=400, contextual_reviews=100,
                        sgns_reviews=3000, sgns_dim=50, sgns_window=3, sgns_epochs=2,
                        sgns_negatives=5, sgns_t=1e-3, dedup_reviews=3000, minhash_perm=128,
                        lsh_bands=16,
                        translation_models=("Helsinki-NLP/opus-mt-en-de",
                                            "Helsinki-NLP/opus-mt-de-en"),
                        backtranslate_reviews=0),
        full=Ch06Sizes(label_budgets=(200, 1000), n_seeds=5, batch_size=32, d_embed=32,
                       lr_grid=(0.01, 0.03, 0.1), steps_grid=(100, 300, 600),
                       dropout_grid=(0.0, 0.3, 0.5), p_augment=0.5,
                       alpha=0.1, noise_p=0.1, mixup_alpha=0.4, judge_steps=2000,
                       judge_batch=128, flip_reviews=1000, contextual_reviews=1000,
                       sgns_reviews=18000, sgns_dim=100, sgns_window=5, sgns_epochs=3,
                       sgns_negatives=5, sgns_t=1e-3, dedup_reviews=24000, minhash_perm=256,
                       lsh_bands=32,
                       translation_models=("Helsinki-NLP/opus-mt-en-de",
                                           "Helsinki-NLP/opus-mt-de-en"),
                       backtranslate_reviews=200),
    ),
    targets=(
        Target("backtranslated_reviews", ">=", 1, "the MarianMT back-translation branch ran",
               profiles=("smoke",)),
        Target("wordnet_synonyms_of_good", ">=", 10, "WordNet loaded offline (make setup)"),
        Target("eda_properties_hold", "==", True,
               "on every training review: deletion never empty, swap keeps the multiset, "
               "same seed -> same output"),
        Target("negation_deletion_flip_excess", ">=", 0.005,
               "deleting the negations flips the judge more often than deleting as many "
               "other words"),
        Target("n_seeds", ">=", 3, "every with/without cell averages >= 3 seeds"),
        Target("sgns_vs_gensim_neighbour_overlap", ">=", 0.1,
               "our skip-gram and gensim's share nearest neighbours"),
    ),
    runtime_budget_s=120.0,
    checkers="course_utils.exercises.ch06",
    smoke=dict(label_budgets=(40,), n_seeds=2, lr_grid=(0.03,), steps_grid=(10,), dropout_grid=(0.0,),
               judge_steps=20, flip_reviews=20, contextual_reviews=8, sgns_reviews=100,
               sgns_epochs=1, dedup_reviews=200, minhash_perm=16, lsh_bands=4,
               backtranslate_reviews=4),
)
