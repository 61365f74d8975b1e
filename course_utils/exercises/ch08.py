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
    """Exercise 3: targeted FGSM on a fixed small classifier; weights and grads untouched."""
    cases = []
    for i, (n, eps) in enumerate([(8, 0.1), (16, 0.05), (4, 0.3), (6, 0.0)]):
        model = _attack_model(i)
        x = torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(10 + i))
        target = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(20 + i))
        right = targeted_fgsm(model, x, target, eps)
        base = _tensor_check(right, _fgsm_mistakes(model, x, target, eps), atol=1e-6)
        before = [p.detach().clone() for p in model.parameters()]

        def check(got, model=model, base=base, before=before):
            ok, text = base(got)
            if not ok:
                return ok, text
            if any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()):
                return False, (f"{text}\n   what differs: the model's weights now hold "
                               f"gradients; use torch.autograd.grad(loss, x) (or zero them)")
            if any(not torch.equal(p, b) for p, b in zip(model.parameters(), before)):
                return False, f"{text}\n   what differs: the model's weights changed"
            return True, text

        cases.append(Case(args=(model, x, target, eps), check=check,
                          label=f"a small MLP, {n} images 1x8x8, targets {target.tolist()}, "
                                f"eps={eps}"))
    return run_check("Exercise 3 · targeted FGSM", fn, cases, inputs_unchanged=True,
                     hint="you want the model to say `target`: make the loss *of the target* "
                          "smaller. Which way along the sign of its input gradient is that?")


# --- Exercise 4: a PGD step -------------------------------------------------------------
def _pgd_mistakes(x_adv, x, grad, alpha, eps) -> dict[str, torch.Tensor]:
    moved = x_adv + alpha * grad.sign()
    return {
        "the projection is around x_adv, not around the clean x":
            adv.project_linf(moved, x_adv, eps),
        "the result is not clipped to [0, 1]": torch.min(torch.max(moved, x - eps), x + eps),
        "there is no projection onto the eps-ball": moved.clamp(0, 1),
        "the raw gradient is used instead of its sign": adv.project_linf(x_adv + alpha * grad, x, eps),
    }


def check_pgd_step(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 4: signed step, then projection onto the eps-ball around x and [0, 1]."""
    cases = []
    for i, (n, alpha, eps) in enumerate([(6, 0.05, 0.1), (4, 0.2, 0.1), (8, 0.03, 0.3),
                                         (5, 0.1, 0.05)]):
        gen = torch.Generator().manual_seed(30 + i)
        x = torch.rand(n, 1, 6, 6, generator=gen)
        x_adv = adv.project_linf(x + eps * (2 * torch.rand(x.shape, generator=gen) - 1), x, eps)
        grad = torch.randn(x.shape, generator=gen)
        right = adv.project_linf(x_adv + alpha * grad.sign(), x, eps)
        cases.append(Case(args=(x_adv, x, grad, alpha, eps),
                          check=_tensor_check(right, _pgd_mistakes(x_adv, x, grad, alpha, eps), 1e-6),
                          label=f"{n} images, alpha={alpha}, eps={eps}"))
    return run_check("Exercise 4 · PGD step", fn, cases, inputs_unchanged=True,
                     hint="step uphill by alpha * sign(grad); then clamp between x - eps and "
                          "x + eps (x is the clean image), then to [0, 1].")


# --- Exercise 5: FGM ------------------------------------------------------------------------
def _fgm_mistakes(grad, eps) -> dict[str, torch.Tensor]:
    return {
        "the sign is used (FGSM's step, an L-inf perturbation)": eps * grad.sign(),
        "one norm is taken over the whole batch, not per sequence": eps * grad / grad.norm(),
        "each token's vector is normalised separately": eps * grad / grad.norm(dim=-1, keepdim=True),
        "the gradient is not normalised": eps * grad,
    }


def check_fgm_perturbation(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 5: eps · g / ||g||₂ per sequence."""
    cases = []
    for i, (b, t, h, eps) in enumerate([(2, 3, 4, 1.0), (4, 5, 8, 0.1), (3, 7, 2, 2.5),
                                        (1, 4, 6, 0.5)]):
        grad = _randn(b, t, h, seed=40 + i) * torch.linspace(0.1, 3.0, b).view(b, 1, 1)
        right = adv.fgm_perturbation(grad, eps)
        cases.append(Case(args=(grad, eps), check=_tensor_check(right, _fgm_mistakes(grad, eps)),
                          label=f"grad of shape {(b, t, h)} (different norms per sequence), eps={eps}"))
    return run_check("Exercise 5 · FGM perturbation", fn, cases, inputs_unchanged=True,
                     hint="one L2 norm per sequence, over all its tokens and dimensions "
                          "(flatten everything but the batch); divide and scale by eps.")


# --- Exercise 6: experiment -------------------------------------------------------------
def check_adv_training_experiment(fn: Callable[[], Mapping[str, Mapping[str, float]]],
                                  min_gain: float = 0.0) -> CheckResult:
    """Exercise 6 (experiment): adversarial training raises PGD accuracy at a larger eps.

    ``fn()`` returns ``{"standard": {"clean": a, "robust": b}, "adversarial": {...}}`` with
    accuracies in [0, 1]. The effect to see: the adversarially trained model's robust
    accuracy is higher (by more than ``min_gain``); an attack that ran makes robust accuracy
    lower than clean accuracy for the standard model.
    """
    def check(out: object) -> tuple[bool, str]:
        expected = ("{'standard': {'clean': ..., 'robust': ...}, 'adversarial': {...}} with "
                    "accuracies in [0, 1] and adversarial['robust'] > standard['robust']")
        try:
            values = {arm: {k: float(out[arm][k]) for k in ("clean", "robust")}
                      for arm in ("standard", "adversarial")}
        except (TypeError, KeyError, ValueError):
            return False, f"{expected}\n   what differs: not a dict of that shape"
        if any(not 0.0 <= v <= 1.0 for arm in values.values() for v in arm.values()):
            return False, (f"{expected}\n   what differs: an accuracy is outside [0, 1] -- "
                           f"fractions, not percentages")
        std, rob = values["standard"], values["adversarial"]
        if std["robust"] >= std["clean"]:
            return False, (f"{expected}\n   what differs: the standard model is as accurate "
                           f"under attack ({std['robust']:.3f}) as clean ({std['clean']:.3f}) "
                           f"-- did the PGD attack run at the larger eps?")
        if rob["robust"] - std["robust"] <= min_gain:
            return False, (f"{expected}\n   what differs: robust accuracy adversarial "
                           f"{rob['robust']:.3f} vs standard {std['robust']:.3f} -- was the "
                           f"adversarial arm trained with the attack, and are the arms swapped?")
        return True, expected

    return run_check("Exercise 6 · adversarial-training experiment", fn,
                     [Case(check=check, label="your two trained classifiers")],
                     hint="train_supervised(..., attack=None) vs attack=a random-start FGSM at "
                          "2 * S.adv_eps; evaluate both with adv.robust_accuracy and a PGD "
                          "attack at the same eps.")
