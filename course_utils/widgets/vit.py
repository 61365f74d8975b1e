"""ViT attention explorer (chapter 04): several images, per-layer maps and the rollout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch

from course_utils.plotting.attention import attention_stack, check_patch_tiling, patch_prefix
from course_utils.plotting.vit import NO_OCCLUSION, ROLLOUT, plot_vit_attention, vit_patch_tokens
from course_utils.widgets.base import FigureExplorer

__all__ = ["ViTAttentionExplorer"]


class ViTAttentionExplorer(FigureExplorer):
    """Image / layer (or rollout) / head / query pickers over a ViT's attention maps.

    ``weights``: (n_images, layers, heads, T, T), e.g. ``ViT.attention_maps(x)``;
    ``images``: the same images unnormalised for display; ``patch_grid``: (rows, cols);
    ``captions``: one label per image (e.g. "label 3 · predicted 3"). The top box carries
    the CSS classes ``course-vit-attention-explorer`` and ``course-attention-explorer``;
    controls: ``image``, ``layer`` (the last option is the rollout), ``head``, ``query``,
    ``residual`` (the identity share of the rollout; used when ``layer`` is the rollout) and,
    with ``occlusion`` ((n_images, 1 + N, classes) probabilities: row 0 intact, row 1 + k
    with patch k hidden), ``occlude`` (a patch, or -1 for none) with a prediction panel.
    """

    def __init__(self, weights: Any, images: Any, *, patch_grid: tuple[int, int],
                 captions: Sequence[str] | None = None, image: int = 0, layer: int | None = None,
                 query: int = 0, title: str = "ViT attention explorer",
                 height: str = "560px", n_prefix: int | None = None,
                 occlusion: Any = None, class_names: Sequence[str] | None = None) -> None:
        w = weights.detach().cpu() if hasattr(weights, "detach") else torch.as_tensor(weights)
        if w.ndim != 5:
            raise ValueError(f"weights must be (n_images, layers, heads, T, T), got "
                             f"{tuple(w.shape)}")
        n_images, n_layers, n_heads, t_q, t_k = w.shape
        if t_q != t_k:
            raise ValueError(f"weights must be square self-attention over [CLS] + "
                             f"{patch_grid[0]}x{patch_grid[1]} patches, got {tuple(w.shape)}")
        n_prefix = patch_prefix(t_k, patch_grid, n_prefix)
        if len(images) != n_images:
            raise ValueError(f"got {len(images)} images for {n_images} attention maps")
        if captions is not None and len(captions) != n_images:
            raise ValueError(f"got {len(captions)} captions for {n_images} images")
        first = np.asarray(images[0].detach().cpu() if hasattr(images[0], "detach") else images[0])
        check_patch_tiling(first.shape[-2:] if first.ndim == 3 and first.shape[0] in (1, 3)
                           else first.shape[:2], patch_grid)
        attention_stack(w[0])  # validates the values (finite, >= 0)
        tokens = vit_patch_tokens(patch_grid, n_prefix=n_prefix)
        names = list(captions) if captions is not None else [f"image {i}" for i in range(n_images)]
        style = {"description_width": "initial"}
        controls = {
            "image": widgets.Dropdown(options=[(f"{i}: {n}", i) for i, n in enumerate(names)],
                                      value=image, description="image", style=style),
            "layer": widgets.Dropdown(options=[(f"layer {i}", i) for i in range(n_layers)]
                                      + [("rollout (all layers)", ROLLOUT)],
                                      value=n_layers - 1 if layer is None else layer,
                                      description="layer", style=style),
            "head": widgets.Dropdown(options=[("mean of heads", "mean")]
                                     + [(f"head {h}", h) for h in range(n_heads)],
                                     value="mean", description="head", style=style),
            "query": widgets.Dropdown(options=[(f"{i}: {t}", i) for i, t in enumerate(tokens)],
                                      value=query, description="query token", style=style),
            "residual": widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05,
                                            description="rollout residual", style=style,
                                            continuous_update=False),
        }
        fixed = {"weights": w, "images": images, "patch_grid": tuple(patch_grid),
                 "captions": names, "n_prefix": n_prefix}
        if occlusion is not None:
            occ = (occlusion.detach().cpu() if hasattr(occlusion, "detach")
                   else torch.as_tensor(occlusion))
            n_patches = patch_grid[0] * patch_grid[1]
            if occ.ndim != 3 or occ.shape[0] != n_images or occ.shape[1] != 1 + n_patches:
                raise ValueError(f"occlusion must be (n_images={n_images}, 1 + {n_patches} "
                                 f"patches, classes), got {tuple(occ.shape)}")
            controls["occlude"] = widgets.Dropdown(
                options=[("none", NO_OCCLUSION)]
                + [(f"{k}: {t}", k) for k, t in enumerate(tokens[n_prefix:])],
                value=NO_OCCLUSION, description="occlude patch", style=style)
            fixed.update(occlusion=occ, class_names=class_names)
        self.weights = w
        super().__init__(plot_vit_attention, controls, height=height, title=title,
                         fixed=fixed,
                         css_class="course-vit-attention-explorer")
        self.add_class("course-attention-explorer")
