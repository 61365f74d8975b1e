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


def test_t_mult_control_stretches_the_restart_periods():
    w = LRScheduleExplorer(total_steps=140, schedules=("cosine_restarts",))
    w.controls["cycles"].value = 3
    flat = _lines(w.figure)[0]
    restarts = [t for t in range(1, 140) if flat[t] > flat[t - 1]]
    assert restarts[:2] == [46, 92]  # equal periods of 140 // 3 steps
    w.controls["t_mult"].value = 2
    grown = _lines(w.figure)[0]
    restarts = [t for t in range(1, 140) if grown[t] > grown[t - 1]]
    assert restarts == [20, 60]  # periods 20, 40, 80: 3 periods fill the 140 steps
    assert "T_mult" in w.controls["t_mult"].description
    assert w.error is None


def test_presets_set_the_controls_in_one_redraw():
    from course_utils.widgets.schedules import PRESETS
    w = LRScheduleExplorer(total_steps=300)
    count = w.draw_count
    w.preset.value = "high peak LR (3e-1): warmup matters"
    assert w.draw_count == count + 1 and w.error is None
    assert w.controls["peak_lr"].value == pytest.approx(0.3, rel=1e-6)
    assert w.controls["warmup_steps"].value == 30
    assert set(w.controls["schedules"].value) == {"constant", "cosine", "warmup_cosine"}
    w.preset.value = "restarts: SGDR, T_mult = 2"
    assert w.controls["t_mult"].value == 2 and w.controls["warmup_steps"].value == 0
    for name in PRESETS:  # every scenario draws
        w.preset.value = name
        assert w.error is None
    started = LRScheduleExplorer(total_steps=300, preset="decay vs constant (peak 3e-2)")
    assert started.controls["peak_lr"].value == pytest.approx(0.03, rel=1e-6)
    with pytest.raises(ValueError, match="unknown preset"):
        LRScheduleExplorer(preset="nope")


def test_in_the_high_lr_preset_warmup_beats_no_warmup_on_the_demo_task():
    """The scenario's point, measured on the explorer's own task over 3 seeds."""
    def final(name, seed):
        fn = make_schedule(name, total_steps=300, peak_lr=0.3, warmup_steps=30)
        return schedule_demo_training(fn, 300, seed=seed)[1][-1]
    for seed in (0, 1, 2):
        assert final("warmup_cosine", seed) < final("cosine", seed) < final("constant", seed)


def test_t_mult_is_part_of_a_loss_curve_label():
    w = LRScheduleExplorer(total_steps=40, schedules=("cosine_restarts",),
                           train_fn=lambda fn, steps: ([0, steps], [1.0, fn(steps // 2)]))
    w.run_training()
    w.controls["t_mult"].value = 2
    w.run_training()
    assert len(w.losses) == 2 and any("T_mult 2" in label for label in w.losses)
