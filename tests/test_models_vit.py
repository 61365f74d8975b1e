"""Chapter 04: ViT config, patch embedding, helpers, the model, and parity with Hugging Face."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.models.positional import sinusoidal_table
from course_utils.models.vit import (PRESETS, PatchEmbedding, ViT, ViTConfig, from_hf_vit,
                                     num_patch_tokens, patchify, sincos_2d_table, unpatchify,
                                     window_partition)
from course_utils.models import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")


def small_config(**kw):
    base = dict(image_size=8, patch_size=2, in_channels=1, d_model=32, n_layers=2, n_heads=4,
                n_classes=10)
    return ViTConfig(**{**base, **kw})


# --- config ---------------------------------------------------------------------------
def test_config_derived_sizes_and_presets():
    c = small_config()
    assert (c.d_ff, c.grid_size, c.num_patches, c.num_tokens) == (128, 4, 16, 17)
    base = PRESETS["vit-base-patch16-224"]
    assert (base.num_tokens, base.d_model, base.n_layers, base.d_ff) == (197, 768, 12, 3072)
    c10 = ViTConfig.from_preset("vit-cifar", n_classes=100)
    assert c10.n_classes == 100 and PRESETS["vit-cifar"].n_classes == 10  # a copy
    assert c.block_config().norm_first and c.block_config().layer_norm_eps == 1e-12


@pytest.mark.parametrize("kwargs, message", [
    (dict(image_size=10, patch_size=4), "image_size must be divisible by patch_size"),
    (dict(d_model=30, n_heads=4), "d_model must be divisible by n_heads"),
    (dict(pool="max"), "pool must be one of"),
    (dict(position="rope"), "position must be one of"),
    (dict(position="sincos2d", d_model=6, n_heads=2), "divisible by 4"),
    (dict(dropout=1.5), "dropout must be <= 1.0"),
    (dict(n_classes=-1), "n_classes must be >= 0"),
])
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small_config(**kwargs)


def test_unknown_preset():
    with pytest.raises(ValueError, match="preset must be one of"):
        ViTConfig.from_preset("vit-huge")


# --- helpers --------------------------------------------------------------------------
def test_num_patch_tokens():
    assert num_patch_tokens(224, 224, 16) == 197
    assert num_patch_tokens(32, 32, 4) == 65
    assert num_patch_tokens(64, 32, 8, cls_token=False) == 32
    with pytest.raises(ValueError, match="divisible by patch_size"):
        num_patch_tokens(30, 32, 4)
    with pytest.raises(TypeError, match="height must be int"):
        num_patch_tokens(32.0, 32, 4)


def test_patchify_matches_conv_and_unpatchify_inverts():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 12)
    conv = nn.Conv2d(3, 5, kernel_size=4, stride=4)
    patches = patchify(x, 4)
    assert patches.shape == (2, 6, 48)
    as_linear = patches @ conv.weight.flatten(1).T + conv.bias
    assert torch.allclose(as_linear, conv(x).flatten(2).transpose(1, 2), atol=1e-5)
    assert torch.equal(unpatchify(patches, 4, 3, height=8), x)
    square = torch.randn(1, 1, 8, 8)
    assert torch.equal(unpatchify(patchify(square, 2), 2, 1), square)
    # the first patch is the top-left P x P block
    assert torch.equal(patches[0, 0].reshape(3, 4, 4), x[0, :, :4, :4])


def test_patchify_errors():
    with pytest.raises(ValueError, match="divisible by patch_size=3"):
        patchify(torch.zeros(1, 1, 8, 8), 3)
    with pytest.raises(ValueError, match="4-dimensional"):
        patchify(torch.zeros(8, 8), 2)
    with pytest.raises(ValueError, match="C·P·P = 4"):
        unpatchify(torch.zeros(1, 4, 5), 2, 1)
    with pytest.raises(ValueError, match="square grid"):
        unpatchify(torch.zeros(1, 6, 4), 2, 1)


def test_sincos_2d_table_layout():
    table = sincos_2d_table(3, 4, 16)
    assert table.shape == (12, 16)
    rows, cols = sinusoidal_table(3, 8), sinusoidal_table(4, 8)
    assert torch.equal(table[1 * 4 + 2, :8], rows[1]) and torch.equal(table[1 * 4 + 2, 8:], cols[2])
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_2d_table(2, 2, 6)


def test_window_partition():
    x = torch.arange(2 * 4 * 6 * 3, dtype=torch.float32).reshape(2, 4, 6, 3)
    w = window_partition(x, 2)
    assert w.shape == (2 * 2 * 3, 2, 2, 3)
    assert torch.equal(w[1], x[0, 0:2, 2:4])  # second window of the first image
    assert torch.equal(w[3], x[0, 2:4, 0:2])  # first window of its second row
    assert torch.equal(w[6], x[1, 0:2, 0:2])
    with pytest.raises(ValueError, match="divisible by window=4"):
        window_partition(x, 4)


# --- modules --------------------------------------------------------------------------
def test_patch_embedding_shape_and_errors():
    pe = PatchEmbedding(8, 2, 1, 16)
    assert pe(torch.zeros(3, 1, 8, 8)).shape == (3, 16, 16)
    with pytest.raises(ValueError, match=r"shape \(B, 1, 8, 8\)"):
        pe(torch.zeros(3, 3, 8, 8))
    with pytest.raises(ValueError, match="divisible"):
        PatchEmbedding(9, 2, 1, 16)


def test_vit_shapes_and_attention_maps():
    torch.manual_seed(0)
    model = ViT(small_config()).eval()
    x = torch.randn(3, 1, 8, 8)
    assert model(x).shape == (3, 10)
    hidden, weights = model.encode(x)
    assert hidden.shape == (3, 17, 32) and weights == []
    maps = model.attention_maps(x)
    assert maps.shape == (3, 2, 4, 17, 17)
    assert torch.allclose(maps.sum(-1), torch.ones(()), atol=1e-5)
    # the fused path (no weights) and the explicit softmax path agree
    assert torch.allclose(model.encode(x, need_weights=True)[0], hidden, atol=1e-5)
    assert model.features(x).shape == (3, 32)
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


def test_vit_initial_predictions_are_uniform_and_training_reduces_loss():
    torch.manual_seed(0)
    model = ViT(small_config())
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    assert torch.equal(model(x), torch.zeros(16, 10))  # zero-initialised head
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = F.cross_entropy(model(x), y).item()
    for _ in range(60):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert F.cross_entropy(model(x), y).item() < 0.5 * first


def test_vit_variants_pool_features_and_fixed_positions():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 8, 8)
    mean_pool = ViT(small_config(pool="mean")).eval()
    hidden, _ = mean_pool.encode(x)
    assert torch.allclose(mean_pool.features(x), hidden[:, 1:].mean(1))
    features_only = ViT(small_config(n_classes=0)).eval()
    assert features_only(x).shape == (2, 32)
    fixed = ViT(small_config(position="sincos2d"))
    assert "position_embeddings" not in dict(fixed.named_parameters())
    assert torch.equal(fixed.position_embeddings[0, 1:], sincos_2d_table(4, 4, 32))
    assert torch.equal(fixed.position_embeddings[0, 0], torch.zeros(32))
    with pytest.raises(TypeError, match="config must be ViTConfig"):
        ViT({"image_size": 8})


def test_permuting_patches_without_positions_leaves_cls_output_unchanged():
    torch.manual_seed(0)
    model = ViT(small_config()).eval()
    with torch.no_grad():
        model.position_embeddings.zero_()
        x = torch.randn(2, 1, 8, 8)
        patches = patchify(x, 2)
        shuffled = unpatchify(patches[:, torch.randperm(16)], 2, 1)
        assert torch.allclose(model.features(x), model.features(shuffled), atol=1e-5)


# --- parity with Hugging Face ---------------------------------------------------------
def _hf_model(cls_name="ViTForImageClassification", **kw):
    import transformers

    cfg = transformers.ViTConfig(**{**dict(image_size=8, patch_size=2, num_channels=1,
                                           hidden_size=32, num_hidden_layers=2,
                                           num_attention_heads=4, intermediate_size=64,
                                           num_labels=10, initializer_range=0.2,
                                           attn_implementation="eager"), **kw})
    torch.manual_seed(0)
    return getattr(transformers, cls_name)(cfg).eval()


@pytest.mark.parametrize("kw", [{}, dict(image_size=32, patch_size=4, num_channels=3,
                                         hidden_size=48, num_attention_heads=3)])
def test_parity_with_hf_image_classification(kw):
    hf = _hf_model(**kw)
    ours = from_hf_vit(hf)
    x = torch.randn(3, hf.config.num_channels, hf.config.image_size, hf.config.image_size)
    with torch.no_grad():
        out = hf(pixel_values=x, output_attentions=True)
        assert out.logits.abs().max() > 0.5  # a meaningful comparison, not all ~0
        assert (out.logits - ours(x)).abs().max().item() <= 1e-4
        maps = ours.attention_maps(x)
        for i, a in enumerate(out.attentions):
            assert (maps[:, i] - a).abs().max().item() <= 1e-5


def test_parity_with_hf_vit_model_features():
    import transformers

    cfg = _hf_model().config
    torch.manual_seed(1)
    hf = transformers.ViTModel(cfg, add_pooling_layer=False).eval()
    ours = from_hf_vit(hf)
    assert ours.config.n_classes == 0
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        last = hf(pixel_values=x).last_hidden_state
        assert (last - ours.encode(x)[0]).abs().max().item() <= 1e-4
        assert (last[:, 0] - ours(x)).abs().max().item() <= 1e-4


def test_from_hf_vit_rejects_other_models():
    with pytest.raises(TypeError, match="ViTModel or ViTForImageClassification"):
        from_hf_vit(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="hidden_act='gelu'"):
        from_hf_vit(_hf_model(hidden_act="relu"))
