"""Adversarial-example explorer (chapter 08): pick an image, an attack and eps; see the result."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import torch
from torch import nn

from course_utils.plotting.adversarial import ATTACKS, plot_adversarial
from course_utils.validation import check_float, check_type
from course_utils.widgets.base import FigureExplorer

__all__ = ["AdversarialExplorer"]


class AdversarialExplorer(FigureExplorer):
    """Controls: ``eps`` (slider), ``attack`` (FGSM / PGD), ``index`` (which test image).

    Redraws the clean image, the perturbation, the attacked image and both class
    distributions. CSS class ``course-adversarial-explorer`` (for the browser test).
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
                 eps: float = 0.1, max_eps: float = 0.3, pgd_steps: int = 10,
                 classes: Sequence[str] | None = None) -> None:
        check_type("model", model, nn.Module)
        check_float("max_eps", max_eps, min_value=0.0, min_inclusive=False)
        if len(images) != len(labels) or len(images) == 0:
            raise ValueError(f"need as many labels as images (>= 1), got {len(images)} and "
                             f"{len(labels)}")
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        controls = {
            "eps": widgets.FloatSlider(value=min(eps, max_eps), min=0.0, max=max_eps,
                                       step=max_eps / 30, readout_format=".3f",
                                       description="ε (L∞)", **slider),
            "attack": widgets.Dropdown(options=ATTACKS, value="FGSM", description="attack"),
            "index": widgets.IntSlider(value=0, min=0, max=len(images) - 1,
                                       description="test image", **slider),
        }
        super().__init__(plot_adversarial, controls, height="300px",
                         fixed=dict(model=model, images=images, labels=labels,
                                    pgd_steps=pgd_steps, classes=classes),
                         title="Adversarial-example explorer",
                         css_class="course-adversarial-explorer")
