"""Decoding explorer (chapter 02): temperature, top-k and top-p on a model's next-token
distribution, with a sampled continuation."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course_utils.plotting.decoding import plot_decoding
from course_utils.validation import check_int
from course_utils.widgets.base import FigureExplorer

__all__ = ["DecodingExplorer"]


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
