"""Attention explorer (chapter 01; reused by the GPT, BERT and ViT chapters).

``AttentionExplorer`` adds layer / head / query pickers to
``course_utils.plotting.attention.plot_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from course_utils.plotting.attention import _panel_heights, attention_stack, plot_attention
from course_utils.text import display_token
from course_utils.widgets.base import FigureExplorer

__all__ = ["AttentionExplorer"]


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
