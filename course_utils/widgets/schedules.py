"""LR-schedule explorer (chapter 09): schedule curves plus the loss of short training runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from course_utils.plotting.schedules import plot_lr_schedules
from course_utils.schedules import SCHEDULE_NAMES, make_schedule, schedule_demo_training
from course_utils.validation import check_int
from course_utils.widgets.base import FigureExplorer

__all__ = ["LRScheduleExplorer", "curve_label"]


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
