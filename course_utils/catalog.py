"""The course's chapters: number, notebook stem and title (numbering is fixed by the spec)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChapterInfo:
    """One row of the chapter table."""

    number: str
    stem: str  # notebook file name without .ipynb
    title: str


CHAPTERS: tuple[ChapterInfo, ...] = (
    ChapterInfo("00", "00_setup_and_landscape", "Setup & the large-model landscape"),
    ChapterInfo("01", "01_seq2seq_attention", "Seq2Seq & attention"),
    ChapterInfo("02", "02_gpt_generation", "GPT: causal LM, tokenization, generation"),
    ChapterInfo("03", "03_bert_mlm", "BERT: masked LM, pretraining, fine-tuning"),
    ChapterInfo("04", "04_vit", "Vision Transformer"),
    ChapterInfo("05", "05_peft", "Parameter-efficient fine-tuning"),
    ChapterInfo("06", "06_data_augmentation", "Data augmentation"),
    ChapterInfo("07", "07_mixed_precision_multi_gpu", "Mixed precision & multi-GPU"),
    ChapterInfo("08", "08_contrastive_adversarial", "Contrastive & adversarial training"),
    ChapterInfo("09", "09_optimizers_schedules", "Optimizers & LR schedules"),
    ChapterInfo("10", "10_distillation_pruning", "Distillation, pruning & quantization"),
    ChapterInfo("11", "11_imdb_project", "End-to-end IMDB project"),
)


def chapter(number: str) -> ChapterInfo:
    """Look up a chapter by its two-digit number."""
    for info in CHAPTERS:
        if info.number == number:
            return info
    raise KeyError(f"unknown chapter {number!r}; chapters are "
                   f"{[c.number for c in CHAPTERS]}")
