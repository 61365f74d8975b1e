"""Chapter 08 checkers: the solutions pass, plausible wrong answers fail (naming the mistake
where the checker can tell), stubs say ⏳."""

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected
from course_utils._maintain.testing import solution_notebook
from course_utils.exercises import ch08

pytestmark = pytest.mark.usefixtures("one_thread")

NOTEBOOK = solution_notebook("08_contrastive_adversarial.ipynb")
NAMES = ["margin_loss_all_pairs", "info_nce_with_queue", "targeted_fgsm", "pgd_step",
         "fgm_perturbation"]


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)


# --- Exercise 1: margin loss over all pairs -----------------------------------------------
def _pairs(z, labels, margin):
    d = torch.cdist(z, z)
    same = (labels[:, None] == labels[None, :]).float()
    upper = torch.triu(torch.ones(len(z), len(z), dtype=torch.bool), diagonal=1)
    return d, same, upper


def margin_with_diagonal(z, labels, margin):
    d, same, _ = _pairs(z, labels, margin)
    return (same * d ** 2 + (1 - same) * F.relu(margin - d) ** 2).mean()


def margin_swapped(z, labels, margin):
    d, same, upper = _pairs(z, labels, margin)
    return ((1 - same) * d ** 2 + same * F.relu(margin - d) ** 2)[upper].mean()


def margin_unsquared_hinge(z, labels, margin):
    d, same, upper = _pairs(z, labels, margin)
    return (same * d ** 2 + (1 - same) * F.relu(margin - d))[upper].mean()


def margin_divided_by_n(z, labels, margin):
    d, same, upper = _pairs(z, labels, margin)
    return (same * d ** 2 + (1 - same) * F.relu(margin - d) ** 2)[upper].sum() / len(z)


@pytest.mark.parametrize("wrong, says", [
    (margin_with_diagonal, "paired with itself"), (margin_swapped, "swapped"),
    (margin_unsquared_hinge, "not squared"), (margin_divided_by_n, "divided by N")])
def test_margin_checker(nb, wrong, says):
    assert_passes(ch08.check_margin_loss, nb.margin_loss_all_pairs)
    assert_rejected(ch08.check_margin_loss, wrong, says)
    assert_not_attempted(ch08.check_margin_loss)


# --- Exercise 2: InfoNCE with a queue ------------------------------------------------------
def _norm(*ts):
    return [F.normalize(t, dim=1) for t in ts]


def queue_no_normalise(q, k, queue, t):
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], 1) / t
    return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))


def queue_no_temperature(q, k, queue, t):
    q, k, queue = _norm(q, k, queue)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], 1)
    return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))


def queue_plus_batch_keys(q, k, queue, t):  # SimCLR-style batch negatives added to the queue
    q, k, queue = _norm(q, k, queue)
    return F.cross_entropy(torch.cat([q @ k.T, q @ queue.T], 1) / t, torch.arange(len(q)))


def queue_positive_not_in_denominator(q, k, queue, t):
    q, k, queue = _norm(q, k, queue)
    pos = (q * k).sum(1) / t
    return (-pos + torch.logsumexp(q @ queue.T / t, dim=1)).mean()


@pytest.mark.parametrize("wrong, says", [
    (queue_no_normalise, "not L2-normalised"), (queue_no_temperature, "temperature"),
    (queue_plus_batch_keys, "other keys of the batch"),
    (queue_positive_not_in_denominator, "left out of the softmax")])
def test_info_nce_queue_checker(nb, wrong, says):
    assert_passes(ch08.check_info_nce_queue, nb.info_nce_with_queue)
    assert_rejected(ch08.check_info_nce_queue, wrong, says)
    assert_not_attempted(ch08.check_info_nce_queue)


# --- Exercise 3: targeted FGSM -------------------------------------------------------------
def _grad(model, x, y):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    return g


def fgsm_untargeted_direction(model, x, target, eps):
    return (x + eps * _grad(model, x, target).sign()).clamp(0, 1)


def fgsm_unclipped(model, x, target, eps):
    return x - eps * _grad(model, x, target).sign()


