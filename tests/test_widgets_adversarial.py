"""Chapter 08: the adversarial-example explorer and its plot function, driven headless."""

import numpy as np
import pytest
import torch

from course_utils.contrastive import ConvEncoder
from course_utils.plotting.adversarial import attack_one, plot_adversarial
from course_utils.widgets import AdversarialExplorer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def setup():
    torch.manual_seed(0)
    model = ConvEncoder(1, 8, 2, num_classes=10).eval()
    gen = torch.Generator().manual_seed(0)
    return model, torch.rand(5, 1, 8, 8, generator=gen), torch.randint(0, 10, (5,), generator=gen)


def test_attack_one_stays_in_budget(setup):
    model, images, labels = setup
    for attack in ("FGSM", "PGD"):
        adv_image = attack_one(model, images[2], int(labels[2]), 0.2, attack, pgd_steps=3)
        assert adv_image.shape == images[2].shape
        assert (adv_image - images[2]).abs().max() <= 0.2 + 1e-6
    with pytest.raises(ValueError):
        attack_one(model, images[0], 0, 0.1, "FGM")


def test_plot_shows_clean_perturbation_and_attacked(setup):
    model, images, labels = setup
    fig = plot_adversarial(model, images, labels, index=1, eps=0.3, attack="PGD", pgd_steps=3)
    shown = [np.asarray(im.get_array()) for ax in fig.axes for im in ax.get_images()]
    assert len(shown) == 3 and np.allclose(shown[0], images[1, 0].numpy())
    assert np.abs(shown[1]).max() <= 0.3 + 1e-6
    with pytest.raises(ValueError):
        plot_adversarial(model, images, labels, index=5)


def test_explorer_redraws_when_eps_changes(setup):
    model, images, labels = setup
    w = AdversarialExplorer(model, images, labels, eps=0.05, max_eps=0.3, pgd_steps=2)
    assert "course-adversarial-explorer" in w._dom_classes and w.error is None
    before = w.draw_count
    w.controls["eps"].value = 0.2
    w.controls["attack"].value = "PGD"
    w.controls["index"].value = 3
    assert w.draw_count == before + 3 and w.error is None
    first = [np.asarray(im.get_array()) for ax in w.figure.axes for im in ax.get_images()][0]
    assert np.allclose(first, images[3, 0].numpy())
