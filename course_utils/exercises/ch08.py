"""Checkers for chapter 08 (contrastive and adversarial training).

Each tensor checker compares the answer with the reference and, when it differs, names
the usual mistake whose output the answer matches (computed on the same hidden case).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from course_utils import adversarial as adv
from course_utils import contrastive as cl
from course_utils.checking import Case, CheckResult, explain_mismatch, run_check

__all__ = ["check_margin_loss", "check_info_nce_queue", "check_targeted_fgsm", "check_pgd_step",
           "check_fgm_perturbation", "check_adv_training_experiment"]


def _randn(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _close(got: object, value: torch.Tensor, atol: float) -> bool:
    if not isinstance(got, torch.Tensor) or got.shape != value.shape:
        return False
    return bool(torch.allclose(got.double(), value.double(), atol=atol, rtol=1e-4))


def _tensor_check(right: torch.Tensor, mistakes: Mapping[str, torch.Tensor], atol: float = 1e-5
                  ) -> Callable[[object], tuple[bool, str]]:
    """``got -> (ok, text)``: text shows the expected value and, if wrong, what differs."""
    shown = f"{right.item():.6g} (a scalar tensor)" if right.numel() == 1 else \
        f"a tensor of shape {tuple(right.shape)}"

    def check(got: object) -> tuple[bool, str]:
        if isinstance(got, (float, int)) and not isinstance(got, bool) and right.numel() == 1:
            got = torch.tensor(float(got))
        if not isinstance(got, torch.Tensor):
            return False, f"{shown}\n   what differs: you returned {type(got).__name__}, " \
                          f"not a tensor"
        if right.numel() == 1 and got.numel() != 1:
            return False, (f"{shown}\n   what differs: you returned shape {tuple(got.shape)}; "
                           f"average over the batch to one number")
        got_cmp = got.reshape(right.shape) if right.numel() == 1 else got
        if _close(got_cmp, right, atol):
            return True, shown
        reason = explain_mismatch(got_cmp.detach(), right, atol, 1e-4) or "values differ"
        likely = [name for name, value in mistakes.items() if _close(got_cmp, value, atol)]
        if likely:
            reason += "; that is what you get when " + ", or when ".join(likely)
        return False, f"{shown}\n   what differs: {reason}"

    return check


# --- Exercise 1: margin loss over every pair of a batch --------------------------------
def margin_loss_all_pairs(z: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """The reference: the margin loss averaged over the N(N-1)/2 pairs i < j of a batch."""
    i, j = torch.triu_indices(len(z), len(z), offset=1)
    return cl.margin_contrastive_loss(z[i], z[j], (labels[i] == labels[j]).long(), margin)


def _margin_mistakes(z, labels, margin) -> dict[str, torch.Tensor]:
    d = torch.cdist(z.double(), z.double())
    same = (labels[:, None] == labels[None, :]).double()
    terms = same * d ** 2 + (1 - same) * F.relu(margin - d) ** 2
    upper = torch.triu(torch.ones_like(d, dtype=torch.bool), diagonal=1)
    n = len(z)
    return {
        "each example is also paired with itself (the diagonal is included)": terms.mean(),
        "the roles of same and different labels are swapped":
            ((1 - same) * d ** 2 + same * F.relu(margin - d) ** 2)[upper].mean(),
        "the hinge max(0, m - d) is not squared":
            (same * d ** 2 + (1 - same) * F.relu(margin - d))[upper].mean(),
        "the hinge uses d² instead of d, max(0, m - d²)²":
            (same * d ** 2 + (1 - same) * F.relu(margin - d ** 2) ** 2)[upper].mean(),
        "the pairs are summed, not averaged": terms[upper].sum(),
        "the sum over pairs is divided by N, not by the number of pairs": terms[upper].sum() / n,
    }


def check_margin_loss(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 1: the margin loss over every pair (i < j) of a labelled batch."""
    cases = []
    settings = [(6, 4, 1.0, 0.5), (10, 8, 2.0, 0.6), (8, 3, 0.5, 0.3), (5, 16, 5.0, 1.0)]
    for i, (n, dim, margin, scale) in enumerate(settings):
        z = _randn(n, dim, seed=2 * i, scale=scale)
        labels = torch.randint(0, 3, (n,), generator=torch.Generator().manual_seed(100 + i))
        right = margin_loss_all_pairs(z, labels, margin)
        cases.append(Case(args=(z, labels, margin),
                          check=_tensor_check(right, _margin_mistakes(z, labels, margin)),
                          label=f"{n} embeddings of size {dim}, labels {labels.tolist()}, "
                                f"margin {margin}"))
    z = _randn(1, 5, seed=9).repeat(4, 1)
    cases.append(Case(args=(z, torch.zeros(4, dtype=torch.long), 1.0),
                      check=_tensor_check(torch.tensor(0.0), {}),
                      label="4 identical embeddings, all the same label (must be 0)"))
    return run_check("Exercise 1 · margin loss over all pairs", fn, cases, inputs_unchanged=True,
                     hint="first the N x N distance matrix and an N x N 'same label' matrix; then "
                          "keep each unordered pair once (no example with itself) and average.")


