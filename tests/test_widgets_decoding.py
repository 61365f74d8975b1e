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
    assert set(w.controls) == {"prompt", "mode", "temperature", "top_k", "top_p",
                              "repetition_penalty", "num_beams", "seed"}
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


def _grey(fig):
    """The model-distribution bars (the first half of the bar patches)."""
    heights = _bar_heights(fig)
    return heights[:len(heights) // 2]


def test_explorer_encodes_prompts_like_the_notebook(model_and_tokenizer):
    model, tok = model_and_tokenizer
    from course_utils.generation import greedy_search, next_token_logits

    w = DecodingExplorer(model, tok, prompt="The plot", mode="greedy", max_new_tokens=6)
    eos = tok.eos_token_id
    assert w.ids == [eos] + tok.encode("The plot")  # "a new review starts", as in chapter 02
    probs = next_token_logits(model, w.ids)[0].softmax(-1)
    assert _grey(w.figure) == [round(float(p), 6) for p in probs.sort(descending=True).values[:20]]
    out = greedy_search(model, w.ids, 6, eos_token_id=eos)[0, len(w.ids):].tolist()
    out = out[:out.index(eos) + 1] if eos in out else out
    assert w.last_continuation == tok.decode(out)
    without = DecodingExplorer(model, tok, prompt="The plot", start_with_eos=False)
    assert without.ids == tok.encode("The plot")


def test_repetition_penalty_and_modes_change_the_picture(model_and_tokenizer):
    model, tok = model_and_tokenizer
    from course_utils.generation import next_token_logits

    w = DecodingExplorer(model, tok, prompt="the plot the plot the", mode="greedy")
    raw = next_token_logits(model, w.ids)[0].softmax(-1)
    seen = sorted(set(w.ids))
    w.controls["repetition_penalty"].value = 3.0
    assert w.error is None
    penalised = torch.tensor(_grey(w.figure)).sum()
    assert penalised > 0 and _grey(w.figure) != [round(float(p), 6) for p in
                                                 raw.sort(descending=True).values[:20]]
    # with the penalty every already-seen token loses probability mass in total
    from course_utils.generation import apply_repetition_penalty
    after = apply_repetition_penalty(next_token_logits(model, w.ids), torch.tensor([w.ids]),
                                     3.0)[0].softmax(-1)
    assert after[seen].sum() < raw[seen].sum()
    for mode in ("beam", "sample"):
        w.controls["mode"].value = mode
        assert w.error is None and isinstance(w.last_continuation, str)
    with pytest.raises(ValueError, match="mode must be one of"):
        DecodingExplorer(model, tok, mode="nucleus")


def test_step_button_adds_the_token_the_mode_picks(model_and_tokenizer):
    model, tok = model_and_tokenizer
    from course_utils.generation import next_token_logits

    w = DecodingExplorer(model, tok, prompt="The acting", mode="greedy", max_new_tokens=4)
    before = list(w.ids)
    expected = int(next_token_logits(model, before)[0].argmax())
    w.step_button.click()
    assert w.error is None and w.ids == before + [expected]
    assert w.controls["prompt"].value == tok.decode(w.ids[1:])
    w.step_button.click()  # a second step continues from the stepped ids, not a re-encoding
    assert w.ids[:len(before) + 1] == before + [expected] and len(w.ids) == len(before) + 2
    w.controls["prompt"].value = "I expected"  # typing a new prompt starts over
    assert w.ids == [tok.eos_token_id] + tok.encode("I expected")
    w.controls["mode"].value = "sample"
    w.step_button.click()
    assert len(w.ids) == len(tok.encode("I expected")) + 2 and w.error is None


def test_beam_step_follows_the_best_beam_and_ignored_controls_are_disabled(model_and_tokenizer):
    model, tok = model_and_tokenizer
    from course_utils.generation import beam_search

    w = DecodingExplorer(model, tok, prompt="The plot", mode="beam", num_beams=3,
                         max_new_tokens=5)
    assert w.controls["temperature"].disabled and w.controls["repetition_penalty"].disabled
    assert not w.controls["num_beams"].disabled
    before = list(w.ids)
    best = beam_search(model, before, 5, num_beams=3, eos_token_id=tok.eos_token_id).best
    first = int(torch.as_tensor(best).reshape(-1)[len(before)])
    w.step_button.click()
    assert w.error is None and w.ids == before + [first]
    w.controls["mode"].value = "sample"
    assert not w.controls["temperature"].disabled and w.controls["num_beams"].disabled
