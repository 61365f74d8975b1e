"""Chapter 08 checkers: the solutions pass, plausible wrong answers fail (naming the mistake
where the checker can tell), stubs say ⏳."""

import functools

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected
from course_utils._maintain.testing import solution_notebook
from course_utils.exercises import ch08

pytestmark = pytest.mark.usefixtures("one_thread")

NOTEBOOK = solution_notebook("08_contrastive_adversarial.ipynb")
NAMES = ["margin_loss_all_pairs", "info_nce_with_queue", "targeted_fgsm", "pgd_step_l2",
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


def fgsm_freezes_weights(model, x, target, eps):  # freezes and never restores the flags
    for p in model.parameters():
        p.requires_grad_(False)
    return (x - eps * _grad(model, x, target).sign()).clamp(0, 1)


def fgsm_sets_eval(model, x, target, eps):  # switches to eval mode and leaves it there
    model.eval()
    return (x - eps * _grad(model, x, target).sign()).clamp(0, 1)


@pytest.mark.parametrize("wrong, says", [
    (fgsm_untargeted_direction, "untargeted direction"), (fgsm_unclipped, "not clipped"),
    (fgsm_raw_gradient, "raw gradient"), (fgsm_leaves_weight_grads, "hold gradients"),
    (fgsm_freezes_weights, "requires_grad flags"), (fgsm_sets_eval, "eval mode")])
def test_targeted_fgsm_checker(nb, wrong, says):
    assert_passes(ch08.check_targeted_fgsm, nb.targeted_fgsm)
    assert_rejected(ch08.check_targeted_fgsm, wrong, says)
    assert_not_attempted(ch08.check_targeted_fgsm)


# --- Exercise 4: PGD step in an L2 ball ---------------------------------------------------
def _n(t):
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def pgd_l2_sign_step(x_adv, x, grad, alpha, eps):  # the L-inf step in an L2 ball
    delta = x_adv + alpha * grad.sign() - x
    return (x + delta * torch.clamp(eps / _n(delta), max=1.0)).clamp(0, 1)


def pgd_l2_box_projection(x_adv, x, grad, alpha, eps):  # clamps pixels: the L-inf projection
    moved = x_adv + alpha * grad / _n(grad)
    return torch.min(torch.max(moved, x - eps), x + eps).clamp(0, 1)


def pgd_l2_always_rescale(x_adv, x, grad, alpha, eps):  # puts every delta on the sphere
    delta = x_adv + alpha * grad / _n(grad) - x
    return (x + eps * delta / _n(delta)).clamp(0, 1)


def pgd_l2_batch_norm(x_adv, x, grad, alpha, eps):
    delta = x_adv + alpha * grad / grad.norm() - x
    return (x + delta * torch.clamp(eps / delta.norm(), max=1.0)).clamp(0, 1)


def pgd_l2_in_place(x_adv, x, grad, alpha, eps):  # right values, but edits the caller's tensor
    x_adv += alpha * grad / _n(grad)
    delta = x_adv - x
    return (x + delta * torch.clamp(eps / _n(delta), max=1.0)).clamp(0, 1)


@pytest.mark.parametrize("wrong, says", [
    (pgd_l2_sign_step, "sign"), (pgd_l2_box_projection, "L-inf box"),
    (pgd_l2_always_rescale, "already inside"), (pgd_l2_batch_norm, "whole batch"),
    (pgd_l2_in_place, "changed its input")])
def test_pgd_step_checker(nb, wrong, says):
    assert_passes(ch08.check_pgd_step, nb.pgd_step_l2)
    assert_rejected(ch08.check_pgd_step, wrong, says)
    assert_not_attempted(ch08.check_pgd_step)


# --- Exercise 5: FGM on padded sequences ------------------------------------------------------
def fgm_ignores_mask(grad, mask, eps):
    return eps * grad / _n(grad)


def fgm_masks_after_norm(grad, mask, eps):
    return eps * grad * mask[..., None] / _n(grad)


def fgm_perturbs_padding(grad, mask, eps):
    return eps * grad / _n(grad * mask[..., None])


def fgm_sign(grad, mask, eps):
    return eps * grad.sign() * mask[..., None]


@pytest.mark.parametrize("wrong, says", [
    (fgm_ignores_mask, "not masked"), (fgm_masks_after_norm, "after normalising"),
    (fgm_perturbs_padding, "still perturbed"), (fgm_sign, "sign is used")])
def test_fgm_checker(nb, wrong, says):
    assert_passes(ch08.check_fgm_perturbation, nb.fgm_perturbation)
    assert_rejected(ch08.check_fgm_perturbation, wrong, says)
    assert_not_attempted(ch08.check_fgm_perturbation)


# --- Exercise 6: experiment ----------------------------------------------------------------
# Synthetic data where the answer is known: pixel 0 carries the label with a wide margin, the
# other 15 pixels carry it with a margin (0.05) below eps (0.1). A classifier of the 15 pixels is
# accurate but fragile; a classifier of pixel 0 keeps most of its accuracy under PGD.
EPS = 0.1


class _Linear(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x):
        s = (x.flatten(1) - 0.5) @ self.w
        return torch.stack([-s, s], dim=1)


def _data(n=200):
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=gen)
    sign = (2 * y - 1).float()
    x = 0.5 + sign[:, None] * 0.05 + 0.01 * torch.randn(n, 16, generator=gen)
    x[:, 0] = 0.5 + sign * (0.02 + 0.38 * torch.rand(n, generator=gen))
    return x.clamp(0, 1).view(n, 1, 4, 4), y


