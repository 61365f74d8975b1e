"""course_utils.contrastive: the losses against plain references, augmentations, probe."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import contrastive as cl

pytestmark = pytest.mark.usefixtures("one_thread")


def brute_force_nt_xent(z1, z2, t):
    """The SimCLR paper's definition, one view at a time with Python loops."""
    z = torch.cat([z1, z2]).double()
    n2 = len(z)
    total = 0.0
    for i in range(n2):
        p = (i + n2 // 2) % n2
        sims = [F.cosine_similarity(z[i], z[k], dim=0) / t for k in range(n2)]
        denominator = sum(math.exp(s) for k, s in enumerate(sims) if k != i)
        total += -math.log(math.exp(sims[p]) / denominator)
    return total / n2


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0])
def test_nt_xent_equals_cross_entropy_reference_and_brute_force(t):
    torch.manual_seed(0)
    z1, z2 = torch.randn(12, 8), torch.randn(12, 8)
    ours = cl.nt_xent(z1, z2, t)
    assert abs(ours - cl.nt_xent_reference(z1, z2, t)).item() <= 1e-6
    assert ours.item() == pytest.approx(brute_force_nt_xent(z1, z2, t), abs=1e-5)


def test_nt_xent_symmetric_lower_for_matched_views_and_scale_invariant():
    torch.manual_seed(1)
    z1 = torch.randn(32, 16)
    z2 = z1 + 0.05 * torch.randn_like(z1)
    assert cl.nt_xent(z1, z2).item() == pytest.approx(cl.nt_xent(z2, z1).item(), abs=1e-6)
    assert cl.nt_xent(z1, z2) < cl.nt_xent(z1, z2[torch.randperm(32)])
    assert cl.nt_xent(3 * z1, z2).item() == pytest.approx(cl.nt_xent(z1, z2).item(), abs=1e-5)
    # identical random directions: every candidate alike -> close to chance log(2N - 1)
    same = torch.ones(4, 3)
    assert cl.nt_xent(same, same).item() == pytest.approx(math.log(7), abs=1e-5)


def test_nt_xent_gradient_flows_and_validates():
    z1, z2 = torch.randn(4, 5, requires_grad=True), torch.randn(4, 5)
    cl.nt_xent(z1, z2).backward()
    assert z1.grad is not None and torch.isfinite(z1.grad).all()
    with pytest.raises(ValueError, match="at least 2"):
        cl.nt_xent(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match="shape"):
        cl.nt_xent(torch.randn(4, 3), torch.randn(5, 3))


def test_info_nce_and_clip_loss_match_cross_entropy():
    torch.manual_seed(2)
    a, b = torch.randn(6, 4), torch.randn(6, 4)
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / 0.07
    assert cl.info_nce(a, b).item() == pytest.approx(F.cross_entropy(logits, torch.arange(6)).item(),
                                                     abs=1e-5)
    expected = 0.5 * (F.cross_entropy(logits, torch.arange(6))
                      + F.cross_entropy(logits.T, torch.arange(6)))
    assert cl.clip_loss(a, b).item() == pytest.approx(expected.item(), abs=1e-5)
    assert cl.clip_loss(a, b).item() == pytest.approx(cl.clip_loss(b, a).item(), abs=1e-6)


def test_margin_loss_values():
    z1 = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    z2 = torch.tensor([[3.0, 4.0], [0.3, 0.4], [3.0, 4.0]])  # distances 5, 0.5, 5
    same = torch.tensor([1, 0, 0])
    # 25 (similar at distance 5) + (1 - 0.5)^2 + 0 (dissimilar beyond the margin)
    expected = (25 + 0.25 + 0) / 3
    assert cl.margin_contrastive_loss(z1, z2, same, 1.0).item() == pytest.approx(expected)
    with pytest.raises(ValueError, match="same"):
        cl.margin_contrastive_loss(z1, z2, torch.tensor([1, 0]), 1.0)


def test_make_pairs_half_similar():
    labels = torch.arange(10).repeat(5)
    first, second, same = cl.make_pairs(labels, 40, seed=3)
    assert torch.equal(same, (labels[first] == labels[second]).long())
    assert same.sum().item() == 20  # every even position is a similar pair


def test_view_augment_shapes_range_and_randomness():
    x = torch.rand(5, 3, 8, 8)
    aug = cl.ViewAugment(hflip=True, grey_p=0.5)
    v1 = aug(x, torch.Generator().manual_seed(0))
    v2 = aug(x, torch.Generator().manual_seed(1))
    again = aug(x, torch.Generator().manual_seed(0))
    assert v1.shape == x.shape and v1.min() >= 0 and v1.max() <= 1
    assert not torch.equal(v1, v2) and torch.equal(v1, again)


def test_conv_encoder_features_and_head():
    enc = cl.ConvEncoder(1, 16, 2, num_classes=10)
    x = torch.rand(3, 1, 8, 8)
    assert enc.features(x).shape == (3, enc.feature_dim) == (3, 32)
    assert enc(x).shape == (3, 10)
    assert torch.equal(enc.eval()(x), enc.train()(x))  # GroupNorm: no batch statistics
    assert cl.embed(enc, x).shape == (3, 32)


def test_linear_probe_separable_features_and_stratified_indices():
    gen = torch.Generator().manual_seed(0)
    centers = 5 * torch.randn(3, 4, generator=gen)
    def draw(n):
        y = torch.arange(3).repeat(n)
        return centers[y] + 0.1 * torch.randn(len(y), 4, generator=gen), y
    (xt, yt), (xv, yv), (xe, ye) = draw(10), draw(5), draw(5)
    result = cl.linear_probe(xt, yt, xv, yv, xe, ye)
    assert result.accuracy == 1.0 and result.C in (0.01, 0.1, 1.0, 10.0)
    labels = torch.arange(10).repeat(20)
    keep = cl.stratified_indices(labels, 0.1, seed=0)
    assert len(keep) == 20 and torch.bincount(labels[keep]).tolist() == [2] * 10
    assert len(cl.stratified_indices(labels, 0.001)) == 10  # at least one per class
