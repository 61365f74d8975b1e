"""Plot functions that *return* a matplotlib Figure -- no saving, no showing inside.

In a notebook, put the returned figure last in the cell (``fig``) to display it. The
widgets in ``course_utils.widgets`` wrap these same functions. One module per subject:
``base`` (figures, histories, heat maps, mask grids, line plots), ``attention``
(chapter 01), ``decoding`` (chapter 02), ``vit`` (chapter 04), ``adversarial`` (chapter 08), ``schedules`` (chapter 09).
"""

from course_utils.plotting.adversarial import ATTACKS, attack_one, plot_adversarial
from course_utils.plotting.attention import (attention_stack, check_patch_tiling, patch_prefix,
                                             plot_attention)
from course_utils.plotting.base import (new_figure, plot_heatmap, plot_history, plot_lines,
                                        plot_mask_grid)
from course_utils.plotting.decoding import plot_decoding
from course_utils.plotting.schedules import plot_lr_schedules
from course_utils.plotting.vit import ROLLOUT, plot_vit_attention, vit_patch_tokens

__all__ = ["ATTACKS", "attack_one", "plot_adversarial", "new_figure", "plot_history", "plot_heatmap", "plot_mask_grid", "plot_lines",
           "attention_stack", "plot_attention", "patch_prefix", "check_patch_tiling", "plot_decoding", "plot_lr_schedules",
           "ROLLOUT", "vit_patch_tokens", "plot_vit_attention"]
