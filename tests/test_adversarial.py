"""course_utils.adversarial: attacks against their definitions, budgets, FGM hooks."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import adversarial as adv

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(1)
    return torch.rand(20, 1, 4, 4, generator=gen), torch.randint(0, 4, (20,), generator=gen)


def test_fgsm_is_the_signed_gradient_step_and_within_budget(model, batch):
    x, y = batch
    xr = x.clone().requires_grad_(True)
    F.cross_entropy(model(xr), y).backward()
    expected = (x + 0.1 * xr.grad.sign()).clamp(0, 1)
    model.zero_grad(set_to_none=True)
    got = adv.fgsm(model, x, y, 0.1)
    assert torch.allclose(got, expected)
    assert (got - x).abs().max() <= 0.1 + 1e-7 and got.min() >= 0 and got.max() <= 1
    assert all(p.grad is None for p in model.parameters())  # weights untouched
    assert model.training  # mode restored


def test_fgsm_raises_the_loss(model, batch):
    x, y = batch
    before = F.cross_entropy(model(x), y)
    assert F.cross_entropy(model(adv.fgsm(model, x, y, 0.05)), y) > before


def test_project_linf():
    x = torch.full((1, 1, 2, 2), 0.5)
    far = torch.tensor([[[[0.9, 0.1], [0.55, 2.0]]]])
    out = adv.project_linf(far, x, 0.2)
    assert torch.allclose(out, torch.tensor([[[[0.7, 0.3], [0.55, 0.7]]]]))
    near_edge = torch.zeros(1, 1, 1, 1)
    assert adv.project_linf(near_edge - 0.5, near_edge, 0.3).item() == 0.0  # pixel range wins


def test_pgd_one_step_without_start_equals_fgsm_and_more_steps_are_stronger(model, batch):
    x, y = batch
    one = adv.pgd(model, x, y, 0.1, 0.1, 1, random_start=False)
    assert torch.allclose(one, adv.fgsm(model, x, y, 0.1))
    many = adv.pgd(model, x, y, 0.1, 0.025, 20, generator=torch.Generator().manual_seed(0))
    assert (many - x).abs().max() <= 0.1 + 1e-6
    assert F.cross_entropy(model(many), y) >= F.cross_entropy(model(one), y) - 1e-4


def test_fgm_perturbation_has_norm_eps_per_example():
    g = torch.randn(3, 5, 4) * torch.tensor([0.01, 1.0, 100.0]).view(3, 1, 1)
    r = adv.fgm_perturbation(g, 0.7)
    assert torch.allclose(r.flatten(1).norm(dim=1), torch.full((3,), 0.7))
    assert torch.allclose(F.normalize(r.flatten(1), dim=1), F.normalize(g.flatten(1), dim=1))
    assert torch.equal(adv.fgm_perturbation(torch.zeros(2, 3), 1.0), torch.zeros(2, 3))


class TinyText(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(20, 6)
        self.out = nn.Linear(6, 2)

    def forward(self, ids):
        return self.out(self.emb(ids).mean(1))


def test_perturb_output_adds_delta_and_embedding_attack_respects_the_l2_ball():
    m = TinyText()
    ids, y = torch.randint(0, 20, (4, 5)), torch.tensor([0, 1, 0, 1])
    delta = torch.randn(4, 5, 6)
    with adv.perturb_output(m.emb, delta):
        shifted = m(ids)
    expected = m.out(m.emb(ids).add(delta).mean(1))
    assert torch.allclose(shifted, expected)
    loss_of = lambda: F.cross_entropy(m(ids), y)
    fgm = adv.embedding_attack(loss_of, m.emb, 0.5)
    assert torch.allclose(fgm.flatten(1).norm(dim=1), torch.full((4,), 0.5), atol=1e-5)
    pgd = adv.embedding_attack(loss_of, m.emb, 0.5, steps=5)
    assert (pgd.flatten(1).norm(dim=1) <= 0.5 + 1e-5).all()
    with adv.perturb_output(m.emb, pgd), torch.no_grad():
        attacked = F.cross_entropy(m(ids), y)
    assert attacked > loss_of()
    # frozen weights (an attack on a trained model) still give a gradient on the vectors
    for p in m.parameters():
        p.requires_grad_(False)
    assert adv.embedding_attack(loss_of, m.emb, 0.5).abs().sum() > 0


def test_robust_accuracy_and_adversarial_loss(model, batch):
    x, y = batch
    clean = adv.accuracy(model, x, y)
    robust, largest = adv.robust_accuracy(model, x, y, lambda m, a, b: adv.fgsm(m, a, b, 0.3))
    assert robust <= clean and largest <= 0.3 + 1e-6
    loss, parts = adv.adversarial_loss(model, x, y, lambda m, a, b: adv.fgsm(m, a, b, 0.1))
    assert loss.item() == pytest.approx(0.5 * parts["clean_loss"] + 0.5 * parts["adv_loss"], rel=1e-5)
    loss.backward()
    assert model[1].weight.grad is not None
