"""Chapter 09 checkers: solutions pass, wrong ones fail (expected vs got), stubs 'not attempted'."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED
from course_utils.exercises import ch09


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "0")


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    return param - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v


def adam_step_no_correction(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    return param - lr * m / (v.sqrt() + eps), m, v


def adamw_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return adam_step(param * (1 - lr * weight_decay), grad, m, v, t, lr, betas, eps)


def adam_l2_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return adam_step(param, grad + weight_decay * param, m, v, t, lr, betas, eps)


def warmup_cosine_lr(step, peak_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * p))


def cosine_restarts_lr(step, lr, t_0, t_mult=1, min_lr=0.0):
    t, period = step, t_0
    while t >= period:
        t, period = t - period, period * t_mult
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * t / period)) / 2


def lamb_trust_ratio(weight, update, max_ratio=10.0):
    w, u = float(weight.norm()), float(update.norm())
    return 1.0 if w == 0 or u == 0 else min(w / u, max_ratio)


def accumulate_gradients(model, x, y, accum_steps):
    model.zero_grad(set_to_none=True)
    for xb, yb in zip(x.chunk(accum_steps), y.chunk(accum_steps)):
        (F.mse_loss(model(xb), yb) / accum_steps).backward()
    return [p.grad.clone() for p in model.parameters()]


def accumulate_unscaled(model, x, y, accum_steps):
    model.zero_grad(set_to_none=True)
    for xb, yb in zip(x.chunk(accum_steps), y.chunk(accum_steps)):
        F.mse_loss(model(xb), yb).backward()
    return [p.grad.clone() for p in model.parameters()]


def stub(*args, **kwargs):
    raise NotImplementedError


CHECKERS = [
    (ch09.check_adam_step, adam_step, adam_step_no_correction),
    (ch09.check_adamw_step, adamw_step, adam_l2_step),
    (ch09.check_warmup_cosine_lr, warmup_cosine_lr,
     lambda s, peak_lr, w, total, min_lr=0.0: peak_lr * 0.5 * (1 + math.cos(math.pi * s / total))),
    (ch09.check_cosine_restarts_lr, cosine_restarts_lr,
     lambda s, lr, t_0, t_mult=1, min_lr=0.0:
         min_lr + (lr - min_lr) * (1 + math.cos(math.pi * (s % t_0) / t_0)) / 2),
    (ch09.check_lamb_trust_ratio, lamb_trust_ratio,
     lambda w, u, max_ratio=10.0: float(w.norm() / u.norm())),
    (ch09.check_accumulate_gradients, accumulate_gradients, accumulate_unscaled),
]


@pytest.mark.parametrize("checker, good, bad", CHECKERS, ids=[c[0].__name__ for c in CHECKERS])
def test_checker_verdicts(checker, good, bad, capsys):
    assert checker(good).status == PASSED
    result = checker(bad)
    assert result.status == FAILED
    out = capsys.readouterr().out
    assert "expected:" in result.message or "raised" in result.message
    assert "Hint:" in out
    assert checker(stub).status == NOT_ATTEMPTED


def test_wrong_adam_shows_expected_and_got(capsys):
    result = ch09.check_adam_step(adam_step_no_correction)
    assert "expected: (tensor(" in result.message and "got:" in result.message


def test_strict_mode_raises(monkeypatch):
    from course_utils.checking import ExerciseNotSolved
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch09.check_lamb_trust_ratio(stub)


def test_checker_inputs_are_not_mutated_by_learner_code():
    def in_place(param, grad, m, v, t, **kw):
        param.add_(1.0)
        return adam_step(param - 1.0, grad, m, v, t, **kw)

    assert ch09.check_adam_step(in_place).status == PASSED
    assert torch.is_grad_enabled()
