"""ViT attention over the image: per-layer maps and the rollout (chapter 04).

``ViTAttentionExplorer`` in ``course_utils.widgets`` wraps ``plot_vit_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.plotting.attention import patch_prefix, plot_attention
from course_utils.validation import check_int

__all__ = ["ROLLOUT", "vit_patch_tokens", "plot_vit_attention"]


ROLLOUT = "rollout"


def vit_patch_tokens(patch_grid: tuple[int, int], n_prefix: int = 1) -> list[str]:
    """Token names of a ViT sequence: ``[CLS]`` then ``r,c`` for the patch in row r, column c."""
    rows, cols = patch_grid
    check_int("patch_grid rows", rows, min_value=1)
    check_int("patch_grid cols", cols, min_value=1)
    prefix = ["[CLS]"] + [f"[P{i}]" for i in range(1, n_prefix)]
    return prefix[:n_prefix] + [f"{r},{c}" for r in range(rows) for c in range(cols)]


def plot_vit_attention(weights: Any, images: Any, *, patch_grid: tuple[int, int],
                       image: int = 0, layer: int | str = 0, head: int | str = "mean",
                       query: int = 0, captions: Sequence[str] | None = None,
                       residual: float = 0.5, n_prefix: int | None = None) -> Figure:
    """``plot_attention`` for image ``image`` of a batch; ``layer="rollout"`` shows the rollout.

    ``weights``: (n_images, layers, heads, T, T) with the [CLS] token first; ``images``:
    (n_images, C, H, W) or (n_images, H, W), unnormalised, for display.
    """
    from course_utils.models.analysis import attention_rollout

    w = torch.as_tensor(np.asarray(weights) if not hasattr(weights, "detach") else
                        weights.detach().cpu()).float()
    if w.ndim != 5:
        raise ValueError(f"weights must be (n_images, layers, heads, T, T), got {tuple(w.shape)}")
    if not 0 <= image < w.shape[0]:
        raise ValueError(f"image must be in 0..{w.shape[0] - 1}, got {image}")
    n_prefix = patch_prefix(w.shape[-1], patch_grid, n_prefix)
    tokens = vit_patch_tokens(patch_grid, n_prefix=n_prefix)
    caption = captions[image] if captions is not None else f"image {image}"
    picture = images[image]
    if layer == ROLLOUT:
        rollout = attention_rollout(w[image], residual=residual)  # (T, T)
        return plot_attention(rollout[None, None], tokens, layer=0, head=0, query=query,
                              image=picture, patch_grid=patch_grid, n_prefix=n_prefix,
                              title=f"{caption} · attention rollout over {w.shape[1]} layers")
    head_name = "mean of heads" if head == "mean" else f"head {head}"
    return plot_attention(w[image], tokens, layer=layer, head=head, query=query, image=picture,
                          patch_grid=patch_grid, n_prefix=n_prefix,
                          title=f"{caption} · layer {layer} · {head_name}")
