"""``FigureExplorer``: the one pattern every interactive widget of the course is built on.

A plain function draws a figure from keyword arguments (see ``course_utils.plotting``);
``FigureExplorer`` wraps it: controls on top, the figure below in a fixed-height
``Output``, redrawn when a control's value changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

__all__ = ["FigureExplorer"]


class FigureExplorer(widgets.VBox):
    """Controls + a figure drawn by ``plot_fn(**control_values)``; redraws on change."""

    def __init__(self, plot_fn: Callable[..., Figure], controls: Mapping[str, widgets.Widget],
                 *, height: str = "460px", fixed: Mapping[str, Any] | None = None,
                 title: str = "", css_class: str = "") -> None:
        if not callable(plot_fn):
            raise TypeError(f"plot_fn must be callable and return a Figure, got {plot_fn!r}")
        if not controls:
            raise ValueError("controls must contain at least one widget (name -> widget)")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"control {name!r} must be an ipywidgets value widget, "
                                f"got {type(control).__name__}")
        self.plot_fn, self.controls, self.fixed = plot_fn, dict(controls), dict(fixed or {})
        self.output = widgets.Output(layout=widgets.Layout(height=height, overflow="auto"))
        self.figure: Figure | None = None
        self.error: str | None = None
        self.draw_count = 0
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        rows = [widgets.HBox(list(self.controls.values())[i:i + 3])
                for i in range(0, len(self.controls), 3)]
        super().__init__(children=[*header, *rows, self.output])
        self.add_class("course-figure-explorer")  # hooks for the real-browser test
        if css_class:
            self.add_class(css_class)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        """Current control values plus fixed arguments."""
        return {**self.fixed, **{name: c.value for name, c in self.controls.items()}}

    def _on_change(self, _change: dict) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw the figure from the current values (errors are shown, not raised)."""
        self.output.clear_output(wait=True)
        with self.output:
            try:
                self.figure = self.plot_fn(**self.values())
                self.error = None
                self.draw_count += 1
                display(self.figure)
            except Exception as err:  # show the problem inside the widget
                self.error = f"{type(err).__name__}: {err}"
                print(f"Could not draw: {self.error}")
