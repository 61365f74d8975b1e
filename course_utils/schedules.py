"""Learning-rate schedules as pure functions of the step (chapter 09).

Every function returns the learning rate to use at optimizer step ``step`` (0-based: the
value a torch scheduler holds after ``step`` calls of ``scheduler.step()``). They match
``torch.optim.lr_scheduler`` / ``transformers.get_*_schedule_*`` to 1e-9 (tested).
``reduce_on_plateau`` depends on the loss history, so it takes the metrics instead.
``as_scheduler(optimizer, fn)`` wraps any of them in a ``LambdaLR`` for the shared training
loop; ``make_schedule(name, ...)`` builds one from the common knobs of the LR explorer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch.optim.lr_scheduler import LambdaLR

from course_utils.validation import check_choice, check_float, check_int

__all__ = ["schedule_demo_training", "constant", "step_decay", "exponential", "linear_decay", "cosine", "cosine_restarts",
           "cyclic", "one_cycle", "warmup_constant", "warmup_linear", "warmup_cosine",
           "reduce_on_plateau", "as_scheduler", "make_schedule", "SCHEDULE_NAMES", "lr_curve"]

Schedule = Callable[[int], float]


def _step(step: int) -> int:
    return check_int("step", step, min_value=0)


def constant(step: int, *, lr: float) -> float:
    """The same LR at every step."""
    _step(step)
    return lr


def step_decay(step: int, *, lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Multiply by ``gamma`` every ``step_size`` steps (``StepLR``)."""
    check_int("step_size", step_size, min_value=1)
    return lr * gamma ** (_step(step) // step_size)


def exponential(step: int, *, lr: float, gamma: float) -> float:
    """Multiply by ``gamma`` every step (``ExponentialLR``)."""
    return lr * gamma ** _step(step)


def linear_decay(step: int, *, lr: float, final_lr: float, total_steps: int) -> float:
    """From ``lr`` at step 0 to ``final_lr`` at step total_steps-1, then hold.

    In the 1-based epochs of the source: lr_e = lr_0 - (lr_0 - lr_f)(e - 1)/(E - 1), so the
    per-epoch change is (lr_0 - lr_f)/(E - 1) and epoch E really ends at lr_f.
    """
    check_int("total_steps", total_steps, min_value=2)
    frac = min(_step(step), total_steps - 1) / (total_steps - 1)
    return lr - (lr - final_lr) * frac


def cosine(step: int, *, lr: float, total_steps: int, min_lr: float = 0.0,
           past_end: str = "hold") -> float:
    """Half a cosine from ``lr`` (step 0) to ``min_lr`` (step total_steps).

    ``past_end="hold"`` stays at ``min_lr`` afterwards; ``"mirror"`` keeps following the
    cosine back up, which is what ``CosineAnnealingLR(T_max=total_steps)`` does.
    """
    check_int("total_steps", total_steps, min_value=1)
    check_choice("past_end", past_end, ("hold", "mirror"))
    t = _step(step) if past_end == "mirror" else min(_step(step), total_steps)
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2


def cosine_restarts(step: int, *, lr: float, t_0: int, t_mult: int = 1, min_lr: float = 0.0,
                    warmup_steps: int = 0) -> float:
    """Cosine from ``lr`` to ``min_lr`` over t_0 steps, restart, the next period x t_mult.

    ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``; with ``warmup_steps`` (linear from
    0) and t_mult=1 it is Hugging Face's ``get_cosine_with_hard_restarts_schedule_with_warmup``.
    """
    check_int("t_0", t_0, min_value=1)
    check_int("t_mult", t_mult, min_value=1)
    check_int("warmup_steps", warmup_steps, min_value=0)
    if _step(step) < warmup_steps:
        return lr * step / warmup_steps
    t, period = step - warmup_steps, t_0
    if t_mult == 1:
        t %= t_0
    while t >= period:  # periods last t_0, t_0*t_mult, t_0*t_mult^2, ... steps
        t, period = t - period, period * t_mult
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * t / period)) / 2


def cyclic(step: int, *, base_lr: float, max_lr: float, step_size_up: int,
           step_size_down: int | None = None, mode: str = "triangular") -> float:
    """Up linearly for step_size_up steps, down for step_size_down (``CyclicLR``).

    ``triangular``: every cycle the same; ``triangular2``: the amplitude halves each cycle.
    """
    check_int("step_size_up", step_size_up, min_value=1)
    down = step_size_up if step_size_down is None else check_int("step_size_down",
                                                                 step_size_down, min_value=1)
    check_choice("mode", mode, ("triangular", "triangular2"))
    period = step_size_up + down
    cycle, t = divmod(_step(step), period)  # cycle index (0-based), position inside it
    height = t / step_size_up if t <= step_size_up else (period - t) / down
    scale = 1.0 if mode == "triangular" else 0.5 ** cycle
    return base_lr + (max_lr - base_lr) * height * scale


