"""Chapter 04: attention entropy, mean attention distance and attention rollout."""

import math

import pytest
import torch

from course_utils.models.analysis import (attention_entropy, attention_rollout,
                                          mean_attention_distance, patch_coordinates)


def softmax_maps(*shape, seed=0):
    return torch.softmax(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), -1)


def test_entropy_extremes():
    uniform = torch.full((2, 5, 5), 0.2)
    assert torch.allclose(attention_entropy(uniform), torch.full((2, 5), math.log(5)))
    one_hot = torch.eye(4)
    assert torch.allclose(attention_entropy(one_hot), torch.zeros(4), atol=1e-6)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        attention_entropy(torch.ones(3))


def test_patch_coordinates():
    c = patch_coordinates(2, 3, patch_size=4)
    assert c.shape == (6, 2)
    assert c[0].tolist() == [2.0, 2.0] and c[5].tolist() == [6.0, 10.0]


def test_mean_attention_distance():
    n = 9  # 3x3 patches + [CLS]
    identity = torch.eye(n + 1)
    assert mean_attention_distance(identity, 3).item() == pytest.approx(0.0)
    uniform = torch.full((n + 1, n + 1), 1 / (n + 1))
    pos = patch_coordinates(3, 3)
    expected = torch.cdist(pos, pos).mean().item()
    assert mean_attention_distance(uniform, 3).item() == pytest.approx(expected, rel=1e-5)
    assert mean_attention_distance(uniform, 3, patch_size=4).item() == pytest.approx(4 * expected, rel=1e-5)
    # each patch looks only at its right neighbour (1 patch away); the last column at itself
    right = torch.zeros(n, n)
    for i in range(n):
        right[i, i + 1 if i % 3 < 2 else i] = 1.0
    d = mean_attention_distance(right, (3, 3), n_prefix=0).item()
    assert d == pytest.approx(6 / 9)
    batched = softmax_maps(2, 3, 4, n + 1, n + 1)
    assert mean_attention_distance(batched, 3).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="T = 1 \\+ 4x4 patches = 17"):
        mean_attention_distance(uniform, 4)


def test_rollout_special_cases():
    maps = softmax_maps(3, 2, 5, 5, seed=1)
    assert torch.allclose(attention_rollout(maps, residual=1.0), torch.eye(5))
    fused = maps.mean(1)
    assert torch.allclose(attention_rollout(maps, residual=0.0), fused[2] @ fused[1] @ fused[0], atol=1e-6)
    one_layer = attention_rollout(maps[:1])
    assert torch.allclose(one_layer, 0.5 * torch.eye(5) + 0.5 * fused[0], atol=1e-6)
    rollout = attention_rollout(maps)
    assert torch.allclose(rollout.sum(-1), torch.ones(5), atol=1e-5)  # still a mixing matrix
    batched = softmax_maps(4, 3, 2, 5, 5, seed=2)
    out = attention_rollout(batched)
    assert out.shape == (4, 5, 5)
    assert torch.allclose(out[2], attention_rollout(batched[2]))


def test_rollout_head_fusion_and_errors():
    maps = softmax_maps(2, 3, 4, 4, seed=3)
    assert not torch.allclose(attention_rollout(maps, head_fusion="max"), attention_rollout(maps))
    assert attention_rollout(maps, head_fusion="min").shape == (4, 4)
    with pytest.raises(ValueError, match="head_fusion must be one of"):
        attention_rollout(maps, head_fusion="median")
    with pytest.raises(ValueError, match="residual must be <= 1.0"):
        attention_rollout(maps, residual=2.0)
    with pytest.raises(ValueError, match="at least 4 dimensions"):
        attention_rollout(maps[0])
    with pytest.raises(ValueError, match="square self-attention"):
        attention_rollout(torch.ones(2, 3, 4, 5) / 5)
