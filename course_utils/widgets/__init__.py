"""Interactive widgets (ipywidgets 8), all built on one pattern.

A plain function draws a figure from keyword arguments (in ``course_utils.plotting``);
``FigureExplorer`` wraps it: controls on top, the figure below in a fixed-height
``Output``, redrawn when a control's value changes. Widgets are *returned*, never
displayed inside, and can be driven from code (``w.controls["head"].value = 2``), which is
how the tests exercise them headless. Heavy controls use ``continuous_update=False``.
Concrete explorers live in one module each and are re-exported here: ``base``
(``FigureExplorer``), ``attention`` (chapter 01), ``decoding`` (chapter 02), ``vit``
(chapter 04), ``adversarial`` (chapter 08), ``schedules`` (chapter 09).
"""

from course_utils.widgets.adversarial import AdversarialExplorer
from course_utils.widgets.attention import AttentionExplorer, LiveAttentionExplorer
from course_utils.widgets.base import FigureExplorer
from course_utils.widgets.decoding import DecodingExplorer
from course_utils.widgets.schedules import LRScheduleExplorer
from course_utils.widgets.vit import ViTAttentionExplorer

__all__ = ["FigureExplorer", "AdversarialExplorer", "AttentionExplorer", "LiveAttentionExplorer",
           "DecodingExplorer", "LRScheduleExplorer", "ViTAttentionExplorer"]
