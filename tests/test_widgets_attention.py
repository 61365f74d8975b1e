"""Chapter 01: the attention explorer, driven headless (the checkers: test_exercises_ch01.py)."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_utils.plotting.attention import attention_stack, plot_attention
from course_utils.widgets import AttentionExplorer


def _weights(layers=2, heads=3, t_q=4, t_k=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(layers, heads, t_q, t_k, generator=g), dim=-1)


def _image_data(fig: Figure) -> np.ndarray:
    return np.asarray(fig.axes[0].images[0].get_array())


def test_attention_stack_accepts_all_course_layouts():
    w = _weights()
    assert attention_stack(w).shape == (2, 3, 4, 6)
    assert attention_stack(w[0]).shape == (1, 3, 4, 6)  # (heads, T_q, T_k)
    assert attention_stack(w[0, 0]).shape == (1, 1, 4, 6)  # (T_q, T_k)
    hf_style = tuple(layer[None] for layer in w)  # per layer (1, heads, T_q, T_k)
    assert np.allclose(attention_stack(hf_style), w.numpy())
    with pytest.raises(ValueError, match="layer 0 must have shape"):
        attention_stack([torch.zeros(2, 3, 4, 6)])
    with pytest.raises(ValueError, match="all layers must have the same"):
        attention_stack([torch.zeros(3, 4, 6), torch.zeros(3, 4, 5)])
    with pytest.raises(ValueError, match="finite and >= 0"):
        attention_stack(torch.full((2, 2), -1.0))
    with pytest.raises(ValueError, match="weights is an empty list"):
        attention_stack([])


def test_plot_attention_validates_selection():
    w, q, k = _weights(), list("abcd"), list("uvwxyz")
    fig = plot_attention(w, q, k, layer=1, head=2, query=3)
    assert np.allclose(_image_data(fig), w[1, 2].numpy())
    fig = plot_attention(w, q, k, head="mean")
    assert np.allclose(_image_data(fig), w[0].mean(0).numpy())
    with pytest.raises(ValueError, match="got 3 query and 6 key tokens for weights with T_q=4"):
        plot_attention(w, q[:3], k)
    with pytest.raises(ValueError, match=r"layer must be in 0..1, got 2"):
        plot_attention(w, q, k, layer=2)
    with pytest.raises(ValueError, match=r"head must be 'mean' or in 0..2, got 5"):
        plot_attention(w, q, k, head=5)
    with pytest.raises(ValueError, match="needs patch_grid"):
        plot_attention(w, q, k, image=np.zeros((8, 8)))


def test_explorer_redraws_when_controls_change():
    w = _weights()
    explorer = AttentionExplorer(w, ["<bos>", "2", "0", "2"], list("23 Nov"), query=1)
    assert "course-attention-explorer" in explorer._dom_classes
    assert explorer.error is None and explorer.draw_count == 1
    assert set(explorer.controls) == {"layer", "head", "query"}
    before = _image_data(explorer.figure).copy()
    assert np.allclose(before, w[0].mean(0).numpy())  # default: layer 0, mean of heads
    explorer.controls["head"].value = 2
    explorer.controls["layer"].value = 1
    assert explorer.draw_count == 3 and explorer.error is None
    assert np.allclose(_image_data(explorer.figure), w[1, 2].numpy())
    rect = list(explorer.figure.axes[0].patches)[-1]
    assert rect.get_y() == pytest.approx(0.5)  # query 1 is outlined
    explorer.controls["query"].value = 3
    rect = list(explorer.figure.axes[0].patches)[-1]
    assert rect.get_y() == pytest.approx(2.5)
    labels = [o[0] for o in explorer.controls["query"].options]
    assert labels == ["0: <bos>", "1: 2", "2: 0", "3: 2"]


def test_explorer_self_attention_cjk_and_vit_image():
    w = _weights(layers=1, heads=1, t_q=5, t_k=5)
    explorer = AttentionExplorer(w, list("2026年"))  # keys default to the queries
    assert explorer.error is None
    assert "nián" in [t.get_text() for t in explorer.figure.axes[0].get_xticklabels()]
    vit = _weights(layers=2, heads=2, t_q=17, t_k=17)
    tokens = ["[CLS]"] + [f"p{i}" for i in range(16)]
    explorer = AttentionExplorer(vit, tokens, image=np.random.rand(32, 32), patch_grid=(4, 4))
    assert explorer.error is None
    overlay = explorer.figure.axes[1].images[-1].get_array()  # axes: map, view, colorbar
    assert np.allclose(overlay, vit[0].mean(0)[0, 1:].reshape(4, 4).numpy())
    with pytest.raises(ValueError, match="got 4 query tokens for T_q=17"):
        AttentionExplorer(vit, tokens[:4])
    with pytest.raises(ValueError, match="layer_names has 1 entries for 2 layers"):
        AttentionExplorer(vit, tokens, layer_names=["only one"])


def _fake_model(text):
    """A stand-in model: 2 layers, 2 heads; output = the reversed input; fails on ''."""
    if not text:
        raise ValueError("empty input")
    t = len(text)
    g = torch.Generator().manual_seed(t)
    weights = torch.softmax(torch.randn(2, 2, t, t, generator=g), dim=-1)
    return weights, list(text[::-1]), list(text), f"output: {text[::-1]}"


def test_live_explorer_runs_the_model_on_typed_input():
    from course_utils.widgets import LiveAttentionExplorer

    explorer = LiveAttentionExplorer(_fake_model, "abc")
    assert "course-attention-explorer" in explorer._dom_classes
    assert explorer.error is None and explorer.draw_count == 1
    assert explorer.query_tokens == list("cba") and "output: cba" in explorer.status.value
    explorer.controls["query"].value = 2
    explorer.controls["text"].value = "hello!"  # longer input: pickers follow its shape
    assert explorer.key_tokens == list("hello!") and len(explorer.controls["query"].options) == 6
    assert explorer.controls["query"].value == 2  # still valid, so kept
    assert np.allclose(_image_data(explorer.figure), explorer.stack[0].mean(0))
    explorer.controls["head"].value = 1
    assert np.allclose(_image_data(explorer.figure), explorer.stack[0, 1])
    explorer.controls["text"].value = "ab"  # shorter: the query index is clamped
    assert explorer.controls["query"].value == 1 and explorer.error is None


def test_live_explorer_shows_model_errors_and_keeps_the_picture():
    from course_utils.widgets import LiveAttentionExplorer

    explorer = LiveAttentionExplorer(_fake_model, "abcd")
    before = explorer.figure
    explorer.controls["text"].value = ""
    assert explorer.error == "ValueError: empty input"
    assert "could not run the model" in explorer.status.value
    assert explorer.figure is before and explorer.key_tokens == list("abcd")
    explorer.controls["text"].value = "xyz"
    assert explorer.error is None and explorer.key_tokens == list("xyz")
    with pytest.raises(TypeError, match="attend must be callable"):
        LiveAttentionExplorer("not a function", "abc")
    bad = LiveAttentionExplorer(lambda t: (torch.ones(1, 1, 2, 2) / 2, ["a"], ["a", "b"], ""),
                                "ab")
    assert "1 query and 2 key tokens for weights with T_q=2" in (bad.error or "")
