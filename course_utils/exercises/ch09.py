"""Checkers for chapter 09's exercises (optimizers and learning-rate schedules)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from course_utils import schedules
from course_utils.checking import Case, CheckResult, explain_mismatch, run_check


def _tensors(seed: int, *shape: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    param, grad = torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)
    m = 0.1 * torch.randn(*shape, generator=g)
    v = 0.01 * torch.rand(*shape, generator=g)
    return param, grad, m, v


def _adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


def check_adam_step(fn: Callable) -> CheckResult:
    """Exercise 1: one Adam step with bias correction -> (new_param, m, v)."""
    cases = []
    for i, (t, shape, kw) in enumerate([(1, (3,), {}), (2, (4,), {"lr": 0.1}),
                                        (10, (2, 3), {"betas": (0.8, 0.99)}),
                                        (1, (5,), {"lr": 0.01, "eps": 1e-6}),
                                        (1000, (3,), {})]):
        p, g, m, v = _tensors(i, *shape)
        if t == 1:
            m, v = torch.zeros_like(p), torch.zeros_like(p)
        cases.append(Case(args=(p, g, m, v, t), kwargs=kw))
    p, g, _, _ = _tensors(5, 4)
    cases.append(Case(args=(p, 1e-4 * g, torch.zeros(4), torch.zeros(4), 1),
                      label="gradients of size ~1e-4 at t=1 (v_hat ~ 1e-8, as large as eps)"))
    return run_check("Exercise 1 · adam_step", fn, cases, reference=_adam_step, atol=1e-6,
                     inputs_unchanged=True,
                     hint="m and v start at 0, so after t steps they hold only part of the "
                          "average they estimate -- how large a part? Undo that before the "
                          "update, and check where eps goes (it guards the division, not the "
                          "square root). At t=1 the corrected step is about lr in size.")


def _adamw_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                weight_decay=1e-2):
    new_param, m, v = _adam_step(param * (1 - lr * weight_decay), grad, m, v, t, lr, betas, eps)
    return new_param, m, v


def check_adamw_step(fn: Callable) -> CheckResult:
    """Exercise 2: one AdamW step (decoupled weight decay) -> (new_param, m, v)."""
    cases = []
    for i, (t, kw) in enumerate([(1, {"weight_decay": 0.1, "lr": 0.1}), (5, {}),
                                 (3, {"weight_decay": 0.5, "lr": 0.05}),
                                 (2, {"weight_decay": 0.0})]):
        p, g, m, v = _tensors(10 + i, 4)
        cases.append(Case(args=(p, g, m, v, t), kwargs=kw))
    return run_check("Exercise 2 · adamw_step", fn, cases, reference=_adamw_step, atol=1e-6,
                     inputs_unchanged=True,
                     hint="two things to check. Order: shrink the weights you start the step "
                          "with, param * (1 - lr*weight_decay), then apply the Adam update to "
                          "them -- decaying the already-updated weights gives a slightly "
                          "different answer. Decoupling: m and v see only the loss gradient; "
                          "adding weight_decay*param to the gradient is Adam + L2, not AdamW.")


def _warmup_cosine_lr(step, peak_lr, warmup_steps, total_steps, min_lr=0.0):
    return schedules.warmup_cosine(step, lr=peak_lr, warmup_steps=warmup_steps,
                                   total_steps=total_steps, min_lr=min_lr)


def check_warmup_cosine_lr(fn: Callable) -> CheckResult:
    """Exercise 3: linear warmup then cosine decay, the LR at step t."""
    args = [(0, 1e-3, 10, 100), (5, 1e-3, 10, 100), (10, 1e-3, 10, 100), (55, 1e-3, 10, 100),
            (100, 1e-3, 10, 100), (30, 0.1, 0, 60), (7, 2e-4, 20, 200, 1e-5),
            (150, 2e-4, 20, 200, 1e-5), (130, 1e-3, 10, 100), (250, 2e-4, 20, 200, 1e-5),
            (1, 1e-3, 1, 50)]
    return run_check("Exercise 3 · warmup_cosine_lr", fn, [Case(args=a) for a in args],
                     reference=_warmup_cosine_lr, atol=1e-12, rtol=1e-9,
                     hint="two phases: a straight line from 0 up to the peak, then half a "
                          "cosine from the peak down to min_lr. Measure how far you are through "
                          "the second phase as a fraction from 0 to 1 -- and decide what "
                          "happens after total_steps.")


def _cosine_restarts_lr(step, lr, t_0, t_mult=1, min_lr=0.0):
    return schedules.cosine_restarts(step, lr=lr, t_0=t_0, t_mult=t_mult, min_lr=min_lr)


def check_cosine_restarts_lr(fn: Callable) -> CheckResult:
    """Exercise 4: the LR of CosineAnnealingWarmRestarts(T_0, T_mult, eta_min) at step t."""
    args = [(0, 0.1, 10), (5, 0.1, 10), (10, 0.1, 10), (23, 0.1, 10), (10, 0.1, 10, 2),
            (29, 0.1, 10, 2), (30, 0.1, 10, 2), (100, 0.1, 10, 2, 1e-3), (44, 1.0, 4, 3)]
    return run_check("Exercise 4 · cosine_restarts_lr", fn, [Case(args=a) for a in args],
                     reference=_cosine_restarts_lr, atol=1e-12, rtol=1e-9,
                     hint="the LR depends only on where the step falls inside its current "
                          "period, and each period is t_mult times longer than the one before: "
                          "walk through the periods until the step lands in one, then take half "
                          "a cosine over that period.")


def _lamb_trust_ratio(weight, update, max_ratio=10.0):
    w, u = float(weight.norm()), float(update.norm())
    return 1.0 if w == 0 or u == 0 else min(w / u, max_ratio)


def check_lamb_trust_ratio(fn: Callable) -> CheckResult:
    """Exercise 5: LAMB's trust ratio ||w|| / ||u|| (1 if either is 0), capped at max_ratio."""
    g = torch.Generator().manual_seed(5)
    cases = [Case(args=(torch.randn(4, 4, generator=g), 0.1 * torch.randn(4, 4, generator=g))),
             Case(args=(torch.randn(8, generator=g), torch.randn(8, generator=g))),
             Case(args=(torch.zeros(3), torch.randn(3, generator=g)), label="weight = 0"),
             Case(args=(torch.randn(3, generator=g), torch.zeros(3)), label="update = 0"),
             Case(args=(10 * torch.randn(5, generator=g), 1e-3 * torch.randn(5, generator=g)),
                  kwargs={"max_ratio": 10.0}, label="tiny update (ratio capped)"),
             Case(args=(torch.randn(6, generator=g), 0.2 * torch.randn(6, generator=g)),
                  kwargs={"max_ratio": 2.0})]
    return run_check("Exercise 5 · lamb_trust_ratio", fn, cases, reference=_lamb_trust_ratio,
                     atol=1e-6,
                     hint="use the L2 norm of the whole tensor; return a Python float; a zero "
                          "norm (e.g. a fresh zero-initialised bias) means ratio 1.0.")


