"""Adversarial examples and adversarial training (chapter 08).

Three attacks that are often confused (SEED_OUTLINE Part D):

* **FGSM** (Goodfellow et al. 2015): one step on the *input* along the **sign** of the
  gradient, ``x + eps * sign(grad)`` -- the L-infinity-ball attack.
* **PGD** (Madry et al. 2018): K smaller steps, each followed by a **projection** back into
  the eps-ball around the clean input (and the valid pixel range); a random start.
* **FGM** (Miyato et al. 2017): one step on the **embeddings** of a text model along the
  **L2-normalised** gradient, ``e + eps * g / ||g||`` -- text has no continuous input to
  perturb, so the attack moves the word vectors.

Images are in [0, 1]; every attack returns a detached tensor and leaves the model's mode
and gradients as it found them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import check_float, check_int, check_type

__all__ = ["input_gradient", "fgsm", "project_linf", "pgd", "fgm_perturbation",
           "perturb_output", "embedding_attack", "accuracy", "robust_accuracy",
           "adversarial_loss"]

LossOnLogits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    """Eval mode and no parameter gradients inside; the previous state restored after."""
    was_training = model.training
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)
        model.train(was_training)


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                   loss_fn: LossOnLogits = F.cross_entropy) -> torch.Tensor:
    """d loss(model(x), y) / d x, with the model frozen (eval mode, no weight gradients)."""
    with _frozen(model), torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        loss = loss_fn(model(x), y)
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
         clip: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
    """Fast gradient sign method: ``clip(x + eps * sign(grad_x loss))``, one step."""
    check_float("eps", eps, min_value=0.0)
    grad = input_gradient(model, x, y)
    return (x + eps * grad.sign()).clamp(*clip).detach()


def project_linf(x_adv: torch.Tensor, x: torch.Tensor, eps: float,
                 clip: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
    """The nearest point to ``x_adv`` with ``|x_adv - x|_inf <= eps`` and pixels in ``clip``."""
    check_float("eps", eps, min_value=0.0)
    return torch.min(torch.max(x_adv, x - eps), x + eps).clamp(*clip)


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, alpha: float,
        steps: int, *, random_start: bool = True, clip: tuple[float, float] = (0.0, 1.0),
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient descent (ascent on the loss) in the L-inf ball of radius ``eps``.

    Start at x (or a uniform random point of the ball), then ``steps`` times:
    ``x_adv <- project(x_adv + alpha * sign(grad))``.
    """
    check_float("eps", eps, min_value=0.0)
    check_float("alpha", alpha, min_value=0.0)
    check_int("steps", steps, min_value=1)
    x = x.detach()
    x_adv = x.clone()
    if random_start and eps > 0:
        noise = torch.rand(x.shape, generator=generator).to(x) * 2 - 1
        x_adv = project_linf(x + eps * noise, x, eps, clip)
    for _ in range(steps):
        grad = input_gradient(model, x_adv, y)
        x_adv = project_linf(x_adv + alpha * grad.sign(), x, eps, clip)
    return x_adv.detach()


# --- FGM on embeddings ----------------------------------------------------------------------
def fgm_perturbation(grad: torch.Tensor, eps: float) -> torch.Tensor:
    """``eps * g / ||g||_2`` per example: the norm is over all but the batch dimension."""
    check_type("grad", grad, torch.Tensor)
    check_float("eps", eps, min_value=0.0)
    norm = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
    return eps * grad / norm.view(-1, *([1] * (grad.dim() - 1)))


@contextmanager
def perturb_output(module: nn.Module, delta: torch.Tensor | None = None
                   ) -> Iterator[dict[str, torch.Tensor]]:
    """Add ``delta`` to ``module``'s output inside the block; the output is kept in ``["out"]``.

    With ``module = bert.embeddings.word_embeddings`` this perturbs the word vectors of every
    token (the FGM/PGD-on-embeddings set-up) and exposes them for ``torch.autograd.grad``.
    """
    store: dict[str, torch.Tensor] = {}

    def hook(_mod: nn.Module, _inp: tuple, out: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and not out.requires_grad:  # frozen weights: still
            out = out.detach().requires_grad_(True)  # let autograd reach the word vectors
        if delta is not None:
            if delta.shape != out.shape:
                raise ValueError(f"delta must have the output's shape {tuple(out.shape)}, "
                                 f"got {tuple(delta.shape)}")
            out = out + delta
        store["out"] = out
        return out

    handle = module.register_forward_hook(hook)
    try:
        yield store
    finally:
        handle.remove()


def embedding_attack(loss_of: Callable[[], torch.Tensor], embedding: nn.Module, eps: float,
                     steps: int = 1, alpha: float | None = None) -> torch.Tensor:
    """An L2 perturbation of ``embedding``'s output that raises ``loss_of()``.

    ``steps=1``: FGM, ``eps * g / ||g||`` (per example). ``steps > 1``: PGD in the L2 ball,
    ``steps`` moves of ``alpha * g / ||g||`` (default ``2.5 * eps / steps``), each projected
    back to norm <= eps. ``loss_of()`` runs the model and returns the loss (a scalar); the
    caller sets the model's mode (eval for an attack; training mode inside adversarial
    training, as FGM does). Returns the detached perturbation (B, ...).
    """
    check_float("eps", eps, min_value=0.0)
    check_int("steps", steps, min_value=1)
    alpha = 2.5 * eps / steps if alpha is None else alpha
    delta = None
    for _ in range(steps):
        with perturb_output(embedding, delta) as store, torch.enable_grad():
            loss = loss_of()
            (grad,) = torch.autograd.grad(loss, store["out"])
        if steps == 1:
            return fgm_perturbation(grad, eps).detach()
        step = fgm_perturbation(grad, alpha)
        delta = step if delta is None else delta + step
        norm = delta.flatten(1).norm(dim=1).clamp_min(1e-12)
        delta = (delta * (eps / norm).clamp(max=1.0).view(-1, *([1] * (delta.dim() - 1)))
                 ).detach()
    return delta


# --- evaluation and training ------------------------------------------------------------------
@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Share of ``x`` classified as ``y`` (eval mode)."""
    was = model.training
    model.eval()
    correct = sum(int((model(x[i:i + batch_size]).argmax(-1) == y[i:i + batch_size]).sum())
                  for i in range(0, len(x), batch_size))
    model.train(was)
    return correct / len(x)


def robust_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                    attack: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
                    batch_size: int = 512) -> tuple[float, float]:
    """(accuracy on ``attack(model, x, y)``, the largest L-inf norm of the perturbation)."""
    correct, largest = 0, 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        adv = attack(model, xb, yb)
        largest = max(largest, float((adv - xb).abs().max()))
        correct += int(accuracy(model, adv, yb, batch_size) * len(xb) + 0.5)
    return correct / len(x), largest


def adversarial_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     attack: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
                     adv_weight: float = 0.5) -> tuple[torch.Tensor, dict[str, float]]:
    """``(1 - w) * CE(x) + w * CE(attack(x))`` (Goodfellow et al.'s mix; w = 1: Madry et al.).

    The attack runs with the model frozen; the loss then trains on the fixed adversarial
    batch. Returns the loss and the two parts as metrics.
    """
    check_float("adv_weight", adv_weight, min_value=0.0, max_value=1.0)
    x_adv = attack(model, x, y)
    clean = F.cross_entropy(model(x), y) if adv_weight < 1 else torch.zeros(())
    adv = F.cross_entropy(model(x_adv), y)
    loss = (1 - adv_weight) * clean + adv_weight * adv
    return loss, {"clean_loss": clean.item(), "adv_loss": adv.item()}
