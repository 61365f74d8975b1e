"""Chapter 09: the LR-schedule explorer, driven headless."""

import pytest
import torch

from course_utils.schedules import SCHEDULE_NAMES, make_schedule
from course_utils.plotting.schedules import plot_lr_schedules
from course_utils.schedules import schedule_demo_training
from course_utils.widgets import LRScheduleExplorer


def _lines(fig, ax=0):
    return [list(map(float, line.get_ydata())) for line in fig.axes[ax].get_lines()]


def test_plot_function_draws_one_curve_per_schedule():
    fig = plot_lr_schedules(["cosine", "warmup_linear", "one_cycle"], total_steps=50,
                            warmup_steps=5)
    curves = [c for c in _lines(fig) if len(c) == 50]
    assert len(curves) == 3
    assert curves[0][0] == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="choose at least one schedule"):
        plot_lr_schedules([], total_steps=50)
    with pytest.raises(ValueError, match="schedule name must be one of"):
        plot_lr_schedules(["nope"], total_steps=50)


def test_explorer_redraws_when_a_control_changes():
    w = LRScheduleExplorer(total_steps=100)
    assert "course-lr-explorer" in w._dom_classes and w.error is None
    before, count = _lines(w.figure), w.draw_count
    w.controls["warmup_steps"].value = 50
    assert w.draw_count == count + 1 and w.error is None
    assert _lines(w.figure) != before
    w.controls["schedules"].value = ("step", "exponential", "cyclic_triangular2")
    assert len([c for c in _lines(w.figure) if len(c) == 100]) == 3
    w.controls["log_scale"].value = True
    assert w.figure.axes[0].get_yscale() == "log"
    w.controls["min_lr_ratio"].value = 0.2
    w.controls["schedules"].value = ("cosine",)
    assert min(_lines(w.figure)[0]) == pytest.approx(0.2 * w.controls["peak_lr"].value, rel=1e-2)


def test_every_schedule_draws_without_error():
    w = LRScheduleExplorer(total_steps=60)
    w.controls["schedules"].value = SCHEDULE_NAMES
    drawn = [c for c in _lines(w.figure) if len(c) == 60]
    assert w.error is None and len(drawn) == len(SCHEDULE_NAMES)
    w.controls["warmup_steps"].value = 500  # more than total_steps: clamped, not an error
    assert w.error is None


def test_train_button_overlays_loss_curves_quickly():
    w = LRScheduleExplorer(total_steps=200, schedules=("warmup_cosine", "constant"))
    assert w.figure.axes[1].get_lines() == []
    w.train_button.click()
    assert len(w.losses) == 2 and len(w.figure.axes[1].get_lines()) == 2
    assert w.last_train_seconds < 10
    assert "trained 2 run(s)" in w.status.value
    w.controls["peak_lr"].value = 1e-3
    w.train_button.click()  # new settings: curves accumulate
    assert len(w.losses) == 4
    w.clear_button.click()
    assert w.losses == {} and w.figure.axes[1].get_lines() == []


def test_explorer_keeps_at_most_max_curves():
    calls = []

    def fake_train(schedule, steps):
        calls.append(steps)
        return [0, steps], [1.0, 0.5]

    w = LRScheduleExplorer(total_steps=50, train_fn=fake_train, max_curves=3, schedules=("cosine",))
    for lr in (1e-3, 2e-3, 4e-3, 8e-3):
        w.controls["peak_lr"].value = lr
        w.run_training()
    assert len(w.losses) == 3 and calls == [50] * 4
    assert all("1e-03" not in k for k in w.losses)  # the oldest was dropped


def test_demo_training_learns_and_respects_the_schedule():
    schedule = make_schedule("warmup_cosine", total_steps=200, peak_lr=1e-2, warmup_steps=20)
    steps, losses = schedule_demo_training(schedule, 200)
    assert steps[-1] == 200 and losses[-1] < 0.5 * losses[0]
    _, frozen = schedule_demo_training(lambda step: 0.0, 50)
    assert frozen[0] == pytest.approx(frozen[-1])  # LR 0: nothing moves
    assert torch.get_num_threads() >= 1


def test_explorer_bad_arguments():
    with pytest.raises(ValueError, match="unknown schedule 'linear_warmup'"):
        LRScheduleExplorer(schedules=("linear_warmup",))
    with pytest.raises(ValueError, match="total_steps must be <= 2000, got 5000"):
        LRScheduleExplorer(total_steps=5000)


# --- issue 13 -----------------------------------------------------------------------------------
def test_warmup_equal_to_total_steps_trains_and_errors_reach_the_status_line():
    w = LRScheduleExplorer(total_steps=20, warmup_steps=0,
                           schedules=("warmup_cosine", "one_cycle", "warmup_linear"))
    w.controls["warmup_steps"].value = 20  # used to raise ZeroDivisionError in one_cycle
    w.run_training()
    assert w.error is None and "trained 3 run(s)" in w.status.value

    def broken(schedule, steps):
        raise RuntimeError("out of memory")

    w.train_fn = broken
    w.train_button.click()  # the button's callback must not lose the error
    assert w.error == "RuntimeError: out of memory"
    assert "training failed" in w.status.value and "out of memory" in w.status.value
    assert "training..." not in w.status.value


def test_one_cycle_is_defined_for_every_step():
    for pct in (0.3, 1.0):
        fn = make_schedule("one_cycle", total_steps=20, peak_lr=0.1, warmup_steps=int(20 * pct))
        lrs = [fn(s) for s in range(0, 25)]
        assert all(0 < lr <= 0.1 for lr in lrs)
        assert lrs[-1] == lrs[19 if pct < 1 else -1]  # past the end the LR stays put


def test_curves_differing_in_any_knob_do_not_replace_each_other():
    w = LRScheduleExplorer(total_steps=20, schedules=("cosine_restarts",),
                           train_fn=lambda fn, steps: ([0, steps], [1.0, fn(steps // 2)]))
    w.run_training()
    w.controls["min_lr_ratio"].value = 0.1
    w.run_training()
    w.controls["cycles"].value = 4
    w.run_training()
    assert len(w.losses) == 3 and len({tuple(v[1]) for v in w.losses.values()}) == 3
    w.run_training()  # the same settings again: the curve is replaced, not duplicated
    assert len(w.losses) == 3


def test_demo_training_with_a_huge_peak_lr_ends_the_curve_instead_of_raising():
    steps, losses = schedule_demo_training(lambda step: 1e6, 30, points=10)
    assert len(steps) == len(losses)
