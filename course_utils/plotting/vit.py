"""ViT attention over the image: per-layer maps and the rollout (chapter 04).

``ViTAttentionExplorer`` in ``course_utils.widgets`` wraps ``plot_vit_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.plotting.attention import (HEAT_CMAP, IMAGE_CMAP, overlay_patch_heat,
                                             patch_prefix, plot_attention, show_image)
from course_utils.validation import check_int

__all__ = ["ROLLOUT", "NO_OCCLUSION", "vit_patch_tokens", "plot_vit_attention",
           "IMAGE_CMAP", "HEAT_CMAP", "show_image", "overlay_patch_heat"]

NO_OCCLUSION = -1  # ``occlude`` value: no patch hidden


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
                       residual: float = 0.5, n_prefix: int | None = None,
                       occlusion: Any = None, occlude: int = NO_OCCLUSION,
                       class_names: Sequence[str] | None = None) -> Figure:
    """``plot_attention`` for image ``image`` of a batch; ``layer="rollout"`` shows the rollout.

    ``weights``: (n_images, layers, heads, T, T) with the [CLS] token first; ``images``:
    (n_images, C, H, W) or (n_images, H, W), unnormalised, for display. ``residual``: the
    identity share of attention rollout. ``occlusion``: optional (n_images, 1 + N, classes)
    class probabilities -- row 0 for the intact image, row 1 + k with patch k hidden; with
    ``occlude = k`` a third panel compares the two predictions and the patch is marked.
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
    if occlusion is not None:
        occ = torch.as_tensor(np.asarray(occlusion) if not hasattr(occlusion, "detach")
                              else occlusion.detach().cpu()).float()
        n_patches = patch_grid[0] * patch_grid[1]
        if occ.ndim != 3 or occ.shape[0] != w.shape[0] or occ.shape[1] != 1 + n_patches:
            raise ValueError(f"occlusion must be (n_images={w.shape[0]}, 1 + {n_patches} "
                             f"patches, classes), got {tuple(occ.shape)}")
        if not (occlude == NO_OCCLUSION or 0 <= occlude < n_patches):
            raise ValueError(f"occlude must be {NO_OCCLUSION} (none) or a patch in "
                             f"0..{n_patches - 1}, got {occlude}")
    if layer == ROLLOUT:
        rollout = attention_rollout(w[image], residual=residual)  # (T, T)
        fig = plot_attention(rollout[None, None], tokens, layer=0, head=0, query=query,
                             image=picture, patch_grid=patch_grid, n_prefix=n_prefix,
                             title=f"{caption} · attention rollout over {w.shape[1]} layers "
                                   f"(residual {residual:.2f})")
    else:
        head_name = "mean of heads" if head == "mean" else f"head {head}"
        fig = plot_attention(w[image], tokens, layer=layer, head=head, query=query,
                             image=picture, patch_grid=patch_grid, n_prefix=n_prefix,
                             title=f"{caption} · layer {layer} · {head_name}")
    if occlusion is not None:
        _occlusion_panel(fig, occ[image], occlude, patch_grid, picture, class_names)
    return fig


def _occlusion_panel(fig: Figure, probs: torch.Tensor, occlude: int,
                     patch_grid: tuple[int, int], picture: Any, class_names: Sequence[str] | None
                     ) -> None:
    """A third panel: class probabilities intact vs with patch ``occlude`` hidden."""
    from matplotlib.patches import Rectangle

    width, height = fig.get_size_inches()
    grow = 1.4
    fig.set_size_inches(width * grow, height)
    for ax in fig.axes:  # make room on the right, keep every panel's size
        x0, y0, w, h = ax.get_position().bounds
        ax.set_position([x0 / grow, y0, w / grow, h])
    ax_bar = fig.add_axes([1 / grow + 0.04, 0.15, 1 - 1 / grow - 0.07, 0.7])
    names = list(class_names) if class_names is not None else [str(i) for i in range(probs.shape[1])]
    if len(names) != probs.shape[1]:
        raise ValueError(f"got {len(names)} class names for {probs.shape[1]} classes")
    xs = np.arange(len(names))
    intact = probs[0].numpy()
    ax_bar.bar(xs - 0.2, intact, 0.4, color="tab:gray", label="intact")
    before = int(intact.argmax())
    if occlude == NO_OCCLUSION:
        title = f"prediction {names[before]} ({intact[before]:.0%})\npick a patch to occlude"
    else:
        hidden = probs[1 + occlude].numpy()
        after = int(hidden.argmax())
        ax_bar.bar(xs + 0.2, hidden, 0.4, color="tab:red", label=f"patch {occlude} hidden")
        title = (f"P({names[before]}): {intact[before]:.0%} → {hidden[before]:.0%}\n"
                 f"prediction {names[before]} → {names[after]}")
        rows, cols = patch_grid
        img = np.asarray(picture.detach().cpu() if hasattr(picture, "detach") else picture)
        side_h = img.shape[-2] if img.ndim == 3 and img.shape[0] in (1, 3) else img.shape[0]
        side_w = img.shape[-1] if img.ndim == 3 and img.shape[0] in (1, 3) else img.shape[1]
        ph, pw = side_h / rows, side_w / cols
        r, c = divmod(occlude, cols)
        fig.axes[1].add_patch(Rectangle((c * pw - 0.5, r * ph - 0.5), pw, ph, fill=True,
                                        facecolor="tab:gray", edgecolor="red", hatch="//",
                                        linewidth=2, alpha=0.8))
    ax_bar.set(xticks=xs, ylim=(0, 1), ylabel="probability", title=title)
    ax_bar.set_xticklabels(names, fontsize=8)
    ax_bar.legend(fontsize=8, loc="upper right")
