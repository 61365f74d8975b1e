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
            label = f"{name} (peak {v['peak_lr']:.0e}, warmup {v['warmup_steps']})"
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
        height = 2.2 + 0.22 * t_q
        fig, (ax_map, ax_view) = new_figure(
            2, 1, size=(min(14.0, 3.0 + 0.2 * t_k), height + 1.8),
            gridspec_kw={"height_ratios": [height, 1.6]})
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
                 title: str = "Attention explorer", height: str = "560px") -> None:
        stack = attention_stack(weights)
        n_layers, n_heads, t_q, _ = stack.shape
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
