"""Chapter 08, teach-then-import: the notebook's losses and attacks == course_utils'."""

import pytest
import torch

from course_utils import adversarial as adv
from course_utils import contrastive as cl
from course_utils._maintain.testing import solution_notebook
from course_utils.chapters import get_chapter
from course_utils.models.bert import Bert, BertClassifier, BertConfig

pytestmark = pytest.mark.usefixtures("one_thread")

NOTEBOOK = solution_notebook("08_contrastive_adversarial.ipynb")
NAMES = ["margin_loss", "nt_xent", "nt_xent_ce", "fgsm", "project", "pgd", "fgm_loss"]


def test_notebook_losses_equal_course_utils(nb):
    torch.manual_seed(0)
    z1, z2 = torch.randn(10, 6), torch.randn(10, 6)
    same = torch.randint(0, 2, (10,))
    assert torch.allclose(nb.margin_loss(z1, z2, same, 1.5),
                          cl.margin_contrastive_loss(z1, z2, same, 1.5))
    for t in (0.1, 0.5, 2.0):
        reference = cl.nt_xent(z1, z2, t)
        assert abs(nb.nt_xent(z1, z2, t) - reference).item() <= 1e-6
        assert abs(nb.nt_xent_ce(z1, z2, t) - reference).item() <= 1e-6


@pytest.fixture
def classifier():
    torch.manual_seed(0)
    return cl.ConvEncoder(1, 8, 2, num_classes=10).eval()


def test_notebook_attacks_match(nb, classifier):
    for p in classifier.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    x, y = torch.rand(12, 1, 8, 8, generator=gen), torch.randint(0, 10, (12,), generator=gen)
    assert torch.equal(nb.fgsm(classifier, x, y, 0.1), adv.fgsm(classifier, x, y, 0.1))
    far = x + torch.randn(x.shape, generator=gen)
    assert torch.equal(nb.project(far, x, 0.2), adv.project_linf(far, x, 0.2))
    ours = nb.pgd(classifier, x, y, 0.1, 0.025, 4, torch.Generator().manual_seed(5))
    ref = adv.pgd(classifier, x, y, 0.1, 0.025, 4, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(ours, ref)
    assert (ours - x).abs().max() <= 0.1 + 1e-6


def test_notebook_fgm_loss_is_clean_plus_perturbed_average(nb):
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        max_position_embeddings=16, hidden_dropout=0.0, attention_dropout=0.0)
    model = BertClassifier(Bert(config), 2, pooling="mean", dropout=0.0)
    ids, mask, y = torch.randint(1, 50, (3, 7)), torch.ones(3, 7, dtype=torch.long), torch.tensor([0, 1, 1])
    clean = model(ids, attention_mask=mask, labels=y)[1]
    assert nb.fgm_loss(model, ids, mask, y, 0.0).item() == pytest.approx(clean.item(), abs=1e-6)
    with adv.perturb_output(model.bert.embeddings.word_embeddings) as store:
        loss = model(ids, attention_mask=mask, labels=y)[1]
    (g,) = torch.autograd.grad(loss, store["out"])
    with adv.perturb_output(model.bert.embeddings.word_embeddings, adv.fgm_perturbation(g, 0.5)):
        attacked = model(ids, attention_mask=mask, labels=y)[1]
    assert attacked > clean
    assert nb.fgm_loss(model, ids, mask, y, 0.5).item() == pytest.approx(
        0.5 * (clean + attacked).item(), abs=1e-5)


def test_chapter_sizes_and_targets():
    spec = get_chapter("08")
    quick, full, smoke = spec.sizes_for("quick"), spec.sizes_for("full"), spec.sizes_for("smoke")
    assert quick.dataset == "digits" and full.dataset == "cifar10" and smoke.dataset == "cifar10"
    assert len(quick.adv_seeds) >= 3  # the adversarial-training claim is over >= 3 seeds
    for sizes in (quick, full, smoke):
        assert 0.0 in sizes.epsilons and sizes.adv_eps in sizes.epsilons
    names = {t.name for t in spec.all_targets("quick")}
    assert {"nt_xent_parity_max_abs_diff", "pgd_le_fgsm_all_eps", "perturbation_within_eps",
            "adv_training_robust_gain_pp", "simclr_minus_random_probe_low", "runtime_s"} <= names
    assert {t.name for t in spec.all_targets("smoke")} == {"cifar10_from_hub"}