X6, Y6 = _data()
FRAGILE = _Linear(torch.cat([torch.zeros(1), torch.full((15,), 50 / 15)]))
ROBUST = _Linear(torch.cat([torch.full((1,), 50.0), torch.zeros(15)]))
CHECK6 = functools.partial(ch08.check_adv_training_experiment, x=X6, y=Y6, eps=EPS, pgd_steps=10)


def _measure(model, eps, attack="pgd"):
    import course_utils.adversarial as adv
    if attack == "fgsm":
        fn = lambda m, a, b: adv.fgsm(m, a, b, eps)
    else:
        fn = lambda m, a, b: adv.pgd(m, a, b, eps, eps / 4, 10,
                                     generator=torch.Generator().manual_seed(1))
    return {"model": model, "clean": adv.accuracy(model, X6, Y6),
            "robust": adv.robust_accuracy(model, X6, Y6, fn)[0]}


def _answer(standard, adversarial):
    return lambda: {"standard": standard, "adversarial": adversarial}


def test_experiment_checker():
    right = _answer(_measure(FRAGILE, EPS), _measure(ROBUST, EPS))
    result = assert_passes(CHECK6, right)
    assert result.measured["adversarial"]["robust"] > result.measured["standard"]["robust"]
    # arms swapped: the "adversarial" model is the fragile one
    assert_rejected(CHECK6, _answer(_measure(ROBUST, EPS), _measure(FRAGILE, EPS)), "arms swapped")
    # the attack never ran on the adversarial arm: robust == clean
    clean_only = dict(_measure(ROBUST, EPS), robust=_measure(ROBUST, EPS)["clean"])
    assert_rejected(CHECK6, _answer(_measure(FRAGILE, EPS), clean_only), "did the attack run")
    # evaluated at eps instead of 2 eps: robust accuracy above what the checker's PGD finds
    assert_rejected(CHECK6, _answer(_measure(FRAGILE, EPS / 2), _measure(ROBUST, EPS / 2)),
                    "instead of 2 * S.adv_eps")
    # an FGSM-like weak evaluation: reported robust accuracy too high for the fragile model
    weak = dict(_measure(FRAGILE, EPS), robust=_measure(FRAGILE, EPS)["clean"] - 0.2)
    assert_rejected(CHECK6, _answer(weak, _measure(ROBUST, EPS)), "FGSM")
    # percentages instead of fractions
    pct = {k: (100 * v if k != "model" else v) for k, v in _measure(FRAGILE, EPS).items()}
    assert_rejected(CHECK6, _answer(pct, _measure(ROBUST, EPS)), "percentages")
    # the models are not returned
    no_model = {k: v for k, v in _measure(FRAGILE, EPS).items() if k != "model"}
    assert_rejected(CHECK6, _answer(no_model, _measure(ROBUST, EPS)), "not a dict")
    assert_rejected(CHECK6, lambda: [0.95, 0.05], "not a dict")
    assert_not_attempted(ch08.check_adv_training_experiment)
