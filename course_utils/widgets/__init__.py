"""Interactive widgets (ipywidgets 8), all built on one pattern.

A plain function draws a figure from keyword arguments (see ``course_utils.plotting``);
``FigureExplorer`` wraps it: controls on top, the figure below in a fixed-height
``Output``, redrawn when a control's value changes. Widgets are *returned*, never
displayed inside, and can be driven from code (``w.controls["head"].value = 2``), which is
how the tests exercise them headless. Heavy controls use ``continuous_update=False``.
Concrete explorers live in one module each and are re-exported here: ``base``
(``FigureExplorer``), ``attention`` (chapter 01), ``decoding`` (chapter 02), ``vit``
(chapter 04), ``schedules`` (chapter 09).
"""

from course_utils.widgets.attention import AttentionExplorer, attention_stack, plot_attention
from course_utils.widgets.base import FigureExplorer
from course_utils.widgets.decoding import DecodingExplorer, decoding_stages, plot_decoding
from course_utils.widgets.schedules import (LRScheduleExplorer, plot_lr_schedules,
                                            schedule_demo_training)
from course_utils.widgets.vit import ViTAttentionExplorer, plot_vit_attention, vit_patch_tokens

__all__ = ["FigureExplorer",
           "plot_lr_schedules", "schedule_demo_training", "LRScheduleExplorer",
           "attention_stack", "plot_attention", "AttentionExplorer",
           "vit_patch_tokens", "plot_vit_attention", "ViTAttentionExplorer",
           "decoding_stages", "plot_decoding", "DecodingExplorer"]
