"""LR-schedule explorer (chapter 09): schedule curves plus the loss of short training runs."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course_utils.plotting import new_figure
from course_utils.schedules import SCHEDULE_NAMES, lr_curve, make_schedule
from course_utils.validation import check_int
from course_utils.widgets.base import FigureExplorer

__all__ = ["plot_lr_schedules", "schedule_demo_training", "LRScheduleExplorer"]


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
    fig, axes = new_figure(1, 2, size=(10.5, 3.6))
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
                                    eval_every=max(1, total_steps // points),
                                    nonfinite="stop"),  # a too-high peak LR ends the curve
                        scheduler=as_scheduler(optimizer, schedule),
                        eval_fn=lambda m: {"loss": float(mse(m, (x_te, y_te)))})
    finally:
        torch.set_num_threads(threads)
    values = [v if math.isfinite(v) else float("nan") for v in history.eval["loss"]]
    return list(history.eval_step), values


def curve_label(name: str, values: Mapping[str, Any]) -> str:
    """A loss curve's legend: the schedule and every knob that shapes it.

    Two runs that differ in any of these get two curves; the same settings replace their
    old curve.
    """
    return (f"{name} (peak {values['peak_lr']:.1e}, {values['total_steps']} steps, warmup "
            f"{min(values['warmup_steps'], values['total_steps'])}, min {values['min_lr_ratio']:g}"
            f"×peak, cycles {values['cycles']}, γ {values['gamma']:g})")


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
        self.train_button.add_class("course-lr-train")
        self.train_button.on_click(self.guarded(lambda _b: self.run_training(), "training failed"))
        self.clear_button.on_click(self.guarded(lambda _b: self.clear(), "clearing failed"))
        buttons = widgets.HBox([self.train_button, self.clear_button, self.status])
        self.children = (*[c for c in self.children[:-1] if c is not self.status], buttons,
                         self.output)

    def run_training(self) -> dict[str, tuple[list[int], list[float]]]:
        """Train once per selected schedule and overlay the held-out loss curves."""
        import time

        v = self.values()
        self.status.value = "training..."
        started = time.perf_counter()
        try:
            for name in v["schedules"]:
                fn = make_schedule(name, total_steps=v["total_steps"], peak_lr=v["peak_lr"],
                                   min_lr=v["min_lr_ratio"] * v["peak_lr"],
                                   warmup_steps=min(v["warmup_steps"], v["total_steps"]),
                                   cycles=v["cycles"], gamma=v["gamma"])
                label = curve_label(name, v)
                self.losses.pop(label, None)
                self.losses[label] = self.train_fn(fn, v["total_steps"])
                while len(self.losses) > self.max_curves:  # drop the oldest curve
                    self.losses.pop(next(iter(self.losses)))
        except Exception as err:  # never leave "training..." behind
            self.show_error("training failed", err)
            raise
        self.last_train_seconds = time.perf_counter() - started
        self.error = None
        self.status.value = (f"trained {len(v['schedules'])} run(s) in "
                             f"{self.last_train_seconds:.1f} s")
        self.refresh()
        return self.losses

    def clear(self) -> None:
        """Forget every loss curve and redraw."""
        self.losses.clear()
        self.status.value = ""
        self.refresh()
