"""Attention maps (chapter 01; reused by the GPT, BERT and ViT chapters).

``attention_stack`` normalises attention weights of any model of the course to
(layers, heads, T_q, T_k); ``plot_attention`` draws one layer/head as a heat map with the
query row outlined and the keys as a weighted token strip. ``AttentionExplorer`` in
``course_utils.widgets`` wraps it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course_utils.plotting.base import new_figure
from course_utils.text import display_token
from course_utils.validation import check_int

__all__ = ["attention_stack", "plot_attention", "patch_prefix", "check_patch_tiling",
           "IMAGE_CMAP", "HEAT_CMAP", "show_image", "overlay_patch_heat"]

# One colour convention for images and attention over them (chapter 04 and its explorer):
# a grey image is drawn as dark ink on white; attention over patches is an "inferno" heat
# map, and on a grey image the heat is drawn opaque with the ink's outline in cyan on top.
IMAGE_CMAP = "gray_r"
HEAT_CMAP = "inferno"


def _as_hwc(image: Any) -> np.ndarray:
    """(C, H, W), (H, W, C) or (H, W) -> (H, W) for grey, (H, W, 3) for colour."""
    img = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image, dtype=float)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return img


def show_image(ax: Any, image: Any) -> None:
    """Draw an image in [0, 1] the course's way (grey: dark ink on white)."""
    img = _as_hwc(image)
    ax.imshow(img, cmap=IMAGE_CMAP if img.ndim == 2 else None, vmin=0.0, vmax=1.0)


def overlay_patch_heat(ax: Any, image: Any, heat: Any, patch_grid: tuple[int, int]) -> None:
    """Patch weights ``heat`` (rows·cols,) over ``image``: grey -> opaque heat + cyan outline."""
    img = _as_hwc(image)
    rows, cols = patch_grid
    heat = np.asarray(heat, dtype=float).reshape(rows, cols)
    extent = (-0.5, img.shape[1] - 0.5, img.shape[0] - 0.5, -0.5)
    if img.ndim == 2:
        ax.imshow(heat, cmap=HEAT_CMAP, extent=extent)
        if img.max() > img.min():
            ax.contour(img, levels=[0.5 * (img.min() + img.max())], colors="cyan",
                       linewidths=1.2)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    else:
        ax.imshow(img)
        ax.imshow(heat, cmap=HEAT_CMAP, alpha=0.5, extent=extent)


def attention_stack(weights: Any) -> np.ndarray:
    """Attention weights as a float array (layers, heads, T_q, T_k).

    Accepts a tensor/array of shape (L, H, T_q, T_k), (H, T_q, T_k) or (T_q, T_k), or a
    list/tuple of per-layer (H, T_q, T_k) tensors -- also (1, H, T_q, T_k), i.e. one
    example of a batch as Hugging Face models return with ``output_attentions=True``.
    """
    def to_np(value: Any) -> np.ndarray:
        if hasattr(value, "detach"):
            value = value.detach().float().cpu().numpy()
        return np.asarray(value, dtype=np.float64)

    if isinstance(weights, (list, tuple)):
        if not weights:
            raise ValueError("weights is an empty list; expected one (heads, T_q, T_k) "
                             "tensor per layer")
        layers = []
        for i, layer in enumerate(weights):
            arr = to_np(layer)
            if arr.ndim == 4 and arr.shape[0] == 1:
                arr = arr[0]
            if arr.ndim != 3:
                raise ValueError(f"layer {i} must have shape (heads, T_q, T_k) (or (1, heads, "
                                 f"T_q, T_k)); got {arr.shape} -- pick one example of the "
                                 f"batch first, e.g. w[0]")
            layers.append(arr)
        shapes = {a.shape for a in layers}
        if len(shapes) != 1:
            raise ValueError(f"all layers must have the same (heads, T_q, T_k) shape, got "
                             f"{sorted(shapes)}")
        stack = np.stack(layers)
    else:
        stack = to_np(weights)
        if stack.ndim not in (2, 3, 4):
            raise ValueError(f"weights must have shape (layers, heads, T_q, T_k), (heads, T_q, "
                             f"T_k) or (T_q, T_k), got {stack.shape}")
        stack = stack.reshape((1,) * (4 - stack.ndim) + stack.shape)
    if not np.isfinite(stack).all() or (stack < 0).any():
        raise ValueError("attention weights must be finite and >= 0 (softmax outputs)")
    return stack


