"""Chapter 04: the ViT attention explorer, driven headless."""

import numpy as np
import pytest
import torch

from course_utils.models.analysis import attention_rollout
from course_utils.plotting.vit import plot_vit_attention, vit_patch_tokens
from course_utils.widgets import ViTAttentionExplorer


@pytest.fixture
def maps():
    torch.manual_seed(0)
    return torch.softmax(3 * torch.randn(4, 2, 3, 17, 17), -1), torch.rand(4, 1, 8, 8)


def _heat(fig):
    """The two images of the heat-map panel and the overlay panel, as arrays."""
    return [np.asarray(im.get_array()) for ax in fig.axes for im in ax.get_images()]


def test_tokens():
    assert vit_patch_tokens((2, 2)) == ["[CLS]", "0,0", "0,1", "1,0", "1,1"]
    assert vit_patch_tokens((1, 2), n_prefix=0) == ["0,0", "0,1"]


def test_plot_function_shows_the_chosen_layer_and_the_rollout(maps):
    weights, images = maps
    fig = plot_vit_attention(weights, images, patch_grid=(4, 4), image=1, layer=1, head=2, query=0)
    matrix = _heat(fig)[0]
    assert np.allclose(matrix, weights[1, 1, 2].numpy(), atol=1e-6)
    fig = plot_vit_attention(weights, images, patch_grid=(4, 4), image=1, layer="rollout", query=0)
    assert np.allclose(_heat(fig)[0], attention_rollout(weights[1]).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="image must be in 0..3"):
        plot_vit_attention(weights, images, patch_grid=(4, 4), image=4)
    with pytest.raises(ValueError, match="n_images, layers, heads"):
        plot_vit_attention(weights[0], images, patch_grid=(4, 4))


def test_explorer_redraws_when_controls_change(maps):
    weights, images = maps
    w = ViTAttentionExplorer(weights, images, patch_grid=(4, 4),
                             captions=[f"digit {i}" for i in range(4)])
    assert {"course-vit-attention-explorer", "course-attention-explorer"} <= set(w._dom_classes)
    assert w.error is None and w.controls["layer"].value == 1  # starts at the last layer
    before, count = _heat(w.figure)[0].copy(), w.draw_count
    w.controls["layer"].value = 0
    assert w.draw_count == count + 1 and w.error is None
    assert not np.allclose(_heat(w.figure)[0], before)
    w.controls["layer"].value = "rollout"
    assert "rollout" in w.figure.axes[0].get_title()
    overlay = _heat(w.figure)[-1].copy()
    w.controls["query"].value = 5
    assert not np.allclose(_heat(w.figure)[-1], overlay)
    w.controls["image"].value = 3
    assert "digit 3" in w.figure.axes[0].get_title() and w.error is None
    w.controls["head"].value = 2
    w.controls["layer"].value = 1
    assert np.allclose(_heat(w.figure)[0], weights[3, 1, 2].numpy(), atol=1e-6)


def test_explorer_input_errors(maps):
    weights, images = maps
    with pytest.raises(ValueError, match="n_images, layers, heads, T, T"):
        ViTAttentionExplorer(weights[0], images, patch_grid=(4, 4))
    with pytest.raises(ValueError, match="got 3 images for 4"):
        ViTAttentionExplorer(weights, images[:3], patch_grid=(4, 4))
    with pytest.raises(ValueError, match="has 25 patches but there are 17 keys"):
        ViTAttentionExplorer(weights, images, patch_grid=(5, 5))
    with pytest.raises(ValueError, match="got 2 captions"):
        ViTAttentionExplorer(weights, images, patch_grid=(4, 4), captions=["a", "b"])


@pytest.mark.parametrize("grid", [(3, 3), (2, 8), (5, 5)])
def test_a_patch_grid_that_does_not_match_the_keys_is_refused(maps, grid):
    weights, images = maps  # 17 keys: [CLS] + a 4x4 grid of 2x2 patches on 8x8 images
    with pytest.raises(ValueError, match="patch_grid|patches"):
        plot_vit_attention(weights, images, patch_grid=grid)
    with pytest.raises(ValueError, match="patch_grid|patches"):
        ViTAttentionExplorer(weights, images, patch_grid=grid)


