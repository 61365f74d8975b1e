"""Decoding explorer (chapter 02): temperature, top-k and top-p on a model's next-token
distribution, with a sampled continuation."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.plotting import new_figure
from course_utils.validation import check_int
from course_utils.widgets.base import FigureExplorer

__all__ = ["decoding_stages", "plot_decoding", "DecodingExplorer"]


def decoding_stages(logits: Any, *, temperature: float = 1.0, top_k: int = 0,
                    top_p: float = 1.0) -> dict[str, Any]:
    """Next-token probabilities after each step of the sampling pipeline, as (V,) tensors.

    Keys: ``"model"`` (softmax of the raw logits), ``"temperature"``, ``"top-k"``, ``"top-p"``
    (the distribution actually sampled from). ``top_k=0`` and ``top_p=1`` switch a filter off.
    """
    from course_utils.generation import apply_temperature, top_k_filter, top_p_filter

    logits = torch.as_tensor(logits, dtype=torch.float32)
    if logits.ndim != 1:
        raise ValueError(f"logits must be one (vocab,) vector, got shape {tuple(logits.shape)}")
    scaled = apply_temperature(logits, temperature)
    after_k = top_k_filter(scaled, top_k or None)
    after_p = top_p_filter(after_k, top_p)
    return {"model": logits.softmax(-1), "temperature": scaled.softmax(-1),
            "top-k": after_k.softmax(-1), "top-p": after_p.softmax(-1)}


def _entropy_bits(probs: Any) -> float:
    p = probs[probs > 0]
    return float(-(p * p.log2()).sum())


def plot_decoding(logits: Any, token_labels: Sequence[str], *, temperature: float = 1.0,
                  top_k: int = 0, top_p: float = 1.0, n_show: int = 20, prompt: str = "",
                  continuation: str = "", title: str = "") -> Figure:
    """Bars of the ``n_show`` most likely next tokens: the model's distribution (grey) and the
    one sampled from after temperature, top-k and top-p (blue; removed tokens in red);
    below, the prompt and a sampled continuation."""
    stages = decoding_stages(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    raw, final = stages["model"], stages["top-p"]
    if len(token_labels) != raw.numel():
        raise ValueError(f"got {len(token_labels)} token labels for a vocabulary of {raw.numel()}")
    n_show = max(1, min(int(n_show), raw.numel()))
    order = torch.argsort(raw, descending=True)[:n_show]
    fig, (ax, ax_text) = new_figure(2, 1, size=(10.5, 5.0),
                                    gridspec_kw={"height_ratios": [3.6, 1.0]})
    x = np.arange(n_show)
    ax.bar(x - 0.2, raw[order].numpy(), width=0.4, color="0.7", label="model (T = 1)")
    kept = final[order] > 0
    ax.bar(x + 0.2, final[order].numpy(), width=0.4, color="tab:blue",
           label=f"sampled from (T = {temperature:g}, top-k = {top_k or 'off'}, "
                 f"top-p = {top_p:g})")
    labels = [repr(token_labels[int(i)])[1:-1].replace(" ", "␣") for i in order]
    ax.set_xticks(x, labels=labels, rotation=60, ha="right", fontsize=8, family="monospace")
    for tick, keep in zip(ax.get_xticklabels(), kept):
        if not keep:
            tick.set_color("tab:red")
    n_k = int((stages["top-k"] > 0).sum())
    n_p = int((final > 0).sum())
    ax.set_ylabel("probability")
    ax.set_title(title or f"next token · {raw.numel()} in the vocabulary · kept after top-k: "
                          f"{n_k} · after top-p: {n_p} · entropy {_entropy_bits(raw):.2f} → "
                          f"{_entropy_bits(final):.2f} bits", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax_text.set_axis_off()
    shown = textwrap.fill(f"{prompt}⟦{continuation}⟧", width=110)
    ax_text.text(0.0, 1.0, "sampled continuation (generated text in ⟦ ⟧):\n" + shown,
                 va="top", ha="left", fontsize=9, family="monospace", transform=ax_text.transAxes)
    fig.tight_layout()
    return fig


class DecodingExplorer(FigureExplorer):
    """Prompt + temperature / top-k / top-p / seed -> next-token bars and a sampled continuation.

    ``model``: a causal LM usable by ``course_utils.generation`` (our GPT or a ``transformers``
    model); ``tokenizer``: anything with ``encode(text) -> ids`` and ``decode(ids) -> str``.
    Controls (``.controls``): ``prompt``, ``temperature``, ``top_k`` (0 = off), ``top_p``
    (1 = off), ``seed``. The top box carries the CSS class ``course-decoding-explorer``;
    ``last_continuation`` holds the text of the latest sample.
    """

    def __init__(self, model: Any, tokenizer: Any, prompt: str = "The", *,
                 temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 max_new_tokens: int = 30, seed: int = 0, n_show: int = 20,
                 eos_token_id: int | None = None, height: str = "600px") -> None:
        check_int("max_new_tokens", max_new_tokens, min_value=1, max_value=1000)
        if not (hasattr(tokenizer, "encode") and hasattr(tokenizer, "decode")):
            raise TypeError(f"tokenizer must have encode() and decode(), got "
                            f"{type(tokenizer).__name__}")
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.n_show = max_new_tokens, n_show
        self.eos_token_id = eos_token_id if eos_token_id is not None else \
            getattr(tokenizer, "eos_token_id", None)
        vocab = int(getattr(getattr(model, "config", None), "vocab_size", 0) or len(tokenizer))
        self.token_labels = [tokenizer.decode([i]) for i in range(vocab)]
        self.last_continuation = ""
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        controls = {
            "prompt": widgets.Text(value=prompt, description="prompt", continuous_update=False,
                                   layout=widgets.Layout(width="420px")),
            "temperature": widgets.FloatSlider(value=temperature, min=0.05, max=3.0, step=0.05,
                                               description="temperature", **slider),
            "top_k": widgets.IntSlider(value=top_k, min=0, max=min(200, vocab),
                                       description="top-k (0 = off)", **slider),
            "top_p": widgets.FloatSlider(value=top_p, min=0.05, max=1.0, step=0.01,
                                         description="top-p (1 = off)", **slider),
            "seed": widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed",
                                           style={"description_width": "initial"},
                                           layout=widgets.Layout(width="160px")),
        }
        super().__init__(self._draw, controls, height=height, title="Decoding explorer",
                         css_class="course-decoding-explorer")

    def _draw(self, *, prompt: str, temperature: float, top_k: int, top_p: float,
              seed: int) -> Figure:
        from course_utils.generation import next_token_logits, sample

        ids = list(self.tokenizer.encode(prompt))
        if not ids:
            if self.eos_token_id is None:
                raise ValueError("type a prompt (the tokenizer has no EOS token to start from)")
            ids = [self.eos_token_id]  # an empty prompt starts a new document
        logits = next_token_logits(self.model, ids)[0]
        generator = torch.Generator().manual_seed(int(seed))
        out = sample(self.model, ids, self.max_new_tokens, temperature=temperature,
                     top_k=top_k or None, top_p=top_p, eos_token_id=self.eos_token_id,
                     generator=generator)
        new = out[0, len(ids):].tolist()
        if self.eos_token_id is not None and self.eos_token_id in new:
            new = new[:new.index(self.eos_token_id) + 1]
        self.last_continuation = self.tokenizer.decode(new)
        return plot_decoding(logits, self.token_labels, temperature=temperature, top_k=top_k,
                             top_p=top_p, n_show=self.n_show, prompt=prompt,
                             continuation=self.last_continuation)
