"""Chapter 04's training recipe for image classifiers, shared by the notebook and its dev tool.

``fit`` trains any model (the ViT, the CNN) the same way: AdamW on ``decay_param_groups``,
linear warmup then cosine decay, a deterministic augmented batch stream, validation accuracy
along the way and test accuracy at the end. ``shift`` and ``shift_accuracy`` are the
translation test. ``tools/ch04_position_arms.py`` runs the chapter's ViT variants over several
seeds through these functions, so a notebook run reproduces the tool's rows exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.data import ImageSplits
from course_utils.models.analysis import patch_coordinates
from course_utils.models.vit import ViTConfig
from course_utils.optim import decay_param_groups
from course_utils.schedules import as_scheduler, warmup_cosine
from course_utils.train import History, TrainConfig, train
from course_utils.validation import check_float, check_int, check_type
from course_utils.vision import Augment, image_batches

__all__ = ["AUGMENT", "FitConfig", "FitResult", "accuracy", "end_train_acc", "fit", "make_cnn", "shift", "shift_accuracy",
           "shift_augment", "fit_config", "vit_config", "position_similarity"]

#: Training augmentation per dataset. Digits: a little rotation, shift and zoom, no flip (a
#: mirrored 2 is not a 2). CIFAR-10: the classic random crop after 4 px padding + flips.
AUGMENT = {"digits": Augment(degrees=5.0, translate=0.06, scale=(0.95, 1.05)),
           "cifar10": Augment(crop_padding=4, hflip=True)}


def shift_augment(splits: ImageSplits) -> Augment:
    """Whole-pixel shifts of 0..P in each direction (pad by one patch P, crop back)."""
    return Augment(crop_padding=splits.patch_size, hflip=AUGMENT[splits.name].hflip)


def fit_config(sizes) -> FitConfig:
    """The recipe of a size class with lr, weight_decay, warmup_steps, batch_size, eval_every."""
    return FitConfig(lr=sizes.lr, weight_decay=sizes.weight_decay, warmup_steps=sizes.warmup_steps,
                     batch_size=sizes.batch_size, eval_every=sizes.eval_every,
                     label_smoothing=sizes.label_smoothing)


def vit_config(splits: ImageSplits, sizes, **changes) -> ViTConfig:
    """The chapter's ViT for ``splits`` from a size class with d_model, n_layers, n_heads, d_ff."""
    config = ViTConfig(image_size=splits.image_size, patch_size=splits.patch_size,
                       in_channels=splits.channels, d_model=sizes.d_model, n_layers=sizes.n_layers,
                       n_heads=sizes.n_heads, d_ff=sizes.d_ff, n_classes=len(splits.classes))
    return replace(config, **changes) if changes else config


@dataclass(frozen=True)
class FitConfig:
    """One training recipe for every image model of a comparison."""

    lr: float  # AdamW peak learning rate
    weight_decay: float  # on weight matrices only (decay_param_groups)
    warmup_steps: int  # linear warmup (at most a tenth of a run's steps)
    batch_size: int  # images per step (at most the training set)
    eval_every: int  # steps between validation-accuracy checks
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        check_float("lr", self.lr, min_value=0.0)
        check_float("weight_decay", self.weight_decay, min_value=0.0)
        check_int("warmup_steps", self.warmup_steps, min_value=0)
        check_int("batch_size", self.batch_size, min_value=1)
        check_int("eval_every", self.eval_every, min_value=1)
        check_float("label_smoothing", self.label_smoothing, min_value=0.0, max_value=1.0)