def one_cycle(step: int, *, max_lr: float, total_steps: int, pct_start: float = 0.3,
              div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    """Smith's 1cycle (``OneCycleLR``, cosine annealing, two phases).

    Up from max_lr/div_factor to max_lr during the first pct_start of training (cosine-
    shaped), then down to max_lr/(div_factor*final_div_factor) at step total_steps-1.
    """
    check_int("total_steps", total_steps, min_value=2)
    check_float("pct_start", pct_start, min_value=0.0, max_value=1.0)
    start_lr = max_lr / div_factor
    end_lr = start_lr / final_div_factor
    peak_step = pct_start * total_steps - 1  # step index where the LR reaches max_lr
    if _step(step) <= peak_step:
        a, b, pct = start_lr, max_lr, step / peak_step if peak_step > 0 else 1.0
    else:  # clamped: pct_start=1 leaves no down phase; past the last step the LR stays low
        span = total_steps - 1 - peak_step
        a, b, pct = max_lr, end_lr, min(1.0, (step - peak_step) / span) if span > 0 else 1.0
    return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)


def warmup_constant(step: int, *, lr: float, warmup_steps: int) -> float:
    """Linear warmup from 0 to ``lr`` over warmup_steps, then constant."""
    check_int("warmup_steps", warmup_steps, min_value=0)
    return lr * _step(step) / warmup_steps if step < warmup_steps else lr


def warmup_linear(step: int, *, lr: float, warmup_steps: int, total_steps: int,
                  min_lr: float = 0.0) -> float:
    """Linear warmup to ``lr``, then linear decay to ``min_lr`` at total_steps (BERT's)."""
    check_int("warmup_steps", warmup_steps, min_value=0)
    check_int("total_steps", total_steps, min_value=max(1, warmup_steps))
    if _step(step) < warmup_steps:
        return lr * step / warmup_steps
    remaining = max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    return min_lr + (lr - min_lr) * remaining


def warmup_cosine(step: int, *, lr: float, warmup_steps: int, total_steps: int,
                  min_lr: float = 0.0) -> float:
    """Linear warmup to ``lr``, then half a cosine down to ``min_lr`` at total_steps."""
    check_int("warmup_steps", warmup_steps, min_value=0)
    check_int("total_steps", total_steps, min_value=max(1, warmup_steps))
    if _step(step) < warmup_steps:
        return lr * step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def reduce_on_plateau(metrics: Sequence[float], *, lr: float, factor: float = 0.1,
                      patience: int = 10, threshold: float = 1e-4, cooldown: int = 0,
                      min_lr: float = 0.0, eps: float = 1e-8) -> list[float]:
    """LR after each reported metric (lower = better), like ``ReduceLROnPlateau``.

    A metric counts as an improvement if it is below best*(1 - threshold). After more than
    ``patience`` non-improving reports the LR is multiplied by ``factor`` (not below
    ``min_lr``), then ``cooldown`` reports are ignored. Returns one LR per metric.
    """
    check_float("factor", factor, min_value=0.0, max_value=1.0)
    check_int("patience", patience, min_value=0)
    check_int("cooldown", cooldown, min_value=0)
    best, bad, cool, out = math.inf, 0, 0, []
    for value in metrics:
        if value < best * (1 - threshold):
            best, bad = value, 0
        else:
            bad += 1
        if cool > 0:  # just reduced: give the new LR time before judging it
            cool, bad = cool - 1, 0
        if bad > patience:
            new_lr = max(lr * factor, min_lr)
            if lr - new_lr > eps:
                lr = new_lr
            cool, bad = cooldown, 0
        out.append(lr)
    return out


def lr_curve(schedule: Schedule, total_steps: int) -> list[float]:
    """``[schedule(0), ..., schedule(total_steps - 1)]``."""
    check_int("total_steps", total_steps, min_value=1)
    return [float(schedule(s)) for s in range(total_steps)]


