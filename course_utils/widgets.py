"""Interactive widgets (ipywidgets 8), all built on one pattern.

A plain function draws a figure from keyword arguments (see ``course_utils.plotting``);
``FigureExplorer`` wraps it: controls on top, the figure below in a fixed-height
``Output``, redrawn when a control's value changes. Widgets are *returned*, never
displayed inside, and can be driven from code (``w.controls["head"].value = 2``), which is
how the tests exercise them headless. Heavy controls use ``continuous_update=False``.
Concrete explorers (attention, decoding, LR schedule) are added by their chapters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

__all__ = ["FigureExplorer"]


class FigureExplorer(widgets.VBox):
    """Controls + a figure drawn by ``plot_fn(**control_values)``; redraws on change."""

    def __init__(self, plot_fn: Callable[..., Figure], controls: Mapping[str, widgets.Widget],
                 *, height: str = "460px", fixed: Mapping[str, Any] | None = None,
                 title: str = "", css_class: str = "") -> None:
        if not callable(plot_fn):
            raise TypeError(f"plot_fn must be callable and return a Figure, got {plot_fn!r}")
        if not controls:
            raise ValueError("controls must contain at least one widget (name -> widget)")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"control {name!r} must be an ipywidgets value widget, "
                                f"got {type(control).__name__}")
        self.plot_fn, self.controls, self.fixed = plot_fn, dict(controls), dict(fixed or {})
        self.output = widgets.Output(layout=widgets.Layout(height=height, overflow="auto"))
        self.figure: Figure | None = None
        self.error: str | None = None
        self.draw_count = 0
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        rows = [widgets.HBox(list(self.controls.values())[i:i + 3])
                for i in range(0, len(self.controls), 3)]
        super().__init__(children=[*header, *rows, self.output])
        self.add_class("course-figure-explorer")  # hooks for the real-browser test
        if css_class:
            self.add_class(css_class)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        """Current control values plus fixed arguments."""
        return {**self.fixed, **{name: c.value for name, c in self.controls.items()}}

    def _on_change(self, _change: dict) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw the figure from the current values (errors are shown, not raised)."""
        self.output.clear_output(wait=True)
        with self.output:
            try:
                self.figure = self.plot_fn(**self.values())
                self.error = None
                self.draw_count += 1
                display(self.figure)
            except Exception as err:  # show the problem inside the widget
                self.error = f"{type(err).__name__}: {err}"
                print(f"Could not draw: {self.error}")


# ---------------------------------------------------------------------------------------
# LR-schedule explorer (chapter 09)
# ---------------------------------------------------------------------------------------
import math  # noqa: E402

import torch  # noqa: E402

from course_utils import plotting as _plotting  # noqa: E402
from course_utils.schedules import SCHEDULE_NAMES, lr_curve, make_schedule  # noqa: E402
from course_utils.validation import check_int  # noqa: E402

__all__ += ["plot_lr_schedules", "schedule_demo_training", "LRScheduleExplorer"]

LossCurves = Mapping[str, tuple[list[int], list[float]]]


def plot_lr_schedules(schedules: tuple[str, ...] | list[str], *, total_steps: int,
                      warmup_steps: int = 0, peak_lr: float = 1e-2, min_lr_ratio: float = 0.0,
                      cycles: int = 3, gamma: float = 0.5, log_scale: bool = False,
                      losses: LossCurves | None = None) -> Figure:
    """LR curves of the chosen schedules (left) and, when given, loss curves (right)."""
    if isinstance(schedules, str):
        schedules = [schedules]
    if not schedules:
        raise ValueError(f"choose at least one schedule from {list(SCHEDULE_NAMES)}")
    warmup_steps = min(warmup_steps, total_steps)
    fig, axes = _plotting.new_figure(1, 2, size=(10.5, 3.6))
    steps = list(range(total_steps))
    for name in schedules:
        fn = make_schedule(name, total_steps=total_steps, peak_lr=peak_lr,
                           min_lr=min_lr_ratio * peak_lr, warmup_steps=warmup_steps,
                           cycles=cycles, gamma=gamma)
        axes[0].plot(steps, lr_curve(fn, total_steps), label=name)
    if warmup_steps:
        axes[0].axvline(warmup_steps, color="gray", ls=":", lw=1)
    axes[0].set(xlabel="step", ylabel="learning rate", title="schedules")
    if log_scale:
        axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    ax = axes[1]
    if losses:
        for label, (loss_steps, values) in losses.items():
            ax.plot(loss_steps, values, label=label)
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "press 'train' to overlay\nthe loss of a short run", ha="center",
                va="center", transform=ax.transAxes, color="gray")
    ax.set(xlabel="step", ylabel="held-out loss", title="training with the schedule")
    fig.tight_layout()
    return fig