@dataclass
class FitResult:
    """What ``fit`` returns: the learning curve, test accuracy and training seconds."""

    history: History
    test_acc: float
    seconds: float


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, splits: ImageSplits,
             device: torch.device | str = "cpu", batch: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on raw [0, 1] images (normalised as ``splits`` does)."""
    check_type("images", images, torch.Tensor)
    was_training = model.training
    model.eval()
    preds = torch.cat([model(splits.normalize(xb.to(device))).argmax(-1).cpu()
                       for xb in images.split(batch)])
    model.train(was_training)
    return (preds == labels).float().mean().item()


def fit(model: nn.Module, splits: ImageSplits, steps: int, config: FitConfig, augment: Augment,
        seed: int, device: torch.device | str = "cpu", name: str = "") -> FitResult:
    """Train ``model`` for ``steps`` with the shared recipe; validation curve + test accuracy.

    The batches depend only on ``seed`` and the step; initialise the model (``torch.manual_seed``)
    before calling, as the notebook does. Validation accuracy is only monitored (no early
    stopping): the final weights are the ones tested.
    """
    check_int("steps", steps, min_value=1)
    x_tr, y_tr = splits.split("train")
    x_va, y_va = splits.split("validation")
    model.to(device)

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
        images, labels = batch
        logits = m(images)
        loss = F.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
        return loss, {"acc": (logits.argmax(-1) == labels).float().mean().item()}

    optimizer = torch.optim.AdamW(decay_param_groups(model, config.weight_decay), lr=config.lr)
    schedule = partial(warmup_cosine, lr=config.lr, warmup_steps=min(config.warmup_steps, steps // 10),
                       total_steps=steps)
    batches = image_batches(x_tr, y_tr, min(config.batch_size, len(x_tr)), augment=augment,
                            transform=splits.normalize, seed=seed)
    history = train(model, optimizer, batches, loss_fn,
                    TrainConfig(max_steps=steps, eval_every=min(config.eval_every, steps), desc=name),
                    scheduler=as_scheduler(optimizer, schedule), device=device,
                    eval_fn=lambda m: {"val_acc": accuracy(m, x_va, y_va, splits, device)})
    x_te, y_te = splits.split("test")
    return FitResult(history, accuracy(model, x_te, y_te, splits, device), history.seconds)


def end_train_acc(history: History, last: int = 50) -> float:
    """Mean accuracy on the (augmented) training batches of the last ``last`` steps."""
    accs = history.metrics["acc"][-last:]
    return float(sum(accs) / len(accs))


def make_cnn(width: int, in_channels: int, n_classes: int, image_size: int) -> nn.Sequential:
    """The chapter's baseline: conv-conv-pool stages down to 4x4, one more conv, GAP, linear."""
    check_int("width", width, min_value=1)
    layers: list[nn.Module] = []
    c, side = in_channels, image_size
    while side > 4:  # conv-conv-pool stages halve the map until it is 4x4
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.GELU(),
                   nn.Conv2d(width, width, 3, padding=1), nn.GELU(), nn.MaxPool2d(2)]
        c, width, side = width, 2 * width, side // 2
    layers += [nn.Conv2d(c, width, 3, padding=1), nn.GELU(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, n_classes)]
    return nn.Sequential(*layers)


def shift(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Move (..., H, W) images by (dy, dx) whole pixels (down, right), filling with 0."""
    check_int("dy", dy)
    check_int("dx", dx)
    h, w = images.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"a shift must be smaller than the image ({h}x{w}), got ({dy}, {dx})")
    padded = F.pad(images, (abs(dx), abs(dx), abs(dy), abs(dy)))
    top, left = abs(dy) - dy, abs(dx) - dx
    return padded[..., top:top + h, left:left + w]


def shift_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, k: int,
                   splits: ImageSplits, device: torch.device | str = "cpu") -> float:
    """Accuracy on images shifted by ``k`` pixels: the mean over up, down, left and right."""
    check_int("k", k, min_value=0)
    moves = [(0, 0)] if k == 0 else [(k, 0), (-k, 0), (0, k), (0, -k)]
    return sum(accuracy(model, shift(images, dy, dx), labels, splits, device)
               for dy, dx in moves) / len(moves)


def position_similarity(table: torch.Tensor, grid: int) -> tuple[torch.Tensor, float]:
    """Cosine similarities of a (grid², d) position table and their rank correlation with distance.

    The mean row is removed first (a part shared by every slot says nothing about position).
    The Spearman correlation is over all pairs of slots: -1 if similarity falls steadily with
    grid distance, about 0 if the table ignores the layout.
    """
    check_type("table", table, torch.Tensor)
    if table.ndim != 2 or table.shape[0] != grid * grid:
        raise ValueError(f"table must be ({grid * grid}, d) for a {grid}x{grid} grid, "
                         f"got {tuple(table.shape)}")
    coords = patch_coordinates(grid, grid)
    dist = torch.cdist(coords, coords)
    pairs = torch.triu_indices(grid * grid, grid * grid, offset=1)
    centred = table.detach().float().cpu() - table.detach().float().cpu().mean(0)
    unit = F.normalize(centred, dim=-1)
    sim = unit @ unit.T
    rho = pd.Series(sim[pairs[0], pairs[1]].numpy()).corr(
        pd.Series(dist[pairs[0], pairs[1]].numpy()), method="spearman")
    return sim, float(rho)
