"""Adversarial example figure (chapter 08): clean image, perturbation, attacked image, scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from course_utils.adversarial import fgsm, pgd
from course_utils.plotting.base import new_figure
from course_utils.validation import check_choice, check_float, check_int

__all__ = ["ATTACKS", "attack_one", "plot_adversarial"]

ATTACKS = ("FGSM", "PGD")


def attack_one(model: nn.Module, image: torch.Tensor, label: int, eps: float, attack: str,
               pgd_steps: int = 10, seed: int = 0) -> torch.Tensor:
    """The attacked version of one image (C, H, W) by ``attack`` at L-inf radius ``eps``."""
    check_choice("attack", attack, ATTACKS)
    x, y = image[None], torch.tensor([int(label)])
    if attack == "FGSM":
        return fgsm(model, x, y, eps)[0]
    gen = torch.Generator().manual_seed(seed)
    return pgd(model, x, y, eps, eps / 4, pgd_steps, generator=gen)[0]


def _show(ax, image: torch.Tensor, title: str, **kwargs) -> None:
    pic = image.permute(1, 2, 0).squeeze(-1).numpy()
    ax.imshow(pic, cmap=kwargs.pop("cmap", "gray_r" if pic.ndim == 2 else None), **kwargs)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def plot_adversarial(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
                     index: int = 0, eps: float = 0.1, attack: str = "FGSM",
                     pgd_steps: int = 10, classes: Sequence[str] | None = None) -> Figure:
    """Clean image, the perturbation (scaled to ±eps), the attacked image, class probabilities."""
    check_int("index", index, min_value=0, max_value=len(images) - 1)
    check_float("eps", eps, min_value=0.0)
    image, label = images[index], int(labels[index])
    adv = attack_one(model, image, label, eps, attack, pgd_steps)
    was = model.training
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(torch.stack([image, adv])), -1).numpy()
    model.train(was)
    names = list(classes) if classes is not None else [str(k) for k in range(p.shape[1])]
    fig, axes = new_figure(1, 4, size=(12, 3.0), gridspec_kw={"width_ratios": [1, 1, 1, 1.8]})
    _show(axes[0], image, f"clean: {names[int(p[0].argmax())]} ({p[0].max():.0%})",
          vmin=0, vmax=1)
    delta = (adv - image)
    span = max(float(eps), 1e-8)
    axes[1].imshow(delta.mean(0).numpy(), cmap="RdBu_r", vmin=-span, vmax=span)
    axes[1].set_title(f"{attack} perturbation\nmax |δ| = {float(delta.abs().max()):.3f}",
                      fontsize=9)
    axes[1].set_axis_off()
    _show(axes[2], adv, f"attacked: {names[int(p[1].argmax())]} ({p[1].max():.0%})",
          vmin=0, vmax=1)
    k = np.arange(len(names))
    axes[3].bar(k - 0.2, p[0], width=0.4, label="clean")
    axes[3].bar(k + 0.2, p[1], width=0.4, label=f"{attack}, ε={eps:.3g}")
    axes[3].set_xticks(k, names, fontsize=8)
    axes[3].set(ylim=(0, 1), title=f"probabilities (true class {names[label]})")
    axes[3].legend(fontsize=8)
    fig.tight_layout()
    return fig
