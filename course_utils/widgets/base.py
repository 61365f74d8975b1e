"""``FigureExplorer``: the one pattern every interactive widget of the course is built on.

A plain function draws a figure from keyword arguments (see ``course_utils.plotting``);
``FigureExplorer`` wraps it: controls on top, a status line, the figure below in a
fixed-height ``Output``, redrawn when a control's value changes.

No error of a callback is lost: a failed redraw, or a button callback wrapped with
``guarded``, shows ``⚠ ...`` in the status line and is kept in ``.error`` (ipywidgets
would otherwise send it to the browser's console, where nobody sees it).
"""

from __future__ import annotations

import html
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
        self.status = widgets.HTML("")  # the latest error or a short note
        self.status.add_class("course-widget-status")
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        rows = [widgets.HBox(list(self.controls.values())[i:i + 3])
                for i in range(0, len(self.controls), 3)]
        super().__init__(children=[*header, *rows, self.status, self.output])
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

    def show_error(self, action: str, err: BaseException) -> None:
        """Keep ``err`` in ``.error`` and show it in the status line."""
        self.error = f"{type(err).__name__}: {err}"
        self.status.value = (f"<span style='color:#b00020'>⚠ {html.escape(action)}: "
                             f"{html.escape(self.error)}</span>")

    def guarded(self, callback: Callable[..., Any], action: str = "failed"
                ) -> Callable[..., Any]:
        """``callback`` for ``on_click``/``observe`` that shows its errors in the status line."""
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except Exception as err:
                self.show_error(action, err)
                return None
        return run

    def refresh(self) -> None:
        """Redraw the figure from the current values (errors are shown, not raised)."""
        self.output.clear_output(wait=True)
        with self.output:
            try:
                self.figure = self.plot_fn(**self.values())
                self.error = None
                if self.status.value.startswith("<span style='color:#b00020'>⚠ could not draw"):
                    self.status.value = ""
                self.draw_count += 1
                display(self.figure)
            except Exception as err:  # show the problem inside the widget
                self.show_error("could not draw", err)
                print(f"Could not draw: {self.error}")
