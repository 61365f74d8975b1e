"""Decoding explorer (chapter 02): a model's next-token distribution under sampling, greedy or
beam search, with temperature, top-k, top-p and a repetition penalty, one token at a time."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course_utils.plotting.decoding import plot_decoding
from course_utils.validation import check_int
from course_utils.widgets.base import FigureExplorer

__all__ = ["DecodingExplorer"]

MODES = ("sample", "greedy", "beam")


class DecodingExplorer(FigureExplorer):
    """Prompt + decoding settings -> next-token bars and a continuation; a button adds one token.

    ``model``: a causal LM usable by ``course_utils.generation`` (our GPT or a ``transformers``
    model); ``tokenizer``: anything with ``encode(text) -> ids`` and ``decode(ids) -> str``.
    With ``start_with_eos`` (default) the prompt is encoded as ``[EOS] + encode(prompt)`` --
    "a new document starts here", exactly as chapter 02 encodes its prompts.
    Controls (``.controls``): ``prompt``, ``mode`` (sample / greedy / beam), ``temperature``,
    ``top_k`` (0 = off), ``top_p`` (1 = off), ``repetition_penalty`` (1 = off), ``num_beams``
    and ``seed``. ``step_button`` appends the token the current mode picks next (the sampled
    token, the argmax, or the first token of the best beam) and redraws. The top box carries
    the CSS class ``course-decoding-explorer``; ``last_continuation`` holds the latest
    continuation's text and ``ids`` the token ids of the current prompt.
    """

    def __init__(self, model: Any, tokenizer: Any, prompt: str = "The", *,
                 mode: str = "sample", temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, repetition_penalty: float = 1.0, num_beams: int = 4,
                 max_new_tokens: int = 30, seed: int = 0, n_show: int = 20,
                 eos_token_id: int | None = None, start_with_eos: bool = True,
                 height: str = "600px") -> None:
        check_int("max_new_tokens", max_new_tokens, min_value=1, max_value=1000)
        if not (hasattr(tokenizer, "encode") and hasattr(tokenizer, "decode")):
            raise TypeError(f"tokenizer must have encode() and decode(), got "
                            f"{type(tokenizer).__name__}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.n_show = max_new_tokens, n_show
        self.eos_token_id = eos_token_id if eos_token_id is not None else \
            getattr(tokenizer, "eos_token_id", None)
        self.start_with_eos = start_with_eos and self.eos_token_id is not None
        vocab = int(getattr(getattr(model, "config", None), "vocab_size", 0) or len(tokenizer))
        self.token_labels = [tokenizer.decode([i]) for i in range(vocab)]
        self.last_continuation = ""
        self.ids: list[int] = []
        self._stepped: tuple[str, list[int]] | None = None  # (prompt text, its ids) after a step
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        controls = {
            "prompt": widgets.Text(value=prompt, description="prompt", continuous_update=False,
                                   layout=widgets.Layout(width="420px")),
            "mode": widgets.Dropdown(options=list(MODES), value=mode, description="mode",
                                     style={"description_width": "initial"}),
            "temperature": widgets.FloatSlider(value=temperature, min=0.05, max=3.0, step=0.05,
                                               description="temperature", **slider),
            "top_k": widgets.IntSlider(value=top_k, min=0, max=min(200, vocab),
                                       description="top-k (0 = off)", **slider),
            "top_p": widgets.FloatSlider(value=top_p, min=0.05, max=1.0, step=0.01,
                                         description="top-p (1 = off)", **slider),
            "repetition_penalty": widgets.FloatSlider(
                value=repetition_penalty, min=1.0, max=3.0, step=0.05,
                description="repetition penalty (1 = off)", **slider),
            "num_beams": widgets.IntSlider(value=num_beams, min=1, max=16,
                                           description="beams", **slider),
            "seed": widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed",
                                           style={"description_width": "initial"},
                                           layout=widgets.Layout(width="160px")),
        }
        super().__init__(self._draw, controls, height=height, title="Decoding explorer",
                         css_class="course-decoding-explorer")
        self.step_button = widgets.Button(description="add the next token →")
        self.step_button.on_click(self.guarded(lambda _b: self.step(), "could not add a token"))
        self.children = (*self.children[:-2], self.step_button, *self.children[-2:])

    def encode(self, prompt: str) -> list[int]:
        """The prompt's ids as the model reads them (EOS first, as in chapter 02)."""
        if self._stepped is not None and self._stepped[0] == prompt:
            return list(self._stepped[1])  # keep the exact tokens the steps chose
        ids = list(self.tokenizer.encode(prompt))
        if self.start_with_eos:
            ids = [self.eos_token_id] + ids
        if not ids:
            raise ValueError("type a prompt (the tokenizer has no EOS token to start from)")
        return ids

    def _continue(self, ids: list[int], n_tokens: int, values: dict[str, Any]) -> list[int]:
        """The next ``n_tokens`` ids (fewer after EOS) under the current mode and settings."""
        from course_utils.generation import beam_search, greedy_search, sample

        mode, penalty = values["mode"], values["repetition_penalty"]
        if mode == "beam":
            out = beam_search(self.model, ids, n_tokens, num_beams=values["num_beams"],
                              eos_token_id=self.eos_token_id).best
        elif mode == "greedy":
            out = greedy_search(self.model, ids, n_tokens, repetition_penalty=penalty,
                                eos_token_id=self.eos_token_id)
        else:
            out = sample(self.model, ids, n_tokens, temperature=values["temperature"],
                         top_k=values["top_k"] or None, top_p=values["top_p"],
                         repetition_penalty=penalty, eos_token_id=self.eos_token_id,
                         generator=torch.Generator().manual_seed(int(values["seed"])))
        new = torch.as_tensor(out).reshape(-1)[len(ids):].tolist()
        if self.eos_token_id is not None and self.eos_token_id in new:
            new = new[:new.index(self.eos_token_id) + 1]
        return new

    def step(self) -> None:
        """Append the token the current mode picks next to the prompt, and redraw."""
        values = self.values()
        ids = self.encode(values["prompt"])
        if values["mode"] == "beam":  # the first token of the best *whole* beam, as displayed
            new = self._continue(ids, self.max_new_tokens, values)[:1]
        else:
            new = self._continue(ids, 1, values)
        ids = ids + new
        text = self.tokenizer.decode(ids[1:] if self.start_with_eos else ids)
        self._stepped = (text, ids)
        if self.controls["prompt"].value == text:
            self.refresh()
        else:
            self.controls["prompt"].value = text  # redraws

    def _draw(self, *, prompt: str, mode: str, temperature: float, top_k: int, top_p: float,
              repetition_penalty: float, num_beams: int, seed: int) -> Figure:
        from course_utils.generation import apply_repetition_penalty, next_token_logits

        if self._stepped is not None and self._stepped[0] != prompt:
            self._stepped = None  # the learner typed a new prompt
        for name in ("temperature", "top_k", "top_p"):  # grey out what this mode ignores
            self.controls[name].disabled = mode != "sample"
        self.controls["repetition_penalty"].disabled = mode == "beam"
        self.controls["num_beams"].disabled = mode != "beam"
        ids = self.ids = self.encode(prompt)
        logits = next_token_logits(self.model, ids)[0]
        if repetition_penalty != 1.0 and mode != "beam":
            logits = apply_repetition_penalty(logits[None], torch.tensor([ids]),
                                              repetition_penalty)[0]
        values = dict(mode=mode, temperature=temperature, top_k=top_k, top_p=top_p,
                      repetition_penalty=repetition_penalty, num_beams=num_beams, seed=seed)
        self.last_continuation = self.tokenizer.decode(
            self._continue(ids, self.max_new_tokens, values))
        if mode == "sample":
            shown = dict(temperature=temperature, top_k=top_k, top_p=top_p)
            title = ""
        else:  # greedy keeps the argmax; beam search expands the best num_beams tokens per beam
            shown = dict(temperature=1.0, top_k=1 if mode == "greedy" else num_beams, top_p=1.0)
            title = (f"next token · {mode}: " + ("the most likely token is taken"
                     if mode == "greedy" else f"each beam expands its {num_beams} best tokens"))
        return plot_decoding(logits, self.token_labels, n_show=self.n_show, prompt=prompt,
                             continuation=self.last_continuation, title=title, **shown)
