"""Fine-tune a BERT encoder as a sentence classifier, from a named initialisation (chapter 03).

Chapter 03 asks whether masked-LM pretraining helps a classifier with few labels, and
``tools/ch03_finetune_grid.py`` runs the grid behind its answer; both fine-tune through
``finetune_classifier`` so that the notebook's live runs reproduce the grid's rows.

* ``INITS`` / ``initial_encoder``: where fine-tuning starts -- the pretrained weights, the
  seed's random ones, or one of them with the word-embedding table swapped or rescaled (each
  changes one factor, to ask *what* in the pretrained weights helps or hurts);
* ``FinetuneConfig`` / ``finetune_classifier``: the recipe -- mean pooling, dropout 0.1,
  AdamW with decay groups, linear warmup over the first tenth of the steps then cosine decay,
  batches drawn with replacement from a generator seeded by (seed, step);
* ``predict_classes``: batched argmax predictions for token-id lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torch import nn

from course_utils.mlm import pad_batch
from course_utils.models.bert import POOLINGS, Bert, BertClassifier, BertConfig
from course_utils.optim import decay_param_groups
from course_utils.schedules import as_scheduler, warmup_cosine
from course_utils.train import TrainConfig, train
from course_utils.validation import check_choice, check_float, check_int

__all__ = ["INITS", "FinetuneConfig", "initial_encoder", "finetune_classifier", "predict_classes"]

WORD_TABLE = "embeddings.word_embeddings.weight"
INITS = ("pretrained", "random init", "pretrained, fresh word embeddings",
         "random layers, pretrained word embeddings",
         "pretrained, word table rescaled to random norm")


@dataclass(frozen=True)
class FinetuneConfig:
    """One fine-tuning setting: steps and peak LR, and the recipe around them."""

    steps: int
    lr: float
    batch_size: int = 32
    weight_decay: float = 0.01
    pooling: str = "mean"
    dropout: float = 0.1  # before the head (the encoder's own is set by initial_encoder)

    def __post_init__(self) -> None:
        check_int("steps", self.steps, min_value=1)
        check_float("lr", self.lr, min_value=0.0)
        check_int("batch_size", self.batch_size, min_value=1)
        check_float("weight_decay", self.weight_decay, min_value=0.0)
        check_choice("pooling", self.pooling, POOLINGS)
        check_float("dropout", self.dropout, min_value=0.0, max_value=1.0)


def initial_encoder(init: str, seed: int, config: BertConfig, state: dict[str, torch.Tensor],
                    dropout: float = 0.1) -> Bert:
    """The encoder a run starts from (one of ``INITS``), built after ``torch.manual_seed(seed)``."""
    check_choice("init", init, INITS)
    torch.manual_seed(seed)
    bert = Bert(replace(config, hidden_dropout=dropout, attention_dropout=dropout))
    random_table = bert.embeddings.word_embeddings.weight.detach().clone()
    if init.startswith("pretrained"):
        bert.load_state_dict(state)
    table = bert.embeddings.word_embeddings.weight
    with torch.no_grad():
        if init == "pretrained, fresh word embeddings":
            table.copy_(random_table)
        elif init == "random layers, pretrained word embeddings":
            table.copy_(state[WORD_TABLE])
        elif init == "pretrained, word table rescaled to random norm":
            table.mul_(random_table.norm(dim=1).mean() / table.norm(dim=1).mean())
    return bert


@torch.no_grad()
def predict_classes(model: nn.Module, ids: Sequence[Sequence[int]], pad_id: int,
                    batch_size: int = 250, device: torch.device | str = "cpu") -> torch.Tensor:
    """Argmax classes (N,) of a classifier returning ``(logits, ...)``, in eval mode, on the CPU."""
    model.eval()
    out = []
    for start in range(0, len(ids), batch_size):
        input_ids, mask = pad_batch(ids[start:start + batch_size], pad_id)
        out.append(model(input_ids.to(device), None, mask.to(device))[0].argmax(-1).cpu())
    return torch.cat(out)


def finetune_classifier(encoder: Bert, ids: Sequence[Sequence[int]], labels: torch.Tensor,
                        pad_id: int, config: FinetuneConfig, seed: int,
                        device: torch.device | str = "cpu") -> BertClassifier:
    """Put a 2-way head on ``encoder`` and fine-tune all weights on (``ids``, ``labels``).

    ``seed`` fixes the batches; the head's initial weights and the dropout masks come from the
    global RNG, so call this right after ``initial_encoder`` (which seeds it) to reproduce a run.
    """
    if len(ids) != len(labels):
        raise ValueError(f"expected one label per sequence, got {len(ids)} sequences and "
                         f"{len(labels)} labels")
    clf = BertClassifier(encoder, num_labels=2, pooling=config.pooling,
                         dropout=config.dropout).to(device)

    def batches(step: int) -> dict[str, torch.Tensor]:
        pick = torch.randint(len(ids), (config.batch_size,),
                             generator=torch.Generator().manual_seed(seed * 7919 + step)).tolist()
        input_ids, mask = pad_batch([ids[r] for r in pick], pad_id)
        return {"input_ids": input_ids, "attention_mask": mask, "labels": labels[pick]}

    def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return model(batch["input_ids"], None, batch["attention_mask"], batch["labels"])[1]

    opt = torch.optim.AdamW(decay_param_groups(clf, config.weight_decay), lr=config.lr)
    sched = as_scheduler(opt, lambda s: warmup_cosine(s, lr=config.lr,
                                                      warmup_steps=config.steps // 10,
                                                      total_steps=config.steps))
    train(clf, opt, batches, loss, TrainConfig(max_steps=config.steps), scheduler=sched,
          device=device)
    return clf
