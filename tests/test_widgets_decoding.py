"""Chapter 02: the decoding explorer and its plot functions, driven headless."""

import pytest
import torch

from course_utils.models.gpt import GPT, GPTConfig
from course_utils.tokenization import train_bytelevel_bpe
from course_utils.generation import decoding_stages
from course_utils.plotting.decoding import plot_decoding
from course_utils.widgets import DecodingExplorer

TEXTS = ["The acting is superb and the plot keeps you guessing.",
         "The plot is thin, the pacing is slow, and the acting is stiff.",
         "I expected to hate it, but the ending moved me."] * 4


@pytest.fixture(scope="module")
def model_and_tokenizer():
    tok = train_bytelevel_bpe(TEXTS, 300)
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=len(tok), n_positions=48, n_embd=32, n_layer=1, n_head=2))
    with torch.no_grad():
        model.wte.weight.mul_(20)  # a peaked distribution, so filters visibly change it
    return model.eval(), tok


def _bar_heights(fig):
    return [round(p.get_height(), 6) for p in fig.axes[0].patches]


def test_decoding_stages_follow_the_filters():
    logits = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0])
    st = decoding_stages(logits, temperature=0.5, top_k=3, top_p=0.9)
    assert list(st) == ["model", "temperature", "top-k", "top-p"]
    assert torch.allclose(st["model"], logits.softmax(-1))
    assert torch.allclose(st["temperature"], (logits / 0.5).softmax(-1))
    assert int((st["top-k"] > 0).sum()) == 3
    assert int((st["top-p"] > 0).sum()) <= 3 and st["top-p"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"one \(vocab,\) vector"):
        decoding_stages(torch.zeros(2, 5))


def test_plot_decoding_marks_removed_tokens():
    logits = torch.linspace(3, -3, 30)
    labels = [f"t{i}" for i in range(30)]
    fig = plot_decoding(logits, labels, top_k=5, n_show=10, prompt="The", continuation=" end")
    heights = _bar_heights(fig)
    assert len(heights) == 20  # grey + blue bars for 10 tokens
    assert sum(h > 0 for h in heights[10:]) == 5
    red = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_color() == "tab:red"]
    assert red == [f"t{i}" for i in range(5, 10)]
    assert "The⟦ end⟧" in fig.axes[1].texts[0].get_text()
    with pytest.raises(ValueError, match="got 3 token labels for a vocabulary of 30"):
        plot_decoding(logits, labels[:3])


def test_explorer_redraws_when_a_control_changes(model_and_tokenizer):
    model, tok = model_and_tokenizer
    w = DecodingExplorer(model, tok, prompt="The acting", max_new_tokens=10)
    assert "course-decoding-explorer" in w._dom_classes and w.error is None
    assert set(w.controls) == {"prompt", "temperature", "top_k", "top_p", "seed"}
    before, count = _bar_heights(w.figure), w.draw_count
    w.controls["temperature"].value = 2.5
    assert w.draw_count == count + 1 and w.error is None
    assert _bar_heights(w.figure) != before
    w.controls["top_k"].value = 3
    assert sum(h > 0 for h in _bar_heights(w.figure)[len(before) // 2:]) <= 3
    text = w.last_continuation
    w.controls["seed"].value = 5
    assert w.error is None and isinstance(w.last_continuation, str)
    w.controls["prompt"].value = "I expected"
    assert "I expected" in w.figure.axes[1].texts[0].get_text() and w.error is None
    w.controls["prompt"].value = ""  # empty prompt: starts from <|endoftext|>
    assert w.error is None
    assert isinstance(text, str)


def test_explorer_rejects_bad_arguments(model_and_tokenizer):
    model, _ = model_and_tokenizer
    with pytest.raises(TypeError, match="tokenizer must have encode"):
        DecodingExplorer(model, object())
    with pytest.raises(ValueError, match="max_new_tokens must be >= 1"):
        DecodingExplorer(model, model_and_tokenizer[1], max_new_tokens=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"top_p": 1.5}, "p must be <= 1.0, got 1.5"),
    ({"top_p": float("nan")}, "p must be a number, got nan"),
    ({"logits": torch.tensor([0.0, float("nan"), 1.0])}, "logits contain NaN"),
])
def test_decoding_refuses_impossible_settings(kwargs, message):
    logits = kwargs.pop("logits", torch.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=message):
        decoding_stages(logits, **kwargs)


def test_explorer_shows_a_nan_model_in_its_status(model_and_tokenizer):
    model, tok = model_and_tokenizer
    w = DecodingExplorer(model, tok, "The plot", max_new_tokens=3)
    saved = model.lm_head.weight.detach().clone() if hasattr(model, "lm_head") else None
    params = list(model.parameters())
    backup = params[0].detach().clone()
    try:
        with torch.no_grad():
            params[0].fill_(float("nan"))
        w.controls["temperature"].value = 0.7
        assert w.error is not None and "NaN" in w.error and "NaN" in w.status.value
    finally:
        with torch.no_grad():
            params[0].copy_(backup)
    assert saved is None or torch.equal(saved, model.lm_head.weight)
