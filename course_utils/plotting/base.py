"""Basic plots: a figure, training histories, heat maps, mask grids and line plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


import matplotlib.pyplot as plt  # noqa: E402  (activates the inline backend in Jupyter)
import numpy as np
from matplotlib.figure import Figure

from course_utils.validation import check_ndim

__all__ = ["new_figure", "plot_history", "plot_heatmap", "plot_mask_grid", "plot_lines"]


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None,
               **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots`` that does not auto-display (the caller returns the figure)."""
    size = size or (4.8 * ncols, 3.4 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, **kwargs)
    plt.close(fig)  # keep pyplot from showing it a second time at the end of the cell
    return fig, axes


def _to_numpy(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().float().cpu().numpy()
    return np.asarray(values)


def plot_history(history: Any, metrics: Sequence[str] = (), *, title: str = "",
                 smooth: int = 1) -> Figure:
    """Training loss per step (optionally smoothed) beside chosen eval metrics."""
    if smooth < 1:
        raise ValueError(f"smooth must be >= 1 (a moving-average window), got {smooth}")
    metrics = list(metrics) or [m for m in history.eval if m != "loss"][:1]
    fig, axes = new_figure(1, 1 + bool(metrics), squeeze=False)
    ax = axes[0][0]
    steps, loss = np.asarray(history.step), np.asarray(history.train_loss)
    ax.plot(steps, loss, color="tab:blue", alpha=0.35 if smooth > 1 else 1, label="train")
    if smooth > 1 and len(loss) >= smooth:
        kernel = np.ones(smooth) / smooth
        ax.plot(steps[smooth - 1:], np.convolve(loss, kernel, mode="valid"), color="tab:blue",
                label=f"train (mean of {smooth})")
    if "loss" in history.eval:
        ax.plot(history.eval_step, history.eval["loss"], "o-", color="tab:orange", label="eval")
    ax.set(xlabel="step", ylabel="loss", title=title or "loss")
    ax.legend()
    if metrics:
        ax2 = axes[0][1]
        for name in metrics:
            if name not in history.eval:
                raise KeyError(f"metric {name!r} not in history.eval ({sorted(history.eval)})")
            ax2.plot(history.eval_step, history.eval[name], "o-", label=name)
        ax2.set(xlabel="step", title="evaluation")
        ax2.legend()
    fig.tight_layout()
    return fig


def plot_heatmap(matrix: Any, *, row_labels: Sequence[str] | None = None,
                 col_labels: Sequence[str] | None = None, title: str = "",
                 xlabel: str = "", ylabel: str = "", cmap: str = "viridis",
                 annotate: bool | None = None, vmin: float | None = None,
                 vmax: float | None = None, ax: Any = None, colorbar: bool = True) -> Figure:
    """A labelled heat-map of a 2-D array/tensor (attention maps, masks, confusion...)."""
    data = _to_numpy(matrix)
    check_ndim("matrix", data, 2)
    if row_labels is not None and len(row_labels) != data.shape[0]:
        raise ValueError(f"row_labels has {len(row_labels)} entries, matrix has "
                         f"{data.shape[0]} rows")
    if col_labels is not None and len(col_labels) != data.shape[1]:
        raise ValueError(f"col_labels has {len(col_labels)} entries, matrix has "
                         f"{data.shape[1]} columns")
    if ax is None:
        side = min(9.0, 2.5 + 0.35 * max(data.shape))
        fig, ax = new_figure(size=(side + 1.0, side))
    else:
        fig = ax.figure
    image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), labels=list(row_labels))
    if col_labels is not None:
        ax.set_xticks(range(len(col_labels)), labels=list(col_labels), rotation=90)
    if annotate is None:
        annotate = data.size <= 100
    if annotate:
        for (i, j), value in np.ndenumerate(data):
            ax.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=7,
                    color="white" if image.norm(value) < 0.5 else "black")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return fig


def plot_mask_grid(masks: Mapping[str, Any], *, title: str = "") -> Figure:
    """Several boolean/0-1 masks side by side (e.g. encoder / decoder / enc-dec)."""
    if not masks:
        raise ValueError("masks must contain at least one named matrix")
    fig, axes = new_figure(1, len(masks), squeeze=False, size=(3.2 * len(masks), 3.4))
    for ax, (name, mask) in zip(axes[0], masks.items()):
        data = _to_numpy(mask).astype(float)
        check_ndim(f"mask {name!r}", data, 2)
        ax.imshow(data, cmap="Blues", vmin=0, vmax=1)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("key (attended to)")
        ax.set_ylabel("query (attending)")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_lines(x: Any, series: Mapping[str, Any], *, title: str = "", xlabel: str = "",
               ylabel: str = "", logx: bool = False, logy: bool = False,
               markers: bool = False) -> Figure:
    """Several named y-series over a shared x (schedules, sweeps, curves)."""
    if not series:
        raise ValueError("series must contain at least one named curve")
    x = _to_numpy(x)
    fig, ax = new_figure()
    for name, y in series.items():
        y = _to_numpy(y)
        if y.shape != x.shape:
            raise ValueError(f"series {name!r} has shape {y.shape}, x has shape {x.shape}")
        ax.plot(x, y, "o-" if markers else "-", label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    return fig
