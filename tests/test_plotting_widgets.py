"""Plot helpers return figures; the widget pattern redraws when a control changes."""

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_utils import plotting
from course_utils.train import History
from course_utils.widgets import FigureExplorer


def test_heatmap_labels_and_errors():
    fig = plotting.plot_heatmap(torch.eye(3), row_labels=list("abc"), col_labels=list("xyz"),
                                title="eye")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "eye"
    with pytest.raises(ValueError, match="row_labels has 2 entries, matrix has 3 rows"):
        plotting.plot_heatmap(np.eye(3), row_labels=["a", "b"])
    with pytest.raises(ValueError, match="matrix must be 2-dimensional, got 1 dimensions"):
        plotting.plot_heatmap(np.ones(3))


def test_history_plot_and_bad_metric():
    h = History(step=[1, 2, 3], train_loss=[3.0, 2.0, 1.0], eval_step=[3],
                eval={"loss": [1.5], "acc": [0.7]})
    fig = plotting.plot_history(h, ["acc"], smooth=2)
    assert len(fig.axes) == 2
    with pytest.raises(KeyError, match="metric 'f1' not in history.eval"):
        plotting.plot_history(h, ["f1"])
    with pytest.raises(ValueError, match="smooth must be >= 1"):
        plotting.plot_history(h, smooth=0)


def test_lines_and_masks():
    fig = plotting.plot_lines([0, 1, 2], {"a": [1, 2, 3], "b": [3, 2, 1]}, logy=True)
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="series 'a' has shape"):
        plotting.plot_lines([0, 1], {"a": [1, 2, 3]})
    fig = plotting.plot_mask_grid({"causal": torch.ones(4, 4).tril(), "full": torch.ones(4, 4)})
    assert [ax.get_title() for ax in fig.axes] == ["causal", "full"]
    with pytest.raises(ValueError, match="at least one named matrix"):
        plotting.plot_mask_grid({})


def _plot_power(n, scale):
    fig, ax = plotting.new_figure()
    x = np.linspace(0, 1, 20)
    ax.plot(x, scale * x ** n)
    ax.set_title(f"n={n}")
    return fig


def test_explorer_redraws_when_a_control_changes():
    n = widgets.IntSlider(value=1, min=1, max=4)
    w = FigureExplorer(_plot_power, {"n": n}, fixed={"scale": 2.0})
    assert w.draw_count == 1 and w.figure.axes[0].get_title() == "n=1"
    first = w.figure.axes[0].lines[0].get_ydata().copy()
    n.value = 3
    assert w.draw_count == 2 and w.figure.axes[0].get_title() == "n=3"
    assert not np.allclose(first, w.figure.axes[0].lines[0].get_ydata())
    assert w.values() == {"scale": 2.0, "n": 3}


def test_explorer_shows_errors_instead_of_raising():
    def broken(n):
        raise ValueError("n too large")

    w = FigureExplorer(broken, {"n": widgets.IntSlider(value=1)})
    assert w.error == "ValueError: n too large" and w.figure is None


def test_explorer_bad_arguments():
    with pytest.raises(TypeError, match="plot_fn must be callable"):
        FigureExplorer(None, {"n": widgets.IntSlider()})
    with pytest.raises(ValueError, match="at least one widget"):
        FigureExplorer(_plot_power, {})
    with pytest.raises(TypeError, match="control 'b' must be an ipywidgets value widget"):
        FigureExplorer(_plot_power, {"b": widgets.Button()})


def test_guarded_callbacks_show_their_errors_in_the_status_line():
    w = FigureExplorer(_plot_power, {"n": widgets.IntSlider(value=1)}, fixed={"scale": 1.0})
    button = widgets.Button(description="go")

    def fail(_button):
        raise KeyError("missing run")

    button.on_click(w.guarded(fail, "run failed"))
    button.click()
    assert w.error == "KeyError: 'missing run'"
    assert "⚠ run failed: KeyError" in w.status.value and w.status in w.children
    broken = FigureExplorer(lambda n: 1 / 0, {"n": widgets.IntSlider(value=1)})
    assert "could not draw" in broken.status.value and "ZeroDivisionError" in broken.status.value