# --- Exercise 2: InfoNCE with a queue of negatives (MoCo) ---------------------------------
def info_nce_queue(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float
                   ) -> torch.Tensor:
    """The reference: query i's positive is key i; its negatives are the queue's K entries."""
    q, k, queue = F.normalize(q, dim=1), F.normalize(k, dim=1), F.normalize(queue, dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))


def _queue_mistakes(q, k, queue, t) -> dict[str, torch.Tensor]:
    qn, kn, un = F.normalize(q, dim=1), F.normalize(k, dim=1), F.normalize(queue, dim=1)
    zeros = torch.zeros(len(q), dtype=torch.long)
    pos = (qn * kn).sum(1, keepdim=True)
    return {
        "the vectors are not L2-normalised (dot products instead of cosines)":
            F.cross_entropy(torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], 1) / t, zeros),
        "the logits are not divided by the temperature":
            F.cross_entropy(torch.cat([pos, qn @ un.T], 1), zeros),
        "the other keys of the batch are used as negatives as well (q @ k.T), not only the queue":
            F.cross_entropy(torch.cat([qn @ kn.T, qn @ un.T], 1) / t, torch.arange(len(q))),
        "the positive is left out of the softmax's denominator":
            (-(pos.squeeze(1) / t) + torch.logsumexp(qn @ un.T / t, dim=1)).mean(),
    }


