"""Chapter 09 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import math

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    stub, wrong_params
from course_utils._maintain.testing import solution_notebook
from course_utils.checking import ExerciseNotSolved
from course_utils.exercises import ch09

pytestmark = pytest.mark.usefixtures("lenient_checkers")

NOTEBOOK = solution_notebook("09_optimizers_schedules.ipynb")  # the nb fixture imports NAMES
NAMES = ["adam_step", "adamw_step", "warmup_cosine_lr", "cosine_restarts_lr", "lamb_trust_ratio",
         "accumulate_gradients", "linear_decay_lr", "prediction", "final_loss"]
SOLUTIONS = {"check_adam_step": "adam_step", "check_adamw_step": "adamw_step",
             "check_warmup_cosine_lr": "warmup_cosine_lr",
             "check_cosine_restarts_lr": "cosine_restarts_lr",
             "check_lamb_trust_ratio": "lamb_trust_ratio",
             "check_accumulate_gradients": "accumulate_gradients",
             "check_linear_decay_lr": "linear_decay_lr"}


def _adam(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, mistake=""):
    b1, b2 = betas
    m_new = b1 * m + (1 - b1) * grad
    v_new = b2 * v + (1 - b2) * grad ** 2
    m_hat, v_hat = m_new / (1 - b1 ** t), v_new / (1 - b2 ** t)
    if mistake == "no-correction":
        m_hat, v_hat = m_new, v_new
    denom = (v_hat + eps).sqrt() if mistake == "eps-inside" else v_hat.sqrt() + eps
    new = param - lr * m_hat / denom
    if mistake == "old-moments":
        return new, m, v
    if mistake == "in-place":
        param.sub_(lr * m_hat / denom)
        return param, m_new, v_new
    return new, m_new, v_new


def _adamw(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
           mistake=""):
    if mistake == "l2":
        return _adam(param, grad + weight_decay * param, m, v, t, lr, betas, eps)
    if mistake == "no-lr":
        return _adam(param * (1 - weight_decay), grad, m, v, t, lr, betas, eps)
    if mistake == "decay-after-step":
        new, m2, v2 = _adam(param, grad, m, v, t, lr, betas, eps)
        return new * (1 - lr * weight_decay), m2, v2
    return _adam(param * (1 - lr * weight_decay), grad, m, v, t, lr, betas, eps)


def _warmup_cosine(step, peak_lr, warmup, total, min_lr=0.0, mistake=""):
    if step < warmup:
        return peak_lr * (step + 1 if mistake == "off-by-one" else step) / warmup
    p = (step - warmup) / max(1, total - warmup)
    if mistake != "not-clamped":
        p = min(1.0, p)
    low = 0.0 if mistake == "min-lr-ignored" else min_lr
    return low + (peak_lr - low) * 0.5 * (1 + math.cos(math.pi * p))


def _restarts(step, lr, t_0, t_mult=1, min_lr=0.0, mistake=""):
    if mistake == "t-mult-ignored":
        t, period = step % t_0, t_0
    else:
        t, period = step, t_0
        while t >= period:
            t, period = t - period, period * t_mult
    if mistake == "period-off-by-one":
        period = period - 1 if period > 1 else period
    low = 0.0 if mistake == "min-lr-ignored" else min_lr
    return low + (lr - low) * (1 + math.cos(math.pi * t / period)) / 2


def _lamb(w, u, max_ratio=10.0, mistake=""):
    wn, un = w.norm(), u.norm()
    if mistake == "no-special-cases":
        return float(wn / un)
    if mistake == "tensor":
        return torch.tensor(1.0) if wn == 0 or un == 0 else torch.clamp(wn / un, max=max_ratio)
    if mistake == "inverted":
        return 1.0 if wn == 0 or un == 0 else min(float(un / wn), max_ratio)
    return 1.0 if wn == 0 or un == 0 else float(wn / un)  # "no-cap"


def _accumulate(model, x, y, accum_steps, mistake=""):
    if mistake != "no-zero-grad":
        model.zero_grad(set_to_none=True)
    if mistake == "full-batch":
        F.mse_loss(model(x), y).backward()
    else:
        scale = 1 if mistake == "unscaled" else accum_steps
        for xb, yb in zip(x.chunk(accum_steps), y.chunk(accum_steps)):
            (F.mse_loss(model(xb), yb) / scale).backward()
    return [p.grad.clone() for p in model.parameters()]


def _mistakes(fn, *names):
    return {name: (lambda *a, _n=name, **k: fn(*a, **k, mistake=_n)) for name in names}


WRONG = {
    "check_adam_step": _mistakes(_adam, "no-correction", "eps-inside", "old-moments",
                                 "in-place"),
    "check_adamw_step": _mistakes(_adamw, "l2", "no-lr", "decay-after-step"),
    "check_warmup_cosine_lr": {
        **_mistakes(_warmup_cosine, "not-clamped", "off-by-one", "min-lr-ignored"),
        "no-warmup": lambda s, peak_lr, w, total, min_lr=0.0:
            peak_lr * 0.5 * (1 + math.cos(math.pi * s / total)),
    },
    "check_cosine_restarts_lr": _mistakes(_restarts, "t-mult-ignored", "period-off-by-one",
                                          "min-lr-ignored"),
    "check_lamb_trust_ratio": _mistakes(_lamb, "no-special-cases", "tensor", "inverted",
                                        "no-cap"),
    "check_accumulate_gradients": _mistakes(_accumulate, "unscaled", "full-batch",
                                            "no-zero-grad"),
    "check_linear_decay_lr": {
        "source-formula": lambda e, lr_0, lr_f, n: lr_0 - (lr_0 - lr_f) * e / n,
        "zero-based-epochs": lambda e, lr_0, lr_f, n: lr_0 - (lr_0 - lr_f) * e / (n - 1),
        "divides-by-total": lambda e, lr_0, lr_f, n: lr_0 - (lr_0 - lr_f) * (e - 1) / n,
    },
}


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch09, checker)
    assert_passes(check, solution(nb, SOLUTIONS[checker]))
    assert_not_attempted(check)



@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch09, checker), answer)


@pytest.mark.parametrize("mistake, marker", [
    ("full-batch", "expected 2 micro-batch(es) of 4 examples"),
    ("no-zero-grad", "values differ")])
def test_accumulation_rejections_say_why(mistake, marker):
    assert_rejected(ch09.check_accumulate_gradients, WRONG["check_accumulate_gradients"][mistake],
                    marker=marker)


def test_wrong_adam_shows_expected_and_got():
    result = assert_rejected(ch09.check_adam_step, WRONG["check_adam_step"]["no-correction"])
    assert "expected: (tensor(" in result.message and "item [0] of the tuple differs" in \
        result.message


def test_in_place_adam_is_rejected_and_the_checker_survives():
    """Adam is asked for as a pure function: editing param in place is a wrong answer."""
    result = assert_rejected(ch09.check_adam_step, WRONG["check_adam_step"]["in-place"],
                             marker="changed its input in place (argument number 1)")
    assert result.passed == 0 and torch.is_grad_enabled()


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch09.check_lamb_trust_ratio(stub)


# Exercise 8 (experiment): the warmup-length sweep (a short run: 60 steps keep the test fast).
def _final_loss(warmup_steps, *, name="warmup_cosine", peak=0.3, total=60, first=False):
    from course_utils import schedules
    fn = schedules.make_schedule(name, total_steps=total, peak_lr=peak, warmup_steps=warmup_steps)
    losses = schedules.schedule_demo_training(fn, total, seed=0)[1]
    return losses[0] if first else losses[-1]


def _check(answer, prediction="an intermediate warmup is best"):
    return ch09.check_warmup_experiment(answer, prediction, total_steps=60)


def test_warmup_experiment_passes_and_reports_the_prediction(capsys):
    assert_passes(_check, _final_loss)
    out = capsys.readouterr().out
    assert "measured:" in out and "<- best" in out
    assert_passes(lambda f: _check(f, prediction=lambda: "no warmup is best"), _final_loss)
    assert_not_attempted(lambda f: _check(f, prediction=stub))


@pytest.mark.parametrize("answer", [
    pytest.param(lambda w: _final_loss(w, name="cosine"), id="warmup-ignored"),
    pytest.param(lambda w: _final_loss(w, peak=3e-2), id="the-default-peak-not-the-high-one"),
    pytest.param(lambda w: _final_loss(w, first=True), id="first-loss-not-the-last"),
])
def test_warmup_experiment_wrong_answers_rejected(answer):
    assert_rejected(_check, answer)


def test_notebook_warmup_experiment_solution(nb):
    assert nb.prediction() in ch09.PREDICTIONS
