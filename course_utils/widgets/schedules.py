"""LR-schedule explorer (chapter 09): schedule curves plus the loss of short training runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from course_utils.plotting.schedules import plot_lr_schedules
from course_utils.schedules import SCHEDULE_NAMES, make_schedule, schedule_demo_training
from course_utils.validation import check_int
from course_utils.widgets.base import FigureExplorer

__all__ = ["LRScheduleExplorer", "curve_label", "PRESETS"]


# Scenarios for the explorer's "scenario" menu: control values to set (warmup as a share of
# the total steps). Their outcomes on the demo task are measured in chapter 09, not assumed.
PRESETS: dict[str, dict[str, Any]] = {
    "decay vs constant (peak 3e-2)": dict(schedules=("constant", "cosine", "warmup_cosine"),
                                          peak_lr=3e-2, warmup_share=0.1, min_lr_ratio=0.0),
    "high peak LR (3e-1): warmup matters": dict(schedules=("constant", "cosine", "warmup_cosine"),
                                                peak_lr=3e-1, warmup_share=0.1,
                                                min_lr_ratio=0.0),
    "restarts: SGDR, T_mult = 2": dict(schedules=("cosine", "cosine_restarts"), peak_lr=3e-2,
                                       warmup_share=0.0, cycles=3, t_mult=2,
                                       min_lr_ratio=0.0),
    "one-cycle vs warmup + cosine (peak 1e-1)": dict(schedules=("one_cycle", "warmup_cosine"),
                                                     peak_lr=1e-1, warmup_share=0.3,
                                                     min_lr_ratio=0.0),
}
CUSTOM = "custom (your settings)"


def curve_label(name: str, values: Mapping[str, Any]) -> str:
    """A loss curve's legend: the schedule and every knob that shapes it.

    Two runs that differ in any of these get two curves; the same settings replace their
    old curve.
    """
    return (f"{name} (peak {values['peak_lr']:.1e}, {values['total_steps']} steps, warmup "
            f"{min(values['warmup_steps'], values['total_steps'])}, min {values['min_lr_ratio']:g}"
            f"×peak, cycles {values['cycles']}, T_mult {values.get('t_mult', 1)}, "
            f"γ {values['gamma']:g})")


class LRScheduleExplorer(FigureExplorer):
    """Pick schedules and knobs, see the LR curves; 'train' overlays short-run loss curves.

    Controls (``.controls``): ``schedules`` (multi-select), ``total_steps``, ``warmup_steps``,
    ``peak_lr`` (log slider), ``min_lr_ratio`` (min LR as a fraction of the peak),
    ``cycles``, ``t_mult`` (cosine restarts: period growth), ``gamma``, ``log_scale``; the
    ``scenario`` menu (``.preset``, outside ``.controls``) sets several of them at once from
    ``PRESETS`` (``preset=`` chooses one at start). ``train_button`` runs ``train_fn(schedule, steps)``
    for every selected schedule (default: ``schedule_demo_training``); ``clear_button``
    forgets the loss curves. CSS class ``course-lr-explorer`` (for the browser test).
    """

    def __init__(self, *, schedules: tuple[str, ...] = ("warmup_cosine", "cosine", "one_cycle"),
                 total_steps: int = 300, warmup_steps: int = 30, peak_lr: float = 1e-2,
                 train_fn: Callable[[Callable[[int], float], int], tuple[list, list]] | None = None,
                 max_curves: int = 6, preset: str | None = None) -> None:
        check_int("total_steps", total_steps, min_value=10, max_value=2000)
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose from {list(PRESETS)}")
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
            "t_mult": widgets.IntSlider(value=1, min=1, max=3, description="T_mult (restarts)",
                                        **slider),
            "gamma": widgets.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05,
                                         description="gamma (step)", **slider),
            "log_scale": widgets.Checkbox(value=False, description="log LR axis"),
        }
        self._applying = False
        super().__init__(lambda **kw: plot_lr_schedules(**kw, losses=self.losses), controls,
                         height="420px", title="LR-schedule explorer",
                         css_class="course-lr-explorer")
        self.preset = widgets.Dropdown(options=[CUSTOM, *PRESETS], value=CUSTOM,
                                       description="scenario",
                                       style={"description_width": "initial"},
                                       layout=widgets.Layout(width="420px"))
        self.preset.add_class("course-lr-preset")
        self.preset.observe(self.guarded(lambda change: self.apply_preset(change["new"]),
                                         "scenario failed"), names="value")
        if preset is not None:
            self.preset.value = preset
        self.train_button = widgets.Button(description="train with these schedules",
                                           button_style="primary", icon="play",
                                           layout=widgets.Layout(width="230px"))
        self.clear_button = widgets.Button(description="clear loss curves",
                                           layout=widgets.Layout(width="150px"))
        self.train_button.add_class("course-lr-train")
        self.train_button.on_click(self.guarded(lambda _b: self.run_training(), "training failed"))
        self.clear_button.on_click(self.guarded(lambda _b: self.clear(), "clearing failed"))
        buttons = widgets.HBox([self.train_button, self.clear_button, self.status])
        children = [c for c in self.children[:-1] if c is not self.status]
        self.children = (*children[:1], self.preset, *children[1:], buttons, self.output)

    def _on_change(self, change: dict) -> None:
        if not self._applying:
            super()._on_change(change)

    def apply_preset(self, name: str) -> None:
        """Set the controls of scenario ``name`` (``PRESETS``) and redraw once."""
        if name == CUSTOM:
            return
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {list(PRESETS)}")
        values = dict(PRESETS[name])
        share = values.pop("warmup_share", 0.0)
        values.setdefault("t_mult", 1)
        values["warmup_steps"] = int(round(share * self.controls["total_steps"].value))
        self._applying = True
        try:
            for key, value in values.items():
                self.controls[key].value = value
        finally:
            self._applying = False
        self.refresh()

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
                                   cycles=v["cycles"], gamma=v["gamma"], t_mult=v["t_mult"])
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