def schedule_demo_training(schedule: Callable[[int], float], total_steps: int, *, seed: int = 0,
                           batch_size: int = 32, points: int = 40) -> tuple[list[int], list[float]]:
    """Train a small MLP (Adam) on a noisy regression task with ``schedule``; held-out MSE.

    Fast by design (a few ms per step on a CPU) so the explorer's button stays interactive.
    Returns (steps, held-out losses) at about ``points`` evaluation steps.
    """
    from course_utils.schedules import as_scheduler
    from course_utils.train import TrainConfig, train

    check_int("total_steps", total_steps, min_value=2)
    gen = torch.Generator().manual_seed(1234)  # the task is fixed; seed changes init + order
    x = torch.randn(1536, 8, generator=gen)
    w1, w2 = torch.randn(8, 32, generator=gen), torch.randn(32, 1, generator=gen) / 4
    y = torch.tanh(x @ w1) @ w2 + 0.1 * torch.randn(1536, 1, generator=gen)
    (x_tr, y_tr), (x_te, y_te) = (x[:1024], y[:1024]), (x[1024:], y[1024:])
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                                torch.nn.Tanh(), torch.nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=max(schedule(0), 1e-12))
    order = torch.Generator().manual_seed(seed)

    def batch(_step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(x_tr), (batch_size,), generator=order)
        return x_tr[idx], y_tr[idx]

    def mse(m: torch.nn.Module, b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return torch.nn.functional.mse_loss(m(b[0]), b[1])

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: thread hand-offs cost more than they save
    try:
        history = train(model, optimizer, batch, mse,
                        TrainConfig(max_steps=total_steps, grad_clip=None, progress=False,
                                    eval_every=max(1, total_steps // points)),
                        scheduler=as_scheduler(optimizer, schedule),
                        eval_fn=lambda m: {"loss": float(mse(m, (x_te, y_te)))})
    finally:
        torch.set_num_threads(threads)
    values = [v if math.isfinite(v) else float("nan") for v in history.eval["loss"]]
    return list(history.eval_step), values


class LRScheduleExplorer(FigureExplorer):
    """Pick schedules and knobs, see the LR curves; 'train' overlays short-run loss curves.

    Controls (``.controls``): ``schedules`` (multi-select), ``total_steps``, ``warmup_steps``,
    ``peak_lr`` (log slider), ``min_lr_ratio`` (min LR as a fraction of the peak),
    ``cycles``, ``gamma``, ``log_scale``. ``train_button`` runs ``train_fn(schedule, steps)``
    for every selected schedule (default: ``schedule_demo_training``); ``clear_button``
    forgets the loss curves. CSS class ``course-lr-explorer`` (for the browser test).
    """

    def __init__(self, *, schedules: tuple[str, ...] = ("warmup_cosine", "cosine", "one_cycle"),
                 total_steps: int = 300, warmup_steps: int = 30, peak_lr: float = 1e-2,
                 train_fn: Callable[[Callable[[int], float], int], tuple[list, list]] | None = None,
                 max_curves: int = 6) -> None:
        check_int("total_steps", total_steps, min_value=10, max_value=2000)
        for name in schedules:
            if name not in SCHEDULE_NAMES:
                raise ValueError(f"unknown schedule {name!r}; choose from {list(SCHEDULE_NAMES)}")
        self.losses: dict[str, tuple[list[int], list[float]]] = {}
        self.train_fn = train_fn or schedule_demo_training
        self.max_curves, self.last_train_seconds = max_curves, 0.0
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        controls = {
            "schedules": widgets.SelectMultiple(options=SCHEDULE_NAMES, value=tuple(schedules),
                                                rows=6, description="schedules"),
            "total_steps": widgets.IntSlider(value=total_steps, min=10, max=2000, step=10,
                                             description="total steps", **slider),
            "warmup_steps": widgets.IntSlider(value=warmup_steps, min=0, max=500, step=5,
                                              description="warmup steps", **slider),
            "peak_lr": widgets.FloatLogSlider(value=peak_lr, base=10, min=-5, max=0, step=0.1,
                                              description="peak LR", readout_format=".1e",
                                              **slider),
            "min_lr_ratio": widgets.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.01,
                                                description="min LR / peak", **slider),
            "cycles": widgets.IntSlider(value=3, min=1, max=10, description="cycles/restarts",
                                        **slider),
            "gamma": widgets.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05,
                                         description="gamma (step)", **slider),
            "log_scale": widgets.Checkbox(value=False, description="log LR axis"),
        }
        super().__init__(lambda **kw: plot_lr_schedules(**kw, losses=self.losses), controls,
                         height="420px", title="LR-schedule explorer",
                         css_class="course-lr-explorer")
        self.train_button = widgets.Button(description="train with these schedules",
                                           button_style="primary", icon="play",
                                           layout=widgets.Layout(width="230px"))
        self.clear_button = widgets.Button(description="clear loss curves",
                                           layout=widgets.Layout(width="150px"))
        self.status = widgets.HTML("")
        self.train_button.add_class("course-lr-train")
        self.train_button.on_click(lambda _b: self.run_training())
        self.clear_button.on_click(lambda _b: self.clear())
        buttons = widgets.HBox([self.train_button, self.clear_button, self.status])
        self.children = (*self.children[:-1], buttons, self.output)

    def run_training(self) -> dict[str, tuple[list[int], list[float]]]:
        """Train once per selected schedule and overlay the held-out loss curves."""
        import time

        v = self.values()
        self.status.value = "training..."
        started = time.perf_counter()
        for name in v["schedules"]:
            fn = make_schedule(name, total_steps=v["total_steps"], peak_lr=v["peak_lr"],
                               min_lr=v["min_lr_ratio"] * v["peak_lr"],
                               warmup_steps=min(v["warmup_steps"], v["total_steps"]),
                               cycles=v["cycles"], gamma=v["gamma"])
            uses_warmup = name.startswith("warmup") or name == "one_cycle"
            label = f"{name} (peak {v['peak_lr']:.0e}" + (
                f", warmup {v['warmup_steps']})" if uses_warmup else ")")
            self.losses.pop(label, None)
            self.losses[label] = self.train_fn(fn, v["total_steps"])
            while len(self.losses) > self.max_curves:  # drop the oldest curve
                self.losses.pop(next(iter(self.losses)))
        self.last_train_seconds = time.perf_counter() - started
        self.status.value = (f"trained {len(v['schedules'])} run(s) in "
                             f"{self.last_train_seconds:.1f} s")
        self.refresh()
        return self.losses

    def clear(self) -> None:
        """Forget every loss curve and redraw."""
        self.losses.clear()
        self.status.value = ""
        self.refresh()


# ---------------------------------------------------------------------------------------
# Attention explorer (chapter 01; reused by the GPT, BERT and ViT chapters)
# ---------------------------------------------------------------------------------------
from collections.abc import Sequence  # noqa: E402

import numpy as np  # noqa: E402

from course_utils.plotting import new_figure  # noqa: E402
from course_utils.text import display_token  # noqa: E402

__all__ += ["attention_stack", "plot_attention", "AttentionExplorer"]


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


def plot_attention(weights: Any, query_tokens: Sequence[str],
                   key_tokens: Sequence[str] | None = None, *, layer: int = 0,
                   head: int | str = "mean", query: int = 0, image: Any = None,
                   patch_grid: tuple[int, int] | None = None, title: str = "") -> Figure:
    """Heat-map of one layer/head (selected query row outlined) + where that query looks.

    The second panel highlights the key tokens by weight, or -- with ``image`` and
    ``patch_grid=(rows, cols)`` (ViT) -- overlays the weights of the patch tokens on the
    image (keys before the patches, e.g. [CLS], are left out of the overlay).
    ``head="mean"`` averages the heads.
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
        rows, cols = patch_grid
        if rows * cols > t_k:
            raise ValueError(f"patch_grid {patch_grid} has {rows * cols} patches but there are "
                             f"only {t_k} keys")
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
        img = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image,
                         dtype=float)
        if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
            img = img.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        patches = row[t_k - rows * cols:].reshape(rows, cols)
        ax_view.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax_view.imshow(patches, cmap="inferno", alpha=0.55,
                       extent=(-0.5, img.shape[1] - 0.5, img.shape[0] - 0.5, -0.5))
        ax_view.set_axis_off()
        ax_view.set_title(view_title, fontsize=10)
    fig.tight_layout()
    return fig


def _query_outline(xy: tuple[float, float], width: float, height: float) -> Any:
    """An outline rectangle that marks the selected query row."""
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, fill=False, edgecolor="red", linewidth=2)


class AttentionExplorer(FigureExplorer):
    """Layer / head / query pickers over ``plot_attention`` (any model of the course).

    ``weights``: (layers, heads, T_q, T_k), (heads, T_q, T_k), (T_q, T_k) or a list of
    per-layer (heads, T_q, T_k); ``key_tokens`` defaults to ``query_tokens``
    (self-attention). For ViT pass ``image`` and ``patch_grid``. The top box carries the
    CSS class ``course-attention-explorer``; controls: ``layer``, ``head``, ``query``.
    """

    def __init__(self, weights: Any, query_tokens: Sequence[str],
                 key_tokens: Sequence[str] | None = None, *, image: Any = None,
                 patch_grid: tuple[int, int] | None = None,
                 layer_names: Sequence[str] | None = None, query: int = 0,
                 title: str = "Attention explorer", height: str | None = None) -> None:
        stack = attention_stack(weights)
        n_layers, n_heads, t_q, t_k = stack.shape
        if height is None:  # fit the figure, so the explorer does not need to scroll
            inches = 4.8 if image is not None else sum(_panel_heights(t_q, t_k))
            height = f"{int(inches * 100) + 30}px"
        if layer_names is not None and len(layer_names) != n_layers:
            raise ValueError(f"layer_names has {len(layer_names)} entries for {n_layers} layers")
        if len(query_tokens) != t_q:
            raise ValueError(f"got {len(query_tokens)} query tokens for T_q={t_q}")
        names = list(layer_names) if layer_names is not None else \
            [f"layer {i}" for i in range(n_layers)]
        style = {"description_width": "initial"}
        controls = {
            "layer": widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], value=0,
                                      description="layer", style=style),
            "head": widgets.Dropdown(options=[("mean of heads", "mean")]
                                     + [(f"head {h}", h) for h in range(n_heads)],
                                     value="mean" if n_heads > 1 else 0, description="head",
                                     style=style),
            "query": widgets.Dropdown(
                options=[(f"{i}: {display_token(t) if len(t) == 1 else t}", i)
                         for i, t in enumerate(query_tokens)],
                value=query, description="query token", style=style),
        }
        self.stack = stack
        super().__init__(plot_attention, controls, height=height, title=title,
                         fixed={"weights": stack, "query_tokens": list(query_tokens),
                                "key_tokens": None if key_tokens is None else list(key_tokens),
                                "image": image, "patch_grid": patch_grid})
        self.add_class("course-attention-explorer")


# ---------------------------------------------------------------------------------------
# ViT attention explorer (chapter 04): several images, per-layer maps and the rollout
# ---------------------------------------------------------------------------------------
__all__ += ["vit_patch_tokens", "plot_vit_attention", "ViTAttentionExplorer"]

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
                       residual: float = 0.5) -> Figure:
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
    tokens = vit_patch_tokens(patch_grid, n_prefix=w.shape[-1] - patch_grid[0] * patch_grid[1])
    caption = captions[image] if captions is not None else f"image {image}"
    picture = images[image]
    if layer == ROLLOUT:
        rollout = attention_rollout(w[image], residual=residual)  # (T, T)
        return plot_attention(rollout[None, None], tokens, layer=0, head=0, query=query,
                              image=picture, patch_grid=patch_grid,
                              title=f"{caption} · attention rollout over {w.shape[1]} layers")
    head_name = "mean of heads" if head == "mean" else f"head {head}"
    return plot_attention(w[image], tokens, layer=layer, head=head, query=query, image=picture,
                          patch_grid=patch_grid, title=f"{caption} · layer {layer} · {head_name}")


class ViTAttentionExplorer(FigureExplorer):
    """Image / layer (or rollout) / head / query pickers over a ViT's attention maps.

    ``weights``: (n_images, layers, heads, T, T), e.g. ``ViT.attention_maps(x)``;
    ``images``: the same images unnormalised for display; ``patch_grid``: (rows, cols);
    ``captions``: one label per image (e.g. "label 3 · predicted 3"). The top box carries
    the CSS classes ``course-vit-attention-explorer`` and ``course-attention-explorer``;
    controls: ``image``, ``layer`` (the last option is the rollout), ``head``, ``query``.
    """

    def __init__(self, weights: Any, images: Any, *, patch_grid: tuple[int, int],
                 captions: Sequence[str] | None = None, image: int = 0, layer: int | None = None,
                 query: int = 0, title: str = "ViT attention explorer",
                 height: str = "560px") -> None:
        w = weights.detach().cpu() if hasattr(weights, "detach") else torch.as_tensor(weights)
        if w.ndim != 5:
            raise ValueError(f"weights must be (n_images, layers, heads, T, T), got "
                             f"{tuple(w.shape)}")
        n_images, n_layers, n_heads, t_q, t_k = w.shape
        if t_q != t_k or t_k < patch_grid[0] * patch_grid[1]:
            raise ValueError(f"weights must be square self-attention over [CLS] + "
                             f"{patch_grid[0]}x{patch_grid[1]} patches, got {tuple(w.shape)}")
        if len(images) != n_images:
            raise ValueError(f"got {len(images)} images for {n_images} attention maps")
        if captions is not None and len(captions) != n_images:
            raise ValueError(f"got {len(captions)} captions for {n_images} images")
        attention_stack(w[0])  # validates the values (finite, >= 0)
        tokens = vit_patch_tokens(patch_grid, n_prefix=t_k - patch_grid[0] * patch_grid[1])
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
        }
        self.weights = w
        super().__init__(plot_vit_attention, controls, height=height, title=title,
                         fixed={"weights": w, "images": images, "patch_grid": tuple(patch_grid),
                                "captions": names},
                         css_class="course-vit-attention-explorer")
        self.add_class("course-attention-explorer")


# ---------------------------------------------------------------------------------------
# Decoding explorer (chapter 02)
# ---------------------------------------------------------------------------------------
import textwrap  # noqa: E402

__all__ += ["decoding_stages", "plot_decoding", "DecodingExplorer"]


def decoding_stages(logits: Any, *, temperature: float = 1.0, top_k: int = 0,
                    top_p: float = 1.0) -> dict[str, Any]:
    """Next-token probabilities after each step of the sampling pipeline, as (V,) tensors.

    Keys: ``"model"`` (softmax of the raw logits), ``"temperature"``, ``"top-k"``, ``"top-p"``
    (the distribution actually sampled from). ``top_k=0`` and ``top_p=1`` switch a filter off.
    """
    from course_utils.generation import apply_temperature, top_k_filter, top_p_filter

    logits = torch.as_tensor(logits, dtype=torch.float32)
    if logits.ndim != 1:
        raise ValueError(f"logits must be one (vocab,) vector, got shape {tuple(logits.shape)}")
    scaled = apply_temperature(logits, temperature)
    after_k = top_k_filter(scaled, top_k or None)
    after_p = top_p_filter(after_k, top_p)
    return {"model": logits.softmax(-1), "temperature": scaled.softmax(-1),
            "top-k": after_k.softmax(-1), "top-p": after_p.softmax(-1)}


def _entropy_bits(probs: Any) -> float:
    p = probs[probs > 0]
    return float(-(p * p.log2()).sum())


def plot_decoding(logits: Any, token_labels: Sequence[str], *, temperature: float = 1.0,
                  top_k: int = 0, top_p: float = 1.0, n_show: int = 20, prompt: str = "",
                  continuation: str = "", title: str = "") -> Figure:
    """Bars of the ``n_show`` most likely next tokens: the model's distribution (grey) and the
    one sampled from after temperature, top-k and top-p (blue; removed tokens in red);
    below, the prompt and a sampled continuation."""
    stages = decoding_stages(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    raw, final = stages["model"], stages["top-p"]
    if len(token_labels) != raw.numel():
        raise ValueError(f"got {len(token_labels)} token labels for a vocabulary of {raw.numel()}")
    n_show = max(1, min(int(n_show), raw.numel()))
    order = torch.argsort(raw, descending=True)[:n_show]
    fig, (ax, ax_text) = new_figure(2, 1, size=(10.5, 5.0),
                                    gridspec_kw={"height_ratios": [3.6, 1.0]})
    x = np.arange(n_show)
    ax.bar(x - 0.2, raw[order].numpy(), width=0.4, color="0.7", label="model (T = 1)")
    kept = final[order] > 0
    ax.bar(x + 0.2, final[order].numpy(), width=0.4, color="tab:blue",
           label=f"sampled from (T = {temperature:g}, top-k = {top_k or 'off'}, "
                 f"top-p = {top_p:g})")
    labels = [repr(token_labels[int(i)])[1:-1].replace(" ", "␣") for i in order]
    ax.set_xticks(x, labels=labels, rotation=60, ha="right", fontsize=8, family="monospace")
    for tick, keep in zip(ax.get_xticklabels(), kept):
        if not keep:
            tick.set_color("tab:red")
    n_k = int((stages["top-k"] > 0).sum())
    n_p = int((final > 0).sum())
    ax.set_ylabel("probability")
    ax.set_title(title or f"next token · {raw.numel()} in the vocabulary · kept after top-k: "
                          f"{n_k} · after top-p: {n_p} · entropy {_entropy_bits(raw):.2f} → "
                          f"{_entropy_bits(final):.2f} bits", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax_text.set_axis_off()
    shown = textwrap.fill(f"{prompt}⟦{continuation}⟧", width=110)
    ax_text.text(0.0, 1.0, "sampled continuation (generated text in ⟦ ⟧):\n" + shown,
                 va="top", ha="left", fontsize=9, family="monospace", transform=ax_text.transAxes)
    fig.tight_layout()
    return fig


class DecodingExplorer(FigureExplorer):
    """Prompt + temperature / top-k / top-p / seed -> next-token bars and a sampled continuation.

    ``model``: a causal LM usable by ``course_utils.generation`` (our GPT or a ``transformers``
    model); ``tokenizer``: anything with ``encode(text) -> ids`` and ``decode(ids) -> str``.
    Controls (``.controls``): ``prompt``, ``temperature``, ``top_k`` (0 = off), ``top_p``
    (1 = off), ``seed``. The top box carries the CSS class ``course-decoding-explorer``;
    ``last_continuation`` holds the text of the latest sample.
    """

    def __init__(self, model: Any, tokenizer: Any, prompt: str = "The", *,
                 temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 max_new_tokens: int = 30, seed: int = 0, n_show: int = 20,
                 eos_token_id: int | None = None, height: str = "600px") -> None:
        check_int("max_new_tokens", max_new_tokens, min_value=1, max_value=1000)
        if not (hasattr(tokenizer, "encode") and hasattr(tokenizer, "decode")):
            raise TypeError(f"tokenizer must have encode() and decode(), got "
                            f"{type(tokenizer).__name__}")
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.n_show = max_new_tokens, n_show
        self.eos_token_id = eos_token_id if eos_token_id is not None else \
            getattr(tokenizer, "eos_token_id", None)
        vocab = int(getattr(getattr(model, "config", None), "vocab_size", 0) or len(tokenizer))
        self.token_labels = [tokenizer.decode([i]) for i in range(vocab)]
        self.last_continuation = ""
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        controls = {
            "prompt": widgets.Text(value=prompt, description="prompt", continuous_update=False,
                                   layout=widgets.Layout(width="420px")),
            "temperature": widgets.FloatSlider(value=temperature, min=0.05, max=3.0, step=0.05,
                                               description="temperature", **slider),
            "top_k": widgets.IntSlider(value=top_k, min=0, max=min(200, vocab),
                                       description="top-k (0 = off)", **slider),
            "top_p": widgets.FloatSlider(value=top_p, min=0.05, max=1.0, step=0.01,
                                         description="top-p (1 = off)", **slider),
            "seed": widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed",
                                           style={"description_width": "initial"},
                                           layout=widgets.Layout(width="160px")),
        }
        super().__init__(self._draw, controls, height=height, title="Decoding explorer",
                         css_class="course-decoding-explorer")

    def _draw(self, *, prompt: str, temperature: float, top_k: int, top_p: float,
              seed: int) -> Figure:
        from course_utils.generation import next_token_logits, sample

        ids = list(self.tokenizer.encode(prompt))
        if not ids:
            if self.eos_token_id is None:
                raise ValueError("type a prompt (the tokenizer has no EOS token to start from)")
            ids = [self.eos_token_id]  # an empty prompt starts a new document
        logits = next_token_logits(self.model, ids)[0]
        generator = torch.Generator().manual_seed(int(seed))
        out = sample(self.model, ids, self.max_new_tokens, temperature=temperature,
                     top_k=top_k or None, top_p=top_p, eos_token_id=self.eos_token_id,
                     generator=generator)
        new = out[0, len(ids):].tolist()
        if self.eos_token_id is not None and self.eos_token_id in new:
            new = new[:new.index(self.eos_token_id) + 1]
        self.last_continuation = self.tokenizer.decode(new)
        return plot_decoding(logits, self.token_labels, temperature=temperature, top_k=top_k,
                             top_p=top_p, n_show=self.n_show, prompt=prompt,
                             continuation=self.last_continuation)