def test_grid_must_tile_the_image_and_n_prefix_is_explicit(maps):
    from course_utils.plotting.attention import plot_attention

    weights, images = maps
    tokens = vit_patch_tokens((4, 4))
    with pytest.raises(ValueError, match="equal square patches"):
        plot_attention(weights[0], tokens, image=np.zeros((8, 12)), patch_grid=(4, 4))
    with pytest.raises(ValueError, match="with n_prefix=2 needs 18 keys, there are 17"):
        plot_attention(weights[0], tokens, image=images[0], patch_grid=(4, 4), n_prefix=2)
    fig = plot_attention(weights[0, :, :, 1:, 1:], tokens[1:], image=images[0],
                         patch_grid=(4, 4))  # no [CLS]: every key is a patch
    assert np.allclose(_heat(fig)[-1], weights[0, :, :, 1:, 1:].mean(1)[0, 0].reshape(4, 4))


def test_one_colour_convention_for_digits(maps):
    """Grey images: dark ink on white alone; attention over them is an opaque inferno heat map."""
    from course_utils.plotting.vit import HEAT_CMAP, IMAGE_CMAP, show_image
    weights, images = maps
    fig = plot_vit_attention(weights, images, patch_grid=(4, 4), image=0, layer=0)
    overlay = fig.axes[1].get_images()
    assert [im.get_cmap().name for im in overlay] == [HEAT_CMAP]
    fig, ax = __import__("matplotlib.pyplot", fromlist=["subplots"]).subplots()
    show_image(ax, images[0])
    assert ax.get_images()[0].get_cmap().name == IMAGE_CMAP == "gray_r"


def test_rollout_residual_slider(maps):
    weights, images = maps
    w = ViTAttentionExplorer(weights, images, patch_grid=(4, 4), layer="rollout")
    assert w.controls["residual"].value == 0.5
    w.controls["residual"].value = 0.0
    assert np.allclose(_heat(w.figure)[0], attention_rollout(weights[0], residual=0.0).numpy(),
                       atol=1e-6)
    assert "residual 0.00" in w.figure.axes[0].get_title()
    w.controls["residual"].value = 0.9
    assert np.allclose(_heat(w.figure)[0], attention_rollout(weights[0], residual=0.9).numpy(),
                       atol=1e-6)


def test_occluding_a_patch_shows_the_prediction_change(maps):
    weights, images = maps
    probs = torch.softmax(torch.randn(4, 17, 10, generator=torch.Generator().manual_seed(1)), -1)
    probs[2, 0] = torch.nn.functional.one_hot(torch.tensor(3), 10).float()   # intact: a 3
    probs[2, 1 + 5] = torch.nn.functional.one_hot(torch.tensor(8), 10).float()  # patch 5 hidden: an 8
    w = ViTAttentionExplorer(weights, images, patch_grid=(4, 4), occlusion=probs,
                             class_names=[str(i) for i in range(10)], image=2)
    assert w.controls["occlude"].value == -1 and w.error is None
    bars = w.figure.axes[-1]
    assert len(bars.patches) == 10 and "pick a patch" in bars.get_title()
    w.controls["occlude"].value = 5
    bars = w.figure.axes[-1]
    assert w.error is None and len(bars.patches) == 20
    assert "3 → 8" in bars.get_title() and "100% → 0%" in bars.get_title()
    assert any(p.get_hatch() == "//" for p in w.figure.axes[1].patches)  # the hidden patch is marked
    with pytest.raises(ValueError, match="occlusion must be"):
        ViTAttentionExplorer(weights, images, patch_grid=(4, 4), occlusion=probs[:, :5])
    with pytest.raises(ValueError, match="occlude must be"):
        plot_vit_attention(weights, images, patch_grid=(4, 4), occlusion=probs, occlude=16)
