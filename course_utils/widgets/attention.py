"""Attention explorers (chapter 01; reused by the GPT, BERT and ViT chapters).

``AttentionExplorer`` adds layer / head / query pickers to
``course_utils.plotting.attention.plot_attention``; ``LiveAttentionExplorer`` adds a text box
that runs a model on the learner's own input.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from course_utils.plotting.attention import _panel_heights, attention_stack, plot_attention
from course_utils.text import display_token
from course_utils.widgets.base import FigureExplorer

__all__ = ["AttentionExplorer", "LiveAttentionExplorer"]


class AttentionExplorer(FigureExplorer):
    """Layer / head / query pickers over ``plot_attention`` (any model of the course).

    ``weights``: (layers, heads, T_q, T_k), (heads, T_q, T_k), (T_q, T_k) or a list of
    per-layer (heads, T_q, T_k); ``key_tokens`` defaults to ``query_tokens``
    (self-attention). For ViT pass ``image`` and ``patch_grid``. The top box carries the
    CSS class ``course-attention-explorer``; controls: ``layer``, ``head``, ``query``.
    """

    def __init__(self, weights: Any, query_tokens: Sequence[str],
                 key_tokens: Sequence[str] | None = None, *, image: Any = None,
                 patch_grid: tuple[int, int] | None = None,
                 layer_names: Sequence[str] | None = None, query: int = 0,
                 title: str = "Attention explorer", height: str | None = None) -> None:
        stack = attention_stack(weights)
        n_layers, n_heads, t_q, t_k = stack.shape
        if height is None:  # fit the figure, so the explorer does not need to scroll
            inches = 4.8 if image is not None else sum(_panel_heights(t_q, t_k))
            height = f"{int(inches * 100) + 30}px"
        if layer_names is not None and len(layer_names) != n_layers:
            raise ValueError(f"layer_names has {len(layer_names)} entries for {n_layers} layers")
        if len(query_tokens) != t_q:
            raise ValueError(f"got {len(query_tokens)} query tokens for T_q={t_q}")
        names = list(layer_names) if layer_names is not None else \
            [f"layer {i}" for i in range(n_layers)]
        style = {"description_width": "initial"}
        controls = {
            "layer": widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], value=0,
                                      description="layer", style=style),
            "head": widgets.Dropdown(options=[("mean of heads", "mean")]
                                     + [(f"head {h}", h) for h in range(n_heads)],
                                     value="mean" if n_heads > 1 else 0, description="head",
                                     style=style),
            "query": widgets.Dropdown(
                options=[(f"{i}: {display_token(t) if len(t) == 1 else t}", i)
                         for i, t in enumerate(query_tokens)],
                value=query, description="query token", style=style),
        }
        self.stack = stack
        super().__init__(plot_attention, controls, height=height, title=title,
                         fixed={"weights": stack, "query_tokens": list(query_tokens),
                                "key_tokens": None if key_tokens is None else list(key_tokens),
                                "image": image, "patch_grid": patch_grid})
        self.add_class("course-attention-explorer")


Attend = Callable[[str], tuple[Any, Sequence[str], Sequence[str], str]]


class LiveAttentionExplorer(FigureExplorer):
    """Type an input and see the model's attention for it: a live probe of a trained model.

    ``attend(text)`` runs the model and returns ``(weights, query_tokens, key_tokens,
    note)``: weights in any layout ``AttentionExplorer`` accepts, and a one-line note (e.g.
    the model's output) shown under the controls. Controls: ``text`` (applied on Enter or
    when the box loses focus), ``layer``, ``head``, ``query``. An input the model cannot
    take shows its error in the status line and keeps the last good picture.
    """

    def __init__(self, attend: Attend, text: str, *, title: str = "Attention on your input",
                 height: str = "560px") -> None:
        if not callable(attend):
            raise TypeError(f"attend must be callable text -> (weights, query_tokens, "
                            f"key_tokens, note), got {attend!r}")
        self.attend, self._text, self._busy = attend, None, False
        self._run_error: str | None = None
        self.stack: Any = None
        self.query_tokens: list[str] = []
        self.key_tokens: list[str] = []
        self.note = ""
        style = {"description_width": "initial"}
        controls = {
            "text": widgets.Text(value=text, description="input", continuous_update=False,
                                 style=style, layout=widgets.Layout(width="420px")),
            "layer": widgets.Dropdown(options=[("layer 0", 0)], value=0, description="layer",
                                      style=style),
            "head": widgets.Dropdown(options=[("mean of heads", "mean")], value="mean",
                                     description="head", style=style),
            "query": widgets.Dropdown(options=[("0", 0)], value=0, description="query token",
                                      style=style),
        }
        super().__init__(self._draw, controls, height=height, title=title)
        self.add_class("course-attention-explorer")

    def _on_change(self, change: dict) -> None:
        if not self._busy:  # option updates made by _run are not user changes
            self.refresh()

    def refresh(self) -> None:
        """Redraw; a model error on the typed input stays in ``.error`` and the status line."""
        self._run_error = None
        super().refresh()
        if self._run_error is not None:
            self.error = self._run_error

    def _run(self, text: str) -> None:
        """Run the model on ``text`` and reset the pickers to its shapes."""
        weights, query_tokens, key_tokens, note = self.attend(text)
        stack = attention_stack(weights)
        n_layers, n_heads, t_q, t_k = stack.shape
        if len(query_tokens) != t_q or len(key_tokens) != t_k:
            raise ValueError(f"attend returned {len(query_tokens)} query and {len(key_tokens)} "
                             f"key tokens for weights with T_q={t_q}, T_k={t_k}")
        self._busy = True
        try:
            c = self.controls
            layer, head, query = c["layer"].value, c["head"].value, c["query"].value
            c["layer"].options = [(f"layer {i}", i) for i in range(n_layers)]
            c["layer"].value = min(layer, n_layers - 1)
            heads = [("mean of heads", "mean")] if n_heads > 1 else []
            c["head"].options = heads + [(f"head {h}", h) for h in range(n_heads)]
            valid = [v for _, v in c["head"].options]
            c["head"].value = head if head in valid else valid[0]
            c["query"].options = [(f"{i}: {display_token(t) if len(t) == 1 else t}", i)
                                  for i, t in enumerate(query_tokens)]
            c["query"].value = min(query, t_q - 1)
        finally:
            self._busy = False
        self.stack, self.query_tokens, self.key_tokens = stack, list(query_tokens), \
            list(key_tokens)
        self._text, self.note = text, note

    def _draw(self, text: str, layer: int, head: int | str, query: int) -> Any:
        if text != self._text:
            try:
                self._run(text)
            except Exception as err:
                if self.stack is None:
                    raise
                self.show_error(f"could not run the model on {text!r}", err)
                self._run_error = self.error
                return self.figure  # keep the last good picture
            self.status.value = html.escape(self.note)
            layer, head, query = (self.controls[k].value for k in ("layer", "head", "query"))
        return plot_attention(self.stack, self.query_tokens, self.key_tokens, layer=layer,
                              head=head, query=query)