def as_scheduler(optimizer: torch.optim.Optimizer, schedule: Schedule) -> LambdaLR:
    """Wrap ``schedule(step) -> lr`` in a ``LambdaLR`` (for ``train(..., scheduler=...)``).

    LambdaLR multiplies each group's initial LR by a factor; the factor is
    ``schedule(step) / lr_0`` with lr_0 the first group's LR, so group 0 follows the schedule
    exactly and other groups keep their ratio to it.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    if not callable(schedule):
        raise TypeError(f"schedule must be a function step -> lr, got {schedule!r}")
    group = optimizer.param_groups[0]
    base = float(group.get("initial_lr", group["lr"]))
    if base <= 0:
        raise ValueError(f"the optimizer's lr must be > 0 to scale it, got {base}")
    return LambdaLR(optimizer, lambda step: schedule(step) / base)


SCHEDULE_NAMES = ("constant", "step", "exponential", "linear", "cosine", "cosine_restarts",
                  "cyclic_triangular", "cyclic_triangular2", "one_cycle", "warmup_constant",
                  "warmup_linear", "warmup_cosine")


def make_schedule(name: str, *, total_steps: int, peak_lr: float, min_lr: float = 0.0,
                  warmup_steps: int = 0, cycles: int = 3, gamma: float = 0.5,
                  t_mult: int = 1) -> Schedule:
    """Build ``step -> lr`` for ``name`` from the explorer's common knobs.

    ``cycles``: drops of ``step``, periods of ``cosine_restarts`` and the cyclic modes;
    ``t_mult``: ``cosine_restarts`` multiplies each period by it (SGDR's ``T_mult``; the first
    period is chosen so that ``cycles`` periods fill ``total_steps``);
    ``gamma``: factor per drop of ``step``; ``exponential`` decays from peak_lr to min_lr
    (or to 1e-3 x peak_lr when min_lr is 0); ``one_cycle`` peaks at warmup_steps (30% if 0).
    """
    check_choice("schedule name", name, SCHEDULE_NAMES)
    check_int("total_steps", total_steps, min_value=2)
    check_int("warmup_steps", warmup_steps, min_value=0, max_value=total_steps)
    check_int("cycles", cycles, min_value=1)
    check_float("peak_lr", peak_lr, min_value=0.0, min_inclusive=False)
    check_float("min_lr", min_lr, min_value=0.0, max_value=peak_lr)
    check_int("t_mult", t_mult, min_value=1)
    period = max(1, total_steps // cycles)
    first_period = period if t_mult == 1 else \
        max(1, round(total_steps * (t_mult - 1) / (t_mult ** cycles - 1)))
    table: dict[str, Schedule] = {
        "constant": partial(constant, lr=peak_lr),
        "step": partial(step_decay, lr=peak_lr, step_size=max(1, total_steps // (cycles + 1)),
                        gamma=gamma),
        "exponential": partial(exponential, lr=peak_lr, gamma=(max(min_lr, 1e-3 * peak_lr)
                                                               / peak_lr) ** (1 / total_steps)),
        "linear": partial(linear_decay, lr=peak_lr, final_lr=min_lr, total_steps=total_steps),
        "cosine": partial(cosine, lr=peak_lr, total_steps=total_steps, min_lr=min_lr),
        "cosine_restarts": partial(cosine_restarts, lr=peak_lr, t_0=first_period, t_mult=t_mult,
                                   min_lr=min_lr),
        "cyclic_triangular": partial(cyclic, base_lr=min_lr, max_lr=peak_lr,
                                     step_size_up=max(1, period // 2)),
        "cyclic_triangular2": partial(cyclic, base_lr=min_lr, max_lr=peak_lr,
                                      step_size_up=max(1, period // 2), mode="triangular2"),
        "one_cycle": partial(one_cycle, max_lr=peak_lr, total_steps=total_steps,
                             pct_start=warmup_steps / total_steps if warmup_steps >= 2 else 0.3),
        "warmup_constant": partial(warmup_constant, lr=peak_lr, warmup_steps=warmup_steps),
        "warmup_linear": partial(warmup_linear, lr=peak_lr, warmup_steps=warmup_steps,
                                 total_steps=total_steps, min_lr=min_lr),
        "warmup_cosine": partial(warmup_cosine, lr=peak_lr, warmup_steps=warmup_steps,
                                 total_steps=total_steps, min_lr=min_lr),
    }
    return table[name]


def schedule_demo_training(schedule: Callable[[int], float], total_steps: int, *, seed: int = 0,
                           batch_size: int = 32, points: int = 40) -> tuple[list[int], list[float]]:
    """Train a small MLP (Adam) on a noisy regression task with ``schedule``; held-out MSE.

    Fast by design (a few ms per step on a CPU) so the explorer's button stays interactive.
    Returns (steps, held-out losses) at about ``points`` evaluation steps.
    """
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
                        TrainConfig(max_steps=total_steps, grad_clip=None,
                                    eval_every=max(1, total_steps // points),
                                    nonfinite="stop"),  # a too-high peak LR ends the curve
                        scheduler=as_scheduler(optimizer, schedule),
                        eval_fn=lambda m: {"loss": float(mse(m, (x_te, y_te)))})
    finally:
        torch.set_num_threads(threads)
    values = [v if math.isfinite(v) else float("nan") for v in history.eval["loss"]]
    return list(history.eval_step), values
