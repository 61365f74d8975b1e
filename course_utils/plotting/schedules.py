"""Learning-rate schedule curves and the losses they produce (chapter 09).

``LRScheduleExplorer`` in ``course_utils.widgets`` wraps ``plot_lr_schedules``.
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.figure import Figure

from course_utils.plotting.base import new_figure
from course_utils.schedules import SCHEDULE_NAMES, lr_curve, make_schedule

__all__ = ["LossCurves", "plot_lr_schedules"]


LossCurves = Mapping[str, tuple[list[int], list[float]]]


def plot_lr_schedules(schedules: tuple[str, ...] | list[str], *, total_steps: int,
                      warmup_steps: int = 0, peak_lr: float = 1e-2, min_lr_ratio: float = 0.0,
                      cycles: int = 3, gamma: float = 0.5, log_scale: bool = False,
                      losses: LossCurves | None = None, t_mult: int = 1) -> Figure:
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
                           cycles=cycles, gamma=gamma, t_mult=t_mult)
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