def fgsm_raw_gradient(model, x, target, eps):
    return (x - eps * _grad(model, x, target)).clamp(0, 1)


def fgsm_leaves_weight_grads(model, x, target, eps):
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), target).backward()  # also fills every weight's .grad
    return (x - eps * x.grad.sign()).clamp(0, 1).detach()


@pytest.mark.parametrize("wrong, says", [
    (fgsm_untargeted_direction, "untargeted direction"), (fgsm_unclipped, "not clipped"),
    (fgsm_raw_gradient, "raw gradient"), (fgsm_leaves_weight_grads, "hold gradients")])
def test_targeted_fgsm_checker(nb, wrong, says):
    assert_passes(ch08.check_targeted_fgsm, nb.targeted_fgsm)
    assert_rejected(ch08.check_targeted_fgsm, wrong, says)
    assert_not_attempted(ch08.check_targeted_fgsm)


# --- Exercise 4: PGD step ------------------------------------------------------------------
def pgd_around_x_adv(x_adv, x, grad, alpha, eps):
    moved = x_adv + alpha * grad.sign()
    return torch.min(torch.max(moved, x_adv - eps), x_adv + eps).clamp(0, 1)


def pgd_no_pixel_clip(x_adv, x, grad, alpha, eps):
    moved = x_adv + alpha * grad.sign()
    return torch.min(torch.max(moved, x - eps), x + eps)


def pgd_no_projection(x_adv, x, grad, alpha, eps):
    return (x_adv + alpha * grad.sign()).clamp(0, 1)


def pgd_in_place(x_adv, x, grad, alpha, eps):  # right values, but edits the caller's tensor
    x_adv += alpha * grad.sign()
    return torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)


@pytest.mark.parametrize("wrong, says", [
    (pgd_around_x_adv, "around x_adv"), (pgd_no_pixel_clip, "not clipped"),
    (pgd_no_projection, "no projection"), (pgd_in_place, "changed its input")])
def test_pgd_step_checker(nb, wrong, says):
    assert_passes(ch08.check_pgd_step, nb.pgd_step)
    assert_rejected(ch08.check_pgd_step, wrong, says)
    assert_not_attempted(ch08.check_pgd_step)


# --- Exercise 5: FGM -----------------------------------------------------------------------
def fgm_sign(grad, eps):
    return eps * grad.sign()


def fgm_batch_norm(grad, eps):
    return eps * grad / grad.norm()


def fgm_per_token(grad, eps):
    return eps * grad / grad.norm(dim=-1, keepdim=True)


@pytest.mark.parametrize("wrong, says", [
    (fgm_sign, "sign is used"), (fgm_batch_norm, "whole batch"), (fgm_per_token, "each token")])
def test_fgm_checker(nb, wrong, says):
    assert_passes(ch08.check_fgm_perturbation, nb.fgm_perturbation)
    assert_rejected(ch08.check_fgm_perturbation, wrong, says)
    assert_not_attempted(ch08.check_fgm_perturbation)


# --- Exercise 6: experiment ----------------------------------------------------------------
def _result(std_clean, std_robust, adv_clean, adv_robust):
    return lambda: {"standard": {"clean": std_clean, "robust": std_robust},
                    "adversarial": {"clean": adv_clean, "robust": adv_robust}}


def test_experiment_checker():
    assert_passes(ch08.check_adv_training_experiment, _result(0.95, 0.05, 0.93, 0.40))
    # arms swapped: the "adversarial" model is the fragile one
    assert_rejected(ch08.check_adv_training_experiment, _result(0.93, 0.40, 0.95, 0.05),
                    "arms swapped")
    # the attack never ran: robust == clean
    assert_rejected(ch08.check_adv_training_experiment, _result(0.95, 0.95, 0.93, 0.93),
                    "did the PGD attack run")
    # percentages instead of fractions
    assert_rejected(ch08.check_adv_training_experiment, _result(95.0, 5.0, 93.0, 40.0),
                    "percentages")
    assert_rejected(ch08.check_adv_training_experiment, lambda: [0.95, 0.05], "not a dict")
    assert_not_attempted(ch08.check_adv_training_experiment)