def _accumulate_gradients(model, x, y, accum_steps):
    model.zero_grad(set_to_none=True)
    nn.functional.mse_loss(model(x), y).backward()
    grads = [p.grad.detach().clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    return grads


def check_accumulate_gradients(fn: Callable) -> CheckResult:
    """Exercise 6: gradients accumulated over micro-batches equal the full-batch gradient.

    The models arrive with stale gradients in ``.grad`` (zero them first), and the
    checker counts the forward passes: ``accum_steps`` micro-batches, not one full batch.
    """
    batch_sizes: list[int] = []

    def counted(model, x, y, accum_steps):
        batch_sizes.clear()
        handle = model.register_forward_pre_hook(
            lambda _module, inputs: batch_sizes.append(int(inputs[0].shape[0])))
        try:
            return fn(model, x, y, accum_steps)
        finally:
            handle.remove()

    cases, micro = [], []
    for seed, (n, k) in enumerate([(8, 1), (8, 2), (12, 4), (32, 8)]):
        torch.manual_seed(100 + seed)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        for p in model.parameters():  # stale gradients of an earlier step
            p.grad = torch.randn_like(p)
        x, y = torch.randn(n, 3), torch.randn(n, 2)
        micro.append([n // k] * k)
        cases.append(Case(args=(model, x, y, k), label=f"a 3-5-2 MLP with stale .grad, {n} "
                                                       f"examples, accum_steps={k}"))

    def same(got, expected):
        want = micro[len(seen)]
        seen.append(True)
        if batch_sizes != want:
            return False, (f"the model ran on batches of sizes {batch_sizes}; expected "
                           f"{len(want)} micro-batch(es) of {want[0]} examples (one forward "
                           f"and backward per micro-batch)")
        reason = explain_mismatch(got, expected, atol=1e-6)
        return reason is None, reason or ""

    seen: list[bool] = []
    return run_check("Exercise 6 · accumulate_gradients", counted if callable(fn) else fn,
                     cases, reference=_accumulate_gradients, comparator=same,
                     hint="zero the gradients first (the model may hold old ones); each "
                          "micro-batch loss is a mean over its examples: divide it by "
                          "accum_steps before backward() so the summed gradients equal the "
                          "gradient of the full-batch mean.")


def _linear_decay_lr(epoch, lr_0, lr_final, total_epochs):
    return lr_0 - (lr_0 - lr_final) * (epoch - 1) / (total_epochs - 1)


def check_linear_decay_lr(fn: Callable) -> CheckResult:
    """Exercise 7: the corrected linear decay, 1-based epochs, ends exactly at lr_final."""
    args = [(1, 0.1, 0.01, 20), (2, 0.1, 0.01, 20), (3, 0.1, 0.01, 20), (20, 0.1, 0.01, 20),
            (5, 1.0, 0.0, 5), (2, 3e-4, 1e-5, 11)]
    cases = [Case(args=a) for a in args]
    return run_check("Exercise 7 · linear_decay_lr", fn, cases, reference=_linear_decay_lr,
                     atol=1e-12, rtol=1e-9,
                     hint="there are total_epochs - 1 steps between epoch 1 and epoch "
                          "total_epochs, so each step changes the LR by (lr_0 - lr_final)/"
                          "(total_epochs - 1).")


__all__ = ["check_adam_step", "check_adamw_step", "check_warmup_cosine_lr",
           "check_cosine_restarts_lr", "check_lamb_trust_ratio", "check_accumulate_gradients",
           "check_linear_decay_lr"]


PREDICTIONS = ("longer is always better", "no warmup is best", "an intermediate warmup is best")


def check_warmup_experiment(fn: Callable[[int], float], prediction: str | Callable[[], str], *,
                            total_steps: int, peak_lr: float = 0.3) -> CheckResult:
    """Exercise 8 (experiment): final held-out loss against the warmup length, at a high peak LR.

    ``fn(warmup_steps)`` trains the LR explorer's task (``schedules.schedule_demo_training``,
    seed 0) for ``total_steps`` steps under warmup + cosine to ``peak_lr`` and returns the last
    held-out loss. The checker measures a sweep of warmup lengths with it, checks two points
    against its own run, reports the shape of the curve and whether ``prediction`` (one of
    ``PREDICTIONS``, or a function returning it) matched. It passes when the measurement is
    right -- a wrong prediction is a result, not a failure.
    """
    if callable(prediction):
        try:
            prediction = prediction()
        except NotImplementedError:
            prediction = "(no prediction yet)"
        except Exception as err:  # never raise from a checker
            prediction = f"(your prediction function raised {type(err).__name__})"
    warmups = (0, total_steps // 30, total_steps // 10, total_steps // 3, 5 * total_steps // 6)

    def reference(warmup: int) -> float:
        schedule = schedules.make_schedule("warmup_cosine", total_steps=total_steps,
                                           peak_lr=peak_lr, warmup_steps=warmup)
        return schedules.schedule_demo_training(schedule, total_steps, seed=0)[1][-1]

    def sweep() -> dict[int, float]:
        return {w: fn(w) for w in warmups}

    measured: dict[int, float] = {}

    def check(out: object) -> tuple[bool, str]:
        if not isinstance(out, dict) or any(not isinstance(v, (int, float)) for v in out.values()):
            return False, "a float (the last held-out loss) for every warmup length"
        measured.update({w: float(v) for w, v in out.items()})
        for w in (warmups[0], warmups[2]):
            want = reference(w)
            if abs(float(out[w]) - want) > 1e-6:
                return False, (f"warmup {w}: final held-out loss {want:.6f} (warmup_cosine to "
                               f"peak {peak_lr:g} over {total_steps} steps, seed 0, the last "
                               f"value of schedule_demo_training); got {float(out[w]):.6f}")
        return True, ""

    result = run_check("Exercise 8 · warmup-length experiment", sweep,
                       [Case(check=check, label=f"warmups {list(warmups)} at peak {peak_lr:g}")],
                       hint="build the schedule with schedules.make_schedule('warmup_cosine', "
                            "...) from the function's warmup_steps, train with "
                            "schedule_demo_training(schedule, total_steps, seed=0) and return "
                            "the last of its held-out losses.")
    if result.ok:
        losses = measured
        best = min(losses, key=losses.get)
        shape = (PREDICTIONS[1] if best == warmups[0] else PREDICTIONS[0] if best == warmups[-1]
                 else PREDICTIONS[2])
        for w, loss in losses.items():
            print(f"   warmup {w:4d} steps: final held-out loss {loss:.4f}" + ("  <- best" if w == best else ""))
        verdict = "your prediction was right" if prediction == shape else \
            (f"you predicted '{prediction}'" if prediction in PREDICTIONS else
             f"choose your prediction from {PREDICTIONS}")
        print(f"   measured: {shape} -- {verdict}.")
    return result
