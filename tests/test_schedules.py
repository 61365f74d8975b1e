"""Chapter 09: schedules as pure functions vs torch.optim.lr_scheduler and transformers."""

import math
from functools import partial

import pytest
import torch

from course_utils import schedules as S  # first: decides offline mode before transformers loads

import transformers  # noqa: E402,I001
from torch.optim import lr_scheduler as L  # noqa: E402
from course_utils.train import TrainConfig, train

TOL = 1e-9


def _torch_lrs(make, steps, lr=0.1, metrics=None):
    """LR in effect at each optimizer step 0..steps-1 under a torch/HF scheduler."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)  # momentum: CyclicLR/OneCycleLR cycle it
    sched, out = make(opt), []
    for i in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
    return out


def _ours(fn, steps):
    return [fn(i) for i in range(steps)]


CASES = {
    "StepLR": (lambda o: L.StepLR(o, 30, 0.5),
               partial(S.step_decay, lr=0.1, step_size=30, gamma=0.5), 200),
    "ExponentialLR": (lambda o: L.ExponentialLR(o, 0.97),
                      partial(S.exponential, lr=0.1, gamma=0.97), 200),
    "LinearLR (book 0.1->0.01, 20 epochs)": (
        lambda o: L.LinearLR(o, 1.0, 0.1, total_iters=19),
        partial(S.linear_decay, lr=0.1, final_lr=0.01, total_steps=20), 40),
    "CosineAnnealingLR past T_max": (
        lambda o: L.CosineAnnealingLR(o, 50),
        partial(S.cosine, lr=0.1, total_steps=50, past_end="mirror"), 200),
    "CosineAnnealingLR eta_min": (
        lambda o: L.CosineAnnealingLR(o, 37, eta_min=1e-3),
        partial(S.cosine, lr=0.1, total_steps=37, min_lr=1e-3, past_end="mirror"), 150),
    "CosineAnnealingWarmRestarts(10, 2)": (
        lambda o: L.CosineAnnealingWarmRestarts(o, 10, 2, eta_min=1e-3),
        partial(S.cosine_restarts, lr=0.1, t_0=10, t_mult=2, min_lr=1e-3), 400),
    "CosineAnnealingWarmRestarts(7, 1)": (
        lambda o: L.CosineAnnealingWarmRestarts(o, 7),
        partial(S.cosine_restarts, lr=0.1, t_0=7), 100),
    "CosineAnnealingWarmRestarts(5, 3)": (
        lambda o: L.CosineAnnealingWarmRestarts(o, 5, 3),
        partial(S.cosine_restarts, lr=0.1, t_0=5, t_mult=3), 300),
    "CyclicLR triangular": (
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=5),
        partial(S.cyclic, base_lr=0.001, max_lr=0.01, step_size_up=5), 200),
    "CyclicLR triangular2": (
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=5, mode="triangular2"),
        partial(S.cyclic, base_lr=0.001, max_lr=0.01, step_size_up=5, mode="triangular2"), 200),
    "CyclicLR triangular2 asymmetric": (
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=3, step_size_down=7, mode="triangular2"),
        partial(S.cyclic, base_lr=0.001, max_lr=0.01, step_size_up=3, step_size_down=7,
                mode="triangular2"), 200),
    "OneCycleLR": (lambda o: L.OneCycleLR(o, 0.1, total_steps=200),
                   partial(S.one_cycle, max_lr=0.1, total_steps=200), 200),
    "OneCycleLR custom": (
        lambda o: L.OneCycleLR(o, 0.1, total_steps=37, pct_start=0.25, div_factor=10,
                               final_div_factor=100),
        partial(S.one_cycle, max_lr=0.1, total_steps=37, pct_start=0.25, div_factor=10,
                final_div_factor=100), 37),
    "HF constant": (lambda o: transformers.get_constant_schedule(o),
                    partial(S.constant, lr=0.1), 50),
    "HF constant with warmup": (lambda o: transformers.get_constant_schedule_with_warmup(o, 20),
                                partial(S.warmup_constant, lr=0.1, warmup_steps=20), 100),
    "HF linear with warmup": (
        lambda o: transformers.get_linear_schedule_with_warmup(o, 20, 200),
        partial(S.warmup_linear, lr=0.1, warmup_steps=20, total_steps=200), 201),
    "HF cosine with warmup": (
        lambda o: transformers.get_cosine_schedule_with_warmup(o, 20, 200),
        partial(S.warmup_cosine, lr=0.1, warmup_steps=20, total_steps=200), 201),
    "HF cosine with min lr": (
        lambda o: transformers.get_cosine_with_min_lr_schedule_with_warmup(o, 20, 200, min_lr=0.01),
        partial(S.warmup_cosine, lr=0.1, warmup_steps=20, total_steps=200, min_lr=0.01), 201),
    "HF cosine hard restarts": (
        lambda o: transformers.get_cosine_with_hard_restarts_schedule_with_warmup(
            o, 20, 200, num_cycles=3),
        partial(S.cosine_restarts, lr=0.1, warmup_steps=20, t_0=60), 200),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_reference_at_every_step(name):
    make, ours, steps = CASES[name]
    theirs = _torch_lrs(make, steps)
    mine = _ours(ours, steps)
    assert max(abs(a - b) for a, b in zip(mine, theirs)) <= TOL


def test_reduce_on_plateau_matches_torch():
    metrics = ([2.0 - i / 60 for i in range(60)] + [1.0 + 0.01 * ((i * 7) % 5) for i in range(100)]
               + [1.0 - i / 80 for i in range(40)])
    theirs = _torch_lrs(lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=5, cooldown=3,
                                                      min_lr=0.01), 200, metrics=metrics)
    mine = S.reduce_on_plateau(metrics, lr=0.1, factor=0.5, patience=5, cooldown=3, min_lr=0.01)
    assert len(mine) == len(metrics)
    assert max(abs(a - b) for a, b in zip(mine[:-1], theirs[1:])) <= TOL
    assert min(mine) == 0.01 and len(set(mine)) > 2


def test_book_values():
    # linear decay 0.1 -> 0.01 over 20 epochs: 0.0955 at epoch 2, exactly 0.01 at epoch 20
    lin = partial(S.linear_decay, lr=0.1, final_lr=0.01, total_steps=20)
    assert lin(1) == pytest.approx(0.1 - 0.09 / 19) and lin(19) == pytest.approx(0.01, abs=1e-15)
    # CosineAnnealingLR(T_max=50), epochs 1..: 0.1, 0.09901, ..., 0 at epoch 51, back up after
    cos = partial(S.cosine, lr=0.1, total_steps=50, past_end="mirror")
    assert round(cos(1), 5) == 0.09990 and round(cos(49), 5) == 0.00010
    assert cos(50) == pytest.approx(0.0, abs=1e-15) and cos(75) == pytest.approx(0.05)
    assert S.cosine(75, lr=0.1, total_steps=50) == pytest.approx(0.0, abs=1e-15)  # hold
    # warmup to 0.01 over 100 batches: 0.0001, 0.0002, ...
    warm = partial(S.warmup_constant, lr=0.01, warmup_steps=100)
    assert [round(warm(s), 6) for s in (1, 2, 3, 100, 150)] == [0.0001, 0.0002, 0.0003, 0.01, 0.01]


def test_as_scheduler_drives_the_shared_training_loop():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    fn = partial(S.warmup_cosine, lr=0.5, warmup_steps=3, total_steps=10)
    x, y = torch.randn(8, 2), torch.randn(8, 1)
    history = train(model, opt, lambda step: (x, y),
                    lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]),
                    TrainConfig(max_steps=10, progress=False), scheduler=S.as_scheduler(opt, fn))
    assert history.lr == pytest.approx([fn(s) for s in range(10)], abs=TOL)


def test_as_scheduler_keeps_group_ratios():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [a], "lr": 0.2}, {"params": [b], "lr": 0.02}])
    S.as_scheduler(opt, partial(S.constant, lr=0.1))
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.1, 0.01])


@pytest.mark.parametrize("name", S.SCHEDULE_NAMES)
def test_make_schedule_every_name(name):
    fn = S.make_schedule(name, total_steps=100, peak_lr=1e-2, min_lr=1e-4, warmup_steps=10)
    curve = S.lr_curve(fn, 100)
    assert len(curve) == 100 and all(math.isfinite(v) and 0 <= v <= 1e-2 + 1e-15 for v in curve)
    assert max(curve) == pytest.approx(1e-2, rel=0.05)


def test_make_schedule_warmup_and_min():
    fn = S.make_schedule("warmup_cosine", total_steps=100, peak_lr=1.0, min_lr=0.1, warmup_steps=20)
    assert fn(0) == 0 and fn(10) == pytest.approx(0.5) and fn(20) == 1.0 and fn(100) == 0.1


@pytest.mark.parametrize("call, error, message", [
    (lambda: S.step_decay(-1, lr=0.1, step_size=3), ValueError, "step must be >= 0, got -1"),
    (lambda: S.step_decay(1.5, lr=0.1, step_size=3), TypeError, "step must be int, got float"),
    (lambda: S.step_decay(1, lr=0.1, step_size=0), ValueError, "step_size must be >= 1, got 0"),
    (lambda: S.linear_decay(0, lr=0.1, final_lr=0.0, total_steps=1), ValueError,
     "total_steps must be >= 2, got 1"),
    (lambda: S.cosine(0, lr=0.1, total_steps=5, past_end="bounce"), ValueError,
     "past_end must be one of \\['hold', 'mirror'\\], got 'bounce'"),
    (lambda: S.cyclic(0, base_lr=0.1, max_lr=1, step_size_up=2, mode="exp"), ValueError,
     "mode must be one of \\['triangular', 'triangular2'\\], got 'exp'"),
    (lambda: S.warmup_cosine(0, lr=1, warmup_steps=20, total_steps=10), ValueError,
     "total_steps must be >= 20, got 10"),
    (lambda: S.make_schedule("cosine_annealing", total_steps=10, peak_lr=1.0), ValueError,
     "schedule name must be one of"),
    (lambda: S.make_schedule("cosine", total_steps=10, peak_lr=1.0, min_lr=2.0), ValueError,
     "min_lr must be <= 1.0, got 2.0"),
    (lambda: S.as_scheduler("sgd", S.constant), TypeError, "torch.optim.Optimizer, got str"),
    (lambda: S.as_scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), 0.1),
     TypeError, "schedule must be a function step -> lr, got 0.1"),
    (lambda: S.reduce_on_plateau([1.0], lr=0.1, factor=2.0), ValueError,
     "factor must be <= 1.0, got 2.0"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
