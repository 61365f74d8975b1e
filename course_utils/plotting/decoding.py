"""Next-token distributions through temperature, top-k and top-p (chapter 02).

``plot_decoding`` draws the stages computed by ``course_utils.generation.decoding_stages``;
``DecodingExplorer`` in ``course_utils.widgets`` wraps it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.generation import decoding_stages
from course_utils.plotting.base import new_figure

__all__ = ["plot_decoding"]


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