def _panel_heights(t_q: int, t_k: int, per_line: int = 48) -> tuple[float, float]:
    """Heights (inches) of the heat-map and of the token strip for T_q queries, T_k keys."""
    lines = min(6, 1 + t_k // per_line)
    return min(7.0, 1.8 + 0.2 * t_q), 0.8 + 0.4 * lines


def _token_strip(ax: Any, tokens: Sequence[str], weights: np.ndarray, title: str,
                 per_line: int = 48) -> None:
    """Key tokens as text boxes whose colour is their attention weight."""
    import matplotlib

    cmap = matplotlib.colormaps["Reds"]
    top = float(weights.max()) or 1.0
    x, line = 0.0, 0
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left")
    for token, weight in zip(tokens, weights):
        label = display_token(token) if len(token) == 1 else token
        width = max(1, len(label)) + 0.6
        if x + width > per_line and x > 0:
            x, line = 0.0, line + 1
        shade = weight / top
        ax.text(x, -line * 1.6, label, family="monospace", fontsize=10, va="center",
                color="white" if shade > 0.6 else "black",
                bbox=dict(boxstyle="round,pad=0.25", facecolor=cmap(0.05 + 0.9 * shade),
                          edgecolor="none"))
        x += width
    ax.set_xlim(-0.5, per_line)
    ax.set_ylim(-line * 1.6 - 1.0, 1.0)


def patch_prefix(n_keys: int, patch_grid: tuple[int, int], n_prefix: int | None = None) -> int:
    """How many keys come before the patch tokens; ValueError if the grid does not fit.

    ``n_prefix=None``: a ViT's single [CLS] token, or none. A grid that does not match the
    number of keys would otherwise overlay the wrong patches without a word.
    """
    if not (isinstance(patch_grid, (tuple, list)) and len(patch_grid) == 2):
        raise ValueError(f"patch_grid must be (rows, cols), got {patch_grid!r}")
    rows, cols = patch_grid
    check_int("patch_grid rows", rows, min_value=1)
    check_int("patch_grid cols", cols, min_value=1)
    extra = n_keys - rows * cols
    if n_prefix is None:
        if extra not in (0, 1):
            side = math.isqrt(max(n_keys - 1, 0))
            guess = f" (e.g. ({side}, {side}))" if side * side == n_keys - 1 else ""
            raise ValueError(
                f"patch_grid {tuple(patch_grid)} has {rows * cols} patches but there are "
                f"{n_keys} keys: a ViT has one [CLS] token before {n_keys - 1} patches"
                f"{guess}. Pass the model's patch grid, or n_prefix= for models with more "
                "tokens before the patches (distillation, register tokens).")
        return extra
    check_int("n_prefix", n_prefix, min_value=0)
    if extra != n_prefix:
        raise ValueError(f"patch_grid {tuple(patch_grid)} with n_prefix={n_prefix} needs "
                         f"{rows * cols + n_prefix} keys, there are {n_keys}")
    return n_prefix


def check_patch_tiling(image_hw: Sequence[int], patch_grid: tuple[int, int]) -> None:
    """ValueError unless ``patch_grid`` cuts an (H, W) image into equal square patches."""
    height, width = (int(v) for v in image_hw)
    rows, cols = patch_grid
    if height % rows or width % cols or height // rows != width // cols:
        raise ValueError(f"patch_grid {tuple(patch_grid)} does not cut the {height}x{width} "
                         "image into equal square patches: pass the model's grid "
                         "(image size / patch size in each direction)")


def plot_attention(weights: Any, query_tokens: Sequence[str],
                   key_tokens: Sequence[str] | None = None, *, layer: int = 0,
                   head: int | str = "mean", query: int = 0, image: Any = None,
                   patch_grid: tuple[int, int] | None = None, title: str = "",
                   n_prefix: int | None = None) -> Figure:
    """Heat-map of one layer/head (selected query row outlined) + where that query looks.

    The second panel highlights the key tokens by weight, or -- with ``image`` and
    ``patch_grid=(rows, cols)`` (ViT) -- overlays the weights of the patch tokens on the
    image (keys before the patches, e.g. [CLS], are left out of the overlay; ``n_prefix``
    says how many, by default one or none -- see ``patch_prefix``). ``head="mean"``
    averages the heads.
    """
    stack = attention_stack(weights)
    n_layers, n_heads, t_q, t_k = stack.shape
    key_tokens = list(query_tokens if key_tokens is None else key_tokens)
    query_tokens = list(query_tokens)
    if len(query_tokens) != t_q or len(key_tokens) != t_k:
        raise ValueError(f"got {len(query_tokens)} query and {len(key_tokens)} key tokens for "
                         f"weights with T_q={t_q}, T_k={t_k}")
    if not 0 <= layer < n_layers:
        raise ValueError(f"layer must be in 0..{n_layers - 1}, got {layer}")
    if head != "mean" and not (isinstance(head, (int, np.integer)) and 0 <= head < n_heads):
        raise ValueError(f"head must be 'mean' or in 0..{n_heads - 1}, got {head!r}")
    if not 0 <= query < t_q:
        raise ValueError(f"query must be in 0..{t_q - 1}, got {query}")
    matrix = stack[layer].mean(0) if head == "mean" else stack[layer, head]
    head_name = "mean of heads" if head == "mean" else f"head {head}"
    q_labels = [display_token(t) if len(t) == 1 else t for t in query_tokens]
    k_labels = [display_token(t) if len(t) == 1 else t for t in key_tokens]
    if image is not None:
        if patch_grid is None:
            raise ValueError("an image needs patch_grid=(rows, cols) of the patch tokens")
        patch_prefix(t_k, patch_grid, n_prefix)
        rows, cols = patch_grid
        fig, (ax_map, ax_view) = new_figure(1, 2, size=(11.0, 4.8))
    else:
        map_height, view_height = _panel_heights(t_q, t_k)
        fig, (ax_map, ax_view) = new_figure(
            2, 1, size=(min(14.0, 3.0 + 0.2 * t_k), map_height + view_height),
            gridspec_kw={"height_ratios": [map_height, view_height]})
    image_artist = ax_map.imshow(matrix, cmap="viridis", vmin=0.0, aspect="auto")
    fig.colorbar(image_artist, ax=ax_map, fraction=0.03, pad=0.01)
    if t_k <= 80:
        ax_map.set_xticks(range(t_k), labels=k_labels, fontsize=8, family="monospace")
    if t_q <= 80:
        ax_map.set_yticks(range(t_q), labels=q_labels, fontsize=8, family="monospace")
    ax_map.add_patch(_query_outline((-0.5, query - 0.5), t_k, 1.0))
    ax_map.set(xlabel="key (attended to)", ylabel="query",
               title=title or f"layer {layer} · {head_name}")
    row = matrix[query]
    view_title = f"query {query} ({q_labels[query]!r}) attends to:"
    if image is None:
        _token_strip(ax_view, key_tokens, row, view_title)
    else:
        img = _as_hwc(image)
        check_patch_tiling(img.shape[:2], patch_grid)
        overlay_patch_heat(ax_view, img, row[t_k - rows * cols:], patch_grid)
        ax_view.set_axis_off()
        ax_view.set_title(view_title, fontsize=10)
    fig.tight_layout()
    return fig


def _query_outline(xy: tuple[float, float], width: float, height: float) -> Any:
    """An outline rectangle that marks the selected query row."""
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, fill=False, edgecolor="red", linewidth=2)
