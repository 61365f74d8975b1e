"""Chapter 08 -- Contrastive & adversarial training: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


@dataclass(frozen=True)
class Ch08Sizes:
    """Chapter 08: margin loss, SimCLR + linear probes, a GAN, FGSM/PGD, FGM on text."""

    dataset: str  # "digits" (scikit-learn, offline) | "cifar10" (Hub; digits when offline)
    width: int  # channels of the conv encoder's first block (doubled per block)
    n_blocks: int  # conv blocks of the encoder (stride 2 after the first)
    lr: float  # AdamW learning rate of the pair and SimCLR encoders
    sup_lr: float  # AdamW learning rate of the supervised and adversarially trained CNNs
    weight_decay: float
    pair_steps: int  # steps of the margin-loss (pairs) embedding
    pair_batch: int  # pairs per step
    margin: float  # the margin m of the pair loss
    simclr_batch: int  # images per SimCLR step (2 views each: 2N - 2 negatives)
    simclr_steps: int  # steps per SimCLR run (one run per temperature)
    proj_dim: int  # output of the projection head g
    temperatures: tuple[float, ...]  # NT-Xent temperatures tried; validation picks one
    label_fractions: tuple[float, ...]  # labelled shares of train for the probes
    probe_seeds: int  # label subsets drawn per fraction (probe accuracy = their mean)
    sup_steps: int  # steps of each supervised encoder (one per label fraction)
    sup_batch: int
    tsne_points: int  # test images in the t-SNE plots
    gan_noise: int  # size of the generator's input z
    gan_hidden: int  # hidden width of generator and discriminator (MLPs)
    gan_steps: int  # alternating D/G updates
    gan_batch: int
    gan_lr: float
    gan_snapshots: int  # sample grids kept during training
    epsilons: tuple[float, ...]  # L-inf radii of the accuracy-vs-eps curves (pixels in [0, 1])
    pgd_steps: int  # PGD iterations K (step eps / 4, random start)
    adv_eps: float  # the radius of adversarial training and of its robust evaluation
    adv_width: int  # encoder width of the adversarial-training comparison
    adv_steps: int  # steps per classifier in that comparison
    adv_seeds: tuple[int, ...]  # seeds per arm (standard vs adversarial training)
    text_max_len: int  # tokens per review (the last ones: the verdict is at the end)
    text_train: int  # labelled training reviews
    text_val: int
    text_test: int
    text_steps: int
    text_batch: int
    text_lr: float
    text_eps: float  # L2 radius of FGM / embedding-PGD, per review (word vectors)
    text_pgd_steps: int


CHAPTER = ChapterSpec(
    number="08",
    stem="08_contrastive_adversarial",
    title="Contrastive & adversarial training",
    sizes=dict(
        quick=Ch08Sizes(dataset="digits", width=32, n_blocks=2, lr=3e-3, sup_lr=1e-2, weight_decay=1e-4,
                        pair_steps=150, pair_batch=128, margin=1.0, simclr_batch=128,
                        simclr_steps=250, proj_dim=32, temperatures=(0.1, 0.5, 1.0),
                        label_fractions=(0.01, 0.1, 1.0), probe_seeds=3, sup_steps=200,
                        sup_batch=128, tsne_points=360, gan_noise=16, gan_hidden=128,
                        gan_steps=1200, gan_batch=64, gan_lr=1e-3, gan_snapshots=4,
                        epsilons=(0.0, 0.05, 0.1, 0.15, 0.2, 0.3), pgd_steps=10,
                        adv_eps=0.1, adv_width=16, adv_steps=200, adv_seeds=(0, 1, 2),
                        text_max_len=40, text_train=2000, text_val=200, text_test=400,
                        text_steps=100, text_batch=16, text_lr=9e-4, text_eps=0.05,
                        text_pgd_steps=3),
        full=Ch08Sizes(dataset="cifar10", width=64, n_blocks=3, lr=1e-3, sup_lr=3e-3, weight_decay=1e-4,
                       pair_steps=1000, pair_batch=256, margin=1.0, simclr_batch=512,
                       simclr_steps=5000, proj_dim=128, temperatures=(0.1, 0.2, 0.5, 1.0),
                       label_fractions=(0.01, 0.1, 1.0), probe_seeds=3, sup_steps=4000,
                       sup_batch=256, tsne_points=1000, gan_noise=64, gan_hidden=512,
                       gan_steps=10000, gan_batch=128, gan_lr=2e-4, gan_snapshots=5,
                       epsilons=(0.0, 1 / 255, 2 / 255, 4 / 255, 8 / 255, 16 / 255),
                       pgd_steps=10, adv_eps=8 / 255, adv_width=32, adv_steps=4000,
                       adv_seeds=(0, 1, 2), text_max_len=64, text_train=18000,
                       text_val=2000, text_test=3000, text_steps=1500, text_batch=32,
                       text_lr=5e-4, text_eps=0.05, text_pgd_steps=10),
    ),
    targets=(
        Target("cifar10_from_hub", "==", True, "the CIFAR-10 (Hub) branch ran",
               profiles=("smoke",)),
        Target("nt_xent_parity_max_abs_diff", "<=", 1e-6,
               "our NT-Xent == the F.cross_entropy formulation", profiles=("quick", "full")),
        Target("nt_xent_matched_lower", "==", True,
               "NT-Xent is lower for matched views than for shuffled ones",
               profiles=("quick", "full")),
        # measured 0.15-0.25 above the random encoder at 1 % labels on digits; 0.05 leaves
        # room for the seed and data changes without accepting a tie
        Target("simclr_minus_random_probe_low", ">=", 0.05,
               "SimCLR features beat a random encoder's at the smallest label fraction",
               profiles=("quick", "full")),
        Target("perturbation_within_eps", "==", True,
               "every FGSM/PGD perturbation has L-inf norm <= eps", profiles=("quick", "full")),
        Target("pgd_le_fgsm_all_eps", "==", True,
               "PGD accuracy <= FGSM accuracy at every eps", profiles=("quick", "full")),
        # measured about +30 pp (PGD accuracy, mean of 3 seeds) on digits; 10 pp is a margin
        Target("adv_training_robust_gain_pp", ">=", 10.0,
               "adversarial training raises PGD accuracy (mean of the seeds)",
               profiles=("quick", "full")),
    ),
    runtime_budget_s=120.0,
    checkers="course_utils.exercises.ch08",
    smoke=dict(width=16, n_blocks=2, pair_steps=5, pair_batch=32, simclr_batch=32,
               simclr_steps=4, temperatures=(0.5, 1.0), label_fractions=(0.1, 1.0),
               probe_seeds=1, sup_steps=4, sup_batch=32, tsne_points=60, gan_noise=8,
               gan_hidden=32, gan_steps=6, gan_batch=16, gan_snapshots=2,
               epsilons=(0.0, 8 / 255), pgd_steps=2, adv_width=16, adv_steps=4,
               adv_seeds=(0,), text_max_len=32, text_train=64, text_val=32, text_test=32,
               text_steps=3, text_batch=8, text_pgd_steps=2),
)