def check_info_nce_queue(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 2: MoCo's InfoNCE -- one positive key per query, K negatives from a queue."""
    cases = []
    for i, (n, k_neg, dim, t) in enumerate([(4, 6, 8, 0.2), (8, 32, 16, 0.07), (3, 5, 4, 1.0),
                                            (6, 10, 5, 0.5)]):
        q, k = _randn(n, dim, seed=3 * i), _randn(n, dim, seed=3 * i + 1, scale=2.0)
        queue = _randn(k_neg, dim, seed=3 * i + 2)
        cases.append(Case(args=(q, k, queue, t),
                          check=_tensor_check(info_nce_queue(q, k, queue, t),
                                              _queue_mistakes(q, k, queue, t)),
                          label=f"{n} queries/keys of size {dim}, a queue of {k_neg}, "
                                f"temperature {t}"))
    return run_check("Exercise 2 · InfoNCE with a queue", fn, cases, inputs_unchanged=True,
                     hint="cosine of each query with its own key (one logit) and with every queue "
                          "entry (K logits); divide by the temperature; the positive sits in "
                          "column 0 of a (K + 1)-way cross-entropy.")


# --- Exercise 3: targeted FGSM ------------------------------------------------------------
def _attack_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
    return model.eval()


def targeted_fgsm(model: nn.Module, x: torch.Tensor, target: torch.Tensor, eps: float
                  ) -> torch.Tensor:
    """The reference: one signed step *down* the cross-entropy towards ``target``."""
    grad = adv.input_gradient(model, x, target)
    return (x - eps * grad.sign()).clamp(0, 1).detach()


def _fgsm_mistakes(model, x, target, eps) -> dict[str, torch.Tensor]:
    grad = adv.input_gradient(model, x, target)
    return {
        "the step goes up the target's loss (the untargeted direction, x + eps * sign)":
            (x + eps * grad.sign()).clamp(0, 1),
        "the result is not clipped to [0, 1]": x - eps * grad.sign(),
        "the raw gradient is used instead of its sign": (x - eps * grad).clamp(0, 1),
    }


def check_targeted_fgsm(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 3: targeted FGSM on a fixed small classifier, left exactly as it was found:
    weights, gradients, ``requires_grad`` flags and train/eval mode."""
    cases = []
    for i, (n, eps, training) in enumerate([(8, 0.1, False), (16, 0.05, False), (4, 0.3, True),
                                            (6, 0.0, False)]):
        model = _attack_model(i)
        model.train(training)  # no dropout or batch norm: the mode does not change the output
        if i == 1:
            model[1].bias.requires_grad_(False)  # a model that arrives partly frozen
        x = torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(10 + i))
        target = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(20 + i))
        flags = [p.requires_grad for p in model.parameters()]
        right = targeted_fgsm(model, x, target, eps)
        base = _tensor_check(right, _fgsm_mistakes(model, x, target, eps), atol=1e-6)
        before = [p.detach().clone() for p in model.parameters()]

        def check(got, model=model, base=base, before=before, flags=flags, training=training):
            ok, text = base(got)
            if not ok:
                return ok, text
            if any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()):
                return False, (f"{text}\n   what differs: the model's weights now hold "
                               f"gradients; use torch.autograd.grad(loss, x) (or zero them)")
            if any(not torch.equal(p, b) for p, b in zip(model.parameters(), before)):
                return False, f"{text}\n   what differs: the model's weights changed"
            now = [p.requires_grad for p in model.parameters()]
            if now != flags:
                return False, (f"{text}\n   what differs: the parameters' requires_grad flags "
                               f"are not what they were ({sum(now)} of {len(now)} now require "
                               f"grad, before {sum(flags)}); if you freeze them, restore each "
                               f"flag afterwards (or do not freeze: autograd.grad w.r.t. x only)")
            if model.training != training:
                return False, (f"{text}\n   what differs: the model was left in "
                               f"{'train' if model.training else 'eval'} mode, it came in "
                               f"{'train' if training else 'eval'} mode; restore model.train(...) "
                               f"as you found it")
            return True, text

        cases.append(Case(args=(model, x, target, eps), check=check,
                          label=f"a small MLP ({'train' if training else 'eval'} mode), {n} "
                                f"images 1x8x8, targets {target.tolist()}, eps={eps}"))
    return run_check("Exercise 3 · targeted FGSM", fn, cases, inputs_unchanged=True,
                     hint="you want the model to say `target`: make the cross-entropy *of the "
                          "target* smaller. Which way along the sign of its input gradient is "
                          "that? And leave the model as you found it.")


# --- Exercise 4: a PGD step in an L2 ball ---------------------------------------------------
def _per_example_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def _project_l2(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    delta = x_adv - x
    return x + delta * torch.clamp(eps / _per_example_norm(delta), max=1.0)


def pgd_step_l2(x_adv: torch.Tensor, x: torch.Tensor, grad: torch.Tensor, alpha: float,
                eps: float) -> torch.Tensor:
    """The reference: normalised-gradient step, projection onto the L2 ball, then [0, 1]."""
    moved = x_adv + alpha * grad / _per_example_norm(grad)
    delta = moved - x
    delta = delta * torch.clamp(eps / _per_example_norm(delta), max=1.0)
    return (x + delta).clamp(0, 1)


def _pgd_mistakes(x_adv, x, grad, alpha, eps) -> dict[str, torch.Tensor]:
    unit = grad / _per_example_norm(grad)
    moved = x_adv + alpha * unit
    delta = moved - x
    return {
        "the step uses the gradient's sign (the L-inf step), not g / ||g||_2":
            _project_l2(x_adv + alpha * grad.sign(), x, eps).clamp(0, 1),
        "the projection clamps each pixel to [x - eps, x + eps] (the L-inf box, not the L2 ball)":
            adv.project_linf(moved, x, eps),
        "the perturbation is always rescaled to length eps, also when it is already inside":
            (x + eps * delta / _per_example_norm(delta)).clamp(0, 1),
        "one norm is taken over the whole batch, not per image":
            (x + (x_adv + alpha * grad / grad.norm() - x)
             * torch.clamp(eps / (x_adv + alpha * grad / grad.norm() - x).norm(), max=1.0)
             ).clamp(0, 1),
        "the projection is around x_adv, not around the clean x":
            (x_adv + alpha * unit * min(1.0, eps / alpha)).clamp(0, 1),
        "the result is not clipped to [0, 1]":
            x + delta * torch.clamp(eps / _per_example_norm(delta), max=1.0),
        "the raw gradient is used, not normalised":
            (x + (x_adv + alpha * grad - x)
             * torch.clamp(eps / _per_example_norm(x_adv + alpha * grad - x), max=1.0)).clamp(0, 1),
    }


def check_pgd_step(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 4: L2 step alpha * g/||g||, projection onto the L2 eps-ball around x, [0, 1]."""
    cases = []
    # alpha small (the step stays inside the ball) and large (the projection must act)
    for i, (n, alpha, eps) in enumerate([(6, 0.05, 1.0), (4, 2.0, 1.0), (8, 0.5, 1.5),
                                         (5, 3.0, 0.5)]):
        gen = torch.Generator().manual_seed(30 + i)
        x = 0.1 + 0.8 * torch.rand(n, 1, 6, 6, generator=gen)
        start = torch.randn(x.shape, generator=gen)
        x_adv = (x + 0.5 * eps * start / _per_example_norm(start)).clamp(0, 1)
        grad = torch.randn(x.shape, generator=gen) * torch.linspace(0.1, 5.0, n).view(n, 1, 1, 1)
        right = pgd_step_l2(x_adv, x, grad, alpha, eps)
        cases.append(Case(args=(x_adv, x, grad, alpha, eps),
                          check=_tensor_check(right, _pgd_mistakes(x_adv, x, grad, alpha, eps),
                                              1e-5),
                          label=f"{n} images 1x6x6 (gradients of different sizes), alpha={alpha}, "
                                f"eps={eps}"))
    return run_check("Exercise 4 · PGD step in an L2 ball", fn, cases, inputs_unchanged=True,
                     hint="two ideas. (1) For an L2 budget the steepest step of length alpha is "
                          "along the gradient itself, scaled to unit length per image — the sign "
                          "is the L-inf answer. (2) Projecting onto a ball keeps the direction "
                          "of the perturbation delta = x' - x and only shortens it if it is too "
                          "long. Then clip to valid pixels.")


# --- Exercise 5: FGM on padded sequences ------------------------------------------------------
def fgm_masked(grad: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    """The reference: eps * g / ||g||_2 over each sequence's real tokens; zero on padding."""
    g = grad * mask[..., None].to(grad.dtype)
    return eps * g / _per_example_norm(g)


def _fgm_mistakes(grad, mask, eps) -> dict[str, torch.Tensor]:
    m = mask[..., None].to(grad.dtype)
    return {
        "the padding is not masked (its gradient enters the norm and gets perturbed)":
            eps * grad / _per_example_norm(grad),
        "the padding is zeroed after normalising (the norm still counts it)":
            eps * grad * m / _per_example_norm(grad),
        "the norm ignores the padding but the padding is still perturbed":
            eps * grad / _per_example_norm(grad * m),
        "the sign is used (FGSM's step, an L-inf perturbation)": eps * grad.sign() * m,
        "one norm is taken over the whole batch, not per sequence":
            eps * grad * m / (grad * m).norm(),
        "each token's vector is normalised separately":
            eps * grad * m / (grad * m).norm(dim=-1, keepdim=True).clamp_min(1e-12),
    }


def check_fgm_perturbation(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 5: FGM per sequence on a padded batch -- padding neither counts nor moves."""
    cases = []
    for i, (b, t, h, eps) in enumerate([(2, 5, 4, 1.0), (4, 6, 8, 0.1), (3, 7, 2, 2.5),
                                        (1, 4, 6, 0.5)]):
        grad = _randn(b, t, h, seed=40 + i) * torch.linspace(0.1, 3.0, b).view(b, 1, 1)
        lengths = torch.randint(1, t + 1, (b,), generator=torch.Generator().manual_seed(50 + i))
        lengths[0] = max(1, t - 2)  # at least one sequence is padded
        mask = (torch.arange(t)[None, :] < lengths[:, None]).long()
        right = fgm_masked(grad, mask, eps)
        cases.append(Case(args=(grad, mask, eps),
                          check=_tensor_check(right, _fgm_mistakes(grad, mask, eps)),
                          label=f"grad of shape {(b, t, h)} (non-zero at the padding too), "
                                f"sequence lengths {lengths.tolist()}, eps={eps}"))
    return run_check("Exercise 5 · FGM on padded sequences", fn, cases, inputs_unchanged=True,
                     hint="padding is not part of the review: it should neither count in the "
                          "length of g nor be moved. Which single operation on g achieves both, "
                          "before the L2 norm per sequence (over all its tokens and dimensions)?")


# --- Exercise 6: experiment -------------------------------------------------------------
def check_adv_training_experiment(fn: Callable[[], Mapping[str, Mapping[str, object]]],
                                  x: torch.Tensor | None = None, y: torch.Tensor | None = None,
                                  eps: float | None = None, pgd_steps: int = 10,
                                  tolerance: float = 0.05) -> CheckResult:
    """Exercise 6 (experiment): adversarial training at 2ε, checked with the checker's own PGD.

    ``fn()`` returns ``{"standard": {"model": m, "clean": a, "robust": b}, "adversarial": {...}}``
    with accuracies in [0, 1]. The checker attacks both models itself (PGD at ``eps`` with
    ``pgd_steps`` steps of eps/4 from a fixed random start, on ``x, y``) and requires: your
    robust accuracies are not above what its PGD finds (+ ``tolerance``: an FGSM or a smaller
    eps would be), both models lose accuracy under attack, and the adversarial model keeps
    more. ``result.measured`` holds the checker's numbers.
    """
    measured: dict[str, dict[str, float]] = {}

    def check(out: object) -> tuple[bool, str]:
        expected = ("{'standard': {'model': ..., 'clean': ..., 'robust': ...}, 'adversarial': "
                    "{...}} with accuracies in [0, 1] from PGD at 2 * S.adv_eps, and the "
                    "adversarial model more robust")
        try:
            values = {arm: {k: float(out[arm][k]) for k in ("clean", "robust")}
                      for arm in ("standard", "adversarial")}
            models = {arm: out[arm]["model"] for arm in ("standard", "adversarial")}
        except (TypeError, KeyError, ValueError, IndexError):
            return False, f"{expected}\n   what differs: not a dict of that shape"
        if any(not 0.0 <= v <= 1.0 for arm in values.values() for v in arm.values()):
            return False, (f"{expected}\n   what differs: an accuracy is outside [0, 1] -- "
                           f"fractions, not percentages")
        if not all(isinstance(m, nn.Module) for m in models.values()):
            return False, f"{expected}\n   what differs: 'model' must be the trained nn.Module"
        if x is None or y is None or eps is None:
            return False, f"{expected}\n   what differs: the checker needs x, y and eps"
        for arm, model in models.items():
            was = model.training
            model.eval()
            attack = lambda m, a, b: adv.pgd(m, a, b, eps, eps / 4, pgd_steps,
                                             generator=torch.Generator().manual_seed(0))
            measured[arm] = {"clean": adv.accuracy(model, x, y),
                             "robust": adv.robust_accuracy(model, x, y, attack)[0]}
            model.train(was)
        for arm in ("standard", "adversarial"):
            yours, ours = values[arm], measured[arm]
            if yours["robust"] >= yours["clean"]:
                return False, (f"{expected}\n   what differs: your {arm} model is as accurate "
                               f"under attack ({yours['robust']:.3f}) as clean "
                               f"({yours['clean']:.3f}) -- did the attack run on this arm?")
            if yours["robust"] > ours["robust"] + tolerance:
                return False, (f"{expected}\n   what differs: your {arm} robust accuracy "
                               f"{yours['robust']:.3f} is well above what the checker's PGD "
                               f"at eps={eps:.3g} finds ({ours['robust']:.3f}) -- did you "
                               f"attack with FGSM, with fewer steps, or at S.adv_eps instead "
                               f"of 2 * S.adv_eps?")
        if measured["adversarial"]["robust"] <= measured["standard"]["robust"]:
            return False, (f"{expected}\n   what differs: under the checker's PGD the "
                           f"adversarial model keeps {measured['adversarial']['robust']:.3f}, "
                           f"the standard one {measured['standard']['robust']:.3f} -- was the "
                           f"adversarial arm trained with the attack at 2 * S.adv_eps, and are "
                           f"the arms swapped?")
        return True, expected

    result = run_check("Exercise 6 · adversarial-training experiment", fn,
                       [Case(check=check, label="your two trained classifiers")],
                       hint="train_supervised(..., attack=None) vs attack=a random-start FGSM at "
                            "2 * S.adv_eps; evaluate both with adv.robust_accuracy and a PGD "
                            "attack (adv.pgd, several steps) at the same eps; return the models "
                            "too.")
    result.measured = measured  # type: ignore[attr-defined]
    return result
